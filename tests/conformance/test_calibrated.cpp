// The calibrated environment (environments/calibrated/) on a tiny planted
// world: 4 genres of 5 items, 24 users who each rate 4 of their own genre's
// 5 items. Its fit, choice model, fatigue, arrivals, determinism and oracle
// are checked against the formulas in calibrated_model.hpp, and the
// environment contract on its runs (the generic loop of
// test_environments.cpp builds worlds without a dataset, which this one
// refuses). Then its fit on ml-100k when the data are there.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "environment_support.hpp"
#include "environments/calibrated/calibrated.hpp"
#include "test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;
using calibrated::CalConfig;
using calibrated::CalibratedEnv;

namespace {

constexpr int kGenres = 4, kPerGenre = 5, kUsers = 24;
constexpr ItemId kItems = kGenres * kPerGenre;

int genre_of_user(UserId u) { return u % kGenres; }
/// The one item of u's genre that u has not rated.
ItemId held_out(UserId u) { return genre_of_user(u) * kPerGenre + (u / kGenres) % kPerGenre; }

/// Item i is first rated at time 1000 i: the highest ids are the newest.
TrainData planted_world() {
  std::vector<test::Interaction> e;
  for (UserId u = 0; u < kUsers; ++u)
    for (ItemId i = genre_of_user(u) * kPerGenre; i < (genre_of_user(u) + 1) * kPerGenre; ++i)
      if (i != held_out(u)) e.push_back({u, i, 5.0f, 1000 * i + u});
  TrainData d = make_train_data(kUsers, kItems, e, true);
  AttributeMatrix& f = d.item_features;
  f.matrix.rows = kItems;
  f.matrix.cols = kGenres;
  for (ItemId i = 0; i < kItems; ++i) {
    f.matrix.indices.push_back(i / kPerGenre);
    f.matrix.values.push_back(1.0f);
    f.matrix.indptr.push_back(f.matrix.nnz());
  }
  for (int g = 0; g < kGenres; ++g) f.names.push_back("genre=" + std::to_string(g));
  return d;
}

/// The planted world with explicit ratings 1 + (i mod 5): within every genre
/// item quality rises with the id.
TrainData rated_world() {
  std::vector<test::Interaction> e;
  for (UserId u = 0; u < kUsers; ++u)
    for (ItemId i = genre_of_user(u) * kPerGenre; i < (genre_of_user(u) + 1) * kPerGenre; ++i)
      if (i != held_out(u)) e.push_back({u, i, static_cast<float>(1 + i % kPerGenre), 1000 * i + u});
  TrainData d = make_train_data(kUsers, kItems, e, true);
  d.item_features = planted_world().item_features;
  return d;
}

/// Small defaults for the planted world (20 items, new ones held back).
CalConfig small_config() {
  CalConfig c;
  c.factors = 6;
  c.als_iterations = 15;
  c.slate_size = 3;
  c.num_candidates = 8;
  c.new_item_fraction = 0.25;
  c.arrival_steps = 6;
  c.max_steps = 30;
  return c;
}

CalibratedEnv built(const TrainData& d, const CalConfig& c, std::uint64_t seed = 1, int threads = 1) {
  CalibratedEnv env(c);
  env.build({seed, threads, &d});
  return env;
}

/// Every rule of the environment contract one run shows (as in test_environments.cpp),
/// plus, given the catalogue: no candidate before its arrival step.
void check_contract(const Environment& env, const Trace& t, int n,
                    const calibrated::Catalogue* catalogue) {
  const auto n_s = static_cast<std::size_t>(n), m = static_cast<std::size_t>(env.num_candidates());
  REQUIRE(t.steps >= 1);
  REQUIRE(t.steps <= env.max_steps());
  for (std::size_t row = 0; row * m < t.candidates.size(); ++row) {
    const auto step = static_cast<int>(row / n_s);
    std::set<ItemId> distinct(t.candidates.begin() + static_cast<std::ptrdiff_t>(row * m),
                              t.candidates.begin() + static_cast<std::ptrdiff_t>((row + 1) * m));
    CHECK(distinct.size() == m);
    // a finished session's row stays that of its last step, which is earlier
    for (ItemId c : distinct) {
      CHECK((c >= 0 && c < env.n_items()));
      if (catalogue) CHECK(catalogue->arrival(c) <= step);
    }
  }
  for (std::size_t s = 0; s < n_s; ++s) {
    int ended_at = -1;
    for (int step = 0; step < t.steps; ++step) {
      const std::size_t i = static_cast<std::size_t>(step) * n_s + s;
      CHECK((t.choice[i] >= -1 && t.choice[i] < env.slate_size()));
      CHECK(t.reward[i] == (t.choice[i] >= 0 ? 1.0f : 0.0f));
      if (t.choice[i] == -1) CHECK(t.engagement[i] == 0.0f);
      if (ended_at >= 0) {
        const std::size_t e = static_cast<std::size_t>(ended_at) * n_s + s;
        CHECK(t.terminated[i] == t.terminated[e]);
        CHECK(t.truncated[i] == t.truncated[e]);
        CHECK(t.choice[i] == -1);
      } else if (t.terminated[i] || t.truncated[i]) {
        ended_at = step;
      }
    }
    CHECK(ended_at >= 0);
  }
}

/// |observed - expected| within 5 standard deviations of a sum of Bernoullis.
void check_count(double observed, double expected, double variance) {
  INFO("observed " << observed << ", expected " << expected << " +- " << std::sqrt(variance));
  CHECK(std::abs(observed - expected) <= 5.0 * std::sqrt(variance) + 1e-9);
}

}  // namespace

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
  for (int step = 0; step < 3; ++step) {  // some fatigue and drift first
    random_slates(env, policy, slates);
    env.step(slates, out);
  }
  REQUIRE(env.oracle_slates(best));
  const auto value = [&](std::size_t s, const ItemId* slate) {
    std::vector<double> log_a(3), p(3);
    for (std::size_t j = 0; j < 3; ++j) log_a[j] = env.session_log_attractiveness(s, slate[j]);
    calibrated::click_probabilities(log_a, c.no_click_preference / c.temperature, c.examination_decay, p);
    return p[0] + p[1] + p[2];
  };
  int compared = 0;
  for (std::size_t s = 0; s < kSessions; ++s) {
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
  CHECK(compared == kSessions * 60);
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
