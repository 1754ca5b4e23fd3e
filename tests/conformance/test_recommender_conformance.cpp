// The recommender contract, checked over every algorithm of every library
// in the built plugin directory, with default parameters, on a small
// hand-built dataset. A failure names the algorithm in its section.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

constexpr int kK = 10;

/// Algorithms the generic checks can build on their own: recommenders that
/// need no child recommenders (fusion strategies get theirs from the host).
std::vector<AlgorithmHandle> standalone_recommenders() {
  std::vector<AlgorithmHandle> out;
  for (const auto& a : plugin_registry().algorithms())
    if (a.algorithm->kind == PluginKind::kRecommender && !(a.algorithm->capabilities & kCapChildren))
      out.push_back(a);
  return out;
}

/// Algorithms that learn nothing from the data, so may report model_bytes() == 0.
bool model_free(const std::string& name) { return name == "random"; }

std::vector<UserId> all_users(const TrainData& d) {
  std::vector<UserId> u(static_cast<std::size_t>(d.n_users));
  std::iota(u.begin(), u.end(), 0);
  return u;
}

struct TopK {
  std::vector<ItemId> items;
  std::vector<float> scores;
};

TopK recommend(Recommender& r, const std::vector<UserId>& users, SparseRowsView exclude, int k = kK) {
  TopK t{std::vector<ItemId>(users.size() * static_cast<std::size_t>(k), 1234567),
         std::vector<float>(users.size() * static_cast<std::size_t>(k), 1234567.0f)};
  r.recommend(users, k, exclude, t.items, t.scores);
  return t;
}

std::vector<float> score_rows(Recommender& r, const std::vector<UserId>& users, std::int32_t n_items) {
  std::vector<float> out(users.size() * static_cast<std::size_t>(n_items));
  r.score_all(users, out);
  return out;
}

/// Checks one result row: real results, then padding only; items valid and
/// distinct, never excluded; order by score then item id. Returns the count.
int check_row(const ItemId* items, const float* scores, int k, std::int32_t n_items,
              std::span<const ItemId> excluded) {
  int real = 0;
  while (real < k && items[real] != kNoItem) ++real;
  for (int j = real; j < k; ++j) {
    CHECK(items[j] == kNoItem);
    CHECK(scores[j] == -std::numeric_limits<float>::infinity());
  }
  std::set<ItemId> seen;
  for (int j = 0; j < real; ++j) {
    CHECK(items[j] >= 0);
    CHECK(items[j] < n_items);
    CHECK(seen.insert(items[j]).second);
    CHECK_FALSE(std::binary_search(excluded.begin(), excluded.end(), items[j]));
    CHECK_FALSE(std::isnan(scores[j]));
    if (j > 0) {
      CHECK(scores[j] <= scores[j - 1]);
      if (scores[j] == scores[j - 1]) CHECK(items[j] > items[j - 1]);
    }
  }
  return real;
}

}  // namespace

TEST_CASE("every plugin library in the build loads", "[conformance]") {
  const auto& reg = plugin_registry();
  for (const auto& e : reg.errors()) FAIL_CHECK(e);
  for (const char* name : {"random", "popularity", "baseline_only", "item_knn", "user_knn"}) {
    INFO("algorithm " << name);
    CHECK(reg.contains(name));
  }
}

TEST_CASE("descriptors and parameter tables are documented", "[conformance]") {
  for (const auto& a : plugin_registry().algorithms()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      CHECK(std::string(a.algorithm->description).size() > 0);
      CHECK(std::string(a.plugin->descriptor->family).size() > 0);
      REQUIRE(a.algorithm->params != nullptr);
      std::set<std::string> names;
      for (const ParamSpec& p : a.algorithm->params()) {
        INFO("param " << p.name);
        CHECK(!p.name.empty());
        CHECK(!p.doc.empty());
        CHECK(names.insert(p.name).second);
        if (p.type == ParamType::kChoice) {
          REQUIRE(std::holds_alternative<std::string>(p.default_value));
          const auto& def = std::get<std::string>(p.default_value);
          CHECK(std::find(p.choices.begin(), p.choices.end(), def) != p.choices.end());
        }
      }
      // The defaults must pass the host's own validation.
      CHECK_NOTHROW(params_for(a));
    }
  }
}

TEST_CASE("recommend returns well-formed top-k lists free of excluded items", "[conformance]") {
  const TrainData data = synthetic_train_data();
  const auto users = all_users(data);
  for (const auto& a : standalone_recommenders()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      auto r = fit_algorithm(a, data, params_for(a));
      REQUIRE(r->n_items() == data.n_items);
      const SparseRowsView seen = SparseRowsView::of(data.by_user);
      const TopK t = recommend(*r, users, seen);
      for (std::size_t u = 0; u < users.size(); ++u) {
        INFO("user " << u);
        const int real = check_row(t.items.data() + u * kK, t.scores.data() + u * kK, kK,
                                   data.n_items, seen.row(users[u]));
        const auto candidates = data.n_items - data.by_user.row_size(users[u]);
        CHECK(real == std::min<std::int64_t>(kK, candidates));
      }
    }
  }
}

TEST_CASE("exclusions covering all but three items leave exactly those three", "[conformance]") {
  const TrainData data = synthetic_train_data();
  // User 4 may see only items 5, 17 and 33; every other user is unrestricted.
  CsrMatrix ex;
  ex.rows = data.n_users;
  ex.cols = data.n_items;
  ex.indptr.assign(static_cast<std::size_t>(data.n_users) + 1, 0);
  for (ItemId i = 0; i < data.n_items; ++i)
    if (i != 5 && i != 17 && i != 33) ex.indices.push_back(i);
  for (UserId u = 5; u <= data.n_users; ++u) ex.indptr[static_cast<std::size_t>(u)] = ex.nnz();
  const std::vector<UserId> users{3, 4, 6};
  for (const auto& a : standalone_recommenders()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      auto r = fit_algorithm(a, data, params_for(a));
      const TopK t = recommend(*r, users, SparseRowsView::of(ex));
      const int real = check_row(t.items.data() + kK, t.scores.data() + kK, kK, data.n_items,
                                 SparseRowsView::of(ex).row(4));
      CHECK(real == 3);
      std::vector<ItemId> got(t.items.begin() + kK, t.items.begin() + kK + 3);
      std::sort(got.begin(), got.end());
      CHECK(got == std::vector<ItemId>{5, 17, 33});
      // Unrestricted neighbours in the batch still get full lists.
      CHECK(check_row(t.items.data(), t.scores.data(), kK, data.n_items, {}) == kK);
      CHECK(check_row(t.items.data() + 2 * kK, t.scores.data() + 2 * kK, kK, data.n_items, {}) == kK);
    }
  }
}

TEST_CASE("a batch recommends exactly what single-user calls do", "[conformance]") {
  const TrainData data = synthetic_train_data();
  std::vector<UserId> users = all_users(data);
  std::reverse(users.begin(), users.end());  // batches need not be sorted
  users.push_back(7);                         // nor distinct
  for (const auto& a : standalone_recommenders()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      auto r = fit_algorithm(a, data, params_for(a));
      const SparseRowsView seen = SparseRowsView::of(data.by_user);
      const TopK batch = recommend(*r, users, seen);
      for (std::size_t j = 0; j < users.size(); ++j) {
        INFO("user " << users[j]);
        const TopK one = recommend(*r, {users[j]}, seen);
        for (int c = 0; c < kK; ++c) {
          CHECK(one.items[static_cast<std::size_t>(c)] == batch.items[j * kK + static_cast<std::size_t>(c)]);
          CHECK(one.scores[static_cast<std::size_t>(c)] ==
                Approx(batch.scores[j * kK + static_cast<std::size_t>(c)]).epsilon(1e-5).margin(1e-6));
        }
      }
    }
  }
}

TEST_CASE("recommend and score agree with score_all", "[conformance]") {
  const TrainData data = synthetic_train_data();
  const auto users = all_users(data);
  const auto n = static_cast<std::size_t>(data.n_items);
  for (const auto& a : standalone_recommenders()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      auto r = fit_algorithm(a, data, params_for(a));
      const SparseRowsView seen = SparseRowsView::of(data.by_user);
      const TopK t = recommend(*r, users, seen);
      const std::vector<float> rows = score_rows(*r, users, data.n_items);
      for (std::size_t u = 0; u < users.size(); ++u) {
        INFO("user " << u);
        float best = -std::numeric_limits<float>::infinity();
        for (std::size_t i = 0; i < n; ++i) {
          const float s = rows[u * n + i];
          const auto ex = seen.row(users[u]);
          if (!std::isnan(s) && !std::binary_search(ex.begin(), ex.end(), static_cast<ItemId>(i)))
            best = std::max(best, s);
        }
        CHECK(t.scores[u * kK] == Approx(best).epsilon(1e-5).margin(1e-6));
        for (int c = 0; c < kK && t.items[u * kK + static_cast<std::size_t>(c)] != kNoItem; ++c) {
          const auto item = static_cast<std::size_t>(t.items[u * kK + static_cast<std::size_t>(c)]);
          CHECK(t.scores[u * kK + static_cast<std::size_t>(c)] ==
                Approx(rows[u * n + item]).epsilon(1e-5).margin(1e-6));
        }
      }
      // Pairs in an order that jumps between users, repeats and goes back.
      std::vector<UserId> pu;
      std::vector<ItemId> pi;
      for (int p = 0; p < 200; ++p) {
        pu.push_back(static_cast<UserId>((p * 7) % data.n_users));
        pi.push_back(static_cast<ItemId>((p * 13 + p / 9) % data.n_items));
      }
      const std::vector<float> pairs = score_pairs(*r, pu, pi);
      for (std::size_t p = 0; p < pu.size(); ++p) {
        INFO("pair (" << pu[p] << ", " << pi[p] << ")");
        CHECK(pairs[p] == Approx(rows[static_cast<std::size_t>(pu[p]) * n +
                                      static_cast<std::size_t>(pi[p])])
                              .epsilon(1e-5)
                              .margin(1e-6));
      }
    }
  }
}

TEST_CASE("the same seed refits to the same recommendations", "[conformance]") {
  const TrainData data = synthetic_train_data();
  const auto users = all_users(data);
  for (const auto& a : standalone_recommenders()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      const SparseRowsView seen = SparseRowsView::of(data.by_user);
      auto first = fit_algorithm(a, data, params_for(a), 99);
      const TopK t1 = recommend(*first, users, seen);
      auto second = fit_algorithm(a, data, params_for(a), 99);
      const TopK t2 = recommend(*second, users, seen);
      CHECK(t1.items == t2.items);
      CHECK(t1.scores == t2.scores);
      CHECK(first->model_bytes() == second->model_bytes());
      if (!model_free(a.name())) CHECK(first->model_bytes() > 0);
    }
  }
}

TEST_CASE("predict_rating exists exactly where declared", "[conformance]") {
  const TrainData data = synthetic_train_data();
  const std::vector<UserId> users{0, 1, 2, 29};
  const std::vector<ItemId> items{0, 39, 5, 12};
  for (const auto& a : standalone_recommenders()) {
    DYNAMIC_SECTION("algorithm " << a.name()) {
      auto r = fit_algorithm(a, data, params_for(a));
      std::vector<float> out(users.size(), -1.0f);
      if (a.algorithm->capabilities & kCapPredictRating) {
        r->predict_rating(users, items, out);
        for (float x : out) {
          CHECK(std::isfinite(x));
          CHECK(x >= 1.0f - 1e-4f);  // the synthetic scale is 1..5
          CHECK(x <= 5.0f + 1e-4f);
        }
      } else {
        CHECK_THROWS_AS(r->predict_rating(users, items, out), Error);
      }
      if (a.algorithm->capabilities & kCapExplain) {
        const TopK t = recommend(*r, {0}, SparseRowsView::of(data.by_user));
        CHECK_FALSE(r->explain(0, t.items[0]).empty());
      }
    }
  }
}
