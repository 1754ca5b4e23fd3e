// SDK helpers plugins share: factor scoring (one GEMM per block of users),
// validation scoring for early stopping, and environments' slate helpers.
#include <catch2/catch.hpp>
#include <limits>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/slates.hpp"
#include "recfuse/validation.hpp"

using namespace recfuse;

TEST_CASE("score_factors equals P[u] . Q[i] + b[i] for a block of users") {
  RowMatrixF P(3, 2), Q(4, 2), gather;
  P << 1, 0, 0, 1, 2, -1;
  Q << 1, 1, 2, 0, 0, 3, -1, 1;
  const std::vector<float> bias{0.5f, 0, 0, -1};
  const std::vector<UserId> users{2, 0};
  std::vector<float> out(2 * 4);
  score_factors(P, Q, bias, users, out, gather);
  // user 2 = (2,-1): items (1,1)->1+.5, (2,0)->4, (0,3)->-3, (-1,1)->-3-1
  CHECK(out[0] == Approx(1.5f));
  CHECK(out[1] == Approx(4.0f));
  CHECK(out[2] == Approx(-3.0f));
  CHECK(out[3] == Approx(-4.0f));
  // user 0 = (1,0): 1+.5, 2, 0, -1-1
  CHECK(out[4] == Approx(1.5f));
  CHECK(out[5] == Approx(2.0f));
  CHECK(out[6] == Approx(0.0f));
  CHECK(out[7] == Approx(-2.0f));
  // The gather buffer is reused: a smaller block does not shrink it.
  std::vector<float> one(4);
  score_factors(P, Q, {}, std::vector<UserId>{1}, one, gather);
  CHECK(gather.rows() >= 2);
  CHECK(one[2] == Approx(3.0f));
}

namespace {
/// Scores item i as -i: ranks items by ascending id.
class ById final : public Recommender {
 public:
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    for (std::size_t r = 0; r < users.size(); ++r)
      for (ItemId i = 0; i < n_items(); ++i) out[r * n_items() + i] = -static_cast<float>(i);
  }
  std::size_t model_bytes() const override { return 0; }
};

CsrMatrix rows(std::int32_t n_cols, const std::vector<std::vector<std::int32_t>>& r) {
  CsrMatrix m;
  m.rows = static_cast<std::int32_t>(r.size());
  m.cols = n_cols;
  for (const auto& row : r) {
    m.indices.insert(m.indices.end(), row.begin(), row.end());
    m.indptr.push_back(static_cast<std::int64_t>(m.indices.size()));
  }
  return m;
}
}  // namespace

TEST_CASE("validation_score ranks with training items excluded") {
  TrainData d;
  d.n_users = 3;
  d.n_items = 6;
  d.by_user = rows(6, {{0}, {0, 1}, {}});
  d.validation = rows(6, {{1}, {4}, {}});
  ById model;
  model.fit(d, FitContext{});
  // user 0: list 1,2,3 (0 excluded) -> hit at rank 1: ndcg 1, hr 1.
  // user 1: list 2,3,4 -> hit at rank 3: ndcg 1/log2(4) = 0.5, hr 1.
  // user 2 has no validation item and is skipped.
  const ValidationScore s = validation_score(model, d, 3);
  CHECK(s.users == 2);
  CHECK(s.ndcg == Approx(0.75));
  CHECK(s.hr == Approx(1.0));
  // At k = 2 user 1 misses.
  CHECK(validation_score(model, d, 2).hr == Approx(0.5));
  TrainData none = d;
  none.validation = CsrMatrix{};
  CHECK(std::isnan(validation_score(model, none, 3).ndcg));
}

TEST_CASE("top_scored_slates takes each session's highest scores first, ties to the earlier candidate") {
  // two sessions of 4 candidates, slates of 3; NaN ranks last
  const std::vector<ItemId> cands{10, 11, 12, 13, 20, 21, 22, 23};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> scores{0.5, 2.0, 0.5, 1.0, -1, nan, -2, -1};
  std::vector<ItemId> slates(6);
  top_scored_slates("env", scores, cands, 4, 3, slates);
  CHECK(slates == std::vector<ItemId>{11, 13, 10, 20, 23, 22});
  std::vector<ItemId> all(8);
  top_scored_slates("env", scores, cands, 4, 4, all);  // k = m: every candidate, NaN last
  CHECK(all == std::vector<ItemId>{11, 13, 10, 12, 20, 23, 22, 21});
  std::vector<ItemId> wrong(5), too_long(10);
  CHECK_THROWS_WITH(top_scored_slates("env", scores, cands, 4, 3, wrong), Catch::StartsWith("env: ") &&
                                                                             Catch::Contains("5 slate entries"));
  CHECK_THROWS_WITH(top_scored_slates("env", scores, cands, 4, 5, too_long), Catch::Contains("slates of 5"));
  CHECK_THROWS_WITH(top_scored_slates("env", std::vector<double>(7), cands, 4, 3, slates), Catch::Contains("7 scores"));
}

TEST_CASE("check_slates names the session, position and item of a bad slate, and skips ended sessions") {
  const std::vector<ItemId> cands{10, 11, 12, 20, 21, 22};
  const std::vector<std::uint8_t> none_ended{0, 0}, first_ended{1, 0};
  auto check = [&](std::vector<ItemId> slates, const std::vector<std::uint8_t>& terminated,
                   const std::vector<std::uint8_t>& truncated) {
    check_slates("env", slates, cands, 2, 3, 2, terminated, truncated);
  };
  CHECK_NOTHROW(check({12, 10, 21, 22}, none_ended, none_ended));
  CHECK_THROWS_WITH(check({12, 10, 21, 21}, none_ended, none_ended),
                    "env: session 1, slate position 1: item 21 appears twice in the slate");
  CHECK_THROWS_WITH(check({12, 20, 21, 22}, none_ended, none_ended),
                    "env: session 0, slate position 1: item 20 is not among this step's candidates");
  CHECK_NOTHROW(check({12, 20, 21, 22}, first_ended, none_ended));
  CHECK_NOTHROW(check({12, 20, 21, 22}, none_ended, first_ended));
  // an ended session does not end the check: the live one after it is still read
  CHECK_THROWS_WITH(check({12, 20, 21, 21}, first_ended, none_ended),
                    "env: session 1, slate position 1: item 21 appears twice in the slate");
  CHECK_THROWS_WITH(check({12, 10, 21}, none_ended, none_ended),
                    "env: step got 3 slate entries, expected n_sessions x slate_size = 4");
  CHECK_THROWS_WITH(check({12, 10, 21, 22}, {0}, none_ended), Catch::Contains("one entry per session (2)"));
  CHECK_THROWS_WITH(check_slates("env", std::vector<ItemId>(4), std::vector<ItemId>(5), 2, 3, 2, none_ended,
                                 none_ended),
                    "env: 5 candidates for 2 sessions of 3");
}
