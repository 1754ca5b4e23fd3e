// Runs the built recfuse binary from tests and reads what it wrote.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace recfuse::test {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

/// Runs `recfuse <args>` (args already shell-quoted where needed).
CliResult run_recfuse(const std::string& args);
/// Runs the shell command `command` (stderr joined to stdout).
CliResult run_shell(const std::string& command);
/// Parses <dir>/report.json.
nlohmann::json read_report(const std::filesystem::path& dir);
/// The lines of `recfuse data info` as a map: "users  N" gives users -> "N".
std::map<std::string, std::string> info_fields(const std::string& output);
/// Writes `text` to <dir>/<name> and returns the path.
std::filesystem::path write_text(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text);

}  // namespace recfuse::test
