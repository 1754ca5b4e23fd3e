// evaluate() on a hand-made 4-user x 6-item split with a fake recommender
// whose scores are a fixed matrix.
#include <catch2/catch.hpp>

#include <cmath>
#include <omp.h>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "eval/evaluator.hpp"
#include "eval/evaluator_detail.hpp"

using namespace recfuse;

namespace {

using Rows = std::vector<std::vector<std::pair<ItemId, float>>>;

CsrMatrix csr(std::int32_t cols, const Rows& rows) {
  CsrMatrix m;
  m.rows = static_cast<std::int32_t>(rows.size());
  m.cols = cols;
  for (const auto& row : rows) {
    for (const auto& [item, value] : row) {
      m.indices.push_back(item);
      m.values.push_back(value);
    }
    m.indptr.push_back(static_cast<std::int64_t>(m.indices.size()));
  }
  return m;
}

/// Scores are a fixed users x items matrix; ratings predicted as 3.
class MatrixRecommender final : public Recommender {
 public:
  explicit MatrixRecommender(std::vector<std::vector<float>> s) : s_(std::move(s)) {}
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t i = 0; i < users.size(); ++i)
      std::copy(s_[users[i]].begin(), s_[users[i]].end(), out.begin() + i * n);
  }
  std::size_t model_bytes() const override { return 0; }
  void predict_rating(std::span<const UserId>, std::span<const ItemId>,
                      std::span<float> out) override {
    std::fill(out.begin(), out.end(), 3.0f);
  }

 private:
  std::vector<std::vector<float>> s_;
};

/// Ignores exclusions: always recommends items 0..k-1.
class CarelessRecommender final : public Recommender {
 public:
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId>, std::span<float> out) override {
    std::fill(out.begin(), out.end(), 0.0f);
  }
  void recommend(std::span<const UserId> users, int k, SparseRowsView, std::span<ItemId> items,
                 std::span<float> scores) override {
    for (std::size_t i = 0; i < users.size(); ++i)
      for (int j = 0; j < k; ++j) {
        items[i * k + j] = j;
        scores[i * k + j] = 0;
      }
  }
  std::size_t model_bytes() const override { return 0; }
};

// Train:  u0 {0,1}   u1 {2}   u2 {0,3,5}   u3 {}
// Test:   u0 {2:5, 4:2}   u1 {0:4}   u2 {}   u3 {1:3}
// Item popularity in train: [2,1,1,1,0,1].
struct World {
  TrainData train;
  CsrMatrix test;
  MatrixRecommender rec{{
      {0.9f, 0.8f, 0.7f, 0.1f, 0.5f, 0.3f},  // u0 without {0,1}: 2, 4, 5, 3
      {0.2f, 0.6f, 0.9f, 0.4f, 0.1f, 0.5f},  // u1 without {2}:   1, 5, 3, 0, 4
      {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},
      {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f},  // u3: 5, 4, 3, 2, 1, 0
  }};
  World() {
    train.n_users = 4;
    train.n_items = 6;
    train.explicit_ratings = true;
    train.by_user = csr(6, {{{0, 4}, {1, 3}}, {{2, 5}}, {{0, 1}, {3, 2}, {5, 4}}, {}});
    test = csr(6, {{{2, 5}, {4, 2}}, {{0, 4}}, {}, {{1, 3}}});
    rec.fit(train, FitContext{});
  }
  EvaluationSpec spec() const {
    EvaluationSpec s;
    s.cutoffs = {2, 4};
    return s;
  }
};

}  // namespace

TEST_CASE("evaluate: test users and ranking metrics by hand", "[eval][evaluator]") {
  World w;
  const EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  REQUIRE(out.users == std::vector<UserId>{0, 1, 3});  // u2 has no test item
  // u0 rel {2,4}: top-2 [2,4] is perfect. u1 rel {0}: [1,5,3,0] hits at rank 4.
  // u3 rel {1}: [5,4,3,2] no hit.
  const auto& ndcg2 = out.per_user.at("ndcg@2");
  CHECK(ndcg2 == std::vector<double>{1.0, 0.0, 0.0});
  const auto& ndcg4 = out.per_user.at("ndcg@4");
  CHECK(ndcg4[0] == Approx(1.0));
  CHECK(ndcg4[1] == Approx(1 / std::log2(5.0)));  // idcg = 1 (one relevant item)
  CHECK(ndcg4[2] == 0);
  CHECK(out.per_user.at("precision@4")[1] == Approx(0.25));
  CHECK(out.per_user.at("recall@4")[1] == Approx(1.0));
  CHECK(out.per_user.at("map@4")[1] == Approx(0.25));
  CHECK(out.per_user.at("mrr@4")[1] == Approx(0.25));
  CHECK(out.per_user.at("hr@2") == std::vector<double>{1, 0, 0});
  CHECK(out.per_user.at("f1@2")[0] == Approx(1.0));
}

TEST_CASE("evaluate: excluded training items never reach the metrics", "[eval][evaluator]") {
  World w;
  // u0 scores its training items 0 and 1 highest; had they not been excluded
  // the top-2 would be [0,1] and ndcg@2 would be 0 instead of 1.
  const EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  CHECK(out.per_user.at("ndcg@2")[0] == Approx(1.0));
  // Catalogue measures at k = 2 over [2,4], [1,5], [5,4]: items {1,2,4,5}.
  CHECK(out.aggregate.at("coverage@2") == Approx(4.0 / 6));
  // counts sorted [0,0,1,1,2,2]: (-5*0 -3*0 -1*1 +1*1 +3*2 +5*2) / (6*6) = 16/36
  CHECK(out.aggregate.at("gini@2") == Approx(16.0 / 36));
  // A recommender that ignores the exclusions is an error, not a score.
  CarelessRecommender careless;
  careless.fit(w.train, FitContext{});
  CHECK_THROWS_WITH(evaluate(careless, w.train, w.test, w.spec(), false, 1),
                    Catch::Contains("training items"));
}

TEST_CASE("evaluate: AUC per user over non-training items", "[eval][evaluator]") {
  World w;
  const EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  const auto& a = out.per_user.at("auc");
  // u0: positives {2:.7, 4:.5} over negatives {3:.1, 5:.3} -> 1
  // u1: positive 0 (.2) beats only item 4 (.1) of {1,3,4,5} -> 1/4
  // u3: positive 1 (.2) beats only item 0 (.1) of {0,2,3,4,5} -> 1/5
  CHECK(a[0] == Approx(1.0));
  CHECK(a[1] == Approx(0.25));
  CHECK(a[2] == Approx(0.2));
}

TEST_CASE("evaluate: popularity measures and ILD when features exist", "[eval][evaluator]") {
  World w;
  EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  CHECK(out.per_user.count("ild@2") == 0);  // no item features
  // u0 top-2 [2,4]: popularity 1 and 0 -> arp .5; novelty with 4 users:
  // -log2(1/4) = 2 for both (pop 0 counts as 1) -> 2.
  CHECK(out.per_user.at("arp@2")[0] == Approx(0.5));
  CHECK(out.per_user.at("novelty@2")[0] == Approx(2.0));
  // Features: item2 {0}, item4 {0,1}: cos = 1/sqrt(2) -> ILD 1 - 0.7071.
  w.train.item_features.matrix = csr(2, {{}, {}, {{0, 1}}, {}, {{0, 1}, {1, 1}}, {}});
  out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  CHECK(out.per_user.at("ild@2")[0] == Approx(1 - 1 / std::sqrt(2.0)));
  CHECK(std::isnan(out.per_user.at("ild@2")[1]));  // [1,5] have no features
}

TEST_CASE("evaluate: relevance threshold selects users and items", "[eval][evaluator]") {
  World w;
  EvaluationSpec spec = w.spec();
  spec.relevance_threshold = 3.5;  // u0 keeps item 2 (5), u1 item 0 (4), u3 drops out (3)
  const EvalOutput out = evaluate(w.rec, w.train, w.test, spec, false, 1);
  REQUIRE(out.users == std::vector<UserId>{0, 1});
  CHECK(out.per_user.at("recall@2")[0] == Approx(1.0));
  CHECK(out.per_user.at("precision@2")[0] == Approx(0.5));
  // A threshold no test interaction reaches evaluates nobody: an error, not
  // an ok trial without metrics; on implicit data the message says why.
  spec.relevance_threshold = 6;
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, spec, false, 1),
                    Catch::Contains("relevance_threshold = 6") && Catch::Contains("none of the 4 test interactions"));
  // Rating metrics alone do not use it.
  spec.metrics = {"rmse", "mae"};
  CHECK(evaluate(w.rec, w.train, w.test, spec, true, 1).aggregate.count("rmse") == 1);
  spec.metrics.clear();
  w.train.explicit_ratings = false;
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, spec, false, 1), Catch::Contains("the data is implicit"));
}

TEST_CASE("evaluate: metric filter keeps listed names, rejects unknown", "[eval][evaluator]") {
  World w;
  EvaluationSpec spec = w.spec();
  spec.metrics = {"ndcg", "auc", "coverage"};
  const EvalOutput out = evaluate(w.rec, w.train, w.test, spec, true, 1);
  CHECK(out.per_user.size() == 3);  // ndcg@2, ndcg@4, auc
  CHECK(out.per_user.count("ndcg@2") == 1);
  CHECK(out.per_user.count("auc") == 1);
  CHECK(out.aggregate.size() == 2);  // coverage@2, coverage@4 (no rmse: not listed)
  spec.metrics = {"recal"};
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, spec, false, 1),
                    Catch::Contains("unknown metric 'recal'; did you mean 'recall'?") && Catch::Contains("known: "));
}

TEST_CASE("evaluate: bad protocol or cutoffs are errors", "[eval][evaluator]") {
  World w;
  EvaluationSpec spec = w.spec();
  spec.protocol = "leave_one_out";
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, spec, false, 1),
                    Catch::Contains("unknown protocol 'leave_one_out'"));
  spec = w.spec();
  spec.cutoffs = {0};
  CHECK_THROWS_AS(evaluate(w.rec, w.train, w.test, spec, false, 1), Error);
}

TEST_CASE("evaluate: sampled protocol adds sampled_ metrics", "[eval][evaluator]") {
  World w;
  EvaluationSpec spec = w.spec();
  spec.protocol = "sampled";
  spec.sampled_negatives = 2;
  const EvalOutput a = evaluate(w.rec, w.train, w.test, spec, false, 7);
  const EvalOutput b = evaluate(w.rec, w.train, w.test, spec, false, 7);
  REQUIRE(a.per_user.count("sampled_ndcg@2") == 1);
  CHECK(a.per_user.count("ndcg@2") == 1);  // full ranking is always there
  CHECK(a.per_user.at("sampled_ndcg@4") == b.per_user.at("sampled_ndcg@4"));
  // u0: only items 3 and 5 are eligible negatives; ranking [2,4,5,3] -> perfect.
  CHECK(a.per_user.at("sampled_ndcg@2")[0] == Approx(1.0));
  // Three candidates for u1 and u3 (1 relevant + 2 negatives): always a hit at 4.
  CHECK(a.per_user.at("sampled_hr@4") == std::vector<double>{1, 1, 1});
  // With more negatives than eligible items the sampled protocol is the full one.
  spec.sampled_negatives = 100;
  const EvalOutput all = evaluate(w.rec, w.train, w.test, spec, false, 7);
  CHECK(all.per_user.at("sampled_ndcg@4") == all.per_user.at("ndcg@4"));
  CHECK(all.per_user.at("sampled_map@2") == all.per_user.at("map@2"));
}

TEST_CASE("sample_negatives: distinct, eligible, deterministic", "[eval][evaluator]") {
  const std::vector<ItemId> seen = {1, 5, 9}, rel = {2, 5};
  for (std::size_t count : {3u, 10u, 50u}) {
    std::vector<ItemId> a(count), b(count);
    Rng r1(derive_seed(3, "sampled", 4)), r2(derive_seed(3, "sampled", 4));
    const auto na = eval_detail::sample_negatives(r1, 100, seen, rel, count, a.data());
    const auto nb = eval_detail::sample_negatives(r2, 100, seen, rel, count, b.data());
    REQUIRE(na == count);
    CHECK(nb == na);
    CHECK(a == b);
    std::vector<ItemId> sorted(a.begin(), a.end());
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    for (ItemId i : a) {
      CHECK(i >= 0);
      CHECK(i < 100);
      CHECK(i != 1);
      CHECK(i != 2);
      CHECK(i != 5);
      CHECK(i != 9);
    }
  }
  std::vector<ItemId> out(10);
  Rng rng(1);
  // Only 6 - 4 = 2 eligible items: {0, 3}.
  CHECK(eval_detail::sample_negatives(rng, 6, std::vector<ItemId>{1, 2}, std::vector<ItemId>{4, 5},
                                      10, out.data()) == 2);
  CHECK(out[0] == 0);
  CHECK(out[1] == 3);
}

TEST_CASE("evaluate: rating metrics only when asked and explicit", "[eval][evaluator]") {
  World w;
  // Predictions 3 against test ratings 5, 2, 4, 3 (all test pairs, not only
  // relevant ones): errors -2, 1, -1, 0 -> rmse sqrt(6/4), mae 1.
  EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), true, 1);
  CHECK(out.aggregate.at("rmse") == Approx(std::sqrt(1.5)));
  CHECK(out.aggregate.at("mae") == Approx(1.0));
  CHECK(out.rating_sq_errors == std::vector<double>{4, 1, 1, 0});
  CHECK(out.rating_abs_errors == std::vector<double>{2, 1, 1, 0});
  // Users 0, 1 and 3 have test ratings (2, 1 and 1 of them): the CIs resample them.
  CHECK(out.rating_user_offsets == std::vector<std::size_t>{0, 2, 3, 4});
  CHECK(out.rating_users == std::vector<UserId>{0, 1, 3});
  EvaluationSpec high = w.spec();
  high.relevance_threshold = 4;  // u3's only rating (3) is not relevant: ranked users differ
  out = evaluate(w.rec, w.train, w.test, high, true, 1);
  CHECK((out.users == std::vector<UserId>{0, 1} && out.rating_users == std::vector<UserId>{0, 1, 3}));
  out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  CHECK(out.aggregate.count("rmse") == 0);
  CHECK(out.rating_sq_errors.empty());
  w.train.explicit_ratings = false;
  out = evaluate(w.rec, w.train, w.test, w.spec(), true, 1);
  CHECK(out.aggregate.count("mae") == 0);
}

TEST_CASE("evaluate: latency and throughput are filled", "[eval][evaluator]") {
  World w;
  EvaluationSpec spec = w.spec();
  EvalOutput out = evaluate(w.rec, w.train, w.test, spec, false, 1);
  CHECK(out.latency.n == 3);
  CHECK(out.latency.p50_ms <= out.latency.p95_ms);
  CHECK(out.latency.p95_ms <= out.latency.p99_ms);
  CHECK(out.latency.p99_ms <= out.latency.max_ms);
  CHECK(out.latency.mean_ms <= out.latency.max_ms);
  CHECK(out.batch_seconds > 0);
  CHECK(out.throughput_users_per_s == Approx(3 / out.batch_seconds));
  spec.max_latency_users = 2;
  out = evaluate(w.rec, w.train, w.test, spec, false, 1);
  CHECK(out.latency.n == 2);
}

TEST_CASE("nearest-rank percentiles", "[eval][evaluator]") {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  CHECK(eval_detail::nearest_rank(v, 0.50) == 50);
  CHECK(eval_detail::nearest_rank(v, 0.95) == 95);
  CHECK(eval_detail::nearest_rank(v, 0.99) == 99);
  CHECK(eval_detail::nearest_rank(std::vector<double>{1, 2, 3}, 0.5) == 2);  // ceil(1.5) = 2
  CHECK(eval_detail::nearest_rank(std::vector<double>{7}, 0.99) == 7);
  CHECK(eval_detail::nearest_rank({}, 0.5) == 0);
}

TEST_CASE("evaluate: no test user gives empty output", "[eval][evaluator]") {
  World w;
  const CsrMatrix empty = csr(6, {{}, {}, {}, {}});
  const EvalOutput out = evaluate(w.rec, w.train, empty, w.spec(), false, 1);
  CHECK(out.users.empty());
  CHECK(out.latency.n == 0);
  CHECK(out.per_user.empty());
}

TEST_CASE("evaluate: identical results for 1 and 2 threads", "[eval][evaluator]") {
  // 60 users x 300 items, random train/test and scores with ties.
  std::mt19937 gen(99);
  Rows train_rows(60), test_rows(60);
  std::vector<std::vector<float>> scores(60, std::vector<float>(300));
  for (int u = 0; u < 60; ++u) {
    for (ItemId i = 0; i < 300; ++i) {
      const unsigned r = gen() % 20;
      if (r == 0) train_rows[u].push_back({i, 1.0f + gen() % 5});
      else if (r == 1) test_rows[u].push_back({i, 1.0f + gen() % 5});
      scores[u][i] = static_cast<float>(gen() % 50);
    }
  }
  TrainData train;
  train.n_users = 60;
  train.n_items = 300;
  train.by_user = csr(300, train_rows);
  const CsrMatrix test = csr(300, test_rows);
  MatrixRecommender rec(scores);
  rec.fit(train, FitContext{});
  EvaluationSpec spec;
  spec.cutoffs = {5, 20};
  spec.protocol = "sampled";
  spec.sampled_negatives = 5;  // per test item
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const EvalOutput one = evaluate(rec, train, test, spec, false, 5);
  omp_set_num_threads(2);
  const EvalOutput two = evaluate(rec, train, test, spec, false, 5);
  omp_set_num_threads(threads);
  REQUIRE(one.users.size() > 40);
  CHECK(one.per_user == two.per_user);
  CHECK(one.aggregate == two.aggregate);
  CHECK(one.per_user.count("sampled_ndcg@20") == 1);
  // Sampled vs full values: sampled_test.cpp (ties rank differently there).
}

TEST_CASE("evaluate: an exclusion matrix beyond train (validation items) is honoured everywhere",
          "[eval][evaluator]") {
  World w;
  // u1 (train {2}, test {0}) ranks [1, 5, 3, 0, 4] without exclusions beyond
  // train. With its validation items {1, 5} excluded too, the ranking is
  // [3, 0, 4] and the test item 0 moves from rank 4 to rank 2.
  const CsrMatrix excluded = csr(6, {{{0, 1}, {1, 1}}, {{1, 1}, {2, 1}, {5, 1}}, {{0, 1}, {3, 1}, {5, 1}}, {}});
  EvaluationSpec spec = w.spec();
  spec.metrics = {"ndcg", "hr", "auc"};
  const EvalOutput plain = evaluate(w.rec, w.train, w.test, spec, false, 1);
  const EvalOutput out = evaluate(w.rec, w.train, w.test, excluded, spec, false, 1);
  CHECK(plain.per_user.at("hr@2")[1] == 0);
  CHECK(out.per_user.at("hr@2")[1] == 1);
  CHECK(out.per_user.at("ndcg@2")[1] == Approx(1 / std::log2(3.0)));
  // AUC of u1 over its non-excluded negatives {3, 4}: 0 (0.2) beats 4 (0.1), loses to 3 (0.4).
  CHECK(out.per_user.at("auc")[1] == Approx(0.5));
  CHECK(plain.per_user.at("auc")[1] == Approx(0.25));  // negatives {1, 3, 4, 5}
  // Sampled negatives come from outside the exclusion rows too: u1 has
  // only {3, 4} left, so with 99 asked both are drawn and hr@2 is certain.
  spec.protocol = "sampled";
  spec.sampled_negatives = 99;
  const EvalOutput sampled = evaluate(w.rec, w.train, w.test, excluded, spec, false, 1);
  CHECK(sampled.per_user.at("sampled_hr@2")[1] == 1);
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, csr(5, {{}, {}, {}, {}}), spec, false, 1),
                    Catch::Matchers::Contains("exclusion matrix"));
}

TEST_CASE("evaluate: a cutoff beyond the catalogue gives the whole ranking, without a list of that length",
          "[eval][evaluator]") {
  World w;
  EvaluationSpec s = w.spec();
  s.cutoffs = {4, 6, 1000000000};  // 10^9 x 3 users of ItemIds would not fit in memory
  const EvalOutput out = evaluate(w.rec, w.train, w.test, s, false, 1);
  // Every non-training item is ranked by k = 6 already: recall 1 for all three users.
  CHECK(out.per_user.at("recall@1000000000") == std::vector<double>{1, 1, 1});
  CHECK(out.per_user.at("recall@1000000000") == out.per_user.at("recall@6"));
  CHECK(out.per_user.at("ndcg@1000000000") == out.per_user.at("ndcg@6"));
  CHECK(out.per_user.at("precision@1000000000")[1] == Approx(1e-9));  // still hits / k
  CHECK(out.aggregate.at("coverage@1000000000") == out.aggregate.at("coverage@6"));
}
