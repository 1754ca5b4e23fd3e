// Simulated users per second, one thread, each world driven by a uniformly
// random slate policy (RecSim's RandomAgent):
// - interest_evolution (RecSim's interest-evolution world,
//   environments/interest_evolution/) with RecSim's defaults;
// - calibrated (environments/calibrated/) at its defaults, fitted to all of
//   MovieLens-100K (100 000 ratings, 943 users x 1682 items, genres as item
//   features), as the runner builds it for a scenario with that dataset.
// BM_CalibratedEpisodes runs the same world through the runner's episode
// loop (runner/episodes.hpp, batches of 256 as the shipped scenarios use)
// under the uniform logging policy and under the myopic oracle (the regret
// baseline of every online trial): the environment plus what the runner
// does per step (live rows, slate checks, per-episode totals).
//
// user_steps/s counts the steps of live sessions only: a batch of sessions
// runs until every session has ended, then starts again from a new reset
// seed, and sessions that ended earlier are not counted while they wait.
// The time includes reset() and the policy's draws. The issue asks for at
// least 5 million user-steps per second per core.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "environments/calibrated/calibrated.hpp"
#include "environments/interest_evolution/interest_evolution.hpp"
#include "runner/episodes.hpp"
#include "runner/policies.hpp"
#include "tests/bench/bench_support.hpp"

namespace {

using recfuse::Environment;
using recfuse::ItemId;
using recfuse::Rng;
using recfuse::StepOutcome;
using recfuse::calibrated::CalConfig;
using recfuse::calibrated::CalibratedEnv;
using recfuse::ie::IeConfig;
using recfuse::ie::InterestEvolutionEnv;

/// A uniformly random slate of distinct candidates per session.
void random_slates(const Environment& env, Rng& rng, std::vector<ItemId>& slates) {
  const auto m = static_cast<std::size_t>(env.num_candidates());
  const auto k = static_cast<std::size_t>(env.slate_size());
  const std::span<const ItemId> cands = env.candidates();
  const std::size_t n = cands.size() / m;
  for (std::size_t s = 0; s < n; ++s) {
    ItemId* slate = slates.data() + s * k;
    for (std::size_t j = 0; j < k; ++j) {
      std::size_t pos;
      bool repeated;
      do {  // rejection: k is small next to m
        pos = rng.below(m);
        repeated = false;
        for (std::size_t i = 0; i < j; ++i) repeated |= slate[i] == cands[s * m + pos];
      } while (repeated);
      slate[j] = cands[s * m + pos];
    }
  }
}

/// Steps batches of `sessions` sessions under random slates until the
/// benchmark stops; see the file comment for what user_steps/s counts.
void run_random_policy(benchmark::State& state, Environment& env, int sessions) {
  std::vector<ItemId> slates(static_cast<std::size_t>(sessions * env.slate_size()));
  StepOutcome out;
  Rng policy(7);
  std::uint64_t episode_seed = 0;
  env.reset(++episode_seed, sessions);
  int live = sessions;
  std::int64_t user_steps = 0;
  for (auto _ : state) {
    if (live == 0) {
      env.reset(++episode_seed, sessions);
      live = sessions;
    }
    random_slates(env, policy, slates);
    env.step(slates, out);
    user_steps += live;
    live = 0;
    for (int s = 0; s < sessions; ++s) live += !(out.terminated[s] | out.truncated[s]);
    benchmark::DoNotOptimize(out.reward.data());
  }
  state.counters["user_steps/s"] =
      benchmark::Counter(static_cast<double>(user_steps), benchmark::Counter::kIsRate);
  state.counters["episodes"] = static_cast<double>(episode_seed);
}

void BM_InterestEvolutionRandomPolicy(benchmark::State& state) {
  InterestEvolutionEnv env{IeConfig{}};
  env.build({/*seed=*/1, /*threads=*/1, nullptr});
  run_random_policy(state, env, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_InterestEvolutionRandomPolicy)->Arg(1024)->Arg(16384)->Unit(benchmark::kMicrosecond);

/// All of MovieLens-100K as the runner hands it to a world (runner/online.cpp
/// build_world: every interaction, no split).
recfuse::TrainData ml100k_all() {
  recfuse::DatasetSpec spec;
  spec.format = "ml-100k";
  spec.path = recfuse::bench::data_root() + "/ml-100k";
  spec.cache = false;
  const recfuse::Dataset data = recfuse::load_dataset(spec, {});
  recfuse::Split all;
  all.train = data.interactions;
  all.label = "all";
  return recfuse::build_train_data(data, all);
}

void BM_CalibratedRandomPolicy(benchmark::State& state) {
  static const recfuse::TrainData data = ml100k_all();  // the world reads it while it lives
  CalibratedEnv env{CalConfig{}};
  env.build({/*seed=*/1, /*threads=*/1, &data});
  recfuse::bench::label_shape(state, data.n_users, data.n_items, data.by_user.nnz());
  run_random_policy(state, env, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_CalibratedRandomPolicy)->Arg(256)->Arg(4096)->Unit(benchmark::kMicrosecond);

/// One iteration: one batch of 256 episodes through run_episodes.
void BM_CalibratedEpisodes(benchmark::State& state, bool oracle) {
  static const recfuse::TrainData data = ml100k_all();
  CalibratedEnv env{CalConfig{}};
  env.build({/*seed=*/1, /*threads=*/1, &data});
  recfuse::OnlineSpec o;
  o.batch = 256;
  const recfuse::Policy policy =
      oracle ? recfuse::oracle_policy(env) : recfuse::logging_policy(env, o, /*seed=*/7, "calibrated");
  std::uint64_t seed = 0;
  double user_steps = 0;
  for (auto _ : state) {
    const recfuse::Episodes ep = recfuse::run_episodes(env, o, o.batch, ++seed, policy, {}, "bench");
    for (const double t : ep.steps) user_steps += t;
  }
  state.counters["user_steps/s"] = benchmark::Counter(user_steps, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_CalibratedEpisodes, uniform, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CalibratedEpisodes, oracle, true)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
