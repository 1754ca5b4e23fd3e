// Training ∪ validation as one TrainData, for a strategy that refits its
// children once its own weights are fixed on validation: the Netflix Prize
// practice of retraining every model on the probe set after the blend was
// fitted on it (Töscher, Jahrer & Bell 2009, "The BigChaos solution", §1).
// Built from the SDK types alone: the host's builder (core/src/data/
// train_data_builder.cpp) is core-internal, which a plugin never includes.
//
//   TrainData all = merge_validation(data);   // all.validation is empty
//
// by_user and by_item hold every rating of both parts (a pair present in
// both keeps the validation entry: the splits never produce one); values and
// timestamps are kept where both parts carry them. Sequences get each
// validation item inserted at its time (after training items of the same
// time; at the end of the row when the data has no timestamps).
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

#include "recfuse/train_data.hpp"

namespace recfuse {

namespace merge_detail {

/// Row r of `m`, or an empty row when m has fewer rows (an empty validation).
inline std::pair<std::int64_t, std::int64_t> row_range(const CsrMatrix& m, std::int32_t r) {
  if (r + 1 >= static_cast<std::int32_t>(m.indptr.size())) return {0, 0};
  return {m.indptr[r], m.indptr[r + 1]};
}

/// Appends element k of `m` to `out`'s current row.
inline void push(CsrMatrix& out, const CsrMatrix& m, std::int64_t k) {
  const auto j = static_cast<std::size_t>(k);
  out.indices.push_back(m.indices[j]);
  if (m.values.size() > j) out.values.push_back(m.values[j]);
  if (m.timestamps.size() > j) out.timestamps.push_back(m.timestamps[j]);
}

/// Drops values / timestamps unless every element got one.
inline void settle(CsrMatrix& m) {
  if (m.values.size() != m.indices.size()) m.values.clear();
  if (m.timestamps.size() != m.indices.size()) m.timestamps.clear();
}

}  // namespace merge_detail

/// Row-wise union of two matrices of the same shape, columns sorted; where
/// both hold (r, c), `b`'s entry is kept.
inline CsrMatrix union_rows(const CsrMatrix& a, const CsrMatrix& b) {
  using namespace merge_detail;
  CsrMatrix out;
  out.rows = a.rows;
  out.cols = a.cols;
  out.indptr.assign(static_cast<std::size_t>(a.rows) + 1, 0);
  for (std::int32_t r = 0; r < a.rows; ++r) {
    auto [ka, ea] = row_range(a, r);
    auto [kb, eb] = row_range(b, r);
    while (ka < ea || kb < eb) {
      const bool take_b = ka == ea || (kb < eb && b.indices[kb] <= a.indices[ka]);
      if (take_b && ka < ea && a.indices[ka] == b.indices[kb]) ++ka;  // duplicate: b wins
      take_b ? push(out, b, kb++) : push(out, a, ka++);
    }
    out.indptr[static_cast<std::size_t>(r) + 1] = static_cast<std::int64_t>(out.indices.size());
  }
  settle(out);
  return out;
}

/// The transpose of `m` (cols x rows), values and timestamps carried along.
inline CsrMatrix transpose_csr(const CsrMatrix& m) {
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(static_cast<std::size_t>(m.cols) + 1, 0);
  for (const std::int32_t c : m.indices) ++t.indptr[static_cast<std::size_t>(c) + 1];
  std::partial_sum(t.indptr.begin(), t.indptr.end(), t.indptr.begin());
  const auto nnz = static_cast<std::size_t>(m.nnz());
  t.indices.resize(nnz);
  if (!m.values.empty()) t.values.resize(nnz);
  if (!m.timestamps.empty()) t.timestamps.resize(nnz);
  std::vector<std::int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (std::int32_t r = 0; r < m.rows; ++r)  // rows in order: each column comes out sorted
    for (std::int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      const auto at = static_cast<std::size_t>(next[static_cast<std::size_t>(m.indices[k])]++);
      t.indices[at] = r;
      if (!m.values.empty()) t.values[at] = m.values[k];
      if (!m.timestamps.empty()) t.timestamps[at] = m.timestamps[k];
    }
  return t;
}

/// Each user's time-ordered `sequences` row with the user's `validation`
/// items inserted at their timestamps (stable: training first on ties; the
/// validation items in time, then item order).
inline CsrMatrix merge_sequences(const CsrMatrix& seq, const CsrMatrix& val, std::int32_t n_users,
                                 std::int32_t n_items) {
  using namespace merge_detail;
  const bool timed = !seq.timestamps.empty() && !val.timestamps.empty();
  CsrMatrix out;
  out.rows = n_users;
  out.cols = n_items;
  out.indptr.assign(static_cast<std::size_t>(n_users) + 1, 0);
  std::vector<std::int64_t> order;
  for (std::int32_t u = 0; u < n_users; ++u) {
    auto [ks, es] = row_range(seq, u);
    const auto [kv0, ev] = row_range(val, u);
    order.resize(static_cast<std::size_t>(ev - kv0));
    std::iota(order.begin(), order.end(), kv0);
    if (timed)
      std::stable_sort(order.begin(), order.end(),
                       [&](std::int64_t x, std::int64_t y) { return val.timestamps[x] < val.timestamps[y]; });
    std::size_t v = 0;
    while (ks < es || v < order.size()) {
      const bool take_v = ks == es || (v < order.size() && timed && val.timestamps[order[v]] < seq.timestamps[ks]);
      take_v ? push(out, val, order[v++]) : push(out, seq, ks++);
    }
    out.indptr[static_cast<std::size_t>(u) + 1] = static_cast<std::int64_t>(out.indices.size());
  }
  settle(out);
  return out;
}

/// `d` with its validation ratings moved into training (see the top of the
/// file); the result's validation is empty, so children refitted on it stop
/// early on nothing and run every epoch they were given.
inline TrainData merge_validation(const TrainData& d) {
  TrainData m;
  m.n_users = d.n_users;
  m.n_items = d.n_items;
  m.explicit_ratings = d.explicit_ratings;
  m.by_user = union_rows(d.by_user, d.validation);
  m.by_item = transpose_csr(m.by_user);
  m.sequences = merge_sequences(d.sequences, d.validation, d.n_users, d.n_items);
  m.item_features = d.item_features;
  m.item_titles = d.item_titles;
  m.user_ids = d.user_ids;
  m.item_ids = d.item_ids;
  m.user_features = d.user_features;
  m.validation.rows = d.n_users;
  m.validation.cols = d.n_items;
  m.validation.indptr.assign(static_cast<std::size_t>(d.n_users) + 1, 0);
  return m;
}

}  // namespace recfuse
