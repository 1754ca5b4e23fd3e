// Small helpers shared by the data-layer tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include "data/readers.hpp"
#include "test_support.hpp"

namespace recfuse::test {

/// `format` read from `path` (a file or directory the test wrote, or a fixture).
inline Dataset read_at(const std::string& format, const std::filesystem::path& path, bool skip_bad_rows = false) {
  DatasetSpec spec;
  spec.format = format;
  spec.path = path.string();
  spec.skip_bad_rows = skip_bad_rows;
  return read_dataset(spec, path);
}

inline Dataset read_fixture(const std::string& format, const std::string& name,
                            bool skip_bad_rows = false) {
  return read_at(format, fixture("data/" + name), skip_bad_rows);
}

/// Writes `bytes` to `file` as they are (no newline translation).
inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
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
