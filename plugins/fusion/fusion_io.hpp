// Model files of the fusion strategies (kCapSaveLoad): what every strategy
// writes around its own fitted state. FusionStrategy::save and ::load
// (fusion_common.hpp) lay a file out as
//
//   n_users, n_items (int32 each), the number of children (uint64),
//   the strategy's own state (save_state / load_state),
//   per child in scenario order: its plugin name (text) and its own model
//   file (text: a length-prefixed blob of what its save wrote).
//
// Each child's load reads an std::istringstream of exactly its blob, so its
// ModelReader::finish sees the end of its own bytes. A fused model is saved
// only when every child declares save/load (a nested fusion when all of its
// own children do); load runs on a strategy that the host built with the
// same parameters and handed unfitted children built from the same tree.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "recfuse/model_io.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

/// Writes each child's plugin and model blob. Throws, naming `algo` and the
/// child, when a child does not declare save/load (nothing is written then).
inline void save_children(ModelWriter& w, const std::vector<Child>& children, const std::string& algo) {
  for (const Child& c : children)
    if (!(c.capabilities & kCapSaveLoad))
      throw Error("[" + algo + "] child '" + c.name + "' (plugin " + c.plugin +
                  ") does not declare save/load, so the fused model cannot be saved");
  for (const Child& c : children) {
    std::ostringstream blob;
    c.model->save(blob);
    w.text(c.plugin);
    w.text(std::move(blob).str());
  }
}

/// Reads what save_children wrote into `children` (in order, unfitted, of
/// the saved plugins) and checks that each child has the fused model's shape.
inline void load_children(ModelReader& r, const std::vector<Child>& children, std::int32_t n_users,
                          std::int32_t n_items) {
  for (const Child& c : children) {
    const std::string what = "child '" + c.name + "'";
    const std::string plugin = r.text("a child's plugin name");
    if (plugin != c.plugin) r.fail(what.c_str(), "was saved from plugin '" + plugin + "', here it is '" + c.plugin + "'");
    std::istringstream blob(r.text("a child's model"));
    try {
      c.model->load(blob);
    } catch (const std::exception& e) {
      r.fail(what.c_str(), std::string("does not load: ") + e.what());
    }
    if (c.model->n_users() != n_users || c.model->n_items() != n_items)
      r.fail(what.c_str(), "has " + std::to_string(c.model->n_users()) + " users and " +
                               std::to_string(c.model->n_items()) + " items, the fused model " +
                               std::to_string(n_users) + " and " + std::to_string(n_items));
  }
}

/// CSR rows of `rows` rows over [0, cols): offsets from 0 to the number of
/// entries, each row's entries strictly ascending (lookups bisect them).
inline std::pair<std::vector<std::int64_t>, std::vector<ItemId>> read_sorted_rows(ModelReader& r, std::int32_t rows,
                                                                                  std::int32_t cols) {
  auto indptr = r.values<std::int64_t>("training row offsets");
  auto indices = r.values<ItemId>("training items");
  r.expect("the number of training row offsets", static_cast<std::int64_t>(indptr.size()), std::int64_t{rows} + 1);
  r.expect_csr(indptr, indices, cols, "training row offsets", "training items", "a training item",
               "is outside the catalogue");
  for (std::size_t u = 0; u + 1 < indptr.size(); ++u)
    for (auto k = indptr[u] + 1; k < indptr[u + 1]; ++k)
      if (indices[static_cast<std::size_t>(k)] <= indices[static_cast<std::size_t>(k - 1)])
        r.fail("training items", "of user " + std::to_string(u) + " are not in ascending order");
  return {std::move(indptr), std::move(indices)};
}

}  // namespace recfuse
