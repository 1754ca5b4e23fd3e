// The calibrated world's long-term structure on ml-100k, which
// scenarios/calibrated-longterm*.toml rely on: with disappointment on,
// weighing what a click leaves behind (item quality) beats the myopic
// oracle; in the default world it does not. Skipped without ../shared.
#include <algorithm>
#include <catch2/catch.hpp>

#include "environment_support.hpp"
#include "environments/calibrated/calibrated.hpp"
#include "recfuse/slates.hpp"
#include "test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;
using calibrated::CalConfig;
using calibrated::CalibratedEnv;

namespace {

/// Mean clicks per session when every step shows the k candidates of highest
/// log a_si + w q_i (w = 0: the myopic oracle; w > 0: a look-ahead heuristic
/// that also weighs what a click leaves behind).
double quality_weighted_return(CalibratedEnv& env, std::uint64_t seed, int sessions, double w) {
  env.reset(seed, sessions);
  const auto n = static_cast<std::size_t>(sessions), k = static_cast<std::size_t>(env.slate_size()),
             m = static_cast<std::size_t>(env.num_candidates());
  std::vector<double> score(n * m);
  std::vector<ItemId> slates(n * k);
  std::vector<char> live(n, 1);
  StepOutcome out;
  double clicks = 0;
  for (int t = 0; t < env.max_steps(); ++t) {
    env.oracle_scores(score);
    const auto cands = env.candidates();
    for (std::size_t c = 0; c < n * m; ++c) score[c] += w * env.quality(cands[c]);
    top_scored_slates("test", score, cands, env.num_candidates(), env.slate_size(), slates);
    env.step(slates, out);
    for (std::size_t s = 0; s < n; ++s) {
      if (!live[s]) continue;
      clicks += out.reward[s];
      live[s] = !(out.terminated[s] || out.truncated[s]);
    }
    if (std::find(live.begin(), live.end(), 1) == live.end()) break;
  }
  return clicks / static_cast<double>(n);
}

}  // namespace

TEST_CASE("calibrated ml-100k with disappointment rewards foresight, and without it does not",
          "[calibrated]") {
  // The long-term structure calibrated-longterm.toml relies on: with
  // disappointment 0.2, ranking by attractiveness plus item quality gets
  // 9.05 clicks per session here against 8.02 for the myopic oracle; with
  // the default 0 it only costs clicks (13.06 against 13.70).
  if (!have_shared("ml-100k/u.data")) {
    WARN("skipped: ml-100k not found under " << shared_data());
    return;
  }
  const TrainData train = whole_ml100k();
  constexpr int kSessions = 2048;
  CalConfig c;
  c.disappointment = 0.2;
  CalibratedEnv env(c);
  env.build({1, 2, &train});
  const double myopic = quality_weighted_return(env, 100, kSessions, 0.0);
  const double foresight = quality_weighted_return(env, 100, kSessions, 1.0);
  INFO("disappointment 0.2: myopic oracle " << myopic << ", quality-weighted " << foresight);
  // paired by session: the gap's standard error over 2048 sessions is 0.15 (world seed 1,
  // reset seeds 100-101, 8192 sessions: gap 0.87, sd of a session's clicks 10, of the paired difference 6.8)
  CHECK(foresight > myopic + 0.4);
  CalibratedEnv plain{CalConfig{}};
  plain.build({1, 2, &train});
  const double plain_myopic = quality_weighted_return(plain, 100, kSessions, 0.0);
  const double plain_weighted = quality_weighted_return(plain, 100, kSessions, 1.0);
  INFO("default world: myopic oracle " << plain_myopic << ", quality-weighted " << plain_weighted);
  CHECK(plain_weighted < plain_myopic);
}
