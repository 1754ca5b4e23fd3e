// AUC, catalogue and per-list beyond-accuracy measures, rating errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "eval/metrics.hpp"

using namespace recfuse;

namespace {
/// O(pos x neg) reference AUC (NaN ranks as -inf, ties count 1/2).
double brute_auc(const std::vector<float>& s, const std::vector<ItemId>& rel,
                 const std::vector<ItemId>& excl) {
  const auto key = [](float x) { return std::isnan(x) ? -INFINITY : x; };
  const auto in = [](const std::vector<ItemId>& v, ItemId i) {
    return std::find(v.begin(), v.end(), i) != v.end();
  };
  double wins = 0;
  long pairs = 0;
  for (ItemId p : rel) {
    if (in(excl, p)) continue;
    for (ItemId n = 0; n < static_cast<ItemId>(s.size()); ++n) {
      if (in(excl, n) || in(rel, n)) continue;
      wins += key(s[p]) > key(s[n]) ? 1 : key(s[p]) == key(s[n]) ? 0.5 : 0;
      ++pairs;
    }
  }
  return pairs ? wins / pairs : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

TEST_CASE("auc: scikit-learn roc_auc_score example", "[eval][metrics][reference]") {
  // scikit-learn doc/modules/model_evaluation.rst (scikit-learn/scikit-learn):
  // y_true = [0, 0, 1, 1], y_scores = [0.1, 0.4, 0.35, 0.8] -> 0.75.
  const std::vector<float> s = {0.1f, 0.4f, 0.35f, 0.8f};
  CHECK(auc(s, std::vector<ItemId>{2, 3}, {}) == Approx(0.75));
}

TEST_CASE("auc: RecBole test_loss_metrics vectors", "[eval][metrics][reference]") {
  // RUCAIBox/RecBole tests/metrics/test_loss_metrics.py:
  // preds [0.1,0.9,0.2,0.3], trues [1,0,1,1] -> 0;
  // preds [0.7,0.5,0.6,0.2], trues [0,1,1,0] -> 2/(2*2).
  const std::vector<float> s0 = {0.1f, 0.9f, 0.2f, 0.3f};
  CHECK(auc(s0, std::vector<ItemId>{0, 2, 3}, {}) == Approx(0.0));
  const std::vector<float> s1 = {0.7f, 0.5f, 0.6f, 0.2f};
  CHECK(auc(s1, std::vector<ItemId>{1, 2}, {}) == Approx(0.5));
}

TEST_CASE("auc: ties count one half, exclusions are ignored", "[eval][metrics]") {
  const std::vector<float> tied = {0.5f, 0.5f, 0.5f};
  CHECK(auc(tied, std::vector<ItemId>{0}, {}) == Approx(0.5));
  // Item 0 outranks the positive but is excluded (a training item).
  const std::vector<float> s = {0.9f, 0.5f, 0.1f};
  CHECK(auc(s, std::vector<ItemId>{1}, {}) == Approx(0.5));
  CHECK(auc(s, std::vector<ItemId>{1}, std::vector<ItemId>{0}) == Approx(1.0));
  // NaN scores rank as -inf: they lose to every real score.
  const std::vector<float> with_nan = {NAN, 0.2f, 0.1f};
  CHECK(auc(with_nan, std::vector<ItemId>{0}, {}) == Approx(0.0));
}

TEST_CASE("auc: NaN without negatives or positives", "[eval][metrics]") {
  const std::vector<float> s = {0.3f, 0.2f, 0.1f};
  CHECK(std::isnan(auc(s, std::vector<ItemId>{0, 1}, std::vector<ItemId>{2})));
  CHECK(std::isnan(auc(s, std::vector<ItemId>{0, 1, 2}, {})));
  CHECK(std::isnan(auc(s, {}, {})));
  CHECK_THROWS_AS(auc(s, std::vector<ItemId>{7}, {}), Error);
}

TEST_CASE("auc: O(n log n) ranking agrees with O(pos x neg) on random data", "[eval][metrics]") {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(gen() % 60);
    std::vector<float> s(n);
    for (auto& x : s) {
      const unsigned r = gen() % 20;
      x = r == 0 ? NAN : r == 1 ? -INFINITY : static_cast<float>(gen() % 7) / 7.0f;  // many ties
    }
    std::vector<ItemId> rel, excl;
    for (ItemId i = 0; i < n; ++i) {
      const unsigned r = gen() % 5;
      if (r == 0) rel.push_back(i);
      else if (r == 1) excl.push_back(i);
    }
    const double expected = brute_auc(s, rel, excl);
    const double got = auc(s, rel, excl);
    INFO("trial " << trial);
    if (std::isnan(expected)) CHECK(std::isnan(got));
    else CHECK(got == Approx(expected).margin(1e-12));
  }
}

TEST_CASE("coverage and gini: RecBole test_topk_metrics vectors", "[eval][metrics][reference]") {
  // RUCAIBox/RecBole tests/metrics/test_topk_metrics.py: item_matrix of five
  // lists of three over num_items = 8 -> coverage 7/8 and
  // gini ((-7)*0 + (-5)*1 + (-3)*1 + (-1)*2 + 1*2 + 3*2 + 5*3 + 7*4) / (8*(3*5)).
  const std::vector<ItemId> lists = {5, 7, 3, 4, 5, 2, 2, 3, 5, 1, 4, 6, 5, 3, 7};
  CHECK(catalogue_coverage(lists, 3, 8) == Approx(7.0 / 8));
  CHECK(gini_index(lists, 3, 8) == Approx(41.0 / 120));
}

TEST_CASE("average popularity: RecBole vectors", "[eval][metrics][reference]") {
  // Same file: item_count = {1:0, 2:1, 3:2, 4:3, 5:4, 6:5} (others 0);
  // at k = 3 the five lists average 6/3, 8/3, 7/3, 8/3, 6/3.
  const std::vector<std::int32_t> pop = {0, 0, 1, 2, 3, 4, 5, 0};
  const std::vector<std::vector<ItemId>> lists = {
      {5, 7, 3}, {4, 5, 2}, {2, 3, 5}, {1, 4, 6}, {5, 3, 7}};
  const double expected[] = {6.0 / 3, 8.0 / 3, 7.0 / 3, 8.0 / 3, 6.0 / 3};
  for (std::size_t u = 0; u < lists.size(); ++u)
    CHECK(average_popularity(lists[u], pop) == Approx(expected[u]));
  // At k = 1 the first list is just item 5: 4.
  CHECK(average_popularity(std::vector<ItemId>{5}, pop) == Approx(4.0));
}

TEST_CASE("gini: even counts give 0, one item gives (n-1)/n", "[eval][metrics]") {
  CHECK(gini_index(std::vector<ItemId>{0, 1, 2, 3}, 1, 4) == Approx(0.0).margin(1e-15));
  CHECK(gini_index(std::vector<ItemId>{0, 1, 2, 3, 3, 2, 1, 0}, 2, 4) ==
        Approx(0.0).margin(1e-15));
  // counts [3,0,0,0] sorted [0,0,0,3]: (2*4 - 4 - 1) * 3 / (4 * 3) = 0.75
  CHECK(gini_index(std::vector<ItemId>{0, 0, 0}, 1, 4) == Approx(0.75));
  CHECK(catalogue_coverage(std::vector<ItemId>{0, 0, 0}, 1, 4) == Approx(0.25));
  // padding is ignored; nothing recommended -> gini undefined
  CHECK(catalogue_coverage(std::vector<ItemId>{kNoItem, 1}, 2, 4) == Approx(0.25));
  CHECK(std::isnan(gini_index(std::vector<ItemId>{kNoItem, kNoItem}, 1, 4)));
  CHECK_THROWS_AS(gini_index(std::vector<ItemId>{9}, 1, 4), Error);
  CHECK_THROWS_AS(catalogue_coverage(std::vector<ItemId>{0, 1, 2}, 2, 4), Error);
}

TEST_CASE("novelty: mean self-information of the list", "[eval][metrics]") {
  // pop = [4,1,0,2], 8 users: -log2(4/8) = 1, -log2(1/8) = 3, pop 0 counts as
  // 1 -> 3; list [0,1,2] -> (1 + 3 + 3)/3 = 7/3.
  const std::vector<std::int32_t> pop = {4, 1, 0, 2};
  CHECK(novelty(std::vector<ItemId>{0, 1, 2}, pop, 8) == Approx(7.0 / 3));
  CHECK(novelty(std::vector<ItemId>{0, kNoItem}, pop, 8) == Approx(1.0));
  CHECK(std::isnan(novelty(std::vector<ItemId>{kNoItem}, pop, 8)));
  CHECK(average_popularity(std::vector<ItemId>{0, 3, kNoItem}, pop) == Approx(3.0));
}

TEST_CASE("intra-list diversity: 1 - cosine over pairs with features", "[eval][metrics]") {
  // item0 {0,1}, item1 {1,2}, item2 {} (no features), item3 {0,1}
  // pairs: (0,1) cos = 1/sqrt(2*2) = .5; (0,3) cos = 1; (1,3) cos = .5
  // ILD = ((1-.5) + (1-1) + (1-.5)) / 3 = 1/3; item 2 is skipped.
  const std::vector<std::int64_t> indptr = {0, 2, 4, 4, 6};
  const std::vector<std::int32_t> indices = {0, 1, 1, 2, 0, 1};
  CHECK(intra_list_diversity(std::vector<ItemId>{0, 1, 2, 3}, indptr, indices) ==
        Approx(1.0 / 3));
  // disjoint features: diversity 1
  CHECK(intra_list_diversity(std::vector<ItemId>{0, 1}, std::vector<std::int64_t>{0, 1, 2},
                             std::vector<std::int32_t>{0, 1}) == Approx(1.0));
  CHECK(std::isnan(intra_list_diversity(std::vector<ItemId>{0, 2}, indptr, indices)));
  CHECK(std::isnan(intra_list_diversity(std::vector<ItemId>{0, kNoItem}, indptr, indices)));
}

TEST_CASE("rating errors: RecBole test_loss_metrics vectors", "[eval][metrics][reference]") {
  // RUCAIBox/RecBole tests/metrics/test_loss_metrics.py: preds_0 vs trues_0
  // -> rmse sqrt((.9^2+.9^2+.8^2+.7^2)/4), mae (.9+.9+.8+.7)/4.
  const double preds[] = {0.1, 0.9, 0.2, 0.3}, trues[] = {1, 0, 1, 1};
  RatingErrors e;
  for (int i = 0; i < 4; ++i) {
    const double d = preds[i] - trues[i];
    e.sum_sq += d * d;
    e.sum_abs += std::fabs(d);
    ++e.n;
  }
  CHECK(e.rmse() == Approx(std::sqrt((0.81 + 0.81 + 0.64 + 0.49) / 4)));
  CHECK(e.mae() == Approx((0.9 + 0.9 + 0.8 + 0.7) / 4));
  CHECK(std::isnan(RatingErrors{}.rmse()));
}
