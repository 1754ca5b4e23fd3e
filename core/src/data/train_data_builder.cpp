#include "data/train_data_builder.hpp"

#include <algorithm>
#include <numeric>

#include "recfuse/types.hpp"

namespace recfuse {

namespace {

void check_ids(const std::vector<Interaction>& xs, std::int32_t n_users, std::int32_t n_items) {
  for (const Interaction& x : xs) {
    if (x.user < 0 || x.user >= n_users || x.item < 0 || x.item >= n_items) {
      throw Error("interaction (user " + std::to_string(x.user) + ", item " +
                  std::to_string(x.item) + ") outside the " + std::to_string(n_users) + " x " +
                  std::to_string(n_items) + " matrix");
    }
  }
}

}  // namespace

CsrMatrix build_user_item_csr(const std::vector<Interaction>& interactions, std::int32_t n_users,
                              std::int32_t n_items) {
  check_ids(interactions, n_users, n_items);
  std::vector<std::size_t> order(interactions.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto& xs = interactions;
  // Sorted by (user, item, timestamp, position): the last of each pair wins.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (xs[a].user != xs[b].user) return xs[a].user < xs[b].user;
    if (xs[a].item != xs[b].item) return xs[a].item < xs[b].item;
    if (xs[a].timestamp != xs[b].timestamp) return xs[a].timestamp < xs[b].timestamp;
    return a < b;
  });
  CsrMatrix m;
  m.rows = n_users;
  m.cols = n_items;
  m.indptr.assign(static_cast<std::size_t>(n_users) + 1, 0);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Interaction& x = xs[order[k]];
    const bool last_of_pair = k + 1 == order.size() || xs[order[k + 1]].user != x.user ||
                              xs[order[k + 1]].item != x.item;
    if (!last_of_pair) continue;
    m.indices.push_back(x.item);
    m.values.push_back(x.value);
    m.timestamps.push_back(x.timestamp);
    ++m.indptr[static_cast<std::size_t>(x.user) + 1];
  }
  for (std::int32_t u = 0; u < n_users; ++u) m.indptr[u + 1] += m.indptr[u];
  return m;
}

CsrMatrix transpose(const CsrMatrix& m) {
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(static_cast<std::size_t>(m.cols) + 1, 0);
  for (std::int32_t c : m.indices) ++t.indptr[static_cast<std::size_t>(c) + 1];
  for (std::int32_t c = 0; c < m.cols; ++c) t.indptr[c + 1] += t.indptr[c];
  const auto nnz = static_cast<std::size_t>(m.nnz());
  t.indices.resize(nnz);
  if (!m.values.empty()) t.values.resize(nnz);
  if (!m.timestamps.empty()) t.timestamps.resize(nnz);
  std::vector<std::int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  // Rows visited in order, so each transposed row's columns come out sorted.
  for (std::int32_t r = 0; r < m.rows; ++r) {
    for (std::int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      const std::int64_t at = next[m.indices[k]]++;
      t.indices[at] = r;
      if (!m.values.empty()) t.values[at] = m.values[k];
      if (!m.timestamps.empty()) t.timestamps[at] = m.timestamps[k];
    }
  }
  return t;
}

TrainData build_train_data(const Dataset& data, const Split& split) {
  TrainData td;
  td.n_users = data.n_users();
  td.n_items = data.n_items();
  td.explicit_ratings = data.explicit_ratings;
  td.by_user = build_user_item_csr(split.train, td.n_users, td.n_items);
  td.by_item = transpose(td.by_user);

  // Sequences: every training interaction (duplicates kept), per user in
  // time order, equal timestamps as the split ordered them (splits.cpp:
  // source order, or item id then source order); sources without
  // timestamps keep source order (the time order for sequence formats,
  // rows_in_time_order; an order without meaning otherwise).
  const auto& xs = split.train;
  std::vector<std::size_t> order(xs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (xs[a].user != xs[b].user) return xs[a].user < xs[b].user;
    if (!data.has_timestamps) return false;
    if (xs[a].timestamp != xs[b].timestamp) return xs[a].timestamp < xs[b].timestamp;
    return split.ties_by_item && xs[a].item < xs[b].item;
  });
  CsrMatrix& seq = td.sequences;
  seq.rows = td.n_users;
  seq.cols = td.n_items;
  seq.indptr.assign(static_cast<std::size_t>(td.n_users) + 1, 0);
  seq.indices.reserve(xs.size());
  seq.values.reserve(xs.size());
  seq.timestamps.reserve(xs.size());
  for (std::size_t k : order) {
    seq.indices.push_back(xs[k].item);
    seq.values.push_back(xs[k].value);
    seq.timestamps.push_back(xs[k].timestamp);
    ++seq.indptr[static_cast<std::size_t>(xs[k].user) + 1];
  }
  for (std::int32_t u = 0; u < td.n_users; ++u) seq.indptr[u + 1] += seq.indptr[u];

  td.item_features = data.item_features;
  td.user_features = data.user_features;
  td.item_titles = data.item_titles;
  td.user_ids = data.user_ids;
  td.item_ids = data.item_ids;
  td.validation = build_user_item_csr(split.validation, td.n_users, td.n_items);
  return td;
}

}  // namespace recfuse
