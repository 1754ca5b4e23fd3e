// A rating_blend whose child is itself a rating_blend (plugins/fusion/
// rating_blend.hpp), built as the host builds a nested tree: the inner blend
// fitted on the training part first (its children, then its weights on the
// validation ratings), then handed to the outer one.
//  - With the outer's refit, the outer refits the inner on train ∪ validation:
//    the inner keeps the weights it fitted on validation and refits its own
//    children on the merged data, instead of being fitted afresh there and
//    failing for want of validation ratings. fit itself stays a fresh fit.
//  - An inner blend that refitted its own children on train ∪ validation
//    (its refit = true) would hand the outer in-sample predictions on the
//    very ratings the outer fits its weights on: refused, naming the child,
//    the algorithm and the key; so do the other strategies that fit on the
//    validation part (stacking, learned switching).
#include <catch2/catch.hpp>

#include <cmath>

#include "plugins/fusion/score_fusion.hpp"
#include "plugins/fusion/stacking.hpp"
#include "plugins/fusion/switching.hpp"
#include "rating_blend_support.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

struct Nested {
  std::shared_ptr<TableRater> a, b, c;
  std::shared_ptr<RatingBlend> inner;
};

/// inner = rating_blend(A, B) with `inner_refit`, fitted on `d` (as the
/// host fits a child before its parent); the outer's children: inner and C.
std::vector<Child> nested_children(const TrainData& d, const Table& a, const Table& b, const Table& c,
                                   bool inner_refit, Nested& keep) {
  keep.inner = std::shared_ptr<RatingBlend>(
      make_fused<RatingBlend>({{"refit", inner_refit}, {"interactions", false}, {"l2", 1e-6}},
                              {rater("A", a, d, &keep.a), rater("B", b, d, &keep.b)}, d));
  return {Child{"inner", "rating_blend", kCapPredictRating | kCapChildren, keep.inner}, rater("C", c, d, &keep.c)};
}

}  // namespace

TEST_CASE("a nested rating_blend is refitted under its parent's refit", "[fusion][rating_blend]") {
  constexpr int kUsers = 40, kItems = 30;
  const Table a = uniform_table(kUsers, kItems, 1, 5, 11), b = uniform_table(kUsers, kItems, 1, 5, 12),
              c = uniform_table(kUsers, kItems, 1, 5, 13);
  // r = 0.5 a + 0.5 b: the inner blend recovers 0.5 / 0.5, the outer gives it all (1) and C nothing.
  const TrainData d = task(kUsers, kItems, 3, [&](UserId u, ItemId i) { return 0.5 * a[u][i] + 0.5 * b[u][i]; });
  const std::int64_t n_train = d.by_user.nnz(), n_val = d.validation.nnz();
  for (const bool outer_refit : {true, false}) {
    DYNAMIC_SECTION("outer refit = " << outer_refit) {
      Nested k;
      std::vector<Child> children = nested_children(d, a, b, c, false, k);
      const std::vector<double> inner_weights = k.inner->coefficients();
      const double inner_intercept = k.inner->intercept();
      CHECK(weight_of(*k.inner, "A") == Approx(0.5).margin(1e-3));
      auto outer = make_fused<RatingBlend>({{"refit", outer_refit}, {"interactions", false}, {"l2", 1e-6}},
                                           std::move(children), d);
      CHECK(weight_of(*outer, "inner") == Approx(1.0).margin(1e-3));
      CHECK(std::abs(weight_of(*outer, "C")) < 1e-3);
      // Refitted by the outer's refit, the inner's children trained on validation: it says so.
      CHECK(k.inner->trained_on_validation() == outer_refit);
      // Every leaf: fitted once on the training part, and with the outer's refit once more on both parts.
      for (const auto& leaf : {k.a, k.b, k.c}) {
        REQUIRE(leaf->fitted_on.size() == (outer_refit ? 2u : 1u));
        CHECK(leaf->fitted_on[0] == n_train);
        if (outer_refit) CHECK(leaf->fitted_on[1] == n_train + n_val);
      }
      // The inner blend keeps the weights it fitted on the validation ratings.
      CHECK(k.inner->coefficients() == inner_weights);
      CHECK(k.inner->intercept() == inner_intercept);
      CHECK(k.inner->validation_rmse() < 1e-3);
      // The outer blend scores its rule through the inner one: 0.5 a + 0.5 b.
      const UserId users[] = {0, 7};
      const ItemId items[] = {3, 11};
      float s[2];
      outer->score(users, items, s);
      for (int j = 0; j < 2; ++j)
        CHECK(s[j] == Approx(0.5 * a[users[j]][items[j]] + 0.5 * b[users[j]][items[j]]).margin(1e-3));
    }
  }
}

TEST_CASE("rating_blend refuses a child blend that trained on the validation ratings (its refit)",
          "[fusion][rating_blend]") {
  const Table a = uniform_table(20, 15, 1, 5, 14), b = uniform_table(20, 15, 1, 5, 15), c = uniform_table(20, 15, 1, 5, 16);
  const TrainData d = task(20, 15, 2, [&](UserId u, ItemId i) { return (a[u][i] + b[u][i] + c[u][i]) / 3; });
  Nested k;
  std::vector<Child> children = nested_children(d, a, b, c, true, k);
  for (const bool outer_refit : {true, false}) {
    DYNAMIC_SECTION("outer refit = " << outer_refit) {
      RatingBlend outer(validate_params(RatingBlend::params(), {{"refit", outer_refit}}, {}, "", "test"));
      outer.set_children(children);
      CHECK_THROWS_WITH(outer.fit(d, FitContext{}),
                        Catch::Contains("[rating_blend] child 'inner' (rating_blend)") &&
                            Catch::Contains("validation ratings") && Catch::Contains("refit = false"));
    }
  }
  // The diagnostic the outer reads: 1 when the blend's children were refitted on validation, else 0.
  auto has = [](const RatingBlend& m, double v) {
    for (const auto& [key, value] : m.diagnostics())
      if (key == "trained_on_validation") return value == v;
    return false;
  };
  CHECK(has(*k.inner, 1.0));
  Nested plain;
  nested_children(d, a, b, c, false, plain);
  CHECK(has(*plain.inner, 0.0));
}

TEST_CASE("stacking and learned switching refuse a child blend that trained on the validation ratings",
          "[fusion][rating_blend]") {
  const Table a = uniform_table(20, 15, 1, 5, 18), b = uniform_table(20, 15, 1, 5, 19), c = uniform_table(20, 15, 1, 5, 20);
  const TrainData d = task(20, 15, 2, [&](UserId u, ItemId i) { return (a[u][i] + b[u][i]) / 2; });
  for (const bool inner_refit : {true, false}) {
    DYNAMIC_SECTION("inner refit = " << inner_refit) {
      Nested k;
      std::vector<Child> children = nested_children(d, a, b, c, inner_refit, k);
      Stacking stack(validate_params(Stacking::params(), std::map<std::string, ParamValue>{}, {}, "", "test"));
      stack.set_children(children);
      Switching sw(validate_params(Switching::params(), {{"rule", std::string("learned")}}, {}, "", "test"));
      sw.set_children(children);
      if (inner_refit) {
        CHECK_THROWS_WITH(stack.fit(d, FitContext{}), Catch::Contains("[stacking] child 'inner' (rating_blend)") &&
                                                          Catch::Contains("refit = false"));
        CHECK_THROWS_WITH(sw.fit(d, FitContext{}), Catch::Contains("[switching] child 'inner' (rating_blend)") &&
                                                       Catch::Contains("refit = false"));
      } else {
        CHECK_NOTHROW(stack.fit(d, FitContext{}));
        CHECK_NOTHROW(sw.fit(d, FitContext{}));
      }
    }
  }
}

TEST_CASE("rating_blend's fit is a fresh fit: without validation ratings it says what it needs, fitted or not",
          "[fusion][rating_blend]") {
  const Table a = uniform_table(10, 12, 1, 5, 17);
  const TrainData d = task(10, 12, 2, [&](UserId u, ItemId i) { return a[u][i]; });
  const TrainData merged = merge_validation(d);
  RatingBlend blend(validate_params(RatingBlend::params(), std::map<std::string, ParamValue>{}, {}, "", "test"));
  blend.set_children({rater("A", a, d)});
  CHECK_THROWS_WITH(blend.fit(merged, FitContext{}), Catch::Contains("needs validation ratings"));
  blend.fit(d, FitContext{});
  CHECK_THROWS_WITH(blend.fit(merged, FitContext{}), Catch::Contains("needs validation ratings"));
}

TEST_CASE("a blend trained on the validation ratings is refused below another strategy too",
          "[fusion][rating_blend]") {
  // stacking over score_fusion over rating_blend(refit = true): the middle
  // node fits on nothing, but its child's predictions on validation are
  // in-sample all the same.
  const Table a = uniform_table(20, 15, 1, 5, 21), b = uniform_table(20, 15, 1, 5, 22), c = uniform_table(20, 15, 1, 5, 23);
  const TrainData d = task(20, 15, 2, [&](UserId u, ItemId i) { return (a[u][i] + b[u][i]) / 2; });
  for (const bool inner_refit : {true, false}) {
    DYNAMIC_SECTION("inner refit = " << inner_refit) {
      Nested k;
      std::vector<Child> blend_and_c = nested_children(d, a, b, c, inner_refit, k);
      auto middle = std::make_shared<ScoreFusion>(
          validate_params(ScoreFusion::params(), std::map<std::string, ParamValue>{}, {}, "", "test"));
      middle->set_children(blend_and_c);
      middle->fit(d, FitContext{});
      CHECK(middle->trained_on_validation() == inner_refit);
      Stacking stack(validate_params(Stacking::params(), std::map<std::string, ParamValue>{}, {}, "", "test"));
      stack.set_children({Child{"middle", "score_fusion", kCapChildren, middle}, blend_and_c[1]});
      if (inner_refit)
        CHECK_THROWS_WITH(stack.fit(d, FitContext{}),
                          Catch::Contains("[stacking] child 'middle' (score_fusion)") && Catch::Contains("refit = false"));
      else
        CHECK_NOTHROW(stack.fit(d, FitContext{}));
    }
  }
}
