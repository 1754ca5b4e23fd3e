// Algorithm-specific checks of the `knn` library on hand-worked examples.
//
// The 4 x 4 implicit matrix used throughout (users x items):
//        i0 i1 i2 i3
//   u0    1  1  .  .
//   u1    1  1  1  .
//   u2    .  1  1  .
//   u3    1  .  .  1
// Item vectors over users: i0 = {u0,u1,u3}, i1 = {u0,u1,u2}, i2 = {u1,u2}, i3 = {u3}.
//   cos(i0,i1) = 2/√(3·3) = 2/3       jac(i0,i1) = 2/(3+3−2) = 1/2
//   cos(i0,i2) = 1/√(3·2) = 1/√6      jac(i0,i2) = 1/(3+2−1) = 1/4
//   cos(i0,i3) = 1/√(3·1) = 1/√3      jac(i0,i3) = 1/(3+1−1) = 1/3
//   cos(i1,i2) = 2/√(3·2) = 2/√6      jac(i1,i2) = 2/(3+2−2) = 2/3
//   i3 shares no user with i1 or i2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <string>

#include "conformance_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

const double kRt6 = std::sqrt(6.0);
const double kRt3 = std::sqrt(3.0);

}  // namespace

TEST_CASE("item_knn cosine sums the user's items' neighbour similarities", "[knn]") {
  const TrainData d = four_by_four();
  auto r = fit_algorithm("item_knn", d);
  // u2 has {i1, i2}: s(i0) = cos(i1,i0) + cos(i2,i0) = 2/3 + 1/√6.
  CHECK(score1(*r, 2, 0) == Approx(2.0 / 3 + 1 / kRt6));
  CHECK(score1(*r, 2, 3) == 0.0f);
  CHECK(score1(*r, 2, 1) == Approx(2 / kRt6));  // from i2 only: never self-similar
  // u3 has {i0, i3}: s(i1) = 2/3, s(i2) = 1/√6, s(i0) = cos(i3,i0) = 1/√3.
  CHECK(score1(*r, 3, 1) == Approx(2.0 / 3));
  CHECK(score1(*r, 3, 2) == Approx(1 / kRt6));
  CHECK(score1(*r, 3, 0) == Approx(1 / kRt3));
  // Recommendation for u2 among unseen items {i0, i3}: i0 then i3 (score 0).
  std::vector<ItemId> items(3);
  std::vector<float> scores(3);
  r->recommend(std::vector<UserId>{2}, 3, SparseRowsView::of(d.by_user), items, scores);
  CHECK(items == std::vector<ItemId>{0, 3, kNoItem});
  CHECK(r->explain(2, 0) == "because you interacted with item 1, item 2");
  CHECK(r->explain(2, 3).empty());
  // Neighbour lists of 3 (i0), 2 (i1), 2 (i2) and 1 (i3) items: 8 kept pairs.
  CHECK(r->model_bytes() == 5 * sizeof(std::int64_t) + 8 * (sizeof(std::int32_t) + sizeof(float)));
}

TEST_CASE("item_knn keeps each item's top neighbours only", "[knn]") {
  // neighbors = 1: i0 -> i1 (2/3), i1 -> i2 (2/√6), i2 -> i1, i3 -> i0 (1/√3).
  auto r = fit_algorithm("item_knn", four_by_four(), {{"neighbors", std::int64_t{1}}});
  CHECK(score1(*r, 3, 1) == Approx(2.0 / 3));  // from i0's list
  CHECK(score1(*r, 3, 2) == 0.0f);             // i2 fell out of i0's list
  CHECK(score1(*r, 3, 0) == Approx(1 / kRt3)); // from i3's list
  CHECK(score1(*r, 2, 0) == 0.0f);             // neither i1 nor i2 keeps i0
}

TEST_CASE("item_knn with Jaccard similarity", "[knn]") {
  auto r = fit_algorithm("item_knn", four_by_four(), {{"similarity", std::string("jaccard")}});
  CHECK(score1(*r, 3, 1) == Approx(0.5));          // jac(i0,i1)
  CHECK(score1(*r, 3, 2) == Approx(0.25));         // jac(i0,i2)
  CHECK(score1(*r, 2, 0) == Approx(0.5 + 0.25));   // jac(i1,i0) + jac(i2,i0)
  CHECK(score1(*r, 2, 1) == Approx(2.0 / 3));      // jac(i2,i1)
}

TEST_CASE("item_knn with explicit ratings weighs by rating", "[knn]") {
  // Rating vectors: i0 = (u0 5, u1 1, u3 3), i1 = (u0 1, u1 5, u2 4):
  // cos = (5·1 + 1·5) / (√35 √42); u3 rated i0 with 3, so s(u3, i1) = 3 cos.
  auto r = fit_algorithm("item_knn", four_by_four(true), {{"implicit", false}});
  CHECK(score1(*r, 3, 1) == Approx(3 * 10 / std::sqrt(35.0 * 42.0)));
  auto flat = fit_algorithm("item_knn", four_by_four(true));  // implicit by default
  CHECK(score1(*flat, 3, 1) == Approx(2.0 / 3));
}

TEST_CASE("BM25 weighting discounts users who interacted with most items", "[knn]") {
  // implicit's bm25_weight over items x users, N = 4 items, K1 = 1.2, B = 0.75:
  //   idf(u) = ln 4 − ln(1 + df): u0, u2, u3 (2 items) ln(4/3); u1 (3 items) 0.
  //   row sums 3, 3, 2, 1, mean 9/4 -> length norms 1.25, 1.25, 11/12, 7/12.
  //   w(i, u) = 2.2 / (1.2 · norm_i + 1) · idf(u): i0, i1 0.88 idf; i3 (2.2/1.7) idf.
  // With the dot similarity (implicit's BM25Recommender):
  //   sim(i0,i1) = w(i0,u0) w(i1,u0) = (0.88 ln(4/3))² ≈ 0.06409 (u1 adds 0)
  //   sim(i0,i2) = 0 (only u1 is shared), sim(i3,i0) = (2.2/1.7)(0.88) ln(4/3)² ≈ 0.09425.
  const double idf = std::log(4.0 / 3.0);
  const std::map<std::string, ParamValue> bm25{{"weighting", std::string("bm25")},
                                               {"similarity", std::string("dot")}};
  auto r = fit_algorithm("item_knn", four_by_four(), bm25);
  CHECK(score1(*r, 3, 1) == Approx(0.88 * 0.88 * idf * idf).epsilon(1e-5));
  CHECK(score1(*r, 3, 2) == 0.0f);
  CHECK(score1(*r, 3, 0) == Approx(2.2 / 1.7 * 0.88 * idf * idf).epsilon(1e-5));
  // Unweighted dot products count the shared u1: s(u3, i2) = |{u1}| = 1.
  auto plain = fit_algorithm("item_knn", four_by_four(), {{"similarity", std::string("dot")}});
  CHECK(score1(*plain, 3, 2) == Approx(1.0));
  CHECK(score1(*plain, 3, 1) == Approx(2.0));
  // K1 changes the saturation: with K1 = 0 every weight is idf alone.
  auto k0 = fit_algorithm("item_knn", four_by_four(),
                          {{"weighting", std::string("bm25")}, {"similarity", std::string("dot")},
                           {"bm25_k1", 0.0}});
  CHECK(score1(*k0, 3, 1) == Approx(idf * idf).epsilon(1e-5));
}

TEST_CASE("TF-IDF weighting with cosine", "[knn]") {
  // w(i, u) = √1 · idf(u): i0 = (a, 0, ·, a), i1 = (a, 0, a, ·) with a = ln(4/3),
  // so cos(i0, i1) = a² / (√2 a · √2 a) = 1/2 instead of 2/3 unweighted.
  auto r = fit_algorithm("item_knn", four_by_four(), {{"weighting", std::string("tfidf")}});
  CHECK(score1(*r, 3, 1) == Approx(0.5));
}

TEST_CASE("shrinkage lowers the similarity of pairs with few co-raters most", "[knn]") {
  // Items a=0, b=1 share one user (u0); c=2, d=3 share three (u1, u2, u3).
  //   cos(a,b) = 1/√(2·1) (a also has u5); cos(c,d) = 3/√(4·3) (c also has u4).
  // Shrinkage λ = 2 scales them by 1/(1+2) and 3/(3+2).
  const TrainData d = make_train_data(6, 4,
                                      {{0, 0}, {0, 1}, {5, 0}, {1, 2}, {1, 3}, {2, 2}, {2, 3},
                                       {3, 2}, {3, 3}, {4, 2}},
                                      false);
  auto plain = fit_algorithm("item_knn", d);
  auto shrunk = fit_algorithm("item_knn", d, {{"shrinkage", 2.0}});
  const double ab = 1 / std::sqrt(2.0), cd = 3 / std::sqrt(12.0);
  CHECK(score1(*plain, 5, 1) == Approx(ab));
  CHECK(score1(*plain, 4, 3) == Approx(cd));
  CHECK(score1(*shrunk, 5, 1) == Approx(ab / 3));
  CHECK(score1(*shrunk, 4, 3) == Approx(cd * 3 / 5));
  CHECK(score1(*shrunk, 5, 1) / score1(*plain, 5, 1) < score1(*shrunk, 4, 3) / score1(*plain, 4, 3));
}

TEST_CASE("user_knn sums neighbours' interactions weighted by similarity", "[knn]") {
  // User vectors: u0 = {i0,i1}, u1 = {i0,i1,i2}, u2 = {i1,i2}, u3 = {i0,i3}.
  //   cos(u0,u1) = 2/√6, cos(u0,u2) = 1/2, cos(u0,u3) = 1/2, cos(u3,u1) = 1/√6.
  auto r = fit_algorithm("user_knn", four_by_four());
  CHECK(score1(*r, 0, 2) == Approx(2 / kRt6 + 0.5));  // u1 and u2 have i2
  CHECK(score1(*r, 0, 3) == Approx(0.5));             // u3 has i3
  CHECK(score1(*r, 3, 2) == Approx(1 / kRt6));        // u1 only (u2 shares nothing)
  // neighbors = 1: u0 keeps u1, u3 keeps u0 (1/2 > 1/√6).
  auto one = fit_algorithm("user_knn", four_by_four(), {{"neighbors", std::int64_t{1}}});
  CHECK(score1(*one, 0, 2) == Approx(2 / kRt6));
  CHECK(score1(*one, 0, 3) == 0.0f);
  CHECK(score1(*one, 3, 1) == Approx(0.5));
  CHECK(score1(*one, 3, 2) == 0.0f);
}

TEST_CASE("user_knn explains with the neighbours whose terms score the item", "[knn]") {
  REQUIRE((plugin_registry().find("user_knn").algorithm->capabilities & kCapExplain) != 0);
  // u0's neighbours: u1 (2/√6 ≈ 0.82), u2 (1/2), u3 (1/2); u3's: u0 (1/2), u1 (1/√6 ≈ 0.41).
  auto r = fit_algorithm("user_knn", four_by_four());
  CHECK(r->explain(0, 2) == "2 of your 3 nearest neighbours interacted with it: user 1 (similarity 0.82), "
                            "user 2 (similarity 0.50)");
  CHECK(score1(*r, 0, 2) == Approx(2 / kRt6 + 0.5));  // the two similarities named
  CHECK(r->explain(0, 3) == "1 of your 3 nearest neighbours interacted with it: user 3 (similarity 0.50)");
  CHECK(r->explain(3, 1) == "2 of your 2 nearest neighbours interacted with it: user 0 (similarity 0.50), "
                            "user 1 (similarity 0.41)");
  // neighbors = 1: u3 keeps only u0, who does not have i2, so nothing scores it.
  auto one = fit_algorithm("user_knn", four_by_four(), {{"neighbors", std::int64_t{1}}});
  CHECK(one->explain(3, 1) == "1 of your 1 nearest neighbour interacted with it: user 0 (similarity 0.50)");
  CHECK(one->explain(3, 2).empty());
}

TEST_CASE("user_knn names the neighbours contributing most, not the most similar", "[knn]") {
  // Explicit ratings, u0 = (5, ., .), u1 = (5, 1, 5), u2 = (2, 5, .):
  //   cos(u0,u1) = 25/(5√51) ≈ 0.70, cos(u0,u2) = 10/(5√29) ≈ 0.37;
  //   s(u0, i1) = 0.70 · 1 + 0.37 · 5: u2 contributes more (1.86 > 0.70).
  const TrainData d = make_train_data(3, 3, {{0, 0, 5}, {1, 0, 5}, {1, 1, 1}, {1, 2, 5}, {2, 0, 2}, {2, 1, 5}}, true);
  auto r = fit_algorithm("user_knn", d, {{"implicit", false}});
  const double c1 = 25 / (5 * std::sqrt(51.0)), c2 = 10 / (5 * std::sqrt(29.0));
  CHECK(score1(*r, 0, 1) == Approx(c1 * 1 + c2 * 5));
  CHECK(r->explain(0, 1) == "2 of your 2 nearest neighbours interacted with it: user 2 (similarity 0.37), "
                            "user 1 (similarity 0.70)");
  CHECK(r->explain(0, 2) == "1 of your 2 nearest neighbours interacted with it: user 1 (similarity 0.70)");
}

TEST_CASE("user_knn's explanation counts and names exactly the neighbours that score the item", "[knn]") {
  // With every co-rating user kept (neighbors >= users), N_k(u) is the users sharing an item
  // with u, cos(u, v) = shared / √(|I_u| |I_v|), and s(u, i) sums cos(u, v) over those with i:
  // the explanation counts those terms and names the two largest.
  const TrainData d = synthetic_train_data();
  auto r = fit_algorithm("user_knn", d, {{"neighbors", std::int64_t{1000}}});
  const auto row = [&](UserId v) {
    return std::span(d.by_user.indices.data() + d.by_user.indptr[v],
                     static_cast<std::size_t>(d.by_user.indptr[v + 1] - d.by_user.indptr[v]));
  };
  const auto has = [&](UserId v, ItemId i) { return std::find(row(v).begin(), row(v).end(), i) != row(v).end(); };
  for (UserId u = 0; u < d.n_users; ++u) {
    std::map<UserId, double> near;  // v -> cos(u, v)
    for (UserId v = 0; v < d.n_users; ++v) {
      const auto shared = std::count_if(row(u).begin(), row(u).end(), [&](ItemId i) { return has(v, i); });
      if (v != u && shared > 0) near[v] = shared / std::sqrt(static_cast<double>(row(u).size() * row(v).size()));
    }
    for (ItemId i = 0; i < d.n_items; ++i) {
      INFO("user " << u << " item " << i);
      std::map<UserId, double> terms;
      double sum = 0.0;
      for (const auto& [v, c] : near)
        if (has(v, i)) terms[v] = c, sum += c;
      const std::string why = r->explain(u, i);
      if (terms.empty()) {
        CHECK(why.empty());
        continue;
      }
      CHECK(score1(*r, u, i) == Approx(sum));
      CHECK(why.rfind(std::to_string(terms.size()) + " of your " + std::to_string(near.size()) +
                          " nearest neighbours interacted with it: ", 0) == 0);
      // Each user named is a term, with its similarity, and no unnamed term is larger.
      std::vector<UserId> named;
      for (std::size_t at = why.find("user "); at != std::string::npos; at = why.find("user ", at + 1)) {
        const UserId v = std::stoi(why.substr(at + 5));
        REQUIRE(terms.count(v) == 1);
        CHECK(std::stod(why.substr(why.find("(similarity ", at) + 12)) == Approx(terms[v]).margin(0.005 + 1e-6));
        named.push_back(v);
      }
      CHECK(named.size() == std::min<std::size_t>(2, terms.size()));
      for (const auto& [v, c] : terms)
        if (std::find(named.begin(), named.end(), v) == named.end()) CHECK(c <= terms[named.back()] + 1e-6);
    }
  }
}
