// Shared helpers for the Catch2 tests: where fixtures and real data live.
#pragma once

#include <filesystem>
#include <string>

namespace recfuse::test {

/// Root of the real datasets: $RECFUSE_DATA, else ../shared/data beside the repo.
std::filesystem::path shared_data();
/// True when `shared_data()/relative` exists; tests that need it SKIP otherwise
/// (Catch2 v2 has no SKIP, so they WARN and return).
bool have_shared(const std::string& relative);
/// tests/fixtures/<name>
std::filesystem::path fixture(const std::string& name);
/// A fresh, empty temporary directory unique to this call.
std::filesystem::path temp_dir(const std::string& tag);
/// Directory of the built plugins / the built recfuse binary.
std::filesystem::path plugin_dir();
std::filesystem::path bad_plugin_dir();
std::filesystem::path recfuse_binary();
std::filesystem::path source_dir();

}  // namespace recfuse::test
