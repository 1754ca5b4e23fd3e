// The report's context block: everything needed to tell whether two reports
// can be compared — what was built (version, commit, compiler, flags), where
// it ran (CPU, cores, memory, OS), on what (scenario and dataset hashes,
// seeds, plugins with their fingerprints) and when. Modelled on Google
// Benchmark's context (src/json_reporter.cc: "context" object).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/specs.hpp"

namespace recfuse {

/// One plugin library a run loaded, as the descriptor reported it.
struct PluginContext {
  std::string name, version, file, fingerprint;
};

/// What only the caller (the CLI / sweep driver) knows about the run.
struct ContextInputs {
  std::string scenario_file, scenario_name, scenario_sha256;
  std::string scenario_description;  // the scenario's `description`; omitted when empty
  std::string dataset_name, dataset_sha256;
  std::vector<std::uint64_t> seeds;
  int threads = 1;
  std::string command_line;
  std::vector<PluginContext> plugins;
  /// The scenario's `[evaluation] compare`, declared before the run; kept
  /// in the context (scenario.compare) so the report's planned family is
  /// on record next to the scenario's hash.
  std::vector<PlannedComparison> planned_comparisons;
};

/// The context block: the inputs plus build and host facts read here
/// (recfuse_build_info.hpp, /proc/cpuinfo, /proc/meminfo, uname, clock).
/// Never throws for a missing /proc file: the field is then "unknown" / null.
nlohmann::json collect_context(const ContextInputs& inputs);

/// "model name" of the first processor in /proc/cpuinfo text; "" if absent.
std::string parse_cpu_model(std::string_view cpuinfo);
/// MemTotal of /proc/meminfo text, in bytes; -1 if absent.
std::int64_t parse_mem_total_bytes(std::string_view meminfo);
/// `t` as UTC ISO-8601 with seconds: "2026-11-28T20:40:00Z".
std::string utc_iso8601(std::time_t t);

}  // namespace recfuse
