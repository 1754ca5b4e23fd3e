// Algorithm-specific checks of the `sasrec` library through the plugin interface (the
// gradient checks and the synthetic training task live in tests/unit/sasrec_*_test.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "conformance_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

const std::map<std::string, ParamValue> kSmall{{"epochs", std::int64_t{2}}, {"hidden", std::int64_t{8}},
                                               {"maxlen", std::int64_t{10}}};

}  // namespace

TEST_CASE("sasrec is registered as a sequential recommender with explain", "[sasrec]") {
  const auto& reg = plugin_registry();
  REQUIRE(reg.contains("sasrec"));
  for (const auto& a : reg.algorithms()) {
    if (a.name() != "sasrec") continue;
    CHECK(std::string(a.plugin->descriptor->family) == "sequential");
    CHECK((a.algorithm->capabilities & kCapExplain) != 0);
  }
}

TEST_CASE("sasrec fits deterministically and scores single users as in blocks", "[sasrec]") {
  const TrainData d = synthetic_train_data();
  auto a = fit_algorithm("sasrec", d, kSmall, 5);
  auto b = fit_algorithm("sasrec", d, kSmall, 5);
  auto c = fit_algorithm("sasrec", d, kSmall, 6);
  const auto sa = all_scores(*a, d.n_users);
  CHECK(sa == all_scores(*b, d.n_users));
  CHECK(sa != all_scores(*c, d.n_users));
  // Row 7 of the block equals user 7 scored alone (same forward pass, same GEMM row).
  std::vector<float> one(static_cast<std::size_t>(d.n_items));
  a->score_all(std::vector<UserId>{7}, one);
  for (std::int32_t i = 0; i < d.n_items; ++i)
    CHECK(one[static_cast<std::size_t>(i)] == Approx(sa[static_cast<std::size_t>(7 * d.n_items + i)]).margin(1e-5));
  CHECK(a->model_bytes() > static_cast<std::size_t>(d.n_items) * 8 * sizeof(float));
}

TEST_CASE("sasrec appends validation items to the input, and never recommends them, only when asked", "[sasrec]") {
  TrainData d = synthetic_train_data();
  // User 2 gets validation item 39 (never in training); nobody else has validation data.
  d.validation.rows = d.n_users;
  d.validation.cols = d.n_items;
  d.validation.indptr.assign(static_cast<std::size_t>(d.n_users) + 1, 0);
  d.validation.indices = {39};
  d.validation.values = {1.0f};
  d.validation.timestamps = {2000000000};
  for (std::int32_t u = 3; u <= d.n_users; ++u) d.validation.indptr[static_cast<std::size_t>(u)] = 1;
  auto with = fit_algorithm("sasrec", d, kSmall, 5);
  auto without_params = kSmall;
  without_params["append_validation"] = false;
  auto without = fit_algorithm("sasrec", d, without_params, 5);
  const auto sw = all_scores(*with, d.n_users), so = all_scores(*without, d.n_users);
  const auto n = static_cast<std::size_t>(d.n_items);
  // Same parameters (validation is not trained on): users 0 and 3 score identically,
  // user 2, whose input now ends with item 39, does not.
  CHECK(std::equal(sw.begin(), sw.begin() + 2 * static_cast<std::ptrdiff_t>(n), so.begin()));
  CHECK(std::equal(sw.begin() + 3 * static_cast<std::ptrdiff_t>(n), sw.end(), so.begin() + 3 * static_cast<std::ptrdiff_t>(n)));
  CHECK(!std::equal(sw.begin() + 2 * static_cast<std::ptrdiff_t>(n), sw.begin() + 3 * static_cast<std::ptrdiff_t>(n),
                    so.begin() + 2 * static_cast<std::ptrdiff_t>(n)));
  // An appended item is history, as the reference's `rated` set holds train and valid:
  // it scores −∞ for its user only, so it comes last among all the user's candidates.
  CHECK(sw[2 * n + 39] == -std::numeric_limits<float>::infinity());
  CHECK(std::isfinite(so[2 * n + 39]));
  CHECK(std::isfinite(sw[3 * n + 39]));
  const int k = d.n_items - static_cast<int>(d.by_user.row_size(2));
  std::vector<ItemId> items(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  with->recommend(std::vector<UserId>{2}, k, SparseRowsView::of(d.by_user), items, scores);
  CHECK(items.back() == 39);
  CHECK(std::isfinite(scores[scores.size() - 2]));
}

TEST_CASE("sasrec explains with items of the user's sequence", "[sasrec]") {
  const TrainData d = synthetic_train_data();
  auto r = fit_algorithm("sasrec", d, kSmall, 5);
  const std::string why = r->explain(4, 0);
  REQUIRE(why.rfind("because of ", 0) == 0);
  // Every named item is one of user 4's training items (named by title).
  const std::string names = why.substr(std::string("because of ").size());
  int found = 0;
  for (std::int32_t i : d.sequences.row(4)) {
    const std::string t = d.item_titles.empty() ? "item " + std::to_string(i) : d.item_titles[static_cast<std::size_t>(i)];
    found += names.find(t) != std::string::npos;
  }
  CHECK(found >= 2);
  CHECK(r->explain(-1, 0).empty());
}
