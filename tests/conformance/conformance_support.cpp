#include "conformance_support.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "host/params_validation.hpp"
#include "recfuse/rng.hpp"
#include "test_support.hpp"

namespace recfuse::test {
namespace {

/// CSR of (row, col, value, time) entries; `key` orders entries inside a row.
template <typename Key>
CsrMatrix to_csr(std::int32_t rows, std::int32_t cols, std::vector<Interaction> e, bool by_item,
                 Key key) {
  auto row_of = [&](const Interaction& x) { return by_item ? x.item : x.user; };
  auto col_of = [&](const Interaction& x) { return by_item ? x.user : x.item; };
  std::sort(e.begin(), e.end(), [&](const Interaction& a, const Interaction& b) {
    return std::make_tuple(row_of(a), key(a)) < std::make_tuple(row_of(b), key(b));
  });
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  for (const auto& x : e) {
    ++m.indptr[static_cast<std::size_t>(row_of(x)) + 1];
    m.indices.push_back(col_of(x));
    m.values.push_back(x.value);
    m.timestamps.push_back(x.time);
  }
  std::partial_sum(m.indptr.begin(), m.indptr.end(), m.indptr.begin());
  return m;
}

}  // namespace

TrainData make_train_data(std::int32_t n_users, std::int32_t n_items,
                          const std::vector<Interaction>& interactions, bool explicit_ratings) {
  TrainData d;
  d.n_users = n_users;
  d.n_items = n_items;
  d.explicit_ratings = explicit_ratings;
  std::vector<Interaction> e = interactions;
  if (!explicit_ratings)
    for (auto& x : e) x.value = 1.0f;
  d.by_user = to_csr(n_users, n_items, e, false, [](const Interaction& x) { return x.item; });
  d.by_item = to_csr(n_items, n_users, e, true, [](const Interaction& x) { return x.user; });
  // Sequences: each user's items in time order, ties by item id.
  d.sequences = to_csr(n_users, n_items, e, false,
                       [](const Interaction& x) { return std::make_tuple(x.time, x.item); });
  d.validation.rows = n_users;
  d.validation.cols = n_items;
  d.validation.indptr.assign(static_cast<std::size_t>(n_users) + 1, 0);
  return d;
}

TrainData synthetic_train_data(std::uint64_t seed) {
  constexpr std::int32_t kUsers = 30, kItems = 40;
  Rng rng(derive_seed(seed, "conformance-data"));
  std::vector<Interaction> e;
  for (UserId u = 0; u < kUsers; ++u) {
    std::vector<ItemId> items;
    for (ItemId i = 0; i < kItems - 1; ++i)  // item 39 stays cold
      if (rng.uniform() < 0.25 + 0.01 * (i % 7)) items.push_back(i);
    while (items.size() < 3) {
      const auto i = static_cast<ItemId>(rng.below(kItems - 1));
      if (std::find(items.begin(), items.end(), i) == items.end()) items.push_back(i);
    }
    if (items.size() > 16) items.resize(16);
    for (ItemId i : items) {
      const auto rating = static_cast<float>(1 + rng.below(5));
      const auto time = 1'000'000'000 + static_cast<std::int64_t>(rng.below(90 * 86400));
      e.push_back({u, i, rating, time});
    }
  }
  TrainData d = make_train_data(kUsers, kItems, e, true);
  d.item_features.matrix.rows = kItems;
  d.item_features.matrix.cols = 3;
  d.item_features.names = {"genre=Action", "genre=Comedy", "genre=Drama"};
  for (ItemId i = 0; i < kItems; ++i) {
    d.item_features.matrix.indices.push_back(i % 3);
    d.item_features.matrix.values.push_back(1.0f);
    if (i % 5 == 0 && i % 3 != 2) {
      d.item_features.matrix.indices.push_back(2);
      d.item_features.matrix.values.push_back(1.0f);
    }
    d.item_features.matrix.indptr.push_back(d.item_features.matrix.nnz());
    d.item_titles.push_back("Item " + std::to_string(i));
  }
  return d;
}

const PluginRegistry& plugin_registry() {
  static const PluginRegistry registry = [] {
    PluginRegistry r;
    r.scan({plugin_dir()});
    return r;
  }();
  return registry;
}

ParamSet params_for(const AlgorithmHandle& a, const std::map<std::string, ParamValue>& values) {
  const std::vector<ParamSpec> specs = a.algorithm->params ? a.algorithm->params()
                                                           : std::vector<ParamSpec>{};
  return validate_params(specs, values, {}, "", a.name());
}

RecommenderPtr fit_algorithm(const AlgorithmHandle& a, const TrainData& data, const ParamSet& params,
                             std::uint64_t seed) {
  RecommenderPtr r = create_recommender(a, params);
  FitContext ctx;
  ctx.seed = seed;
  ctx.threads = 2;
  r->fit(data, ctx);
  return r;
}

RecommenderPtr fit_algorithm(const std::string& name, const TrainData& data,
                             const std::map<std::string, ParamValue>& values, std::uint64_t seed) {
  const AlgorithmHandle a = plugin_registry().find(name);
  return fit_algorithm(a, data, params_for(a, values), seed);
}

std::vector<float> score_pairs(Recommender& r, const std::vector<UserId>& users,
                               const std::vector<ItemId>& items) {
  std::vector<float> out(users.size());
  r.score(users, items, out);
  return out;
}

std::vector<float> all_scores(Recommender& r, std::int32_t n_users) {
  std::vector<UserId> users(static_cast<std::size_t>(n_users));
  for (std::int32_t u = 0; u < n_users; ++u) users[static_cast<std::size_t>(u)] = u;
  std::vector<float> out(users.size() * static_cast<std::size_t>(r.n_items()));
  r.score_all(users, out);
  return out;
}

float score1(Recommender& r, UserId u, ItemId i) { return score_pairs(r, {u}, {i})[0]; }

TrainData four_by_four(bool explicit_ratings) {
  return make_train_data(4, 4,
                         {{0, 0, 5}, {0, 1, 1}, {1, 0, 1}, {1, 1, 5}, {1, 2, 2}, {2, 1, 4},
                          {2, 2, 2}, {3, 0, 3}, {3, 3, 4}},
                         explicit_ratings);
}

}  // namespace recfuse::test
