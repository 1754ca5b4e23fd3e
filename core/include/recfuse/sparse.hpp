// Compressed sparse row storage used for interactions and exclusions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

/// Rows x cols sparse matrix in CSR form. Column indices inside a row are
/// strictly increasing. `values` and `timestamps` are either empty or hold
/// one entry per stored element (same order as `indices`).
struct CsrMatrix {
  std::int32_t rows = 0;
  std::int32_t cols = 0;
  std::vector<std::int64_t> indptr{0};     // size rows + 1
  std::vector<std::int32_t> indices;       // size nnz
  std::vector<float> values;               // size nnz or 0
  std::vector<std::int64_t> timestamps;    // size nnz or 0 (Unix seconds)

  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::int64_t row_size(std::int32_t r) const { return indptr[r + 1] - indptr[r]; }
  std::span<const std::int32_t> row(std::int32_t r) const {
    return {indices.data() + indptr[r], static_cast<std::size_t>(row_size(r))};
  }
  std::span<const float> row_values(std::int32_t r) const {
    return {values.data() + indptr[r], static_cast<std::size_t>(row_size(r))};
  }
  std::span<const std::int64_t> row_timestamps(std::int32_t r) const {
    return {timestamps.data() + indptr[r], static_cast<std::size_t>(row_size(r))};
  }
};

/// Read-only view of sorted item lists indexed by user id: the explicit
/// exclusion set handed to `Recommender::recommend` (never encoded in scores).
struct SparseRowsView {
  std::span<const std::int64_t> indptr;  // size n_users + 1
  std::span<const ItemId> indices;       // sorted within each row

  static SparseRowsView of(const CsrMatrix& m) { return {m.indptr, m.indices}; }
  bool empty() const { return indptr.size() <= 1; }
  std::span<const ItemId> row(UserId u) const {
    if (indptr.empty() || static_cast<std::size_t>(u) + 1 >= indptr.size()) return {};
    return indices.subspan(static_cast<std::size_t>(indptr[u]),
                           static_cast<std::size_t>(indptr[u + 1] - indptr[u]));
  }
};

}  // namespace recfuse
