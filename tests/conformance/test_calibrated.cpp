// The calibrated environment (environments/calibrated/) on a tiny planted
// world (calibrated_world.hpp): 4 genres of 5 items, 24 users who each rate
// 4 of their own genre's 5 items. Its fit, choice model, clicks and fatigue
// are checked against the formulas in calibrated_model.hpp. (Item quality,
// disappointment, arrivals, the environment contract, determinism, the
// oracle and the ml-100k fit: test_calibrated_dynamics.cpp.)
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "calibrated_world.hpp"

using namespace recfuse;
using namespace recfuse::test;
using calibrated::CalConfig;
using calibrated::CalibratedEnv;
using namespace recfuse::test::planted;

TEST_CASE("calibrated needs a dataset and enough items", "[calibrated]") {
  CalibratedEnv env(small_config());
  CHECK_THROWS_WITH(env.build({1, 1, nullptr}), Catch::Contains("needs [dataset]"));
  const TrainData d = planted_world();
  CalConfig c = small_config();
  c.num_candidates = 16;  // 20 items, 5 held back
  c.new_item_fraction = 0.25;
  CalibratedEnv big(c);
  CHECK_THROWS_WITH(big.build({1, 1, &d}), Catch::Contains("exceeds the 15 items available"));
  c.slate_size = 17;
  CHECK_THROWS_WITH(CalibratedEnv(c), Catch::Contains("slate_size (17) exceeds num_candidates (16)"));
}

TEST_CASE("calibrated's fitted preferences rank the planted favourites first", "[calibrated]") {
  const TrainData d = planted_world();
  const CalibratedEnv env = built(d, small_config());
  CHECK(env.n_users() == kUsers);
  CHECK(env.n_items() == kItems);
  CHECK(env.item_features().matrix.nnz() == kItems);  // the dataset's genres, as given
  for (UserId u = 0; u < kUsers; ++u) {
    INFO("user " << u);
    std::vector<ItemId> order(kItems);
    std::iota(order.begin(), order.end(), ItemId{0});
    std::sort(order.begin(), order.end(),
              [&](ItemId a, ItemId b) { return env.preference(u, a) > env.preference(u, b); });
    std::set<ItemId> top(order.begin(), order.begin() + kPerGenre);
    for (ItemId i = genre_of_user(u) * kPerGenre; i < (genre_of_user(u) + 1) * kPerGenre; ++i)
      CHECK(top.count(i) == 1);  // the unrated one of the genre too
  }
  const auto diag = env.diagnostics();
  CHECK(diag[0].first == "fit_train_auc");
  CHECK(diag[0].second > 0.95);
  // Standardised over all pairs: the preferences have mean 0 and sd 1.
  double sum = 0, sq = 0;
  for (UserId u = 0; u < kUsers; ++u)
    for (ItemId i = 0; i < kItems; ++i) sum += env.preference(u, i), sq += env.preference(u, i) * env.preference(u, i);
  const double cells = double{kUsers} * kItems;
  CHECK(sum / cells == Approx(0.0).margin(1e-9));
  CHECK(sq / cells == Approx(1.0));
}

TEST_CASE("calibrated's choice model, worked by hand and sampled", "[calibrated]") {
  // e = (1, 1/2), a = (2, 1), w0 = 1. Both examined (1/2): P = 2/4, 1/4;
  // only the first (1/2): P = 2/3, 0. P(0) = 1/4 + 1/3, P(1) = 1/8.
  const std::vector<double> log_a = {std::log(2.0), 0.0};
  std::vector<double> p(2);
  calibrated::click_probabilities(log_a, 0.0, 1.0, p);
  CHECK(p[0] == Approx(0.25 + 1.0 / 3.0));
  CHECK(p[1] == Approx(0.125));
  CHECK(calibrated::examination_probability(3, 2.0) == Approx(1.0 / 16));
  // k = 3, eta = 0.7, unequal weights: frequencies of 200000 draws.
  const std::vector<double> log_b = {0.3, 1.2, -0.5};
  std::vector<double> q(3);
  calibrated::click_probabilities(log_b, 0.8, 0.7, q);
  Rng rng(3);
  std::vector<double> count(3, 0.0);
  constexpr int kDraws = 200000;
  for (int t = 0; t < kDraws; ++t) {
    const int pos = calibrated::choose_position(log_b, 0.8, 0.7, rng);
    if (pos >= 0) count[static_cast<std::size_t>(pos)] += 1;
  }
  for (std::size_t j = 0; j < 3; ++j) check_count(count[j], kDraws * q[j], kDraws * q[j] * (1 - q[j]));
  // A huge attractiveness (T small) neither overflows nor loses the no-click option.
  const std::vector<double> log_c = {800.0};
  calibrated::click_probabilities(log_c, 799.0, 1.0, q);
  CHECK(q[0] == Approx(std::exp(1.0) / (1.0 + std::exp(1.0))));
}

TEST_CASE("calibrated's clicks follow its choice model", "[calibrated]") {
  const TrainData d = planted_world();
  CalConfig c = small_config();
  c.examination_decay = 0.8;
  c.no_click_preference = 1.5;
  CalibratedEnv env = built(d, c);
  constexpr int kSessions = 20000;
  env.reset(4, kSessions);
  std::vector<ItemId> slates;
  Rng policy(5);
  random_slates(env, policy, slates);
  const auto k = static_cast<std::size_t>(c.slate_size);
  std::vector<double> expected(k, 0.0), variance(k, 0.0), log_a(k), p(k);
  for (std::size_t s = 0; s < kSessions; ++s) {
    for (std::size_t j = 0; j < k; ++j) log_a[j] = env.session_log_attractiveness(s, slates[s * k + j]);
    calibrated::click_probabilities(log_a, c.no_click_preference / c.temperature, c.examination_decay, p);
    for (std::size_t j = 0; j < k; ++j) expected[j] += p[j], variance[j] += p[j] * (1 - p[j]);
  }
  StepOutcome out;
  env.step(slates, out);
  std::vector<double> clicks(k, 0.0);
  for (std::size_t s = 0; s < kSessions; ++s)
    if (out.choice[s] >= 0) {
      clicks[static_cast<std::size_t>(out.choice[s])] += 1;
      const ItemId item = slates[s * k + static_cast<std::size_t>(out.choice[s])];
      CHECK(out.engagement[s] ==
            Approx(1.0 / (1.0 + std::exp(-env.preference(env.users()[s], item)))));  // no drift yet
    }
  for (std::size_t j = 0; j < k; ++j) check_count(clicks[j], expected[j], variance[j]);
  CHECK(expected[0] > expected[2]);  // position bias shows
}

TEST_CASE("calibrated's fatigue lowers a clicked genre's click rate", "[calibrated]") {
  // Every item offered, one slot, the user's favourite twice; nobody leaves
  // or drifts, and fatigue does not recover: after a click the genre's
  // appeal is fatigue = 0.5 and a = 0.5 exp(z), else a = exp(z).
  const TrainData d = planted_world();
  CalConfig c = small_config();
  c.slate_size = 1;
  c.num_candidates = kItems;
  c.new_item_fraction = 0.0;
  c.fatigue = 0.5;
  c.fatigue_recovery = 0.0;
  c.drift = 0.0;
  c.leave_base = c.leave_per_miss = 0.0;
  c.max_steps = 2;
  c.temperature = 1.0;
  c.no_click_preference = 2.0;
  CalibratedEnv env = built(d, c);
  constexpr int kSessions = 40000;
  env.reset(8, kSessions);
  std::vector<ItemId> slate(kSessions);
  for (std::size_t s = 0; s < kSessions; ++s) {
    const UserId u = env.users()[s];
    ItemId best = 0;
    for (ItemId i = 1; i < kItems; ++i)
      if (env.preference(u, i) > env.preference(u, best)) best = i;
    slate[s] = best;
  }
  StepOutcome first, second;
  env.step(slate, first);
  env.step(slate, second);
  const double w0 = std::exp(c.no_click_preference);
  double clicked_n = 0, clicked_hits = 0, tired_expected = 0, tired_var = 0, fresh_expected = 0;
  double missed_n = 0, missed_hits = 0, missed_expected = 0, missed_var = 0;
  for (std::size_t s = 0; s < kSessions; ++s) {
    const double a = std::exp(env.preference(env.users()[s], slate[s]));
    const bool hit = second.choice[s] == 0;
    CHECK(env.genre_appeal(s, static_cast<std::size_t>(slate[s] / kPerGenre)) ==
          std::pow(0.5, (first.choice[s] == 0) + hit));
    if (first.choice[s] == 0) {
      const double p = 0.5 * a / (w0 + 0.5 * a);
      clicked_n += 1, clicked_hits += hit, tired_expected += p, tired_var += p * (1 - p);
      fresh_expected += a / (w0 + a);
    } else {
      const double p = a / (w0 + a);
      missed_n += 1, missed_hits += hit, missed_expected += p, missed_var += p * (1 - p);
    }
  }
  REQUIRE(clicked_n > 1000);
  REQUIRE(missed_n > 1000);
  check_count(clicked_hits, tired_expected, tired_var);
  check_count(missed_hits, missed_expected, missed_var);
  CHECK(clicked_hits < fresh_expected - 10.0 * std::sqrt(tired_var));  // well below no fatigue
  CHECK(clicked_hits / clicked_n < missed_hits / missed_n);
}
