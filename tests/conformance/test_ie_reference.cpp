// interest_evolution against the Python reference
// tools/reference/interest_evolution_ref.py: the random policy's mean return
// per episode, and (hidden, [ie-reference]) the same figure printed for
// larger worlds. (The environment contract and RecSim's rules worked by hand:
// test_environments.cpp.)
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "environment_support.hpp"

using namespace recfuse;
using namespace recfuse::test;
using ie::IeConfig;
using ie::InterestEvolutionEnv;

namespace {

/// Mean episode return of the random policy and its 95% half-width, over
/// `worlds` worlds (so that the catalogue and population drawn by each
/// world average out, as RecSim draws fresh ones) of `sessions` sessions.
std::pair<double, double> random_policy_return(const IeConfig& c, int worlds, int sessions) {
  std::vector<double> means;
  for (int w = 0; w < worlds; ++w) {
    InterestEvolutionEnv env = built_ie(c, 100 + static_cast<std::uint64_t>(w));
    const Trace t = run_sessions(env, 1, sessions, static_cast<std::uint64_t>(w));
    double sum = 0;
    for (float r : t.reward) sum += r;
    means.push_back(sum / sessions);
  }
  double mean = 0, var = 0;
  for (double m : means) mean += m / worlds;
  for (double m : means) var += (m - mean) * (m - mean) / (worlds - 1);
  return {mean, 1.96 * std::sqrt(var / worlds)};
}

// python3 tools/reference/interest_evolution_ref.py --episodes 60000 --seed 1
// episodes 60000  mean return 154.214  95% CI [154.122, 154.305]  sd 11.432  mean length 83.68
constexpr double kReferenceReturn = 154.214;
constexpr double kReferenceHalfCi = 0.092;

}  // namespace

TEST_CASE("interest_evolution's random-policy return matches the Python reference",
          "[environment][interest_evolution]") {
  const auto [mean, half] = random_policy_return({}, 16, 2048);
  INFO("recfuse " << mean << " ± " << half << ", reference " << kReferenceReturn << " ± "
                  << kReferenceHalfCi);
  CHECK(std::abs(mean - kReferenceReturn) < 2 * std::hypot(half, kReferenceHalfCi));
}

TEST_CASE("interest_evolution random-policy return, printed", "[.][ie-reference]") {
  for (std::int64_t size : {10000, 200000}) {
    IeConfig c;
    c.n_items = c.n_users = static_cast<std::int32_t>(size);
    const auto [mean, half] = random_policy_return(c, 64, 4096);
    std::printf(
        "n_items = n_users = %lld: mean return %.3f, 95%% CI [%.3f, %.3f] "
        "(64 worlds x 4096 sessions)\n",
        static_cast<long long>(size), mean, mean - half, mean + half);
  }
}
