#include "run_cli.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <sys/wait.h>

#include "test_support.hpp"

namespace recfuse::test {

CliResult run_recfuse(const std::string& args) {
  // The caller's plugin path and cache must not leak into what a test sees.
  return run_shell("env -u RECFUSE_PLUGIN_PATH -u RECFUSE_CACHE " + recfuse_binary().string() + " " +
                   args);
}

CliResult run_shell(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  CliResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

nlohmann::json read_report(const std::filesystem::path& dir) {
  std::ifstream in(dir / "report.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

std::map<std::string, std::string> info_fields(const std::string& output) {
  std::map<std::string, std::string> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    const auto v = line.find_first_not_of(' ', sp);
    out[line.substr(0, sp)] = v == std::string::npos ? "" : line.substr(v);
  }
  return out;
}

std::filesystem::path write_text(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text) {
  std::ofstream(dir / name) << text;
  return dir / name;
}

std::string shell_quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

nlohmann::json record_of(const std::filesystem::path& out, const nlohmann::json& trial) {
  return nlohmann::json::parse(read_text(out / "trials" / (trial.at("trial_id").get<std::string>() + ".json")));
}

const nlohmann::json& trial_of(const nlohmann::json& report, const std::string& algorithm, int seed) {
  for (const auto& t : report.at("trials"))
    if (t.at("algorithm") == algorithm && t.at("seed") == seed) return t;
  FAIL("no trial " << algorithm << " seed " << seed);
  throw;
}

std::string favourite_scenario(const std::string& name, int ope_episodes, const std::string& algorithms) {
  return "name = \"" + name + R"("
seeds = [1, 2]
threads = 1
protocols = ["online", "off_policy"]

[environment]
plugin = "test_favourite"
params = { users = 12, items = 6, candidates = 3, steps = 4 }

[online]
log_episodes = 300
episodes = 200
ope_episodes = )" + std::to_string(ope_episodes) + R"(
batch = 64
window = 50

)" + algorithms;
}

}  // namespace recfuse::test
