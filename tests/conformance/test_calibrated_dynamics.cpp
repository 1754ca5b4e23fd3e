// The calibrated environment (environments/calibrated/) on the tiny planted
// world of calibrated_world.hpp, continued: item quality, disappointment,
// new items' arrival, the environment contract and seeds, the plugin's
// declared defaults, the oracle slate, and the fit on ml-100k when the data
// are there. (Fit, choice model, clicks and fatigue: test_calibrated.cpp.)
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "calibrated_world.hpp"

using namespace recfuse;
using namespace recfuse::test;
using calibrated::CalConfig;
using calibrated::CalibratedEnv;
using namespace recfuse::test::planted;

TEST_CASE("calibrated's item quality is the standardised shrunk mean rating", "[calibrated]") {
  const TrainData d = rated_world();
  const double prior = 3.0;
  // By hand from the interactions (6 users per genre; each holds one item of
  // it out, so the first item of a genre has 4 ratings and the others 5).
  double total = 0, count = 0;
  std::vector<double> sum(kItems, 0.0), n(kItems, 0.0);
  for (UserId u = 0; u < kUsers; ++u)
    for (ItemId i = genre_of_user(u) * kPerGenre; i < (genre_of_user(u) + 1) * kPerGenre; ++i)
      if (i != held_out(u)) sum[i] += 1 + i % kPerGenre, n[i] += 1, total += 1 + i % kPerGenre, count += 1;
  std::vector<double> shrunk(kItems);
  double mean = 0, sq = 0;
  for (ItemId i = 0; i < kItems; ++i) mean += shrunk[i] = (sum[i] + prior * total / count) / (n[i] + prior);
  mean /= kItems;
  for (ItemId i = 0; i < kItems; ++i) sq += (shrunk[i] - mean) * (shrunk[i] - mean);
  const std::vector<double> q = calibrated::item_quality(d, prior);
  for (ItemId i = 0; i < kItems; ++i) {
    INFO("item " << i);
    CHECK(q[i] == Approx((shrunk[i] - mean) / std::sqrt(sq / kItems)).epsilon(1e-12));
  }
  CHECK(q[0] < -1.0);  // rated 1 by everyone
  // prior 0: an item nobody rated takes the mean of all ratings, not 0 / 0
  TrainData unrated = make_train_data(2, 3, {{0, 0, 1.0f, 1}, {1, 1, 5.0f, 2}}, true);
  const std::vector<double> q0 = calibrated::item_quality(unrated, 0.0);  // shrunk means 1, 5, 3
  CHECK(q0[0] == Approx(-std::sqrt(1.5)));
  CHECK(q0[1] == Approx(std::sqrt(1.5)));
  CHECK(q0[2] == Approx(0.0).margin(1e-12));
  // Equal shrunk means (every rating 5) give no quality; implicit data carry
  // none, and disappointment refuses them.
  CHECK(calibrated::item_quality(planted_world(), prior) == std::vector<double>(kItems, 0.0));
  TrainData implicit = rated_world();
  implicit.explicit_ratings = false;
  CHECK(calibrated::item_quality(implicit, prior) == std::vector<double>(kItems, 0.0));
  CalConfig c = small_config();
  c.disappointment = 0.3;
  CHECK_THROWS_WITH(built(implicit, c), Catch::Contains("disappointment needs explicit ratings"));
  CHECK_NOTHROW(built(d, c));
}

TEST_CASE("calibrated's disappointment ends sessions after clicks on poor items at its rate", "[calibrated]") {
  // Slates of two: a poor item (rated 1 or 2) and a good one (4 or 5) of
  // the same genre, in either order; whichever is clicked decides. Nothing
  // else ends a session early: after a click on item i the user leaves with
  // probability 1 − (1 − h_0)(1 − d / (1 + exp(κ q_i))), after a miss with h_0.
  const TrainData d = rated_world();
  CalConfig c = small_config();
  c.slate_size = 2;
  c.num_candidates = kItems;
  c.new_item_fraction = 0.0;
  c.drift = 0.0;
  c.leave_base = 0.1;
  c.leave_per_miss = 0.0;
  c.disappointment = 0.6;
  c.disappointment_slope = 2.0;
  c.max_steps = 2;
  c.temperature = 1.0;
  c.no_click_preference = 0.0;
  CalibratedEnv env = built(d, c);
  constexpr int kSessions = 40000;
  env.reset(9, kSessions);
  std::vector<ItemId> slate(2 * kSessions);
  for (std::size_t s = 0; s < kSessions; ++s) {
    const auto genre = static_cast<ItemId>(s % kGenres) * kPerGenre;
    const ItemId poor = genre + static_cast<ItemId>(s / kGenres % 2), good = genre + 3 + static_cast<ItemId>(s / 8 % 2);
    const bool poor_first = s / 16 % 2 == 0;
    slate[2 * s] = poor_first ? poor : good;
    slate[2 * s + 1] = poor_first ? good : poor;
  }
  StepOutcome out;
  env.step(slate, out);
  double left[2] = {0, 0}, expected[2] = {0, 0}, variance[2] = {0, 0}, clicks[2] = {0, 0};
  double missed = 0, missed_left = 0;
  for (std::size_t s = 0; s < kSessions; ++s) {
    if (out.choice[s] < 0) {
      missed += 1, missed_left += out.terminated[s];
      continue;
    }
    const ItemId i = slate[2 * s + static_cast<std::size_t>(out.choice[s])];
    const int good = i % kPerGenre > 2;
    const double p = 1.0 - 0.9 * (1.0 - 0.6 / (1.0 + std::exp(2.0 * env.quality(i))));
    clicks[good] += 1, left[good] += out.terminated[s], expected[good] += p, variance[good] += p * (1 - p);
  }
  REQUIRE(clicks[0] > 2000);
  REQUIRE(clicks[1] > 2000);
  check_count(left[0], expected[0], variance[0]);
  check_count(left[1], expected[1], variance[1]);
  check_count(missed_left, 0.1 * missed, 0.09 * missed);
  CHECK(left[0] / clicks[0] > 0.4);   // poor items: most of d
  CHECK(left[1] / clicks[1] < 0.25);  // good items: much nearer h_0 = 0.1
}

TEST_CASE("calibrated's new items arrive on their step and never before", "[calibrated]") {
  const TrainData d = planted_world();
  CalConfig c = small_config();  // 5 of 20 items held back, arriving over steps 1..6
  c.leave_base = c.leave_per_miss = 0.0;
  c.max_steps = 10;
  CalibratedEnv env = built(d, c);
  // Items 15..19 were first rated last; the j-th arrives at 1 + floor(6 j / 5).
  const std::int32_t arrival[] = {1, 2, 3, 4, 5};
  for (ItemId i = 0; i < kItems; ++i)
    CHECK(env.catalogue().arrival(i) == (i < 15 ? 0 : arrival[i - 15]));
  CHECK(env.catalogue().available(0) == 15);
  CHECK(env.catalogue().available(3) == 18);
  const Trace t = run_sessions(env, 2, 200, 3);
  check_contract(env, t, 200, &env.catalogue());
  std::set<ItemId> offered_new;
  for (std::size_t r = 0; r * 8 < t.candidates.size(); ++r)
    for (std::size_t j = 0; j < 8; ++j)
      if (t.candidates[r * 8 + j] >= 15) offered_new.insert(t.candidates[r * 8 + j]);
  CHECK(offered_new.size() == 5);  // they do arrive
}

TEST_CASE("calibrated keeps the environment contract and its seeds", "[calibrated]") {
  const TrainData d = planted_world();
  const CalConfig c = small_config();
  CalibratedEnv env = built(d, c, 11);
  constexpr int kSessions = 300;  // >= 256: step runs in parallel with 2 threads
  const Trace a = run_sessions(env, 5, kSessions, 3);
  check_contract(env, a, kSessions, &env.catalogue());
  CalibratedEnv twin = built(d, c, 11, 2);
  CHECK(twin.factors().users == env.factors().users);  // the fit ignores the thread count
  CHECK(run_sessions(twin, 5, kSessions, 3) == a);      // same seeds, same episode
  CHECK(run_sessions(env, 5, kSessions, 3) == a);       // reset starts afresh
  CHECK_FALSE(run_sessions(env, 6, kSessions, 3) == a);  // another reset seed
  CalibratedEnv other = built(d, c, 12);
  CHECK_FALSE(other.factors().users == env.factors().users);  // another world seed
}

TEST_CASE("the calibrated plugin runs from its declared defaults", "[calibrated]") {
  const EnvironmentHandle& e = plugin_registry().find_environment("calibrated");
  const ParamSet p = env_params(e);
  CHECK(p.get_int("slate_size") == CalConfig{}.slate_size);
  CHECK(p.get_float("temperature") == CalConfig{}.temperature);
  CHECK(p.get_float("leave_per_miss") == CalConfig{}.leave_per_miss);
  CHECK_THROWS_WITH(create_environment(e, p)->build({1, 1, nullptr}), Catch::Contains("needs [dataset]"));
  const TrainData d = synthetic_train_data();  // 30 users, 40 items, 3 genres
  EnvironmentPtr env = create_environment(e, p);
  env->build({3, 1, &d});
  CHECK(env->n_users() == 30);
  CHECK(env->item_features().names == d.item_features.names);
  const Trace a = run_sessions(*env, 5, 64, 3);
  check_contract(*env, a, 64, nullptr);
  EnvironmentPtr twin = create_environment(e, p);
  twin->build({3, 1, &d});
  CHECK(run_sessions(*twin, 5, 64, 3) == a);
}

TEST_CASE("calibrated's oracle slate has the best expected immediate reward", "[calibrated]") {
  const TrainData d = planted_world();
  CalConfig c = small_config();
  c.num_candidates = 5;
  c.slate_size = 3;
  c.no_click_preference = 1.0;
  c.drift = 0.3;
  CalibratedEnv env = built(d, c);
  constexpr int kSessions = 40;
  env.reset(7, kSessions);
  std::vector<ItemId> slates, best(kSessions * 3);
  Rng policy(1);
  StepOutcome out;
  std::vector<std::uint8_t> ended(kSessions, 0);
  for (int step = 0; step < 3; ++step) {  // some fatigue and drift first
    random_slates(env, policy, slates);
    env.step(slates, out);
    for (std::size_t s = 0; s < kSessions; ++s) ended[s] |= out.terminated[s] | out.truncated[s];
  }
  REQUIRE(env.oracle_slates(best));
  const auto value = [&](std::size_t s, const ItemId* slate) {
    std::vector<double> log_a(3), p(3);
    for (std::size_t j = 0; j < 3; ++j) log_a[j] = env.session_log_attractiveness(s, slate[j]);
    calibrated::click_probabilities(log_a, c.no_click_preference / c.temperature, c.examination_decay, p);
    return p[0] + p[1] + p[2];
  };
  int compared = 0, live = 0;
  for (std::size_t s = 0; s < kSessions; ++s) {
    if (ended[s]) continue;  // no step follows: its oracle slate is any valid one (environment.hpp)
    ++live;
    const std::span<const ItemId> row = env.candidates().subspan(s * 5, 5);
    const double oracle = value(s, best.data() + s * 3);
    for (std::size_t a = 0; a < 5; ++a)
      for (std::size_t b = 0; b < 5; ++b)
        for (std::size_t e = 0; e < 5; ++e) {
          if (a == b || a == e || b == e) continue;
          const ItemId slate[] = {row[a], row[b], row[e]};
          CHECK(value(s, slate) <= oracle + 1e-12);
          ++compared;
        }
  }
  CHECK(live > kSessions / 2);
  CHECK(compared == live * 60);
}

TEST_CASE("calibrated fits ml-100k", "[calibrated]") {
  if (!have_shared("ml-100k/u.data")) {
    WARN("skipped: ml-100k not found under " << shared_data());
    return;
  }
  const TrainData train = whole_ml100k();
  CalibratedEnv env = built(train, CalConfig{}, 1, 2);
  CHECK(env.n_users() == 943);
  CHECK(env.n_items() == 1682);
  CHECK(env.item_features().matrix.cols == 19);  // the genres
  const auto named = env.diagnostics();
  const std::map<std::string, double> diag(named.begin(), named.end());
  for (const auto& [name, value] : diag) WARN(name << " = " << value);
  CHECK(diag.at("fit_train_auc") > 0.9);
  CHECK(diag.at("new_items") == 168);
  CHECK(diag.at("oracle_slate_ctr_step0") > diag.at("random_slate_ctr_step0") + 0.3);
}
