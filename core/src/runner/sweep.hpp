// The parent side of a run: each trial in its own child process (a crashing
// or runaway plugin becomes a failed record), up to `jobs` at once, with a
// per-trial time limit, records written atomically, and resume by skipping
// trials whose record already exists.
#pragma once

#include <deque>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/scenario.hpp"

namespace recfuse {

struct SweepOptions {
  std::filesystem::path executable;     // the recfuse binary (runs `recfuse trial`)
  std::vector<std::string> trial_args;  // args naming the scenario, plugin path, cache ...
  std::filesystem::path output_dir;     // records in trials/, logs in logs/
  int jobs = 1;
  int threads = 1;                      // per trial
  double time_limit_s = 0;              // 0 = none
  bool retry_failed = false;            // rerun trials whose record is not "ok"
  bool quiet = false;
};

struct SweepResult {
  std::vector<nlohmann::json> records;  // in the order of `trials`
  int resumed = 0;                      // records found from an earlier run
  int failed = 0;                       // status != ok
};

/// The trials of shard `shard` of `count` (0-based): index % count == shard,
/// for job arrays (Slurm). A later unsharded run over the same output
/// directory finds every record and writes the whole report.
std::vector<TrialSpec> shard_trials(const std::vector<TrialSpec>& trials, int shard, int count);

/// Path of a trial's record inside `output_dir`.
std::filesystem::path record_path(const std::filesystem::path& output_dir, const TrialSpec& t);

/// The resume pass of a sweep: the records in `output_dir` that a rerun
/// keeps (a whole record of the trial, from the same build when the trial
/// carries its expected provenance, and "ok" when `retry_failed`), each in
/// its trial's slot with the trial's current index, and the slots still to run. A record from another
/// build (another host source hash, build type or compiler, another version
/// or file of a plugin library the trial loads, or none recorded), or a
/// file this recfuse cannot read as the record, is not reused: it moves with
/// its log to `trials/superseded/` (`<id>.json`, or `<id>.N.json` when an
/// earlier one holds that name) so no result is lost, and its trial runs
/// again.
/// Prints the "resuming" and "superseded" lines unless `quiet`. Drivers that
/// hand trials out themselves (recfuse-mpi) use it to skip exactly what
/// run_sweep would.
struct ResumeScan {
  std::vector<nlohmann::json> records;  // one per trial; null where pending
  std::deque<std::size_t> pending;      // slots of trials still to run
  int resumed = 0;
  int superseded = 0;                   // records moved aside as from another build
};
ResumeScan scan_for_resume(const std::filesystem::path& output_dir, const std::vector<TrialSpec>& trials,
                           bool retry_failed, bool quiet, std::ostream& log);

/// The sweep's result from the records of every slot (failed = status != ok).
SweepResult sweep_result(std::vector<nlohmann::json> records, int resumed);

/// The progress line run_sweep prints for a finished trial ("[3/10] algo seed=1 ok ...").
void print_trial_done(std::ostream& log, const nlohmann::json& record, std::size_t done,
                      std::size_t total);

SweepResult run_sweep(const Scenario& scenario, const std::vector<TrialSpec>& trials,
                      const SweepOptions& options, std::ostream& log);

}  // namespace recfuse
