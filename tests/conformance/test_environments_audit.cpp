// Audit of the simulated users (environments/): edge cases of the declared
// parameter ranges that the main suites (test_environments.cpp,
// test_calibrated.cpp) leave out.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "environment_support.hpp"
#include "environments/calibrated/calibrated.hpp"

using namespace recfuse;
using namespace recfuse::test;
using calibrated::CalConfig;
using calibrated::CalibratedEnv;

namespace {

CalConfig small_config() {
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
  CalConfig c = small_config();
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
  CalConfig c = small_config();
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
