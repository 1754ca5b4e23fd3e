// `recfuse trial`: runs one trial of a scenario and writes its record. The
// parent (`recfuse run`) starts one such process per trial so a crash, a
// runaway plugin or its memory stays contained and measurable.
#include <boost/program_options.hpp>
#include <iostream>
#include <mutex>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.hpp"
#include "runner/record_json.hpp"
#include "runner/trial.hpp"
#include "util/fs.hpp"

namespace po = boost::program_options;

namespace recfuse::cli {
namespace {

/// Progress lines go to stderr (the trial's log) and into the record.
class CollectingProgress final : public ProgressSink {
 public:
  void report(std::string_view line) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::cerr << line << std::endl;
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() const { return lines_; }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace

int trial_command(const Args& args) {
  po::options_description desc(
      "usage: recfuse trial (--scenario FILE | --default) --index N --record FILE [options]\n"
      "Runs trial N of the scenario's expansion in this process and writes its\n"
      "record atomically. Internal: `recfuse run` starts it in a child process.\n\noptions");
  std::string scenario_file, record, cache, trial_id, model_dir, load_model_dir, fit_cache;
  std::vector<std::string> plugin_path;
  std::size_t index = 0;
  int threads = 1;
  pid_t parent = 0;
  desc.add_options()("help,h", "show this help")(
      "scenario", po::value(&scenario_file), "scenario TOML file")(
      "default", "use the embedded default scenario")(
      "index", po::value(&index)->required(), "trial index in the expansion")(
      "record", po::value(&record)->required(), "where to write the JSON record")(
      "trial-id", po::value(&trial_id), "expected id of trial N (refuses a changed scenario)")(
      "threads", po::value(&threads)->default_value(1), "OpenMP threads")(
      "plugin-path", po::value(&plugin_path)->composing(), "extra plugin directory (repeatable)")(
      "cache-dir", po::value(&cache), "dataset cache directory")(
      "save-model-dir", po::value(&model_dir), "write the fitted model here, as <trial id>.model")(
      "load-model-dir", po::value(&load_model_dir),
      "read the model saved for this trial from here instead of fitting it")(
      "fit-cache-dir", po::value(&fit_cache), "read and keep fitted models here (recfuse run --fit-cache)")(
      "parent-pid", po::value(&parent), "end with this process (the sweep that started the trial)")(
      "no-cache", "do not use the dataset cache");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return kExitOk;
    }
    po::notify(vm);
    if (vm.count("default") == vm.count("scenario")) throw po::error("give --scenario FILE or --default");
  } catch (const po::error& e) {
    std::cerr << "recfuse trial: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (parent > 0) {
    // A trial must not outlive its sweep, even a SIGKILLed one (no handler
    // could stop it then): the kernel kills this process when the thread
    // that spawned it ends. Checked after, in case the sweep ended first.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      std::cerr << "recfuse trial: the sweep that started this trial (pid " << parent << ") has ended\n";
      return kExitInternal;
    }
  }
  Scenario scenario;
  try {
    scenario = vm.count("default") ? parse_scenario(default_scenario_text(), "<embedded default>")
                                   : load_scenario(scenario_file);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  }
  const auto trials = expand_trials(scenario);
  if (index >= trials.size()) {
    std::cerr << "recfuse trial: index " << index << " out of range (" << trials.size()
              << " trials)\n";
    return kExitBadInput;
  }
  if (!trial_id.empty() && trials[index].id != trial_id) {
    std::cerr << "recfuse trial: trial " << index << " of the scenario is now " << trials[index].id
              << ", not " << trial_id << ": the scenario changed during the run\n";
    return kExitBadInput;
  }
  // A crashing plugin should leave a record, not a core file in the caller's directory.
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  TrialOptions options;
  options.plugin_dirs = plugin_dirs(plugin_path);
  options.cache_dir = vm.count("no-cache") ? std::filesystem::path() : cache_dir(cache);
  options.threads = threads;
  options.model_dir = model_dir;
  options.load_model_dir = load_model_dir;
  options.fit_cache_dir = fit_cache;
  CollectingProgress progress;
  nlohmann::json rec = execute_trial(scenario, trials[index], options, &progress);
  rec["progress"] = progress.lines();
  // Of every record this process writes, ok or failed; the sweep keeps it
  // (wait4 would count the sweep's own peak too, runner/sweep.cpp).
  rec["resources"]["peak_rss_bytes"] = record_json::self_peak_rss_bytes();
  write_file_atomic(record, rec.dump(1));
  if (rec.value("status", "") != "ok") {
    std::cerr << rec.value("error", "") << "\n";
    return kExitTrialsFailed;
  }
  return kExitOk;
}

}  // namespace recfuse::cli
