// kCapSaveLoad for the kNN recommenders: what scoring, pair scores and explain
// read, i.e. the kept neighbour lists and the users' rated rows (and item_knn's
// titles). Load checks what a wrong file would silently break: CSR offsets,
// ids inside their range and ascending within a row (lookups bisect), finite
// similarities and values.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "knn_params.hpp"
#include "neighbours.hpp"
#include "recfuse/model_io.hpp"

namespace recfuse::knn_io {

inline void write(ModelWriter& w, const NeighbourLists& m) {
  w.values(m.indptr);
  w.values(m.ids);
  w.values(m.sims);
}
inline void write(ModelWriter& w, const RatedRows& h) {
  w.values(h.indptr);
  w.values(h.ids);
  w.values(h.values);
}

inline NeighbourLists read_neighbours(ModelReader& r) {
  NeighbourLists m;
  m.indptr = r.values<std::int64_t>("the neighbour offsets");
  m.ids = r.values<std::int32_t>("the neighbour ids");
  m.sims = r.values<float>("the similarities");
  return m;
}
inline RatedRows read_history(ModelReader& r) {
  RatedRows h;
  h.indptr = r.values<std::int64_t>("the history offsets");
  h.ids = r.values<std::int32_t>("the history items");
  h.values = r.values<float>("the history values");
  return h;
}

/// `rows` rows of ids in [0, n), strictly ascending within each row, one finite value each.
inline void check_rows(const ModelReader& r, const std::vector<std::int64_t>& indptr,
                       const std::vector<std::int32_t>& ids, const std::vector<float>& values,
                       std::int64_t rows, std::int64_t n, const char* offsets, const char* entries,
                       const char* entry, const char* value) {
  r.expect(offsets, static_cast<std::int64_t>(indptr.size()) - 1, rows);
  r.expect_csr(indptr, ids, n, offsets, entries, entry, "is outside [0, " + std::to_string(n) + ")");
  r.expect(value, static_cast<std::int64_t>(values.size()), static_cast<std::int64_t>(ids.size()));
  for (std::size_t e = 0; e + 1 < indptr.size(); ++e)
    for (std::int64_t k = indptr[e] + 1; k < indptr[e + 1]; ++k)
      if (ids[static_cast<std::size_t>(k)] <= ids[static_cast<std::size_t>(k - 1)])
        r.fail(entries, "of row " + std::to_string(e) + " are not in ascending order");
  for (const float v : values)
    if (!std::isfinite(v)) r.fail(value, "include " + std::to_string(v));
}

inline void check_neighbours(const ModelReader& r, const NeighbourLists& m, std::int64_t rows) {
  check_rows(r, m.indptr, m.ids, m.sims, rows, rows, "the neighbour offsets", "the neighbour ids",
             "a neighbour id", "the similarities");
}
inline void check_history(const ModelReader& r, const RatedRows& h, std::int64_t users, std::int64_t items) {
  check_rows(r, h.indptr, h.ids, h.values, users, items, "the history offsets", "the history items",
             "a history item", "the history values");
}

/// The catalogue shape a model was fitted on: users, then items.
inline void write_shape(ModelWriter& w, std::int32_t users, std::int32_t items) {
  w.value<std::int32_t>(users);
  w.value<std::int32_t>(items);
}
inline std::pair<std::int32_t, std::int32_t> read_shape(ModelReader& r) {
  const auto users = r.value<std::int32_t>("the user count");
  const auto items = r.value<std::int32_t>("the item count");
  if (users < 0 || items < 0)
    r.fail("the shape", std::to_string(users) + " x " + std::to_string(items) + " is not a catalogue");
  return {users, items};
}

}  // namespace recfuse::knn_io
