// A parsed scenario and its expansion into trial specs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/specs.hpp"

namespace recfuse {

struct Scenario {
  std::string file;         // path it was read from ("<embedded>" for the default)
  std::string text_sha256;  // sha256 of the scenario text
  std::string name;
  std::string description;
  std::vector<std::uint64_t> seeds{1};
  std::int32_t threads = 0;     // OpenMP threads per trial; 0 = all cores
  double time_limit_s = 0.0;    // per trial; 0 = none
  std::string output;           // output directory (CLI --output overrides)
  DatasetSpec dataset;
  FilterSpec filter;
  SplitSpec split;
  EvaluationSpec evaluation;
  std::vector<AlgorithmSpec> algorithms;
  bool has_dataset = false;     // the file has a [dataset] table (or is the default)
  EnvironmentSpec environment;
  OnlineSpec online;
  /// offline | online | off_policy; default: offline without an
  /// environment, online and off_policy with one (plus offline when the
  /// scenario also has a dataset).
  std::vector<std::string> protocols;
};

/// One unit of work: dataset x split fold x algorithm x parameter point x seed.
struct TrialSpec {
  std::size_t index = 0;         // position in the expansion
  std::string id;                // 16 hex digits of the spec's content hash
  std::string algorithm;         // AlgorithmSpec::name (+ grid point suffix)
  std::string plugin;
  std::map<std::string, ParamValue> params;  // before validation
  std::string fold;              // fold label, "" when the split has one fold
  std::uint64_t seed = 0;
  std::size_t algorithm_index = 0;
  std::string protocol = "offline";  // offline | online | off_policy
  /// online and off_policy: fitted on logs collected in an environment.
  bool simulated() const { return protocol != "offline"; }
  /// What the trial's result depends on beyond the spec, as canonical JSON
  /// (trial_provenance, runner/trial.hpp); filled by the sweep drivers
  /// (`recfuse run`, every `recfuse-mpi` rank) when they load the plugins,
  /// "" otherwise. Resume reuses only records that match it.
  std::string provenance;
};

/// Parses `text` (read from `path`). Throws recfuse::Error whose message
/// reads `path:line:column: [key.path] what went wrong`.
Scenario parse_scenario(std::string_view text, const std::string& path);
/// Reads and parses a scenario file (error names the file when missing).
Scenario load_scenario(const std::string& path);
/// The embedded default: a synthetic dataset and the baseline plugins.
std::string_view default_scenario_text();
std::vector<TrialSpec> expand_trials(const Scenario& s);

}  // namespace recfuse
