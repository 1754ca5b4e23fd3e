// The phases of `recfuse run`, shared with the MPI driver (tools/mpi): parse
// the options, load and check the scenario, derive the sweep options, and
// write the report from the records. `recfuse run` is these four in a row
// around run_sweep; recfuse-mpi puts its rank-0 trial queue in the middle.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.hpp"
#include "reports/context.hpp"
#include "runner/sweep.hpp"

namespace recfuse::cli {

struct RunOptions {
  std::string scenario_file;
  std::string output;
  std::string cache;
  std::string shard;
  std::vector<std::string> plugin_path;
  int jobs = 1;
  int threads = 0;
  double time_limit_s = -1;
  bool no_cache = false;
  bool retry_failed = false;
  bool quiet = false;
  bool save_models = false;
  std::string load_models;  // read saved models from here instead of fitting
  std::string fit_cache;    // keep and reuse fits here (runner/fit_cache.hpp)
};

/// Parses `recfuse run`'s options; `caption` heads the --help text and
/// `program` prefixes errors ("recfuse run: ..."). Returns -1 to go on,
/// else the exit code (help printed: 0; bad command line: 1).
int parse_run_options(const Args& args, const char* caption, const char* program, RunOptions& o);

/// A failure of this machine rather than of the input while preparing a run
/// (recfuse's own executable, absolute paths, the cache directory): exit 3
/// (internal error), where bad input exits 1.
struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PreparedRun {
  Scenario scenario;
  std::vector<TrialSpec> trials;           // after --shard
  std::vector<PluginContext> used_plugins;
  SweepOptions sweep;                      // executable: the running binary
};

/// The cores this process may run on (its CPU affinity: taskset, a job
/// scheduler's cpuset, an MPI binding), which the trial processes inherit;
/// all online cores when the affinity cannot be read.
int usable_cores();

/// Makes `dir` and the trials/ and logs/ a sweep writes into; throws Error
/// "<program>: output directory <d>: <why>" (bad input) when one cannot be.
void make_output_dirs(const std::filesystem::path& dir, const std::string& program);

/// Loads the scenario (or the embedded default), expands and shards it and,
/// when `check` is set, validates every plugin, parameter point and dataset
/// path. Always loads the plugins to give each trial its provenance (the
/// build its record must come from to be resumed). Fills the sweep options; without --threads or a scenario `threads`,
/// each trial gets usable_cores() / `sharing` threads (`sharing`: trial
/// processes running side by side on those cores). Throws recfuse::Error on bad input,
/// SetupError when the machine fails it.
PreparedRun prepare_run(const RunOptions& o, int sharing, bool check);

/// Builds report.json/.md/.csv (and friends) from `result` into the output
/// directory, prints the summary line (time since `started`), and returns
/// the run's exit code (0 every trial ok, 2 some failed).
int report_run(const PreparedRun& run, const SweepResult& result, const std::string& command_line,
               int jobs, std::chrono::steady_clock::time_point started);

}  // namespace recfuse::cli
