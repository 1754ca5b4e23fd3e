// The phases of `recfuse run` (see run_setup.hpp), shared with recfuse-mpi.
#include "run_setup.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <iostream>
#include <sched.h>
#include <set>
#include <thread>

#include "data/readers.hpp"
#include "reports/report.hpp"
#include "runner/model_tree.hpp"
#include "runner/online.hpp"
#include "runner/trial.hpp"

namespace po = boost::program_options;

namespace recfuse::cli {
namespace {

/// Fails fast, before any child starts: every plugin exists and every
/// parameter point validates; the dataset can be found.
std::vector<PluginContext> check_scenario(const Scenario& s, const std::vector<TrialSpec>& trials,
                                          const PluginRegistry& registry) {
  std::vector<AlgorithmHandle> handles;
  for (const auto& t : trials)
    check_model_tree(s.algorithms.at(t.algorithm_index), t.params, registry, handles, /*build=*/true);
  std::vector<PluginContext> used;
  std::set<std::string> seen;
  for (const auto& h : handles) {
    if (!seen.insert(h.plugin->file.string()).second) continue;
    const PluginDescriptor& d = *h.plugin->descriptor;
    used.push_back({d.name, d.version, h.plugin->file.string(), d.fingerprint});
  }
  if (!s.environment.plugin.empty()) {
    const EnvironmentHandle env = check_environment(s.environment, registry).handle;
    const PluginDescriptor& d = *env.plugin->descriptor;
    if (seen.insert(env.plugin->file.string()).second)
      used.push_back({d.name, d.version, env.plugin->file.string(), d.fingerprint});
  }
  if (s.has_dataset && s.dataset.format != "synthetic") {
    try {
      resolve_data_path(s.dataset.path);
    } catch (const Error& e) {  // name the scenario's key too
      throw Error((s.dataset.path_location.empty() ? s.file : s.dataset.path_location) + ": [dataset] path: " +
                  e.what());
    }
  }
  return used;
}

}  // namespace

int parse_run_options(const Args& args, const char* caption, const char* program, RunOptions& o) {
  po::options_description desc(caption);
  desc.add_options()("help,h", "show this help")(
      "scenario", po::value(&o.scenario_file), "scenario file (also positional)")(
      "output,o", po::value(&o.output), "output directory (default: the scenario's `output`)")(
      "jobs,j", po::value(&o.jobs)->default_value(1), "trials run side by side")(
      "threads,t", po::value(&o.threads)->default_value(0),
      "OpenMP threads per trial (default: scenario `threads`, else cores / jobs)")(
      "time-limit", po::value(&o.time_limit_s),
      "per-trial time limit in seconds (0 = none; default: the scenario's `time_limit_s`)")(
      "plugin-path", po::value(&o.plugin_path)->composing(), "extra plugin directory (repeatable)")(
      "cache-dir", po::value(&o.cache), "dataset cache directory")(
      "no-cache", po::bool_switch(&o.no_cache), "do not read or write the dataset cache")(
      "retry-failed", po::bool_switch(&o.retry_failed), "rerun trials whose record is not ok")(
      "quiet,q", po::bool_switch(&o.quiet), "print only the summary line and the report location")(
      "save-models", po::bool_switch(&o.save_models),
      "write each fitted model that can be saved to <output>/models/<trial id>.model")(
      "load-models", po::value(&o.load_models),
      "read each trial's model from the files --save-models wrote in this directory (matched by plugin, "
      "parameters, seed, fold and data; for a simulated trial also by environment and logs) instead of "
      "fitting it")(
      "fit-cache", po::value(&o.fit_cache),
      "keep each fit (an algorithm, a fusion strategy's child) that can be saved in this directory, and "
      "read it back, not refit, wherever a trial fits the same model on the same data (for a simulated "
      "trial: the same environment and logs; created if missing; fit times then include the reads)")(
      "shard", po::value(&o.shard),
      "run only shard i of N (i/N, 0-based: trials with index % N == i), for job arrays");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return kExitOk;
    }
    po::notify(vm);
    if (o.jobs < 1) throw po::error("--jobs must be at least 1");
    if (o.threads < 0) throw po::error("--threads must be >= 0");
    // -1 (the default) means "not given": the scenario's time_limit_s.
    if (vm.count("time-limit") && !(std::isfinite(o.time_limit_s) && o.time_limit_s >= 0))
      throw po::error("--time-limit must be a finite number >= 0 (0 = none)");
    // --no-cache silently won over --cache-dir.
    if (o.no_cache && vm.count("cache-dir")) throw po::error("give --cache-dir or --no-cache, not both");
    if (const std::string bad = missing_plugin_dir(o.plugin_path); !bad.empty()) throw po::error(bad);
    if (vm.count("load-models")) {
      if (o.save_models) throw po::error("give --save-models or --load-models, not both");
      std::error_code ec;
      if (!std::filesystem::is_directory(o.load_models, ec))
        throw po::error("--load-models " + o.load_models + ": no such directory");
    }
    if (vm.count("fit-cache")) {
      std::error_code ec;
      std::filesystem::create_directories(o.fit_cache, ec);
      if (ec || !std::filesystem::is_directory(o.fit_cache, ec))
        throw po::error("--fit-cache " + o.fit_cache + ": cannot make this directory" +
                        (ec ? " (" + ec.message() + ")" : std::string()));
    }
  } catch (const po::error& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return kExitBadInput;
  }
  return -1;
}

namespace {

/// f(), with any exception it throws turned into a SetupError.
template <typename F>
auto on_machine(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    throw SetupError(e.what());
  }
}

}  // namespace

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void make_output_dirs(const std::filesystem::path& dir, const std::string& program) {
  for (const auto& d : {dir, dir / "trials", dir / "logs"}) {
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (ec || !std::filesystem::is_directory(d))
      throw Error(program + ": output directory " + d.string() + ": " +
                  (ec ? ec.message() : "exists and is not a directory"));
  }
}

PreparedRun prepare_run(const RunOptions& o, int sharing, bool check) {
  PreparedRun run;
  Scenario& scenario = run.scenario;
  const auto dirs = on_machine([&] { return plugin_dirs(o.plugin_path); });
  scenario = o.scenario_file.empty()
                 ? parse_scenario(default_scenario_text(), "<embedded default>")
                 : load_scenario(o.scenario_file);
  run.trials = expand_trials(scenario);
  // Every driver needs each trial's provenance (resume reuses only this
  // build's records), MPI workers too, so the plugins load either way.
  PluginRegistry registry;
  registry.scan(dirs);
  if (check) run.used_plugins = check_scenario(scenario, run.trials, registry);
  for (TrialSpec& t : run.trials) t.provenance = trial_provenance(scenario, t, registry).dump();
  if (!o.shard.empty()) {
    int i = -1, n = 0;
    const char* s = o.shard.c_str();
    const char* end = s + o.shard.size();
    auto r1 = std::from_chars(s, end, i);
    if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != '/' ||
        std::from_chars(r1.ptr + 1, end, n).ptr != end)
      throw Error("--shard " + o.shard + ": expected i/N, e.g. 0/4");
    run.trials = shard_trials(run.trials, i, n);
  }

  SweepOptions& sw = run.sweep;
  sw.executable = on_machine([] { return self_executable(); });
  sw.output_dir = !o.output.empty() ? o.output
                  : !scenario.output.empty() ? scenario.output
                                             : "results/" + scenario.name;
  sw.jobs = o.jobs;
  // The cores this run may use, not the machine's: under taskset or a job
  // scheduler's cpuset, more threads would only take turns on them.
  sw.threads = o.threads > 0 ? o.threads
               : scenario.threads > 0 ? scenario.threads
                                      : std::max(1, usable_cores() / std::max(1, sharing));
  sw.time_limit_s = o.time_limit_s >= 0 ? o.time_limit_s : scenario.time_limit_s;
  sw.retry_failed = o.retry_failed;
  sw.quiet = o.quiet;
  on_machine([&] {
    if (o.scenario_file.empty()) {
      sw.trial_args = {"--default"};
    } else {
      sw.trial_args = {"--scenario", std::filesystem::absolute(o.scenario_file).string()};
    }
    for (const auto& p : o.plugin_path) {
      sw.trial_args.push_back("--plugin-path");
      sw.trial_args.push_back(std::filesystem::absolute(p).string());
    }
    if (o.save_models) {
      sw.trial_args.push_back("--save-model-dir");
      sw.trial_args.push_back(std::filesystem::absolute(sw.output_dir / "models").string());
    }
    if (!o.load_models.empty()) {
      sw.trial_args.push_back("--load-model-dir");
      sw.trial_args.push_back(std::filesystem::absolute(o.load_models).string());
    }
    if (!o.fit_cache.empty()) {
      sw.trial_args.push_back("--fit-cache-dir");
      sw.trial_args.push_back(std::filesystem::absolute(o.fit_cache).string());
    }
    if (o.no_cache) {
      sw.trial_args.push_back("--no-cache");
    } else {
      sw.trial_args.push_back("--cache-dir");
      sw.trial_args.push_back(std::filesystem::absolute(cache_dir(o.cache)).string());
    }
  });
  return run;
}

int report_run(const PreparedRun& run, const SweepResult& result, const std::string& command_line,
               int jobs, std::chrono::steady_clock::time_point started) {
  const Scenario& scenario = run.scenario;
  ContextInputs ctx;
  ctx.scenario_file = scenario.file;
  ctx.scenario_name = scenario.name;
  ctx.scenario_description = scenario.description;
  ctx.scenario_sha256 = scenario.text_sha256;
  ctx.seeds = scenario.seeds;
  ctx.planned_comparisons = scenario.evaluation.compare;
  ctx.threads = run.sweep.threads;
  ctx.command_line = command_line;
  ctx.plugins = run.used_plugins;
  for (const auto& rec : result.records) {
    if (rec.contains("dataset") && rec["dataset"].contains("sha256")) {
      ctx.dataset_name = rec["dataset"].value("name", "");
      ctx.dataset_sha256 = rec["dataset"].value("sha256", "");
      break;
    }
  }
  nlohmann::json context = collect_context(ctx);
  context["jobs"] = jobs;
  const nlohmann::json report = build_report(context, result.records);
  write_report_files(run.sweep.output_dir, report);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "recfuse: " << result.records.size() << " trials (" << result.failed
            << " failed, " << result.resumed << " resumed) in " << seconds << " s\n";
  std::cout << "report: " << (run.sweep.output_dir / "report.md").string() << "\n";
  return result.failed ? kExitTrialsFailed : kExitOk;
}

}  // namespace recfuse::cli
