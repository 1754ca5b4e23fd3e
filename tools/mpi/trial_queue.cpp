// The dynamic trial queue over MPI. Messages (all on MPI_COMM_WORLD, bytes):
//   worker -> 0, kTagRequest: the JSON text of the record the worker just
//                finished, empty on its first request;
//   0 -> worker, kTagWork:    {"index": N, "id": "..."}, the next trial;
//   0 -> worker, kTagStop:    empty, no trials left;
//   0 -> all, at the end:     the exit code (broadcast_exit_code).
// Rank 0 polls (MPI_Iprobe plus a short sleep) instead of blocking in
// MPI_Recv because OpenMPI busy-waits in blocking calls, and the coordinator
// would otherwise take a core from the trials on its node; a stopped worker
// waits for the exit code the same way, for as long as the last trial runs.
#include "trial_queue.hpp"

#include <mpi.h>

#include <chrono>
#include <deque>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include "runner/record.hpp"
#include "runner/trial.hpp"
#include "util/fs.hpp"

namespace recfuse::mpi {
namespace {

using json = nlohmann::json;

enum Tag : int { kTagRequest = 1, kTagWork = 2, kTagStop = 3 };

constexpr auto kPoll = std::chrono::milliseconds(5);  // sleep between polls

void send_text(int to, int tag, const std::string& text) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

/// Receives the message `status` announced (after MPI_Probe/MPI_Iprobe).
std::string receive_text(const MPI_Status& status) {
  int size = 0;
  MPI_Get_count(&status, MPI_CHAR, &size);
  std::string text(static_cast<std::size_t>(size), '\0');
  MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return text;
}

/// The record a worker sent for trial `t`, or a failed record saying why it
/// cannot be used (unreadable, of another trial, of another record
/// version). Such a record, and a failed one of another trial or build, is
/// rebuilt from rank 0's own TrialSpec, so the report names the trial as
/// rank 0 expanded it, with the worker's reason.
json accept_record(const Scenario& scenario, const TrialSpec& t, const std::string& text,
                   int worker) {
  const std::string from = "rank " + std::to_string(worker);
  json rec;
  try {
    rec = json::parse(text);
  } catch (const std::exception& e) {
    return failed_record(scenario, t, "failed", from + " sent an unreadable record: " + e.what());
  }
  if (!rec.is_object() || !rec.contains("status"))
    return failed_record(scenario, t, "failed", from + " sent a record without a status");
  if (rec.value("record_version", -1) != kRecordVersion)
    return failed_record(scenario, t, "failed",
                         from + " sent a record of version " + rec.value("record_version", json(nullptr)).dump() +
                             ", expected " + std::to_string(kRecordVersion) + " (recfuse builds differ)");
  // A node with other plugin files or another recfuse build must not put
  // its result, or its failure, into this run's report as this build's: the
  // record is refused without a provenance, so the next run retries it (as
  // run_sweep does with a record of another build).
  const bool this_build =
      t.provenance.empty() || (rec.contains("provenance") && rec["provenance"].dump() == t.provenance);
  const std::string other_build =
      this_build ? std::string()
                 : from + " ran another build: " +
                       (rec.contains("provenance") ? rec["provenance"].dump() : std::string("no provenance")) +
                       ", rank 0 expects " + t.provenance + " (rebuild recfuse and recfuse-mpi together)";
  if (rec.value("status", "") != "ok") {
    const std::string error = from + ": " + rec.value("error", std::string("no error text"));
    if (this_build && rec.value("trial_id", "") == t.id) {
      // The record the trial's sweep wrote, as `recfuse run` keeps it (its
      // log, timing, peak memory, plugin and data), naming the rank.
      rec["error"] = error;
      return rec;
    }
    json failed = failed_record(scenario, t, rec.value("status", std::string("failed")),
                                this_build ? error : error + "\n" + other_build);
    if (!this_build) failed.erase("provenance");
    return failed;
  }
  if (rec.value("trial_id", "") != t.id)
    return failed_record(scenario, t, "failed", from + " sent a record of trial " + rec.value("trial_id", "") +
                                                    " for trial " + t.id);
  if (!this_build) {
    json refused = failed_record(scenario, t, "failed", other_build);
    refused.erase("provenance");
    return refused;
  }
  return rec;
}

/// Runs trial `index` (id `id`, as rank 0 expanded it) on this rank. Its
/// errors do not name the rank: accept_record puts "rank N: " before every
/// error a worker sends.
json run_one(const cli::PreparedRun& run, std::size_t index, const std::string& id) {
  const TrialSpec* trial = nullptr;
  for (const auto& t : run.trials)
    if (t.index == index) trial = &t;
  if (!trial || trial->id != id) {
    // Rank 0 rebuilds this record from its own TrialSpec (accept_record);
    // only the reason travels.
    TrialSpec as_rank0;
    as_rank0.index = index;
    as_rank0.id = id;
    return failed_record(run.scenario, as_rank0, "failed",
                         "trial " + std::to_string(index) + " is " +
                             (trial ? trial->id : std::string("missing")) + " here but " + id +
                             " on rank 0: the scenario file differs between the nodes");
  }
  try {
    SweepOptions sw = run.sweep;
    sw.jobs = 1;
    sw.quiet = true;
    // Rank 0 decided this trial runs; a record left on this node's disk by an
    // earlier job must not stand in for it.
    std::error_code ec;
    std::filesystem::remove(record_path(sw.output_dir, *trial), ec);
    std::ostringstream quiet_log;
    SweepResult result = run_sweep(run.scenario, {*trial}, sw, quiet_log);
    return std::move(result.records.at(0));
  } catch (const std::exception& e) {
    return failed_record(run.scenario, *trial, "failed", e.what());
  }
}

}  // namespace

SweepResult coordinate(const cli::PreparedRun& run, int workers, std::ostream& log) {
  const SweepOptions& opt = run.sweep;
  const auto& trials = run.trials;
  std::filesystem::create_directories(opt.output_dir / "trials");
  ResumeScan scan = scan_for_resume(opt.output_dir, trials, opt.retry_failed, opt.quiet, log);
  std::vector<json>& records = scan.records;
  std::deque<std::size_t>& pending = scan.pending;

  std::map<int, std::size_t> assigned;  // worker rank -> slot it is running
  std::size_t done = static_cast<std::size_t>(scan.resumed);
  int stopped = 0;
  while (stopped < workers) {
    int ready = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &ready, &status);
    if (!ready) {
      std::this_thread::sleep_for(kPoll);
      continue;
    }
    const int worker = status.MPI_SOURCE;
    const std::string text = receive_text(status);
    if (auto it = assigned.find(worker); it != assigned.end()) {
      const std::size_t slot = it->second;
      assigned.erase(it);
      json rec = accept_record(run.scenario, trials[slot], text, worker);
      // Rank 0 owns the output directory: the record lands here whether or
      // not the worker's disk is shared (then this rewrites the same bytes).
      write_file_atomic(record_path(opt.output_dir, trials[slot]), rec.dump(1));
      if (!opt.quiet) {
        print_trial_done(log, rec, ++done, trials.size());
        log << "  (ran on rank " << worker << ")" << std::endl;
      }
      records[slot] = std::move(rec);
    }
    if (pending.empty()) {
      send_text(worker, kTagStop, "");
      ++stopped;
      continue;
    }
    const std::size_t slot = pending.front();
    pending.pop_front();
    // As in run_sweep: a rerun must not be reported with the old record if
    // the job dies before the new one arrives.
    std::error_code ec;
    std::filesystem::remove(record_path(opt.output_dir, trials[slot]), ec);
    assigned[worker] = slot;
    send_text(worker, kTagWork,
              json{{"index", trials[slot].index}, {"id", trials[slot].id}}.dump());
  }
  return sweep_result(std::move(records), scan.resumed);
}

void work(const cli::PreparedRun& run) {
  std::string finished;  // the record of the last trial, empty before the first
  for (;;) {
    send_text(0, kTagRequest, finished);
    MPI_Status status;
    MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &status);
    const std::string text = receive_text(status);
    if (status.MPI_TAG == kTagStop) return;
    const json order = json::parse(text);
    finished = run_one(run, order.at("index").get<std::size_t>(), order.at("id").get<std::string>()).dump(1);
  }
}

int broadcast_exit_code(int code) {
  MPI_Request request;
  MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
  for (int done = 0; MPI_Test(&request, &done, MPI_STATUS_IGNORE), !done;)
    std::this_thread::sleep_for(kPoll);
  return code;
}

}  // namespace recfuse::mpi
