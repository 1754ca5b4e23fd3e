#include "reports/context.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/utsname.h>
#include <unistd.h>

#include <Eigen/Core>
#include <boost/version.hpp>
#if __has_include(<toml++/impl/version.h>)
#include <toml++/impl/version.h>  // the version macros alone, not the parser
#else
#include <toml++/toml.h>
#endif

#include "recfuse_build_info.hpp"

namespace recfuse {
namespace {

std::string read_text(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Value of the first "key<spaces>: value" line of a /proc file.
std::string_view proc_field(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (trim(line.substr(0, colon)) == key) return trim(line.substr(colon + 1));
  }
  return {};
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

std::string os_description() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string version3(int a, int b, int c) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
}

nlohmann::json library_versions() {
  nlohmann::json libs = nlohmann::json::object();
  libs["eigen"] = version3(EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  // BOOST_LIB_VERSION is "1_74": report it as people write it.
  std::string boost = BOOST_LIB_VERSION;
  for (char& c : boost) if (c == '_') c = '.';
  libs["boost"] = boost;
  libs["tomlplusplus"] = version3(TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH);
  libs["nlohmann_json"] = version3(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                   NLOHMANN_JSON_VERSION_PATCH);
#ifdef _OPENMP
  libs["openmp"] = std::to_string(_OPENMP);  // yyyymm of the supported spec
#else
  libs["openmp"] = nullptr;
#endif
  return libs;
}

}  // namespace

std::string parse_cpu_model(std::string_view cpuinfo) {
  return std::string(proc_field(cpuinfo, "model name"));
}

std::int64_t parse_mem_total_bytes(std::string_view meminfo) {
  std::string_view value = proc_field(meminfo, "MemTotal");  // "16318480 kB"
  std::int64_t kib = -1;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), kib);
  if (ec != std::errc{} || kib < 0) return -1;
  return kib * 1024;
}

std::string utc_iso8601(std::time_t t) {
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

nlohmann::json collect_context(const ContextInputs& inputs) {
  nlohmann::json c = nlohmann::json::object();
  c["recfuse_version"] = build_info::kVersion;
  c["git_commit"] = build_info::kGitCommit;
  c["build_type"] = build_info::kBuildType;
  c["compiler"] = build_info::kCxxCompiler;
  c["cxx_flags"] = std::string(trim(build_info::kCxxFlags));
  c["host_name"] = host_name();
  std::string cpu = parse_cpu_model(read_text("/proc/cpuinfo"));
  c["cpu_model"] = cpu.empty() ? std::string("unknown") : cpu;
  c["logical_cores"] = std::thread::hardware_concurrency();
  std::int64_t memory = parse_mem_total_bytes(read_text("/proc/meminfo"));
  c["memory_total_bytes"] = memory < 0 ? nlohmann::json(nullptr) : nlohmann::json(memory);
  c["os"] = os_description();
  c["date"] = utc_iso8601(std::time(nullptr));
  c["libraries"] = library_versions();
  c["scenario"] = {{"file", inputs.scenario_file},
                   {"name", inputs.scenario_name},
                   {"sha256", inputs.scenario_sha256}};
  if (!inputs.scenario_description.empty()) c["scenario"]["description"] = inputs.scenario_description;
  if (!inputs.planned_comparisons.empty()) {
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& p : inputs.planned_comparisons) pairs.push_back({p.treatment, p.baseline});
    c["scenario"]["compare"] = std::move(pairs);
  }
  c["dataset"] = {{"name", inputs.dataset_name}, {"sha256", inputs.dataset_sha256}};
  c["seeds"] = inputs.seeds;
  c["threads"] = inputs.threads;
  c["command_line"] = inputs.command_line;
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& p : inputs.plugins) {
    plugins.push_back({{"name", p.name},
                       {"version", p.version},
                       {"file", p.file},
                       {"fingerprint", p.fingerprint}});
  }
  c["plugins"] = std::move(plugins);
  return c;
}

}  // namespace recfuse
