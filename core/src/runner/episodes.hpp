// Running a policy in an environment, and what the runner keeps of it: the
// batched episode loop of the simulated protocols (runner/online.hpp), the
// flat log of logged steps, what learners see of a log, and the direct-method
// reward model the doubly robust estimator reads.
//
// Episodes run in batches of `OnlineSpec::batch` sessions; batch b resets the
// environment from derive_seed(seed, "episodes", b), so every policy given
// the same seed meets the same users in the same order.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "recfuse/environment.hpp"
#include "recfuse/train_data.hpp"
#include "runner/policies.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// One step of a batch, restricted to the sessions still running (rows).
struct StepView {
  std::span<const UserId> users;        // rows
  std::span<const ItemId> candidates;   // rows x C
  std::span<const ItemId> slates;       // rows x k
  std::span<const double> propensity;   // rows; empty when the policy gives none
  std::span<const std::int32_t> choice;
  std::span<const float> reward;
  std::span<const float> engagement;
  std::span<const std::uint8_t> done;
};

using StepSink = std::function<void(const StepView&)>;

/// Per-episode totals of a run.
struct Episodes {
  std::vector<double> ret, steps, clicks, engagement;
  std::vector<double> first;  // reward of the session's first step
  explicit Episodes(int n)
      : ret(n, 0.0), steps(n, 0.0), clicks(n, 0.0), engagement(n, 0.0), first(n, 0.0) {}
};

/// Runs `episodes` episodes in batches; every step of every live session
/// goes through `policy`, then `sink` (may be empty). With `max_steps` > 0
/// each batch stops after that many steps (its sessions cut short). `who`
/// names the policy in the error about an invalid slate.
Episodes run_episodes(Environment& env, const OnlineSpec& o, int episodes, std::uint64_t seed,
                      const Policy& policy, const StepSink& sink, const std::string& who,
                      int max_steps = 0);

/// A log of logged steps (the rows of every StepView), flat.
struct Log {
  int C = 0, k = 0;
  std::vector<UserId> users;
  std::vector<ItemId> candidates, slates;
  std::vector<double> propensity;
  std::vector<std::int32_t> choice;
  std::vector<float> reward;
  std::vector<std::size_t> step_start{0};  // rows of step s: [step_start[s], step_start[s+1])
  std::size_t rows() const { return users.size(); }
};

/// A sink that appends every step to `log` (which must outlive it).
StepSink append_to(Log& log);

/// What learners see of the logs: one interaction per clicked (user, item)
/// (value 1, time = log order; repeated clicks merge), and the
/// environment's item features.
TrainData train_data_from_log(const Log& log, const Environment& env);
/// 16 hex digits of sha256 over what train_data_from_log gives learners:
/// the environment's shape, each click (user, item, log row) and the
/// environment's item features (matrix and names); the log's unclicked
/// slate positions, rewards and propensities are not in it
/// (a saved model fitted on the logs is matched by it, saved_models.hpp).
std::string log_fit_fingerprint(const Log& log, const Environment& env);

/// Direct-method reward model for the doubly robust estimator: each item's
/// reward per impression in the training log, shrunk toward the mean with
/// one pseudo-impression; a slate's value is the sum over its items.
struct RewardModel {
  std::vector<double> per_item;
  double slate_value(const ItemId* s, int k) const {
    double v = 0;
    for (int j = 0; j < k; ++j) v += per_item[static_cast<std::size_t>(s[j])];
    return v;
  }
};
RewardModel fit_reward_model(const Log& log, std::int32_t n_items);

}  // namespace recfuse
