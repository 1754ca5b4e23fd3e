// Segment rules (eval/segments.hpp) and evaluate()'s segment output on a
// hand-made 8-user x 10-item split, every value worked below.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "eval/evaluator.hpp"
#include "item_rows.hpp"
#include "eval/segments.hpp"

using namespace recfuse;

namespace {

CsrMatrix csr(std::int32_t cols, const std::vector<std::vector<ItemId>>& rows) { return test::item_rows(cols, rows); }

/// Every user scores item i as i: the list is the highest unseen item ids.
class ByIdRecommender final : public Recommender {
 public:
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t i = 0; i < users.size(); ++i)
      for (std::size_t j = 0; j < n; ++j) out[i * n + j] = static_cast<float>(j);
  }
  std::size_t model_bytes() const override { return 0; }
};

// User u trains on items 9-u..9 (history u+1), so item i >= 2 has popularity
// i-1: [0,0,1,2,3,4,5,6,7,8]. With head_fraction 0.5 the 5th most popular item
// has popularity 4: head = {5,6,7,8,9} (5 items), tail = {0..4}.
// Lists @2 (highest unseen ids): u -> [8-u, 7-u].
//   u0 h1 list [8,7] test {0,8}: 8 head hit at rank 1, 0 tail miss
//   u1 h2 list [7,6] test {6}:   head hit at rank 2
//   u2 h3 list [6,5] test {1}:   tail miss
//   u3 h4 list [5,4] test {3,5}: 5 head hit at rank 1, 3 tail miss
//   u4 h5 list [4,3] test {3}:   tail hit at rank 2
//   u5 h6            test {}:    not evaluated
//   u6 h7 list [2,1] test {2}:   tail hit at rank 1
//   u7 h8 list [1,0] test {0}:   tail hit at rank 2
struct World {
  TrainData train;
  CsrMatrix test;
  ByIdRecommender rec;
  World() {
    train.n_users = 8;
    train.n_items = 10;
    std::vector<std::vector<ItemId>> rows(8);
    for (int u = 0; u < 8; ++u)
      for (int i = 9 - u; i <= 9; ++i) rows[static_cast<std::size_t>(u)].push_back(i);
    train.by_user = csr(10, rows);
    test = csr(10, {{0, 8}, {6}, {1}, {3, 5}, {3}, {}, {2}, {0}});
    rec.fit(train, FitContext{});
  }
  EvaluationSpec spec() const {
    EvaluationSpec s;
    s.cutoffs = {2};
    s.metrics = {"ndcg", "recall", "hr"};
    s.head_fraction = 0.5;
    return s;
  }
};

const double kRank2 = 1 / std::log2(3.0);         // 0.6309: one hit at rank 2
const double kHalf = 1 / (1 + 1 / std::log2(3.0));  // 0.6131: hit at rank 1 of two relevant

}  // namespace

TEST_CASE("segments: quartile edges are nearest-rank, ties share a quartile", "[eval][segments]") {
  // sorted [1..8]: ranks ceil(2), ceil(4), ceil(6) -> 2, 4, 6
  CHECK(history_quartile_edges({8, 1, 7, 2, 6, 3, 5, 4}) == std::array<std::int64_t, 3>{2, 4, 6});
  CHECK(history_quartile_edges({}) == std::array<std::int64_t, 3>{0, 0, 0});
  CHECK(history_quartile_edges({9}) == std::array<std::int64_t, 3>{9, 9, 9});
  // [3,3,3,3,10]: ranks 2, 3, 4 are all 3 -> every 3 in q1, q2 and q3 empty, 10 in q4.
  SegmentDefinition def;
  def.history_edges = history_quartile_edges({3, 10, 3, 3, 3});
  CHECK(def.history_edges == std::array<std::int64_t, 3>{3, 3, 3});
  CHECK(in_user_segment("users:q1", 3, def));
  CHECK_FALSE(in_user_segment("users:q2", 3, def));
  CHECK_FALSE(in_user_segment("users:q3", 3, def));
  CHECK(in_user_segment("users:q4", 10, def));
  CHECK_FALSE(in_user_segment("users:q1", 10, def));
  def.cold_user_max = 3;
  CHECK(in_user_segment("users:cold", 3, def));
  CHECK_FALSE(in_user_segment("users:cold", 4, def));
  CHECK_FALSE(in_user_segment("items:head", 3, def));
}

TEST_CASE("segments: head threshold includes boundary ties, never unseen items",
          "[eval][segments]") {
  SegmentDefinition def;
  def.head_fraction = 0.2;  // 10 items: the 2nd most popular sets the bar
  const std::vector<std::int32_t> tied = {5, 1, 5, 0, 5, 0, 0, 0, 2, 0};
  define_head(tied, def);
  CHECK(def.head_min_popularity == 5);
  CHECK(def.head_items == 3);  // three items tie at 5
  def.head_fraction = 1.0;     // the 10th item has popularity 0: the bar stays at 1
  define_head(tied, def);
  CHECK(def.head_min_popularity == 1);
  CHECK(def.head_items == 5);
  def.head_fraction = 0.5;
  define_head(std::vector<std::int32_t>(4, 0), def);
  CHECK(def.head_items == 0);
}

TEST_CASE("segments: segment order puts users before items", "[eval][segments]") {
  CHECK(segment_less("users:cold", "users:q1"));
  CHECK(segment_less("users:q4", "items:head"));
  CHECK(segment_less("items:head", "items:tail"));
  CHECK(segment_less("items:tail", "zzz"));
  CHECK(is_item_segment("items:tail"));
  CHECK_FALSE(is_item_segment("users:q1"));
}

TEST_CASE("evaluate: user segments from the evaluated users' history", "[eval][segments]") {
  World w;
  const EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  REQUIRE(out.users == std::vector<UserId>{0, 1, 2, 3, 4, 6, 7});
  CHECK(out.history == std::vector<std::int64_t>{1, 2, 3, 4, 5, 7, 8});
  // Sorted [1,2,3,4,5,7,8], n = 7: ranks ceil(1.75)=2, ceil(3.5)=4, ceil(5.25)=6.
  // (With the unevaluated u5, history 6, included the last edge would be 6.)
  CHECK(out.segment_definition.history_edges == std::array<std::int64_t, 3>{2, 4, 7});
  const auto members = [&](const char* name) { return out.segments.at(name).members; };
  using Idx = std::vector<std::size_t>;
  CHECK(members("users:cold") == Idx{0, 1, 2, 3, 4});  // history <= 5
  CHECK(members("users:q1") == Idx{0, 1});
  CHECK(members("users:q2") == Idx{2, 3});
  CHECK(members("users:q3") == Idx{4, 5});
  CHECK(members("users:q4") == Idx{6});
  CHECK(out.segments.at("users:q1").per_user.empty());  // user segments reuse per_user
}

TEST_CASE("evaluate: item segments restrict each user's relevant items", "[eval][segments]") {
  World w;
  const EvalOutput out = evaluate(w.rec, w.train, w.test, w.spec(), false, 1);
  CHECK(out.segment_definition.head_min_popularity == 4);
  CHECK(out.segment_definition.head_items == 5);
  // Unrestricted: u0 hits 8 at rank 1 of two relevant -> recall 0.5.
  CHECK(out.per_user.at("recall@2")[0] == Approx(0.5));
  CHECK(out.per_user.at("ndcg@2")[0] == Approx(kHalf));

  const EvalSegment& head = out.segments.at("items:head");
  CHECK(head.members == std::vector<std::size_t>{0, 1, 3});  // u0, u1, u3
  const auto& hn = head.per_user.at("ndcg@2");
  REQUIRE(hn.size() == 3);
  CHECK(hn[0] == Approx(1.0));  // u0 relevant {8}: hit at rank 1
  CHECK(hn[1] == Approx(kRank2));
  CHECK(hn[2] == Approx(1.0));  // u3 relevant {5}
  CHECK(head.per_user.at("recall@2") == std::vector<double>{1, 1, 1});
  CHECK(head.per_user.count("precision@2") == 0);  // filtered out like the main metrics

  const EvalSegment& tail = out.segments.at("items:tail");
  CHECK(tail.members == std::vector<std::size_t>{0, 2, 3, 4, 5, 6});  // u0,u2,u3,u4,u6,u7
  const auto& tn = tail.per_user.at("ndcg@2");
  REQUIRE(tn.size() == 6);
  CHECK(tn[0] == 0);  // u0 relevant {0}: the head hit counts for nothing here
  CHECK(tn[1] == 0);
  CHECK(tn[2] == 0);  // u3 relevant {3}
  CHECK(tn[3] == Approx(kRank2));
  CHECK(tn[4] == Approx(1.0));
  CHECK(tn[5] == Approx(kRank2));
  CHECK(tail.per_user.at("hr@2") == std::vector<double>{0, 0, 0, 1, 1, 1});
}

TEST_CASE("evaluate: cold_user_max and head_fraction are validated", "[eval][segments]") {
  World w;
  EvaluationSpec spec = w.spec();
  spec.cold_user_max = 1;
  const EvalOutput out = evaluate(w.rec, w.train, w.test, spec, false, 1);
  CHECK(out.segments.at("users:cold").members == std::vector<std::size_t>{0});
  spec.head_fraction = 0;
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, spec, false, 1),
                    Catch::Contains("head_fraction must be in (0, 1]"));
  spec.head_fraction = 0.2;
  spec.cold_user_max = -1;
  CHECK_THROWS_WITH(evaluate(w.rec, w.train, w.test, spec, false, 1),
                    Catch::Contains("cold_user_max must be >= 0"));
}
