// The policies of the simulated protocols (runner/online.cpp): the logging
// policy whose logs learners are fitted on and off-policy estimators read,
// a fitted recommender acting through its `act`, and the environment's
// myopic oracle.
//
//   Policy log = logging_policy(env, scenario.online, seed, "interest_evolution");
//   log(users, candidates, sessions, slates, propensity);   // one step of the live rows
//
// Logging policies, each recording the exact probability of the ordered
// slate it shows (the off-policy estimators divide by it):
// - uniform: every ordered slate of k distinct candidates out of C,
//   p = 1 / (C (C − 1) … (C − k + 1));
// - epsilon_oracle: the oracle's slate with probability 1 − ε, else uniform,
//   p = ε p_uniform + (1 − ε) [slate = oracle's];
// - epsilon_softmax: uniform with probability ε, else a Plackett–Luce draw
//   (Plackett 1975; Luce 1959: softmax without replacement, slot by slot)
//   over the logits z_j = u_j / T, u_j the environment's oracle_scores and
//   T = logging_temperature:
//     PL(a_1 … a_k) = Π_p exp(z_{a_p}) / Σ_{j ∉ {a_1 … a_{p−1}}} exp(z_j),
//     p = ε p_uniform + (1 − ε) PL(slate),
//   each slot renormalised over the candidates not yet drawn.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "recfuse/environment.hpp"
#include "recfuse/recommender.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// Fills slates (rows x k) from candidates (rows x C) and the probability
/// of each chosen slate (rows); `sessions` gives each row's session in the
/// environment's batch (for the oracle, which answers for the whole batch).
using Policy = std::function<void(std::span<const UserId> users, std::span<const ItemId> candidates,
                                  std::span<const int> sessions, std::span<ItemId> slates,
                                  std::span<double> propensity)>;

/// Number of ordered slates of k distinct items from C candidates.
double ordered_slates(int C, int k);

/// The scenario's logging policy (o.logging_policy, see the file comment),
/// drawing from `seed`. `env_name` names the environment in errors (an
/// epsilon_softmax over an environment without oracle_scores).
Policy logging_policy(Environment& env, const OnlineSpec& o, std::uint64_t seed,
                      const std::string& env_name);

/// A fitted recommender as a policy: its `act` (no propensity).
Policy model_policy(Recommender& model, int C, int k);

/// The environment's myopic oracle as a policy (no propensity).
Policy oracle_policy(Environment& env);

}  // namespace recfuse
