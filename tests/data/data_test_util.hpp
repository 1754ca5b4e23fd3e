// Small helpers shared by the data-layer tests.
#pragma once

#include <set>
#include <string>
#include <utility>

#include "data/readers.hpp"
#include "test_support.hpp"

namespace recfuse::test {

inline Dataset read_fixture(const std::string& format, const std::string& name,
                            bool skip_bad_rows = false) {
  DatasetSpec spec;
  spec.format = format;
  spec.path = fixture("data/" + name).string();
  spec.skip_bad_rows = skip_bad_rows;
  return read_dataset(spec, fixture("data/" + name));
}

inline Dataset read_shared(const std::string& format, const std::string& name) {
  DatasetSpec spec;
  spec.format = format;
  spec.path = name;
  return read_dataset(spec, shared_data() / name);
}

inline std::set<std::pair<UserId, ItemId>> pairs_of(const std::vector<Interaction>& xs) {
  std::set<std::pair<UserId, ItemId>> out;
  for (const auto& x : xs) out.insert({x.user, x.item});
  return out;
}

/// Message of the Error `f` throws ("" if it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace recfuse::test
