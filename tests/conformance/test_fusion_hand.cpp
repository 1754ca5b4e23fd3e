// Fusion strategies on examples worked by hand: two children with fixed
// scores over 5 items; user 0 trained on item 4, so the candidates are 0..3.
//   child A: [3, 2, 2, 1, 9]   (items 1 and 2 tie; item 4's 9 never counts)
//   child B: [0, 5, 1, 4, 0]
// A's ranking (ties by item id): 0, 1, 2, 3.  B's: 1, 3, 2, 0.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "test_fusion_support.hpp"
#include "plugins/fusion/cascade.hpp"
#include "plugins/fusion/rank_fusion.hpp"
#include "plugins/fusion/score_fusion.hpp"
#include "plugins/fusion/switching.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

void check_row(const std::vector<float>& row, const std::vector<double>& want) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("item " << i);
    CHECK(row[i] == Approx(want[i]).margin(1e-6));
  }
}

}  // namespace

TEST_CASE("score_fusion: min-max, rank and z-score normalisation over the candidates", "[fusion]") {
  const TrainData d = hand_data();
  // minmax: A over {3,2,2,1} -> [1, .5, .5, 0]; B over {0,5,1,4} -> [0, 1, .2, .8]
  auto f = make_fused<ScoreFusion>({{"normalization", "minmax"}}, two_children(d), d);
  check_row(row_of(*f, 0), {1.0, 1.5, 0.7, 0.8});
  CHECK(top_of(*f, 0, 4, d) == std::vector<ItemId>{1, 0, 3, 2});
  // weights 2,1: [2, 2, 1.2, .8] -> items 0 and 1 tie at 2, the smaller id first
  f = make_fused<ScoreFusion>({{"normalization", "minmax"}, {"weights", "2, 1"}}, two_children(d), d);
  check_row(row_of(*f, 0), {2.0, 2.0, 1.2, 0.8});
  CHECK(top_of(*f, 0, 2, d) == std::vector<ItemId>{0, 1});
  // rank: tied items 1, 2 of A share rank 2.5 -> (4 - 2.5)/3 = .5;
  // A -> [1, .5, .5, 0], B -> [0, 1, 1/3, 2/3]
  f = make_fused<ScoreFusion>({{"normalization", "rank"}}, two_children(d), d);
  check_row(row_of(*f, 0), {1.0, 1.5, 0.5 + 1.0 / 3, 2.0 / 3});
  // zscore of A over {3,2,2,1}: mean 2, sd sqrt(.5); B over {0,5,1,4}: mean 2.5, sd sqrt(4.25)
  f = make_fused<ScoreFusion>({{"normalization", "zscore"}, {"weights", "1,0"}}, two_children(d), d);
  check_row(row_of(*f, 0), {1 / std::sqrt(0.5), 0, 0, -1 / std::sqrt(0.5)});
  // none: the raw sum, training item included in score_all but never recommended
  f = make_fused<ScoreFusion>({{"normalization", "none"}}, two_children(d), d);
  check_row(row_of(*f, 0), {3, 7, 3, 5, 9});
  CHECK(top_of(*f, 0, 5, d) == std::vector<ItemId>{1, 3, 0, 2, kNoItem});
}

TEST_CASE("normalisation puts a child's -inf or NaN last and +inf first, not at the mean", "[fusion]") {
  std::vector<ItemId> order;
  const float inf = std::numeric_limits<float>::infinity();
  // Over the finite {3, 1, 2, 0}: mean 1.5, sd sqrt(1.25).
  std::vector<float> row = {3, 1, 2, -inf, 0, std::nanf(""), inf};
  normalize_row(row.data(), 7, {}, Normalization::kZScore, order);
  const float sd = std::sqrt(1.25f);
  CHECK(row[3] == Approx(-1.5f / sd));  // the lowest a finite score gets (item 4's)
  CHECK(row[5] == Approx(-1.5f / sd));
  CHECK(row[6] == Approx(1.5f / sd));   // the highest (item 0's)
  CHECK(row[3] < row[1]);
  row = {3, 1, 2, -inf, 0, std::nanf(""), inf};
  normalize_row(row.data(), 7, {}, Normalization::kMinMax, order);
  CHECK(row[3] == 0.0f);
  CHECK(row[6] == 1.0f);
}

TEST_CASE("score_fusion: CombSUM ignores weights, CombMNZ multiplies by top-depth hits", "[fusion]") {
  const TrainData d = hand_data();
  auto f = make_fused<ScoreFusion>({{"normalization", "minmax"}, {"method", "combsum"}, {"weights", "5,1"}},
                                   two_children(d), d);
  check_row(row_of(*f, 0), {1.0, 1.5, 0.7, 0.8});
  // depth 2: A's top 2 = {0, 1} (1 beats 2 on the tie by id), B's = {1, 3};
  // hits = [1, 2, 0, 1] times the minmax sums [1, 1.5, .7, .8]
  f = make_fused<ScoreFusion>({{"normalization", "minmax"}, {"method", "combmnz"}, {"depth", std::int64_t{2}}},
                              two_children(d), d);
  check_row(row_of(*f, 0), {1.0, 3.0, 0.0, 0.8});
  CHECK(top_of(*f, 0, 3, d) == std::vector<ItemId>{1, 0, 3});
}

TEST_CASE("rank_fusion: RRF, Borda and voting, with items missing from a child's list", "[fusion]") {
  const TrainData d = hand_data();
  // Full depth: ranks A = (0:1, 1:2, 2:3, 3:4), B = (1:1, 3:2, 2:3, 0:4).
  auto f = make_fused<RankFusion>({{"method", "rrf"}}, two_children(d), d);
  check_row(row_of(*f, 0), {1.0 / 61 + 1.0 / 64, 1.0 / 62 + 1.0 / 61, 2.0 / 63, 1.0 / 64 + 1.0 / 62, 0});
  // 1/62 + 1/64 = .0317540 beats 2/63 = .0317460: item 3 before item 2
  CHECK(top_of(*f, 0, 4, d) == std::vector<ItemId>{1, 0, 3, 2});
  // depth 2: item 2 is in neither list (0), items 0 and 3 in one list each
  f = make_fused<RankFusion>({{"method", "rrf"}, {"depth", std::int64_t{2}}, {"k", 0.0}}, two_children(d), d);
  check_row(row_of(*f, 0), {1.0, 0.5 + 1.0, 0.0, 0.5, 0});
  f = make_fused<RankFusion>({{"method", "borda"}, {"depth", std::int64_t{2}}}, two_children(d), d);
  check_row(row_of(*f, 0), {2, 1 + 2, 0, 1, 0});
  // votes: item 1 has two, items 0 and 3 one each; the RRF tie-break puts item 0
  // (rank 1 in A) before item 3 (rank 2 in B): τ = .5 · 1 / (2/61)
  f = make_fused<RankFusion>({{"method", "vote"}, {"depth", std::int64_t{2}}}, two_children(d), d);
  const double tau = 0.5 / (2.0 / 61);
  check_row(row_of(*f, 0), {1 + tau / 61, 2 + tau * (1.0 / 62 + 1.0 / 61), 0, 1 + tau / 62, 0});
  CHECK(top_of(*f, 0, 4, d) == std::vector<ItemId>{1, 0, 3, 2});
  // weights: B counts three times as much in RRF
  f = make_fused<RankFusion>({{"method", "rrf"}, {"weights", "1,3"}}, two_children(d), d);
  CHECK(row_of(*f, 0)[1] == Approx(1.0 / 62 + 3.0 / 61));
}

TEST_CASE("rank normalisation maps excluded items as the candidates: ties share, between ones go halfway", "[fusion]") {
  std::vector<ItemId> order;
  // Candidates 0..3 as in the hand example, A = [3, 2, 2, 1] -> [1, .5, .5, 0];
  // excluded: item 4 (9, above all: rank .5), item 5 (2, the tie group's
  // rank 2.5), item 6 (1.5, between ranks 3 and 4: 3.5), item 7 (0, below all: 4.5).
  std::vector<float> row = {3, 2, 2, 1, 9, 2, 1.5f, 0};
  const std::vector<ItemId> exclude = {4, 5, 6, 7};
  normalize_row(row.data(), 8, exclude, Normalization::kRank, order);
  check_row(row, {1.0, 0.5, 0.5, 0.0, 1 + 0.5 / 3, 0.5, 1.0 / 6, -0.5 / 3});
}

TEST_CASE("one child: every strategy keeps the child's order", "[fusion]") {
  const TrainData d = hand_data();
  auto one = [&] { return std::vector<Child>{fixed_child("B", {{0, 5, 1, 4, 0}, {5, 4, 3, 2, 1}}, d)}; };
  const std::vector<ItemId> want{1, 3, 2, 0};
  for (const char* norm : {"none", "minmax", "zscore", "rank"}) {
    INFO(norm);
    auto f = make_fused<ScoreFusion>({{"normalization", norm}}, one(), d);
    CHECK(top_of(*f, 0, 4, d) == want);
  }
  for (const char* method : {"rrf", "borda", "vote"}) {
    INFO(method);
    auto f = make_fused<RankFusion>({{"method", method}}, one(), d);
    CHECK(top_of(*f, 0, 4, d) == want);
  }
  auto s = make_fused<Switching>({{"rule", "learned"}}, one(),
                                 [&] { TrainData v = d; v.validation = make_train_data(2, 5, {{0, 1}}, false).by_user; return v; }());
  CHECK(top_of(*s, 0, 4, d) == want);
}

TEST_CASE("wrong weights and child counts are errors that name the parameter", "[fusion]") {
  const TrainData d = hand_data();
  CHECK_THROWS_WITH(make_fused<ScoreFusion>({{"weights", "0.5,x"}}, two_children(d), d),
                    Catch::Contains("parameter 'weights'") && Catch::Contains("'x' is not a number"));
  CHECK_THROWS_WITH(make_fused<RankFusion>({{"weights", "1,2,3"}}, two_children(d), d),
                    Catch::Contains("'weights' has 3 entries but the algorithm has 2 children"));
  CHECK_THROWS_WITH(make_fused<Cascade>({}, {}, d), Catch::Contains("[cascade] needs 2 children"));
  CHECK_THROWS_WITH(make_fused<Switching>({{"rule", "learned"}}, two_children(d), d),
                    Catch::Contains("needs validation interactions"));
}

TEST_CASE("switching by history: short histories get child 0", "[fusion]") {
  const TrainData d = hand_data();  // user 0 has 1 training item, user 1 has 3
  auto f = make_fused<Switching>({{"min_history", std::int64_t{2}}}, two_children(d), d);
  CHECK(f->choices() == std::vector<int>{0, 1});
  CHECK(top_of(*f, 0, 2, d) == std::vector<ItemId>{0, 1});  // A's order
  CHECK(top_of(*f, 1, 2, d) == std::vector<ItemId>{3, 4});  // B's order over user 1's candidates
  check_row(row_of(*f, 1), {5, 4, 3, 2, 1});
}

TEST_CASE("cascade: the re-ranker only sees the retrieved candidates", "[fusion]") {
  TrainData d = hand_data();
  d.validation = make_train_data(2, 5, {{0, 3}, {1, 3}}, false).by_user;
  auto children = two_children(d);
  auto* reranker = static_cast<FixedScores*>(children[1].model.get());
  auto f = make_fused<Cascade>({{"candidates", std::int64_t{2}}}, std::move(children), d);
  // A retrieves {0, 1} for user 0; B re-ranks them: 1 (5) before 0 (0).
  // Item 3, B's second choice, was never retrieved.
  reranker->pairs_scored = 0;
  CHECK(top_of(*f, 0, 2, d) == std::vector<ItemId>{1, 0});
  CHECK(reranker->pairs_scored == 2);
  // k above `candidates` retrieves k: {0, 1, 2} -> B: 1 (5), 2 (1), 0 (0)
  CHECK(top_of(*f, 0, 3, d) == std::vector<ItemId>{1, 2, 0});
  // score_all keeps the order: candidates carry B's score, the rest lie below.
  const auto row = row_of(*f, 0);
  CHECK(row[1] == 5.0f);
  CHECK(row[0] == 0.0f);
  CHECK(row[3] < row[0]);
  // Validation item 3: not in A's top 2 for user 0 ({0, 1}); A is flat for
  // user 1, whose candidates are {3, 4}, so it is retrieved: recall = (0 + 1) / 2.
  const auto diag_list = f->diagnostics();
  const std::map<std::string, double> diag(diag_list.begin(), diag_list.end());
  CHECK(diag.at("retrieval_recall") == Approx(0.5));
  CHECK(diag.at("rerank_ms_per_user") >= 0);
  CHECK(diag.at("speedup_vs_full_rerank") > 0);
}

TEST_CASE("vote: a child of weight 0 does not switch off the RRF tie-break", "[fusion]") {
  const TrainData d = hand_data();
  // Over candidates 0..3, A's top 2 = (1, 0), B's = (3, 1): item 1 has two
  // votes; items 0 (rank 2 in A) and 3 (rank 1 in B) one each, so item 3
  // leads them on RRF mass.
  auto kids = [&](bool third) {
    std::vector<Child> c = {fixed_child("A", {{2, 3, 0, 0, 9}, {1, 1, 1, 1, 1}}, d),
                            fixed_child("B", {{0, 4, 1, 5, 0}, {5, 4, 3, 2, 1}}, d)};
    if (third) c.push_back(fixed_child("C", {{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}, d));
    return c;
  };
  auto two = make_fused<RankFusion>({{"method", "vote"}, {"depth", std::int64_t{2}}}, kids(false), d);
  CHECK(top_of(*two, 0, 3, d) == std::vector<ItemId>{1, 3, 0});
  auto three = make_fused<RankFusion>({{"method", "vote"}, {"depth", std::int64_t{2}}, {"weights", "1,1,0"}},
                                      kids(true), d);
  CHECK(top_of(*three, 0, 3, d) == std::vector<ItemId>{1, 3, 0});
  check_row(row_of(*three, 0), [&] {
    const auto r = row_of(*two, 0);
    return std::vector<double>(r.begin(), r.end());
  }());
}

TEST_CASE("weights that are all 0 are an error: every item would score 0", "[fusion]") {
  const TrainData d = hand_data();
  CHECK_THROWS_WITH(make_fused<ScoreFusion>({{"weights", "0, 0"}}, two_children(d), d),
                    Catch::Contains("[score_fusion] parameter 'weights'") && Catch::Contains("all 0"));
  CHECK_THROWS_WITH(make_fused<RankFusion>({{"weights", "0,0"}}, two_children(d), d),
                    Catch::Contains("[rank_fusion] parameter 'weights'") && Catch::Contains("all 0"));
  CHECK_NOTHROW(make_fused<RankFusion>({{"weights", "0,1"}}, two_children(d), d));
}
