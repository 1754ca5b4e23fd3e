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

/// `p` in single quotes, for a shell command line (paths here hold no quote).
std::string shell_quote(const std::filesystem::path& p);
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
/// The whole file (binary); empty when it cannot be read.
std::string read_text(const std::filesystem::path& file);
/// `text` with the first `from` replaced by `to`; REQUIREs that `from` occurs.
std::string replaced(std::string text, const std::string& from, const std::string& to);
/// The trial record <out>/trials/<trial id>.json of a report's `trial`.
nlohmann::json record_of(const std::filesystem::path& out, const nlohmann::json& trial);
/// The report's trial of `algorithm` with `seed`; FAILs when there is none.
const nlohmann::json& trial_of(const nlohmann::json& report, const std::string& algorithm, int seed);
/// A scenario named `name` in the test_favourite world
/// (tests/test_plugins/favourite_env.cpp: 12 users, 6 items, 3 candidates,
/// 4 steps), seeds 1 and 2, both simulated protocols, 300 logged and 200
/// deployed episodes in batches of 64 (windows of 50), `ope_episodes` for
/// the off-policy truth; `algorithms` (TOML) follows.
std::string favourite_scenario(const std::string& name, int ope_episodes, const std::string& algorithms);

}  // namespace recfuse::test
