// The kNN recommenders' `fallback = "popularity"` (plugins/knn/fallback.hpp)
// on hand-made data: items the neighbourhood gives no evidence for rank after
// every evidenced item, by training popularity (ties by id); "none" keeps the
// plain sums (0 without evidence, so ties by id).
//
// The 7 x 6 implicit matrix of the first cases (users x items):
//        i0 i1 i2 i3 i4 i5
//   u0    .  .  .  .  .  1     u0's only item i5 is nobody else's: no neighbours
//   u1    1  .  .  .  .  .     u1 shares i0 with u2: evidence for i1 only
//   u2    1  1  .  .  .  .
//   u3    .  .  1  .  1  .
//   u4    .  .  .  1  1  .
//   u5    .  .  .  .  1  .
//   u6    .  .  1  .  1  .
// Training popularity: i4 4, i0 2, i2 2, i1 1, i3 1, i5 1, so the popularity
// order (ties by id) is i4, i0, i2, i1, i3, i5. Every score is >= 0, so a
// fallback item scores -1 - (4 - popularity): i4 -1, i0 and i2 -3, the rest -4.
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <numeric>
#include <sstream>

#include "conformance_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

TrainData islands() {
  return make_train_data(7, 6,
                         {{0, 5}, {1, 0}, {2, 0}, {2, 1}, {3, 2}, {3, 4}, {4, 3}, {4, 4}, {5, 4}, {6, 2}, {6, 4}},
                         false);
}

const std::map<std::string, ParamValue> kPopularity{{"fallback", std::string("popularity")}};

struct Ranked {
  std::vector<ItemId> items;
  std::vector<float> scores;
};

Ranked top(Recommender& r, const TrainData& d, UserId u, int k) {
  Ranked t{std::vector<ItemId>(static_cast<std::size_t>(k)), std::vector<float>(static_cast<std::size_t>(k))};
  r.recommend(std::vector<UserId>{u}, k, SparseRowsView::of(d.by_user), t.items, t.scores);
  return t;
}

}  // namespace

TEST_CASE("knn fallback: a user without neighbours gets the training popularity order", "[knn]") {
  const TrainData d = islands();
  for (const char* name : {"item_knn", "user_knn"}) {
    INFO(name);
    auto plain = fit_algorithm(name, d);
    const Ranked none = top(*plain, d, 0, 5);
    CHECK(none.items == std::vector<ItemId>{0, 1, 2, 3, 4});  // all 0: item id order
    CHECK(none.scores == std::vector<float>(5, 0.0f));

    auto r = fit_algorithm(name, d, kPopularity);
    const Ranked pop = top(*r, d, 0, 5);
    CHECK(pop.items == std::vector<ItemId>{4, 0, 2, 1, 3});
    CHECK(pop.scores == std::vector<float>{-1, -3, -3, -4, -4});
    CHECK(score_pairs(*r, {0, 0, 0, 0, 0}, {4, 0, 2, 1, 3}) == pop.scores);
  }
}

TEST_CASE("knn fallback: evidenced items first, then the others by popularity", "[knn]") {
  const TrainData d = islands();
  for (const char* name : {"item_knn", "user_knn"}) {
    INFO(name);
    auto plain = fit_algorithm(name, d);
    CHECK(top(*plain, d, 1, 5).items == std::vector<ItemId>{1, 2, 3, 4, 5});

    auto r = fit_algorithm(name, d, kPopularity);
    const Ranked pop = top(*r, d, 1, 5);
    CHECK(pop.items == std::vector<ItemId>{1, 4, 2, 3, 5});
    // The evidenced score is the plain sum, untouched by the fallback.
    CHECK(pop.scores[0] == score1(*plain, 1, 1));
    CHECK(pop.scores[0] > 0.0f);
    CHECK(std::vector<float>(pop.scores.begin() + 1, pop.scores.end()) == std::vector<float>{-1, -3, -4, -4});
  }
}

TEST_CASE("knn fallback: item_knn explains an item the fallback ranked by its popularity", "[knn]") {
  // u1 has i0, whose only neighbour is i1 (u2 has both): i1 is evidenced, the
  // rest are ranked by popularity (i4: 4 users, i3: 1). u0's i5 has no
  // neighbour at all.
  const TrainData d = islands();
  auto r = fit_algorithm("item_knn", d, kPopularity);
  CHECK(r->explain(1, 1) == "because you interacted with item 0");
  CHECK(r->explain(1, 4) == "no item you interacted with has it as a neighbour; ranked by popularity "
                            "(4 training users)");
  CHECK(r->explain(1, 3) == "no item you interacted with has it as a neighbour; ranked by popularity "
                            "(1 training user)");
  CHECK(r->explain(0, 2) == "no item you interacted with has it as a neighbour; ranked by popularity "
                            "(2 training users)");
  // Without the fallback such an item only ties at 0, in item-id order: no reason to give.
  CHECK(fit_algorithm("item_knn", d)->explain(1, 4).empty());
}

TEST_CASE("knn fallback: user_knn explains an item the fallback ranked by its popularity", "[knn]") {
  // u1's one neighbour is u2 (cos 1/√2), who has i1: i1 is evidenced, the rest
  // are ranked by popularity. u0 has no neighbour at all.
  const TrainData d = islands();
  auto r = fit_algorithm("user_knn", d, kPopularity);
  CHECK(r->explain(1, 1) == "1 of your 1 nearest neighbour interacted with it: user 2 (similarity 0.71)");
  CHECK(r->explain(1, 4) == "no user among your 1 nearest neighbour interacted with it; ranked by popularity "
                            "(4 training users)");
  CHECK(r->explain(1, 3) == "no user among your 1 nearest neighbour interacted with it; ranked by popularity "
                            "(1 training user)");
  CHECK(r->explain(0, 2) == "you have no nearest neighbours; ranked by popularity (2 training users)");
  CHECK(fit_algorithm("user_knn", d)->explain(1, 4).empty());
}

TEST_CASE("knn fallback: evidence that sums to 0 is still evidence", "[knn]") {
  // Explicit values, dot similarity (users x items; P = i0, T = i1, a = i2, b = i3):
  //   u0: T 1, a 1    u1: T 1, b 1    u2: a 1, b -1    u3, u4, u5: P 1
  // item_knn: sim(a, T) = sim(b, T) = 1, so s(u2, T) = 1·1 + (−1)·1 = 0.
  // user_knn: sim(u2, u0) = 1, sim(u2, u1) = −1, so s(u2, T) = 1·1 + (−1)·1 = 0.
  // Nothing links u2 to P, the more popular item (3 users against T's 2):
  // T has evidence and P has none, so T ranks first although their sums tie
  // (and an implementation testing "score == 0" would put P first).
  const TrainData d = make_train_data(
      6, 4, {{0, 1, 1}, {0, 2, 1}, {1, 1, 1}, {1, 3, 1}, {2, 2, 1}, {2, 3, -1}, {3, 0, 1}, {4, 0, 1}, {5, 0, 1}},
      true);
  std::map<std::string, ParamValue> params{{"implicit", false}, {"similarity", std::string("dot")}};
  for (const char* name : {"item_knn", "user_knn"}) {
    INFO(name);
    auto plain = fit_algorithm(name, d, params);
    CHECK(score1(*plain, 2, 1) == 0.0f);
    CHECK(top(*plain, d, 2, 2).items == std::vector<ItemId>{0, 1});

    params["fallback"] = std::string("popularity");
    auto r = fit_algorithm(name, d, params);
    params.erase("fallback");
    const Ranked pop = top(*r, d, 2, 2);
    CHECK(pop.items == std::vector<ItemId>{1, 0});
    CHECK(pop.scores[0] == 0.0f);
    CHECK(pop.scores[1] < -1.0f);  // below u2's lowest possible evidenced score (negative here)
  }
}

TEST_CASE("knn fallback: recommend is the top-k of score_all and score, and a saved model keeps it", "[knn]") {
  // One neighbour each leaves most items without evidence for most users.
  const TrainData d = synthetic_train_data();
  const auto n = static_cast<std::size_t>(d.n_items);
  std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
  std::iota(users.begin(), users.end(), 0);
  const std::map<std::string, ParamValue> none{{"neighbors", std::int64_t{1}}};
  std::map<std::string, ParamValue> pop = none;
  pop["fallback"] = std::string("popularity");
  const SparseRowsView seen = SparseRowsView::of(d.by_user);
  constexpr int kK = 10;
  for (const char* name : {"item_knn", "user_knn"}) {
    INFO(name);
    auto r = fit_algorithm(name, d, pop);
    std::vector<float> rows(users.size() * n);
    r->score_all(users, rows);
    std::vector<ItemId> items(users.size() * kK);
    std::vector<float> scores(users.size() * kK);
    r->recommend(users, kK, seen, items, scores);
    int fallback_in_top = 0;
    for (const UserId u : users) {
      INFO("user " << u);
      std::vector<ItemId> want;
      for (ItemId i = 0; i < d.n_items; ++i) {
        const auto ex = seen.row(u);
        if (!std::binary_search(ex.begin(), ex.end(), i)) want.push_back(i);
      }
      const float* row = rows.data() + static_cast<std::size_t>(u) * n;
      std::stable_sort(want.begin(), want.end(), [&](ItemId a, ItemId b) { return row[a] > row[b]; });
      want.resize(kK);
      const auto at = static_cast<std::size_t>(u) * kK;
      CHECK(std::vector<ItemId>(items.begin() + at, items.begin() + at + kK) == want);
      for (std::size_t c = 0; c < kK; ++c) fallback_in_top += scores[at + c] < 0.0f;
    }
    CHECK(fallback_in_top > 0);  // the fallback is exercised
    // Pairs through score(), every user x item: the very same floats.
    std::vector<UserId> pu;
    std::vector<ItemId> pi;
    for (const UserId u : users)
      for (ItemId i = 0; i < d.n_items; ++i) pu.push_back(u), pi.push_back(i);
    CHECK(score_pairs(*r, pu, pi) == rows);

    // The model file is the same with or without the fallback (popularity is
    // counted from the rated rows it holds), so a file saved by "none" (or
    // by knn 1.1.0) loads into a "popularity" instance and scores as fitted.
    std::ostringstream with, without;
    r->save(with);
    fit_algorithm(name, d, none)->save(without);
    CHECK(with.str() == without.str());
    const AlgorithmHandle a = plugin_registry().find(name);
    RecommenderPtr loaded = create_recommender(a, params_for(a, pop));
    std::istringstream in(without.str());
    loaded->load(in);
    std::vector<float> again(rows.size());
    loaded->score_all(users, again);
    CHECK(again == rows);
  }
}
