// Runs the built recfuse binary from tests and reads what it wrote.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace recfuse::test {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

/// Runs `recfuse <args>` (args already shell-quoted where needed).
CliResult run_recfuse(const std::string& args);
/// Parses <dir>/report.json.
nlohmann::json read_report(const std::filesystem::path& dir);
/// Writes `text` to <dir>/<name> and returns the path.
std::filesystem::path write_text(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text);

}  // namespace recfuse::test
