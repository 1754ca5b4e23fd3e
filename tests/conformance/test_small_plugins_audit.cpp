// Audit of the baseline plugins: edge cases the algorithm-specific tests do
// not reach, each one a defect found by reading (content and fm: test_content.cpp,
// test_fm.cpp, test_fm_gradients.cpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "conformance_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

TEST_CASE("baseline_only with zero regularisation leaves unrated users and items at zero bias",
          "[baseline][audit]") {
  // User 3 and item 3 have no training ratings. With λ = 0 the ALS update
  // would be 0 / 0; Surprise never meets it (its trainset holds only rated
  // users and items, and an unknown one gets no bias term), so r̂(u, 3) must
  // be μ + b_u and r̂(3, 3) = μ, not NaN.
  const std::vector<Interaction> r{{0, 0, 5}, {0, 1, 4}, {1, 0, 3}, {1, 2, 1}, {2, 2, 2}};
  const TrainData d = make_train_data(4, 4, r, true);
  auto m = fit_algorithm("baseline_only", d, {{"reg_i", 0.0}, {"reg_u", 0.0}});
  const std::vector<UserId> us{0, 1, 2, 3, 3, 3};
  const std::vector<ItemId> is{3, 3, 3, 3, 0, 2};
  const auto s = score_pairs(*m, us, is);
  for (std::size_t p = 0; p < s.size(); ++p) {
    INFO("pair (" << us[p] << ", " << is[p] << ")");
    CHECK(std::isfinite(s[p]));
  }
  CHECK(s[3] == Approx(15.0 / 5.0));  // μ
  std::vector<float> pred(us.size());
  m->predict_rating(us, is, pred);
  for (float v : pred) {
    CHECK(std::isfinite(v));
    CHECK(v >= 1.0f);
    CHECK(v <= 5.0f);
  }
  // score_all must agree and be finite for the unrated user's whole row.
  std::vector<float> row(4);
  m->score_all(std::vector<UserId>{3}, row);
  for (float v : row) CHECK(std::isfinite(v));
}

TEST_CASE("popularity refuses recent_days on data without timestamps", "[baseline][audit]") {
  // Timestamps 0 mean "the source has none" (train_data.hpp): a window of
  // recent days cannot be applied, and silently counting everything would
  // report an all-time popularity under a windowed name.
  const TrainData d = make_train_data(2, 2, {{0, 0}, {1, 0}, {1, 1}}, false);
  CHECK_THROWS_WITH(fit_algorithm("popularity", d, {{"recent_days", std::int64_t{7}}}),
                    Catch::Contains("recent_days") && Catch::Contains("timestamps"));
  // Without a window the same data is fine.
  auto all = fit_algorithm("popularity", d);
  CHECK(score_pairs(*all, {0, 0}, {0, 1}) == std::vector<float>{2, 1});
}
