// A CSR matrix of item ids (values left empty) from one list per row: the
// train and test parts of the evaluation tests' hand-made worlds.
#pragma once

#include <cstdint>
#include <vector>

#include "recfuse/sparse.hpp"

namespace recfuse::test {

inline CsrMatrix item_rows(std::int32_t cols, const std::vector<std::vector<ItemId>>& rows) {
  CsrMatrix m;
  m.rows = static_cast<std::int32_t>(rows.size());
  m.cols = cols;
  for (const auto& row : rows) {
    for (const ItemId item : row) m.indices.push_back(item);
    m.indptr.push_back(static_cast<std::int64_t>(m.indices.size()));
  }
  return m;
}

}  // namespace recfuse::test
