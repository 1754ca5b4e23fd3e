// Simulated users per second: interest_evolution (RecSim's interest-evolution
// world, environments/interest_evolution/) with RecSim's defaults, driven by
// a uniformly random slate policy (RecSim's RandomAgent), one thread.
//
// user_steps/s counts the steps of live sessions only: a batch of sessions
// runs until every session has ended, then starts again from a new reset
// seed, and sessions that ended earlier are not counted while they wait.
// The time includes reset() and the policy's draws. The issue asks for at
// least 5 million user-steps per second per core.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "environments/interest_evolution/interest_evolution.hpp"

namespace {

using recfuse::ItemId;
using recfuse::Rng;
using recfuse::StepOutcome;
using recfuse::ie::IeConfig;
using recfuse::ie::InterestEvolutionEnv;

/// A uniformly random slate of distinct candidates per session.
void random_slates(const InterestEvolutionEnv& env, Rng& rng, std::vector<ItemId>& slates) {
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

void BM_InterestEvolutionRandomPolicy(benchmark::State& state) {
  const int sessions = static_cast<int>(state.range(0));
  InterestEvolutionEnv env{IeConfig{}};
  env.build({/*seed=*/1, /*threads=*/1, nullptr});
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
BENCHMARK(BM_InterestEvolutionRandomPolicy)->Arg(1024)->Arg(16384)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
