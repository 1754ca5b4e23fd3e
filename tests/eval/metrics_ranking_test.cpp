// Top-k accuracy metrics against hand-worked values and RecBole's test vectors.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "eval/evaluator_detail.hpp"
#include "eval/metrics.hpp"

using namespace recfuse;

namespace {
RankingMetrics at(const std::vector<ItemId>& ranked, const std::vector<ItemId>& relevant, int k) {
  return ranking_metrics(ranked, relevant, k);
}
const double kLog3 = std::log2(3.0), kLog5 = std::log2(5.0);
}  // namespace

TEST_CASE("ranking metrics: hand-worked list of five", "[eval][metrics]") {
  // ranked [3,1,7,2,9], relevant {1,2,5}, k = 5: hits at ranks 2 (item 1)
  // and 4 (item 2).
  //   precision = 2/5, recall = 2/3, f1 = 2(.4)(.6667)/(1.0667) = 0.5
  //   dcg  = 1/log2(3) + 1/log2(5);  idcg = 1 + 1/log2(3) + 1/log2(4) (min(3,5) = 3 hits)
  //   map  = (1/2 + 2/4) / min(3,5) = 1/3;  mrr = 1/2;  hr = 1
  const auto m = at({3, 1, 7, 2, 9}, {1, 2, 5}, 5);
  CHECK(m.precision == Approx(0.4));
  CHECK(m.recall == Approx(2.0 / 3));
  CHECK(m.f1 == Approx(0.5));
  CHECK(m.hr == 1.0);
  CHECK(m.mrr == Approx(0.5));
  CHECK(m.ndcg == Approx((1 / kLog3 + 1 / kLog5) / (1 + 1 / kLog3 + 0.5)));
  CHECK(m.ndcg == Approx(0.4981893).epsilon(1e-6));  // 1.0616064 / 2.1309298
  CHECK(m.map == Approx(1.0 / 3));
}

TEST_CASE("ranking metrics: shorter cutoffs of the same list", "[eval][metrics]") {
  // k = 1: [3] has no hit -> everything 0.
  const auto k1 = at({3, 1, 7, 2, 9}, {1, 2, 5}, 1);
  CHECK(k1.precision == 0);
  CHECK(k1.ndcg == 0);
  CHECK(k1.map == 0);
  CHECK(k1.mrr == 0);
  CHECK(k1.hr == 0);
  // k = 2: [3,1], hit at rank 2. precision 1/2, recall 1/3,
  // ndcg = (1/log2 3) / (1 + 1/log2 3), map = (1/2) / min(3,2) = 1/4.
  const auto k2 = at({3, 1, 7, 2, 9}, {1, 2, 5}, 2);
  CHECK(k2.precision == Approx(0.5));
  CHECK(k2.recall == Approx(1.0 / 3));
  CHECK(k2.ndcg == Approx((1 / kLog3) / (1 + 1 / kLog3)));
  CHECK(k2.map == Approx(0.25));
  CHECK(k2.mrr == Approx(0.5));
}

TEST_CASE("ranking metrics: k = 1 with a hit", "[eval][metrics]") {
  const auto m = at({4, 8}, {4, 9}, 1);  // hit at rank 1; min(|rel|, k) = 1
  CHECK(m.precision == 1);
  CHECK(m.recall == Approx(0.5));
  CHECK(m.ndcg == Approx(1.0));
  CHECK(m.map == Approx(1.0));
  CHECK(m.mrr == 1);
}

TEST_CASE("ranking metrics: k larger than the returned list (padding)", "[eval][metrics]") {
  // [3,1,-,-] at k = 10, relevant {1,2,5}: one hit at rank 2.
  // precision = 1/10 (k fixed), idcg sums min(3,10) = 3 ranks, map = (1/2)/3.
  const auto m = at({3, 1, kNoItem, kNoItem}, {1, 2, 5}, 10);
  CHECK(m.precision == Approx(0.1));
  CHECK(m.recall == Approx(1.0 / 3));
  CHECK(m.ndcg == Approx((1 / kLog3) / (1 + 1 / kLog3 + 0.5)));
  CHECK(m.map == Approx(0.5 / 3));
  CHECK(m.mrr == Approx(0.5));
  // A list shorter than k behaves like one padded to k.
  const auto short_list = at({3, 1}, {1, 2, 5}, 10);
  CHECK(short_list.precision == Approx(m.precision));
  CHECK(short_list.ndcg == Approx(m.ndcg));
}

TEST_CASE("ranking metrics: no hit gives zeros", "[eval][metrics]") {
  const auto m = at({4, 6, 8}, {1}, 3);
  CHECK(m.precision == 0);
  CHECK(m.recall == 0);
  CHECK(m.f1 == 0);
  CHECK(m.hr == 0);
  CHECK(m.ndcg == 0);
  CHECK(m.map == 0);
  CHECK(m.mrr == 0);
}

TEST_CASE("ranking metrics: every item relevant", "[eval][metrics]") {
  const auto full = at({0, 1, 2}, {0, 1, 2}, 3);
  CHECK(full.precision == 1);
  CHECK(full.recall == 1);
  CHECK(full.f1 == Approx(1));
  CHECK(full.ndcg == Approx(1));
  CHECK(full.map == Approx(1));
  // k = 5 over three items: precision 3/5 but ndcg and map stay 1
  // (normalised by min(|rel|, k) = 3).
  const auto padded = at({0, 1, 2, kNoItem, kNoItem}, {0, 1, 2}, 5);
  CHECK(padded.precision == Approx(0.6));
  CHECK(padded.ndcg == Approx(1));
  CHECK(padded.map == Approx(1));
  CHECK(padded.f1 == Approx(2 * 0.6 / 1.6));
}

TEST_CASE("ranking metrics: rejects k < 1", "[eval][metrics]") {
  CHECK_THROWS_AS(at({1}, {1}, 0), Error);
}

// RecBole's tests/metrics/test_topk_metrics.py (RUCAIBox/RecBole): four users
// with hit vectors pos_idx = [[0,0,0],[1,1,1],[1,0,1],[0,0,1]] and
// pos_len = [1,3,4,2]; metric_info gives the value at k = 1, 2, 3. We build a
// ranked list [10,11,12] and relevant sets with those hits and sizes.
TEST_CASE("ranking metrics: RecBole test_topk_metrics vectors", "[eval][metrics][reference]") {
  const std::vector<ItemId> ranked = {10, 11, 12};
  const std::vector<std::vector<ItemId>> relevant = {
      {100}, {10, 11, 12}, {10, 12, 100, 101}, {12, 100}};
  const double l2 = 1 / std::log2(2.0), l3 = 1 / std::log2(3.0), l4 = 1 / std::log2(4.0);
  const double ndcg[4][3] = {{0, 0, 0},
                             {1, 1, 1},
                             {1, l2 / (l2 + l3), (l2 + l4) / (l2 + l3 + l4)},
                             {0, 0, l4 / (l2 + l3)}};
  const double mrr[4][3] = {{0, 0, 0}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1.0 / 3}};
  const double map[4][3] = {{0, 0, 0},
                            {1, 1, 1},
                            {1, 1.0 / 2, (1.0 / 3) * (1.0 / 1 + 2.0 / 3)},
                            {0, 0, (1.0 / 3) * (1.0 / 2)}};
  const double recall[4][3] = {
      {0, 0, 0}, {1.0 / 3, 2.0 / 3, 1}, {1.0 / 4, 1.0 / 4, 2.0 / 4}, {0, 0, 1.0 / 2}};
  const double precision[4][3] = {
      {0, 0, 0}, {1, 1, 1}, {1, 1.0 / 2, 2.0 / 3}, {0, 0, 1.0 / 3}};
  const double hit[4][3] = {{0, 0, 0}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}};
  for (int u = 0; u < 4; ++u) {
    for (int k = 1; k <= 3; ++k) {
      INFO("user " << u << " k " << k);
      const auto m = at(ranked, relevant[u], k);
      CHECK(m.ndcg == Approx(ndcg[u][k - 1]));
      CHECK(m.mrr == Approx(mrr[u][k - 1]));
      CHECK(m.map == Approx(map[u][k - 1]));
      CHECK(m.recall == Approx(recall[u][k - 1]));
      CHECK(m.precision == Approx(precision[u][k - 1]));
      CHECK(m.hr == hit[u][k - 1]);
    }
  }
}

TEST_CASE("recommended lists: a repeat within a user's list is refused, across users it is not",
          "[eval][metrics]") {
  // Three users, k = 3, no training items: user 1 lists item 4 twice; item
  // 4 in user 0's list and the empty slots (kNoItem) are no repeats.
  const std::vector<UserId> users = {0, 1, 2};
  const std::vector<std::int64_t> indptr(4, 0);
  const SparseRowsView none{indptr, {}};
  std::vector<ItemId> lists = {4, 2, 0, 1, 4, 3, 5, kNoItem, kNoItem};
  CHECK_NOTHROW(eval_detail::check_lists(lists, users, 3, 6, none));
  lists[5] = 4;
  CHECK_THROWS_WITH(eval_detail::check_lists(lists, users, 3, 6, none), "recommend() returned item 4 twice for user 1");
  lists[5] = 3, lists[8] = 5;  // user 2: item 5, an empty slot, item 5
  CHECK_THROWS_WITH(eval_detail::check_lists(lists, users, 3, 6, none), "recommend() returned item 5 twice for user 2");
  lists[8] = 6;
  CHECK_THROWS_WITH(eval_detail::check_lists(lists, users, 3, 6, none), Catch::Contains("item 6 for user 2, outside [0, 6)"));
}
