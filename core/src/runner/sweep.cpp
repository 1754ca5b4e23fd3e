#include "runner/sweep.hpp"

#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <ostream>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "runner/record.hpp"
#include "runner/trial.hpp"
#include "util/fs.hpp"

extern char** environ;

namespace recfuse {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Running {
  const TrialSpec* trial = nullptr;
  std::size_t slot = 0;  // position in the sweep's trial list
  Clock::time_point started;
  std::filesystem::path log;
  bool timed_out = false;
};

/// Last `max_bytes` of a log file, for the error of a trial that died.
std::string log_tail(const std::filesystem::path& log, std::size_t max_bytes = 2000) {
  std::string text;
  try {
    text = read_file(log);
  } catch (const std::exception&) {
    return {};
  }
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/// The record at `file` if it is a whole record of trial `id`.
bool read_record(const std::filesystem::path& file, const std::string& id, json& out) {
  if (!std::filesystem::exists(file)) return false;
  try {
    out = json::parse(read_file(file));
    return out.is_object() && out.contains("status") && out.value("trial_id", "") == id &&
           out.value("record_version", 0) == kRecordVersion;
  } catch (const std::exception&) {
    return false;  // a torn or foreign file: run the trial again
  }
}

pid_t spawn_trial(const SweepOptions& opt, const TrialSpec& t, const std::filesystem::path& log) {
  std::vector<std::string> args{opt.executable.string(), "trial"};
  args.insert(args.end(), opt.trial_args.begin(), opt.trial_args.end());
  // --parent-pid: the trial ends with this process, even one SIGKILLed
  // (trial_command.cpp; this thread waits for it in run_sweep).
  args.insert(args.end(), {"--index", std::to_string(t.index), "--trial-id", t.id, "--record",
                           record_path(opt.output_dir, t).string(), "--threads",
                           std::to_string(opt.threads), "--parent-pid", std::to_string(::getpid())});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw Error(opt.executable.string() + ": cannot start trial process: " +
                           std::strerror(rc));
  return pid;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return std::string("killed by signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status)) + " without a record";
}

/// Moves a record this sweep will not use, and its log, into
/// trials/superseded/ under a stem (<id>, else <id>.N) that no earlier
/// superseded record or log holds: no result is lost.
void set_aside(const std::filesystem::path& output_dir, const TrialSpec& t,
               const std::filesystem::path& file) {
  const auto aside = output_dir / "trials" / "superseded";
  std::filesystem::create_directories(aside);
  std::string stem = t.id;
  for (int n = 1; std::filesystem::exists(aside / (stem + ".json")) ||
                  std::filesystem::exists(aside / (stem + ".log"));
       ++n)
    stem = t.id + "." + std::to_string(n);
  std::filesystem::rename(file, aside / (stem + ".json"));
  std::error_code no_log;  // a trial without a log (spawn failure) is fine
  std::filesystem::rename(output_dir / "logs" / (t.id + ".log"), aside / (stem + ".log"), no_log);
}

/// Folds the kernel's view of the finished child into its record.
/// `lost`: the child was reaped elsewhere in this process (wait4 said
/// ECHILD); a record it wrote stands, else its exit status is unknown.
json finish_record(const Scenario& scenario, const Running& r, pid_t pid, int status, const rusage& ru,
                   const SweepOptions& opt, bool lost) {
  json rec;
  const auto file = record_path(opt.output_dir, *r.trial);
  // The temporary a child killed while writing its record leaves
  // (write_file_atomic's "<record>.tmp.<pid>", the pid being the child's):
  // nothing reads it, and its writer is gone.
  std::error_code gone;
  std::filesystem::remove(file.string() + ".tmp." + std::to_string(pid), gone);
  const double wall = std::chrono::duration<double>(Clock::now() - r.started).count();
  // A child that finished its record before the kill landed keeps its result.
  const bool finished = WIFEXITED(status) && read_record(file, r.trial->id, rec);
  if (r.timed_out && !finished) {
    rec = failed_record(scenario, *r.trial, "timeout",
                        "time limit of " + std::to_string(opt.time_limit_s) + " s exceeded");
  } else if (!finished) {
    std::string err = lost ? "the trial process " + std::to_string(pid) +
                                 " was reaped elsewhere in this process (SIGCHLD ignored?): its exit status is lost"
                           : describe_exit(status);
    const std::string tail = log_tail(r.log);
    if (!tail.empty()) err += "\n" + tail;
    rec = failed_record(scenario, *r.trial, WIFSIGNALED(status) ? "crashed" : "failed", err);
  }
  const std::string& expected = r.trial->provenance;
  if (finished && !expected.empty() && rec.contains("provenance") && rec["provenance"].dump() != expected) {
    // recfuse or a plugin was rebuilt during the sweep: this run's report
    // must not mix builds. The child's record is kept aside; the failed one
    // carries no provenance, so the next run reruns the trial.
    const std::string ran = rec["provenance"].dump();
    set_aside(opt.output_dir, *r.trial, file);
    rec = failed_record(scenario, *r.trial, "failed",
                        "the trial ran another build (" + ran + ") than this sweep expects (" + expected +
                            "): was recfuse or a plugin rebuilt during the run? Its record is in " +
                            (opt.output_dir / "trials" / "superseded").string());
    rec.erase("provenance");
  } else if (!rec.contains("provenance") && !expected.empty()) {
    // A child that failed before it could load its plugins wrote no
    // provenance: its failure belongs to the build this sweep expects.
    rec["provenance"] = json::parse(expected);
  }
  // Peak memory: the trial's own figure when it wrote its record (its
  // address space's high-water mark, record_json.hpp). wait4's ru_maxrss
  // also counts this process's peak, which the kernel folds into the child's
  // at exec (posix_spawn shares our address space until then), so it is
  // only the figure of a trial that wrote none (crash, timeout): an upper bound.
  if (!rec.contains("resources") || !rec["resources"].contains("peak_rss_bytes"))
    rec["resources"]["peak_rss_bytes"] = static_cast<std::int64_t>(ru.ru_maxrss) * 1024;
  rec["timing"]["process_wall_s"] = wall;
  rec["timing"]["process_cpu_s"] =
      static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
      1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  rec["log"] = r.log.string();
  write_file_atomic(file, rec.dump(1));
  return rec;
}

void print_done(std::ostream& log, const json& rec, std::size_t done, std::size_t total) {
  log << "[" << done << "/" << total << "] " << rec.value("algorithm", "?");
  if (!rec.value("fold", std::string()).empty()) log << " fold=" << rec["fold"].get<std::string>();
  log << " seed=" << rec.value("seed", 0ULL) << " " << rec.value("status", "?");
  if (rec.value("status", "") == "ok") {
    const auto& m = rec["metrics"];
    for (const char* key : {"ndcg@10", "hr@10", "rmse"})
      if (m.contains(key) && m[key].contains("mean") && !m[key]["mean"].is_null())
        log << " " << key << "=" << m[key]["mean"].get<double>();
    if (rec.contains("timing") && rec["timing"].contains("fit_wall_s"))
      log << " fit=" << rec["timing"]["fit_wall_s"].get<double>() << "s";
  } else {
    std::string err = rec.value("error", "");
    log << ": " << err.substr(0, err.find('\n'));
  }
  log << std::endl;
}

/// "other data files: " when a record's provenance differs from the
/// current one in its data only, naming each part that differs.
std::string differing_provenance(const json& old, const std::string& now_text) {
  const json now = json::parse(now_text, nullptr, /*allow_exceptions=*/false);
  if (!old.is_object() || !now.is_object()) return {};
  std::string parts;
  for (const auto& [key, name] : {std::pair<const char*, const char*>{"recfuse", "another recfuse build"},
                                  {"plugins", "other plugin libraries"},
                                  {"data", "other data files"}})
    if (old.value(key, json()) != now.value(key, json())) parts += std::string(parts.empty() ? "" : ", ") + name;
  return parts.empty() ? std::string() : parts + ": ";
}

}  // namespace

std::vector<TrialSpec> shard_trials(const std::vector<TrialSpec>& trials, int shard, int count) {
  if (count < 1 || shard < 0 || shard >= count)
    throw Error("--shard " + std::to_string(shard) + "/" + std::to_string(count) +
                ": expected i/N with 0 <= i < N");
  std::vector<TrialSpec> out;
  for (const auto& t : trials)
    if (t.index % static_cast<std::size_t>(count) == static_cast<std::size_t>(shard)) out.push_back(t);
  return out;
}

std::filesystem::path record_path(const std::filesystem::path& output_dir, const TrialSpec& t) {
  return output_dir / "trials" / (t.id + ".json");
}

ResumeScan scan_for_resume(const std::filesystem::path& output_dir, const std::vector<TrialSpec>& trials,
                           bool retry_failed, bool quiet, std::ostream& log) {
  ResumeScan scan;
  scan.records.resize(trials.size());
  std::string example, example_now;  // the first superseded record's build and the current one
  for (std::size_t slot = 0; slot < trials.size(); ++slot) {
    const TrialSpec& t = trials[slot];
    const auto file = record_path(output_dir, t);
    json rec;
    const bool readable = read_record(file, t.id, rec);
    if (!readable && !std::filesystem::exists(file)) {
      scan.pending.push_back(slot);
      continue;
    }
    if (!readable || (!t.provenance.empty() && (!rec.contains("provenance") ||
                                                rec["provenance"].dump() != t.provenance))) {
      // Not this build's result (or not a record this recfuse reads): keep
      // it and its log, out of the report's way.
      set_aside(output_dir, t, file);
      if (example.empty()) {
        example = !readable                    ? std::string("a file this recfuse cannot read as the record")
                  : rec.contains("provenance") ? differing_provenance(rec["provenance"], t.provenance) +
                                                     rec["provenance"].dump()
                                               : std::string("no provenance recorded");
        example_now = t.provenance;
      }
      ++scan.superseded;
      scan.pending.push_back(slot);
      continue;
    }
    if (retry_failed && rec.value("status", "") != "ok") {
      scan.pending.push_back(slot);
      continue;
    }
    // The id, not the index, names the trial: an entry added to the
    // scenario shifts the indices of those after it, and the report must
    // not list two trials under one index. (In memory: the file stays as written.)
    rec["index"] = t.index;
    scan.records[slot] = std::move(rec);
    ++scan.resumed;
  }
  if (scan.superseded && !quiet)
    log << "superseded: " << scan.superseded << " record(s) in " << (output_dir / "trials").string()
        << " came from another build of recfuse or of their plugins, or from other data files, or could "
           "not be read (first: "
        << example
        << "; now: " << example_now << "); their trials run again, the old records are in "
        << (output_dir / "trials" / "superseded").string() << std::endl;
  if (scan.resumed && !quiet)
    log << "resuming: " << scan.resumed << " of " << trials.size()
        << " trials already have records in " << (output_dir / "trials").string() << std::endl;
  return scan;
}

SweepResult sweep_result(std::vector<json> records, int resumed) {
  SweepResult result;
  result.resumed = resumed;
  for (auto& rec : records) {
    if (rec.value("status", "") != "ok") ++result.failed;
    result.records.push_back(std::move(rec));
  }
  return result;
}

void print_trial_done(std::ostream& log, const json& record, std::size_t done, std::size_t total) {
  print_done(log, record, done, total);
}

SweepResult run_sweep(const Scenario& scenario, const std::vector<TrialSpec>& trials,
                      const SweepOptions& opt, std::ostream& log) {
  std::filesystem::create_directories(opt.output_dir / "trials");
  std::filesystem::create_directories(opt.output_dir / "logs");
  ResumeScan scan = scan_for_resume(opt.output_dir, trials, opt.retry_failed, opt.quiet, log);
  std::vector<json>& records = scan.records;
  std::deque<std::size_t>& pending = scan.pending;

  std::map<pid_t, Running> running;
  std::size_t done = static_cast<std::size_t>(scan.resumed);
  const int jobs = std::max(1, opt.jobs);
  while (!pending.empty() || !running.empty()) {
    while (!pending.empty() && static_cast<int>(running.size()) < jobs) {
      const std::size_t slot = pending.front();
      const TrialSpec* t = &trials[slot];
      pending.pop_front();
      Running r{t, slot, Clock::now(), opt.output_dir / "logs" / (t->id + ".log"), false};
      try {
        // A rerun (--retry-failed, or a foreign file) must not be reported
        // with the old record if the new child dies before writing its own.
        std::filesystem::remove(record_path(opt.output_dir, *t));
        running[spawn_trial(opt, *t, r.log)] = r;
      } catch (const std::exception& e) {
        records[slot] = failed_record(scenario, *t, "failed", e.what());
        write_file_atomic(record_path(opt.output_dir, *t), records[slot].dump(1));
        ++done;
      }
    }
    // Our own trials only, pid by pid: wait4(-1) would reap (and so lose the
    // status of) a child that a process embedding the sweep started itself.
    bool reaped = false;
    for (auto it = running.begin(); it != running.end() && !reaped; ++it) {
      int status = 0;
      rusage ru{};
      const pid_t got = wait4(it->first, &status, WNOHANG, &ru);
      if (got == 0 || (got < 0 && errno != ECHILD)) continue;
      json rec = finish_record(scenario, it->second, it->first, got < 0 ? 0 : status, ru, opt, got < 0);
      if (!opt.quiet) print_done(log, rec, ++done, trials.size());
      records[it->second.slot] = std::move(rec);
      running.erase(it);
      reaped = true;
    }
    if (reaped) continue;
    if (opt.time_limit_s > 0) {
      for (auto& [p, r] : running) {
        const double age = std::chrono::duration<double>(Clock::now() - r.started).count();
        if (!r.timed_out && age > opt.time_limit_s) {
          r.timed_out = true;
          ::kill(p, SIGKILL);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return sweep_result(std::move(records), scan.resumed);
}

}  // namespace recfuse
