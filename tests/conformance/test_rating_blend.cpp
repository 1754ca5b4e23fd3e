// rating_blend (plugins/fusion/rating_blend.hpp): it recovers the weights
// that generated the validation ratings, the meta-feature products included;
// refuses children that cannot predict ratings; really refits its children
// on train ∪ validation (and merge_validation builds exactly that TrainData);
// clips predict_rating to the rating range; and with real rating children
// (sgd_mf, baseline_only, from their headers) honours the recommender
// contract and fits the validation ratings at least as well as any child.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "conformance_support.hpp"
#include "plugins/baseline/baseline_only.hpp"
#include "plugins/fusion/merged_train.hpp"
#include "plugins/fusion/rating_blend.hpp"
#include "plugins/mf_explicit/sgd_mf.hpp"
#include "recfuse/rng.hpp"
#include "rating_blend_support.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

TEST_CASE("rating_blend recovers the weights that generated the validation ratings", "[fusion][rating_blend]") {
  constexpr int kUsers = 120, kItems = 80;
  const Table a = uniform_table(kUsers, kItems, 1, 5, 1), b = uniform_table(kUsers, kItems, 1, 5, 2);
  SECTION("a plain linear blend: r = 0.3 a + 0.7 b + 0.5") {
    auto truth = [&](UserId u, ItemId i) { return 0.3 * a[u][i] + 0.7 * b[u][i] + 0.5; };
    const TrainData d = task(kUsers, kItems, 4, truth);
    auto f = make_fused<RatingBlend>({{"interactions", false}, {"l2", 1e-6}, {"refit", false}},
                                     {rater("A", a, d), rater("B", b, d)}, d);
    CHECK(weight_of(*f, "A") == Approx(0.3).margin(1e-4));
    CHECK(weight_of(*f, "B") == Approx(0.7).margin(1e-4));
    CHECK(std::abs(weight_of(*f, "log_user_count")) < 1e-4);
    CHECK(std::abs(weight_of(*f, "log_item_count")) < 1e-4);
    CHECK(f->intercept() == Approx(0.5).margin(1e-3));
    CHECK(f->validation_rmse() < 1e-4);
    CHECK(f->cv_rmse() < 1e-4);  // held-out parts are predicted exactly too
    // Pairs the blend never saw (user 0's training items) follow the same rule.
    for (const ItemId i : d.by_user.row(0)) {
      const UserId u0[] = {0};
      const ItemId i0[] = {i};
      float s = 0;
      f->score(u0, i0, std::span<float>(&s, 1));
      CHECK(s == Approx(truth(0, i)).margin(1e-4));
    }
    // A heavy ridge pulls the child weights towards 0 (the intercept, unpenalised, takes over).
    auto g = make_fused<RatingBlend>({{"interactions", false}, {"l2", 1e7}, {"refit", false}},
                                     {rater("A", a, d), rater("B", b, d)}, d);
    CHECK(std::abs(weight_of(*g, "A")) + std::abs(weight_of(*g, "B")) < 0.1);
  }
  SECTION("feature-weighted: the weight of a grows with the user's history") {
    // r = (0.3 + 0.2 h(u)) a + 0.7 b + 0.5, h = the standardised log training count.
    std::vector<double> counts(kUsers);
    for (int u = 0; u < kUsers; ++u) counts[u] = 2 + u % 20;
    const std::vector<float> h = standardized_log(counts);
    auto truth = [&](UserId u, ItemId i) { return (0.3 + 0.2 * h[u]) * a[u][i] + 0.7 * b[u][i] + 0.5; };
    const TrainData d = task(kUsers, kItems, 4, truth);
    auto f = make_fused<RatingBlend>({{"interactions", true}, {"l2", 1e-6}, {"refit", false}},
                                     {rater("A", a, d), rater("B", b, d)}, d);
    CHECK(weight_of(*f, "A") == Approx(0.3).margin(1e-3));
    CHECK(weight_of(*f, "A*log_user_count") == Approx(0.2).margin(1e-3));
    CHECK(weight_of(*f, "B") == Approx(0.7).margin(1e-3));
    CHECK(std::abs(weight_of(*f, "B*log_user_count")) < 1e-3);
    CHECK(std::abs(weight_of(*f, "A*log_item_count")) < 1e-3);
    CHECK(f->validation_rmse() < 1e-3);
    // Without the products the same data cannot be fitted exactly.
    auto g = make_fused<RatingBlend>({{"interactions", false}, {"l2", 1e-6}, {"refit", false}},
                                     {rater("A", a, d), rater("B", b, d)}, d);
    CHECK(g->validation_rmse() > 0.05);
  }
}

TEST_CASE("rating_blend refuses a child that does not predict ratings, by name", "[fusion][rating_blend]") {
  const Table a = uniform_table(10, 12, 1, 5, 3);
  const TrainData d = task(10, 12, 2, [&](UserId u, ItemId i) { return a[u][i]; });
  RatingBlend blend(validate_params(RatingBlend::params(), std::map<std::string, ParamValue>{}, {}, "", "test"));
  std::vector<Child> children = {rater("mf", a, d), fixed_child("popular_ranker", a, d)};
  CHECK_THROWS_WITH(blend.set_children(std::move(children)),
                    Catch::Contains("child 'popular_ranker'") && Catch::Contains("does not predict ratings"));
}

TEST_CASE("rating_blend with refit fits every child again on train + validation", "[fusion][rating_blend]") {
  const Table a = uniform_table(40, 30, 1, 5, 4), b = uniform_table(40, 30, 1, 5, 5);
  const TrainData d = task(40, 30, 3, [&](UserId u, ItemId i) { return 0.5 * (a[u][i] + b[u][i]); });
  const std::int64_t n_train = d.by_user.nnz(), n_val = d.validation.nnz();
  REQUIRE(n_val == 40 * 3);
  for (const bool refit : {true, false}) {
    DYNAMIC_SECTION("refit = " << refit) {
      std::shared_ptr<TableRater> ka, kb;
      auto f = make_fused<RatingBlend>({{"refit", refit}}, {rater("A", a, d, &ka), rater("B", b, d, &kb)}, d);
      for (const auto& k : {ka, kb}) {
        REQUIRE(k->fitted_on.size() == (refit ? 2u : 1u));
        CHECK(k->fitted_on[0] == n_train);  // the host's fit
        if (refit) {
          CHECK(k->fitted_on[1] == n_train + n_val);
          CHECK(k->last_validation_nnz == 0);  // nothing left to stop early on
        }
      }
    }
  }
}

TEST_CASE("merge_validation is the TrainData of train and validation together", "[fusion][rating_blend]") {
  std::vector<Interaction> all;
  const TrainData d = task(25, 30, 3, [](UserId u, ItemId i) { return 1 + (u + i) % 5; }, &all);
  const TrainData m = merge_validation(d);
  const TrainData want = make_train_data(25, 30, all, true);
  for (const auto& [got, ref] : {std::pair{&m.by_user, &want.by_user}, std::pair{&m.by_item, &want.by_item},
                                 std::pair{&m.sequences, &want.sequences}}) {
    CHECK(got->rows == ref->rows);
    CHECK(got->indptr == ref->indptr);
    CHECK(got->indices == ref->indices);
    CHECK(got->values == ref->values);
    CHECK(got->timestamps == ref->timestamps);
  }
  CHECK(m.validation.nnz() == 0);
  CHECK(m.validation.rows == 25);
  CHECK(m.explicit_ratings);
  // A pair in both parts keeps the validation rating once.
  TrainData dup = d;
  dup.validation = make_train_data(25, 30, {{0, d.by_user.row(0)[0], 4.5f, 7}}, true).by_user;
  const TrainData md = merge_validation(dup);
  CHECK(md.by_user.nnz() == d.by_user.nnz());
  CHECK(md.by_user.values[0] == 4.5f);
}

TEST_CASE("rating_blend clips predict_rating to the rating range but ranks by the raw blend", "[fusion][rating_blend]") {
  // Validation ratings r = a + b - 3 with a, b in [2, 4): inside [1, 5].
  constexpr int kUsers = 30, kItems = 20;
  Table a = uniform_table(kUsers, kItems, 2, 4, 6), b = uniform_table(kUsers, kItems, 2, 4, 7);
  const TrainData d = task(kUsers, kItems, 3, [&](UserId u, ItemId i) { return a[u][i] + b[u][i] - 3; });
  // Two pairs outside validation whose blend leaves the range: 5 + 5 - 3 = 7 and 1 + 1 - 3 = -1.
  const ItemId hi_item = d.by_user.row(0)[0], lo_item = d.by_user.row(0)[1];
  a[0][hi_item] = b[0][hi_item] = 5;
  a[0][lo_item] = b[0][lo_item] = 1;
  auto f = make_fused<RatingBlend>({{"interactions", false}, {"l2", 1e-6}, {"refit", false}},
                                   {rater("A", a, d), rater("B", b, d)}, d);
  const UserId users[] = {0, 0};
  const ItemId items[] = {hi_item, lo_item};
  float rated[2], raw[2];
  f->predict_rating(users, items, rated);
  f->score(users, items, raw);
  CHECK(rated[0] == 5.0f);
  CHECK(rated[1] == 1.0f);
  CHECK(raw[0] == Approx(7.0).margin(1e-3));
  CHECK(raw[1] == Approx(-1.0).margin(1e-3));
  const std::vector<float> row = row_of(*f, 0);
  CHECK(row[static_cast<std::size_t>(hi_item)] == Approx(raw[0]));
}

TEST_CASE("rating_blend over sgd_mf and baseline_only honours the recommender contract", "[fusion][rating_blend]") {
  TrainData d = synthetic_train_data();
  // Validation: per user, the ratings of two items outside training, drawn like the training ones.
  Rng rng(21);
  std::vector<Interaction> val;
  for (UserId u = 0; u < d.n_users; ++u) {
    const auto row = d.by_user.row(u);
    std::set<ItemId> picked;
    while (picked.size() < 2) {
      const auto i = static_cast<ItemId>(rng.below(static_cast<std::uint64_t>(d.n_items - 1)));
      if (!std::binary_search(row.begin(), row.end(), i)) picked.insert(i);
    }
    for (ItemId i : picked) val.push_back({u, i, static_cast<float>(1 + rng.below(5)), 0});
  }
  d.validation = make_train_data(d.n_users, d.n_items, val, true).by_user;
  auto children = [&] {
    auto mf = std::make_shared<SgdMfRecommender>(validate_params(SgdMfRecommender::params(), {{"factors", std::int64_t{4}}}, {}, "", "test"));
    auto bias = std::make_shared<BaselineOnlyRecommender>(validate_params(BaselineOnlyRecommender::params(), std::map<std::string, ParamValue>{}, {}, "", "test"));
    FitContext ctx;
    ctx.seed = 3;
    mf->fit(d, ctx);
    bias->fit(d, ctx);
    return std::vector<Child>{{"mf", "sgd_mf", kCapPredictRating, mf}, {"bias", "baseline_only", kCapPredictRating, bias}};
  };
  SECTION("in-sample, the blend is at least as good as each child") {
    auto f = make_fused<RatingBlend>({{"interactions", false}, {"l2", 1e-9}, {"refit", false}}, children(), d);
    for (double child : f->child_rmse()) CHECK(f->validation_rmse() <= child + 1e-9);
  }
  SECTION("recommend, score_all, predict_rating and determinism") {
    auto f = make_fused<RatingBlend>({}, children(), d, 5);
    constexpr int kK = 10;
    std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
    for (UserId u = 0; u < d.n_users; ++u) users[static_cast<std::size_t>(u)] = u;
    std::vector<ItemId> items(users.size() * kK);
    std::vector<float> scores(items.size());
    const auto exclude = SparseRowsView::of(d.by_user);
    f->recommend(users, kK, exclude, items, scores);
    std::vector<float> all(users.size() * static_cast<std::size_t>(d.n_items));
    f->score_all(users, all);
    for (UserId u = 0; u < d.n_users; ++u) {
      const auto ex = exclude.row(u);
      for (int j = 0; j < kK; ++j) {
        const ItemId it = items[static_cast<std::size_t>(u * kK + j)];
        const float s = scores[static_cast<std::size_t>(u * kK + j)];
        REQUIRE(it != kNoItem);
        CHECK_FALSE(std::binary_search(ex.begin(), ex.end(), it));
        CHECK(s == Approx(all[static_cast<std::size_t>(u) * d.n_items + it]).margin(1e-4));
        if (j > 0) CHECK(s <= scores[static_cast<std::size_t>(u * kK + j - 1)]);
      }
    }
    std::vector<UserId> pu;
    std::vector<ItemId> pi;
    for (const auto& x : val) { pu.push_back(x.user); pi.push_back(x.item); }
    std::vector<float> rated(pu.size());
    f->predict_rating(pu, pi, rated);
    for (float r : rated) { CHECK(r >= 1.0f); CHECK(r <= 5.0f); }
    auto again = make_fused<RatingBlend>({}, children(), d, 5);
    std::vector<float> rated2(pu.size());
    again->predict_rating(pu, pi, rated2);
    CHECK(rated2 == rated);
    CHECK(f->model_bytes() > 0);
  }
}
