// Helpers of the environment conformance suite: building any environment
// found in the plugin directory with its declared defaults, a seeded random
// slate policy, and a recorded run of a batch of sessions to its end.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "data/readers.hpp"
#include "data/train_data_builder.hpp"
#include "environments/interest_evolution/interest_evolution.hpp"
#include "host/params_validation.hpp"
#include "recfuse/environment.hpp"
#include "recfuse/rng.hpp"
#include "test_support.hpp"

namespace recfuse::test {

/// Declared defaults of `e`, overridden by `values` (validated by the host's rules).
inline ParamSet env_params(const EnvironmentHandle& e,
                           const std::map<std::string, ParamValue>& values = {}) {
  return validate_params(e.environment->params(), values, {}, "", e.name());
}

/// A fresh instance of `e`, built from `world_seed` and a small synthetic
/// dataset (worlds fitted to data need one; the others ignore it).
inline EnvironmentPtr built_environment(const EnvironmentHandle& e, std::uint64_t world_seed,
                                        const std::map<std::string, ParamValue>& values = {},
                                        int threads = 1) {
  static const TrainData data = synthetic_train_data();
  EnvironmentPtr env = create_environment(e, env_params(e, values));
  env->build({world_seed, threads, &data});
  return env;
}

/// All of ml-100k (from shared_data(); check have_shared("ml-100k/u.data")
/// first) as training data, the whole dataset a calibrated world fits.
inline TrainData whole_ml100k() {
  DatasetSpec spec;
  spec.format = "ml-100k";
  spec.path = (shared_data() / "ml-100k").string();
  const Dataset data = load_dataset(spec, {});
  Split all;
  all.train = data.interactions;
  return build_train_data(data, all);
}

/// A uniformly random slate of distinct candidates for every session.
inline void random_slates(const Environment& env, Rng& rng, std::vector<ItemId>& slates) {
  const auto m = static_cast<std::size_t>(env.num_candidates());
  const auto k = static_cast<std::size_t>(env.slate_size());
  const std::span<const ItemId> cands = env.candidates();
  const std::size_t n = cands.size() / m;
  slates.resize(n * k);
  std::vector<std::size_t> positions(m);
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t j = 0; j < m; ++j) positions[j] = j;
    for (std::size_t j = 0; j < k; ++j) {  // partial Fisher-Yates
      std::swap(positions[j], positions[j + rng.below(m - j)]);
      slates[s * k + j] = cands[s * m + positions[j]];
    }
  }
}

/// Everything a run showed, step after step, for comparing runs.
struct Trace {
  std::vector<UserId> users;
  std::vector<ItemId> candidates;  // every step's, concatenated
  std::vector<std::int32_t> choice;
  std::vector<float> reward, engagement;
  std::vector<std::uint8_t> terminated, truncated;
  int steps = 0;  // until every session had ended
  bool operator==(const Trace&) const = default;
};

/// Runs `n` sessions from reset(`reset_seed`) under random slates drawn from
/// `policy_seed` until all have ended, stopping after max_steps() steps.
inline Trace run_sessions(Environment& env, std::uint64_t reset_seed, int n,
                          std::uint64_t policy_seed) {
  Trace t;
  env.reset(reset_seed, n);
  t.users.assign(env.users().begin(), env.users().end());
  Rng policy(policy_seed);
  std::vector<ItemId> slates;
  StepOutcome out;
  int live = n;
  while (live > 0 && t.steps < env.max_steps()) {
    t.candidates.insert(t.candidates.end(), env.candidates().begin(), env.candidates().end());
    random_slates(env, policy, slates);
    env.step(slates, out);
    ++t.steps;
    t.choice.insert(t.choice.end(), out.choice.begin(), out.choice.end());
    t.reward.insert(t.reward.end(), out.reward.begin(), out.reward.end());
    t.engagement.insert(t.engagement.end(), out.engagement.begin(), out.engagement.end());
    t.terminated.insert(t.terminated.end(), out.terminated.begin(), out.terminated.end());
    t.truncated.insert(t.truncated.end(), out.truncated.begin(), out.truncated.end());
    live = 0;
    for (std::size_t s = 0; s < out.choice.size(); ++s)
      live += !(out.terminated[s] || out.truncated[s]);
  }
  return t;
}

/// An interest_evolution world of config `c` built from world seed `seed`.
inline ie::InterestEvolutionEnv built_ie(const ie::IeConfig& c = {}, std::uint64_t seed = 1, int threads = 1) {
  ie::InterestEvolutionEnv env(c);
  env.build({seed, threads, nullptr});
  return env;
}

}  // namespace recfuse::test
