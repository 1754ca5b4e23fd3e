// Audit of the simulated users (environments/): edge cases of the declared
// parameter ranges that the main suites (test_environments.cpp,
// test_calibrated.cpp) leave out, and the oracle in the middle of a batch.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "environment_support.hpp"
#include "environments/calibrated/calibrated.hpp"
#include "environments/interest_evolution/interest_evolution.hpp"

using namespace recfuse;
using namespace recfuse::test;
using calibrated::CalConfig;
using calibrated::CalibratedEnv;

namespace {

CalConfig audit_config() {
  CalConfig c;
  c.factors = 4;
  c.als_iterations = 5;
  c.slate_size = 3;
  c.num_candidates = 10;
  c.max_steps = 12;
  c.leave_base = c.leave_per_miss = 0.0;
  return c;
}

}  // namespace

// environment.hpp: oracle_scores are finite, and the host's epsilon_softmax
// logging policy throws on any that is not. fatigue = 0 is inside the declared
// range [0, 1]: a click sets its genres' appeal to 0, and log 0 = -inf.
TEST_CASE("calibrated's oracle scores stay finite when a click exhausts a genre (fatigue 0)",
          "[calibrated][audit]") {
  const TrainData d = synthetic_train_data();  // 3 genres, every item one or more
  CalConfig c = audit_config();
  c.fatigue = 0.0;
  c.no_click_preference = -2.0;  // clicks are likely
  CalibratedEnv env(c);
  env.build({1, 1, &d});
  constexpr int kSessions = 64;
  env.reset(2, kSessions);
  std::vector<ItemId> slates;
  std::vector<double> scores(kSessions * static_cast<std::size_t>(c.num_candidates));
  Rng policy(3);
  StepOutcome out;
  int clicks = 0, exhausted = 0;
  for (int step = 0; step < 4; ++step) {
    random_slates(env, policy, slates);
    env.step(slates, out);
    for (int s = 0; s < kSessions; ++s) clicks += out.choice[static_cast<std::size_t>(s)] >= 0;
    REQUIRE(env.oracle_scores(scores));
    for (std::size_t s = 0; s < kSessions; ++s)
      for (std::size_t g = 0; g < 3; ++g) exhausted += env.genre_appeal(s, g) == 0.0;
    for (const double u : scores) CHECK(std::isfinite(u));
  }
  REQUIRE(clicks > 0);
  REQUIRE(exhausted > 0);  // the case in question did arise
  // An exhausted item still ranks below every item of the same preference
  // whose genres keep some appeal.
  CHECK(calibrated::log_attractiveness(0.0, 0.0, c) < calibrated::log_attractiveness(0.0, 1e-300, c));
  CHECK(calibrated::log_attractiveness(0.0, 1e-300, c) < calibrated::log_attractiveness(0.0, 0.5, c));
}

// arrival_steps may be up to 1e9 (its declared range). The schedule must
// not cost memory in proportion to it: it once kept a count per step
// (4 GB at 1e9; run this case under `ulimit -v 3000000` to see the
// difference).
TEST_CASE("calibrated's arrival schedule handles the largest declared arrival_steps",
          "[calibrated][audit]") {
  const TrainData d = synthetic_train_data();  // 40 items
  CalConfig c = audit_config();
  c.new_item_fraction = 0.25;  // 10 held back
  c.arrival_steps = 1000000000;
  const calibrated::Catalogue cat(d, c, 5);
  CHECK(cat.held_back() == 10);
  CHECK(cat.available(0) == 30);
  CHECK(cat.available(1) == 31);            // j = 0 arrives at step 1
  CHECK(cat.available(100000000) == 31);    // j = 1 at 1 + 1e9 / 10
  CHECK(cat.available(100000001) == 32);
  CHECK(cat.available(900000000) == 39);    // j = 9 at 1 + 9e8
  CHECK(cat.available(900000001) == 40);
  CHECK(cat.available(1000000000) == 40);
  int late = 0;
  for (ItemId i = 0; i < 40; ++i) late += cat.arrival(i) == 900000001;
  CHECK(late == 1);
  Rng rng(1);
  std::vector<ItemId> out(10);
  cat.draw(0, 10, rng, out.data());
  for (const ItemId i : out) CHECK(cat.arrival(i) == 0);
}

namespace {

/// Steps `env` (reset to 64 sessions) under random slates until a quarter
/// of its sessions have ended, then checks its oracle mid-batch: each live
/// session's scores are the world's formula, live_score(s, item), exactly,
/// and its slate the k highest, highest first; an ended session (whose
/// candidates are last step's) scores 0 everywhere and gets its first k
/// candidates, which step ignores. environment.hpp lets an ended session
/// have any finite scores and any valid slate, so that the worlds skip its
/// work: a batch runs until its longest session ends.
template <typename Env, typename LiveScore>
void check_oracle_mid_batch(Env& env, LiveScore live_score) {
  constexpr int kSessions = 64;
  const auto m = static_cast<std::size_t>(env.num_candidates()), k = static_cast<std::size_t>(env.slate_size());
  env.reset(4, kSessions);
  Rng policy(5);
  std::vector<ItemId> slates;
  StepOutcome out;
  std::vector<std::uint8_t> ended(kSessions, 0);
  int n_ended = 0;
  for (int t = 0; t < env.max_steps() && n_ended < kSessions / 4; ++t) {
    random_slates(env, policy, slates);
    env.step(slates, out);
    for (std::size_t s = 0; s < kSessions; ++s) {
      n_ended += !ended[s] && (out.terminated[s] || out.truncated[s]);
      ended[s] = ended[s] || out.terminated[s] || out.truncated[s];
    }
  }
  REQUIRE(n_ended >= kSessions / 4);
  REQUIRE(n_ended < kSessions);  // both kinds are there
  std::vector<double> scores(kSessions * m);
  std::vector<ItemId> best(kSessions * k);
  REQUIRE(env.oracle_scores(scores));
  REQUIRE(env.oracle_slates(best));
  for (std::size_t s = 0; s < kSessions; ++s) {
    INFO("session " << s << (ended[s] ? " (ended)" : " (live)"));
    const std::span<const ItemId> row = env.candidates().subspan(s * m, m);
    const std::span<const double> u(scores.data() + s * m, m);
    if (ended[s]) {
      for (const double x : u) CHECK(x == 0.0);
      for (std::size_t j = 0; j < k; ++j) CHECK(best[s * k + j] == row[j]);
      continue;
    }
    for (std::size_t j = 0; j < m; ++j) CHECK(u[j] == live_score(s, row[j]));
    std::vector<double> sorted(u.begin(), u.end());
    std::sort(sorted.rbegin(), sorted.rend());
    for (std::size_t j = 0; j < k; ++j) {
      const auto at = static_cast<std::size_t>(std::find(row.begin(), row.end(), best[s * k + j]) - row.begin());
      REQUIRE(at < m);
      CHECK(u[at] == sorted[j]);
    }
  }
  env.step(best, out);
  for (std::size_t s = 0; s < kSessions; ++s)
    if (ended[s]) CHECK(out.reward[s] == 0.0f);
}

}  // namespace

TEST_CASE("interest_evolution's oracle ranks the live sessions mid-batch and skips the ended ones",
          "[environment][audit]") {
  ie::IeConfig c;
  c.n_users = 50;
  c.n_items = 200;
  c.time_budget = 6.0;  // sessions end after a few steps, at different steps
  ie::InterestEvolutionEnv env(c);
  env.build({3, 1, nullptr});
  check_oracle_mid_batch(env, [&](std::size_t s, ItemId i) {
    return ie::click_score(env.session_interests(static_cast<int>(s))[static_cast<std::size_t>(env.item_topic(i))],
                           env.config());
  });
}

TEST_CASE("calibrated's oracle ranks the live sessions mid-batch and skips the ended ones",
          "[calibrated][audit]") {
  const TrainData d = synthetic_train_data();
  CalConfig c = audit_config();
  c.leave_base = 0.1;  // sessions end at different steps
  CalibratedEnv env(c);
  env.build({1, 1, &d});
  check_oracle_mid_batch(env, [&](std::size_t s, ItemId i) { return env.session_log_attractiveness(s, i); });
}

// The popularity-weighted candidate draw searches the prefix sums with
// upper_bound_index, which must answer exactly as std::upper_bound (else the
// same seed draws other candidates): every length up to 70, ties, and
// targets below, on and between the values and past the end.
TEST_CASE("calibrated's catalogue search answers as std::upper_bound", "[calibrated][audit]") {
  Rng rng(11);
  for (std::size_t n = 1; n <= 70; ++n) {
    std::vector<double> sorted(n);
    double x = 0;
    for (double& v : sorted) v = x += static_cast<double>(rng.below(3));  // steps of 0, 1 or 2: ties
    std::vector<double> targets{-1.0, x, x + 0.5, 1e300};
    for (const double v : sorted) targets.insert(targets.end(), {v, v - 0.5, v + 0.5});
    for (const double t : targets) {
      INFO("n " << n << ", target " << t);
      CHECK(calibrated::upper_bound_index(sorted.data(), n, t) ==
            static_cast<std::size_t>(std::upper_bound(sorted.begin(), sorted.end(), t) - sorted.begin()));
    }
  }
}
