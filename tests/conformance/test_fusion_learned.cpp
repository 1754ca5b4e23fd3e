// Learned fusion recovers known weights on synthetic tasks, learned
// switching picks the right child per segment, and every fusion strategy
// passes the recommender contract with real children (popularity and
// item_knn loaded from the built plugins), which the generic conformance
// suite cannot build on its own.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>

#include <omp.h>

#include "conformance_support.hpp"
#include "test_fusion_support.hpp"
#include "plugins/fusion/cascade.hpp"
#include "plugins/fusion/logistic.hpp"
#include "plugins/fusion/stacking.hpp"
#include "plugins/fusion/switching.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;

TEST_CASE("fit_logistic recovers the weights that generated the labels", "[fusion]") {
  Rng rng(11);
  const int n = 20000;
  const Eigen::Vector3d w_true(1.5, -2.0, 0.5);
  const double b_true = 0.3;
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < 3; ++c) X(r, c) = rng.normal();
    const double p = 1 / (1 + std::exp(-(X.row(r).dot(w_true) + b_true)));
    y(r) = rng.uniform() < p ? 1 : 0;
  }
  const LogisticFit f = fit_logistic(X, y, 1e-3, true);
  for (int c = 0; c < 3; ++c) CHECK(f.weights(c) == Approx(w_true(c)).margin(0.1));
  CHECK(f.intercept == Approx(b_true).margin(0.1));
  // A heavy ridge shrinks the weights towards zero.
  CHECK(fit_logistic(X, y, 1e5, true).weights.norm() < 0.5 * w_true.norm());
}

TEST_CASE("stacking (pairwise) recovers the child weights of a softmax choice", "[fusion]") {
  // 1500 users, 60 items, one training item each (so popularity and history
  // are constant and carry no signal). Child scores s1, s2 ~ N(0, 1); each
  // user's validation item is drawn with probability ∝ exp(1.0 s1 + 0.5 s2).
  constexpr int kUsers = 1500, kItems = 60;
  Rng rng(5);
  std::vector<std::vector<float>> s1(kUsers, std::vector<float>(kItems)), s2 = s1;
  std::vector<Interaction> train, val;
  for (UserId u = 0; u < kUsers; ++u) {
    for (int i = 0; i < kItems; ++i) { s1[u][i] = static_cast<float>(rng.normal()); s2[u][i] = static_cast<float>(rng.normal()); }
    const ItemId t = u % kItems;
    train.push_back({u, t});
    double z = 0;
    std::vector<double> p(kItems, 0.0);
    for (int i = 0; i < kItems; ++i)
      if (i != t) z += p[i] = std::exp(1.0 * s1[u][i] + 0.5 * s2[u][i]);
    double pick = rng.uniform() * z;
    ItemId chosen = kItems - 1 == t ? kItems - 2 : kItems - 1;
    for (int i = 0; i < kItems; ++i) {
      if (i == t) continue;
      pick -= p[i];
      if (pick <= 0) { chosen = i; break; }
    }
    val.push_back({u, chosen});
  }
  TrainData d = make_train_data(kUsers, kItems, train, false);
  d.validation = make_train_data(kUsers, kItems, val, false).by_user;
  auto f = make_fused<Stacking>({{"normalization", "none"}, {"interactions", false}, {"l2", 1e-3},
                                 {"negatives", std::int64_t{20}}},
                                {fixed_child("s1", s1, d), fixed_child("s2", s2, d)}, d);
  const auto& w = f->coefficients();
  REQUIRE(f->feature_names()[0] == "s1");
  CHECK(w[0] == Approx(1.0).margin(0.15));
  CHECK(w[1] == Approx(0.5).margin(0.15));
  CHECK(std::abs(w[2]) < 1e-6);  // popularity is constant here
  // Pointwise logistic regression ranks the same way: s1 weighted above s2 > 0.
  auto g = make_fused<Stacking>({{"normalization", "none"}, {"interactions", false}, {"objective", "pointwise"}},
                                {fixed_child("s1", s1, d), fixed_child("s2", s2, d)}, d);
  CHECK(g->coefficients()[0] > g->coefficients()[1]);
  CHECK(g->coefficients()[1] > 0.1);
}

TEST_CASE("learned switching gives each history segment its best child", "[fusion]") {
  // Users 0..19 have 2 training items, 20..39 have 10. Child A puts each
  // short-history user's validation item first, child B each long one's; on
  // the other users each puts the validation item last.
  constexpr int kUsers = 40, kItems = 30;
  std::vector<Interaction> train, val;
  std::vector<std::vector<float>> a(kUsers, std::vector<float>(kItems, 0.0f)), b = a;
  for (UserId u = 0; u < kUsers; ++u) {
    const int n = u < 20 ? 2 : 10;
    for (int j = 0; j < n; ++j) train.push_back({u, (u + j) % kItems});
    const ItemId v = (u + n + 3) % kItems;
    val.push_back({u, v});
    (u < 20 ? a : b)[u][v] = 1.0f;
    (u < 20 ? b : a)[u][v] = -1.0f;
  }
  TrainData d = make_train_data(kUsers, kItems, train, false);
  d.validation = make_train_data(kUsers, kItems, val, false).by_user;
  auto f = make_fused<Switching>({{"rule", "learned"}}, {fixed_child("A", a, d), fixed_child("B", b, d)}, d);
  for (UserId u = 0; u < kUsers; ++u) CHECK(f->choices()[u] == (u < 20 ? 0 : 1));
  // A child that scores a validation item -inf (as sasrec does when it
  // appends validation to its history) cannot be judged on it: an error
  // naming the child, for every strategy that fits on validation.
  b[7][(7 + 2 + 3) % kItems] = -std::numeric_limits<float>::infinity();
  const auto masked = [&] { return std::vector<Child>{fixed_child("A", a, d), fixed_child("masking", b, d)}; };
  CHECK_THROWS_WITH(make_fused<Switching>({{"rule", "learned"}}, masked(), d),
                    Catch::Contains("[switching] child 'masking' scores user 7's validation item 12") &&
                        Catch::Contains("append_validation = false"));
  CHECK_THROWS_WITH(make_fused<Stacking>({}, masked(), d), Catch::Contains("[stacking] child 'masking'"));
  CHECK_NOTHROW(make_fused<Cascade>({}, masked(), d));  // validation only feeds its recall diagnostic
}

namespace {

RecommenderPtr fused_from_registry(const std::string& algo, const std::map<std::string, ParamValue>& values,
                                   const TrainData& d) {
  std::vector<Child> children;
  for (const char* name : {"popularity", "item_knn"}) {
    const AlgorithmHandle h = plugin_registry().find(name);
    children.push_back({name, name, h.algorithm->capabilities, fit_algorithm(name, d)});
  }
  const AlgorithmHandle h = plugin_registry().find(algo);
  RecommenderPtr r = create_recommender(h, params_for(h, values));
  r->set_children(std::move(children));
  FitContext ctx;
  ctx.seed = 9;
  r->fit(d, ctx);
  return r;
}

struct LearnedCase {
  std::string algo;
  std::map<std::string, ParamValue> params;
};

}  // namespace

TEST_CASE("fusion strategies with real children honour the recommender contract", "[fusion][conformance]") {
  const TrainData d = data_with_validation();
  const std::vector<LearnedCase> cases = {
      {"score_fusion", {}},
      {"score_fusion", {{"method", std::string("combmnz")}, {"normalization", std::string("rank")}, {"depth", std::int64_t{10}}}},
      {"rank_fusion", {}},
      {"rank_fusion", {{"method", std::string("vote")}, {"depth", std::int64_t{5}}}},
      {"stacking", {}},
      {"stacking", {{"objective", std::string("pointwise")}}},
      {"switching", {{"min_history", std::int64_t{8}}}},
      {"switching", {{"rule", std::string("learned")}}},
      {"cascade", {{"candidates", std::int64_t{12}}}},
  };
  constexpr int kK = 10;
  const auto exclude = SparseRowsView::of(d.by_user);
  std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
  for (UserId u = 0; u < d.n_users; ++u) users[static_cast<std::size_t>(u)] = u;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    DYNAMIC_SECTION(cases[c].algo << " #" << c) {
      RecommenderPtr r = fused_from_registry(cases[c].algo, cases[c].params, d);
      std::vector<ItemId> items(users.size() * kK);
      std::vector<float> scores(items.size());
      r->recommend(users, kK, exclude, items, scores);
      std::vector<float> all(users.size() * static_cast<std::size_t>(d.n_items));
      r->score_all(users, all);
      for (UserId u = 0; u < d.n_users; ++u) {
        const ItemId* it = items.data() + u * kK;
        const float* sc = scores.data() + u * kK;
        const auto ex = exclude.row(u);
        std::set<ItemId> seen;
        for (int j = 0; j < kK; ++j) {
          REQUIRE(it[j] != kNoItem);  // 40 items, at most 16 excluded
          CHECK(seen.insert(it[j]).second);
          CHECK_FALSE(std::binary_search(ex.begin(), ex.end(), it[j]));
          if (j > 0) CHECK((sc[j] < sc[j - 1] || (sc[j] == sc[j - 1] && it[j] > it[j - 1])));
          CHECK(sc[j] == Approx(all[static_cast<std::size_t>(u) * d.n_items + it[j]]).margin(1e-4));
        }
        // A single-user call returns what the batch did.
        std::vector<ItemId> one(kK);
        std::vector<float> one_s(kK);
        const UserId single[] = {u};
        r->recommend(single, kK, exclude, one, one_s);
        CHECK(std::equal(one.begin(), one.end(), it));
      }
      // Same seed, same model.
      RecommenderPtr again = fused_from_registry(cases[c].algo, cases[c].params, d);
      std::vector<ItemId> items2(items.size());
      again->recommend(users, kK, exclude, items2, scores);
      CHECK(items2 == items);
      CHECK(r->model_bytes() > 0);
    }
  }
}

TEST_CASE("fusion strategies fit and score the same with 1 and 2 threads", "[fusion]") {
  const TrainData d = data_with_validation();
  const std::vector<LearnedCase> cases = {{"stacking", {}},
                                   {"stacking", {{"objective", std::string("pointwise")}}},
                                   {"score_fusion", {{"normalization", std::string("rank")}}},
                                   {"rank_fusion", {}}};
  std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
  for (UserId u = 0; u < d.n_users; ++u) users[static_cast<std::size_t>(u)] = u;
  const int before = omp_get_max_threads();
  for (const LearnedCase& c : cases) {
    INFO(c.algo);
    std::vector<std::vector<float>> rows;
    std::vector<std::vector<std::pair<std::string, double>>> diags;
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      RecommenderPtr r = fused_from_registry(c.algo, c.params, d);
      rows.emplace_back(users.size() * static_cast<std::size_t>(d.n_items));
      r->score_all(users, rows.back());  // 30 users: the parallel branch (> 8)
      diags.push_back(r->diagnostics());
    }
    omp_set_num_threads(before);
    CHECK(rows[0] == rows[1]);
    CHECK(diags[0] == diags[1]);
  }
}
