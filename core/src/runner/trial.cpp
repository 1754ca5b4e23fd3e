#include "runner/trial.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <omp.h>

#include "data/readers.hpp"
#include "data/splits.hpp"
#include "data/train_data_builder.hpp"
#include "eval/evaluator.hpp"
#include "eval/stats.hpp"
#include "runner/eval_json.hpp"
#include "runner/explanations.hpp"
#include "runner/fit_cache.hpp"
#include "runner/model_tree.hpp"
#include "runner/online.hpp"
#include "recfuse/rng.hpp"
#include "runner/record.hpp"
#include "runner/record_json.hpp"
#include "runner/saved_models.hpp"
#include "util/clock.hpp"
#include "recfuse_build_info.hpp"
#include "recfuse_source.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

/// Which test set a trial was scored on: the dataset and the evaluated
/// (user, item, value) entries. Trials that share it (seeds of a fixed
/// split) are one sample of users; the report's interval over them must add
/// the users' uncertainty to the seeds' (reports/summary.cpp).
std::string test_set_fingerprint(const CsrMatrix& test, const std::string& data_sha) {
  Sha256 h;
  h.update(data_sha);
  h.update(test.indptr.data(), test.indptr.size() * sizeof(std::int64_t));
  h.update(test.indices.data(), test.indices.size() * sizeof(std::int32_t));
  h.update(test.values.data(), test.values.size() * sizeof(float));
  return h.hex_digest().substr(0, 16);
}

using json = nlohmann::json;
using record_json::finite_or_null;
using record_json::mean_ci;
using record_json::utc_now;

json param_json(const ParamValue& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

json params_json(const std::map<std::string, ParamValue>& values) {  // before validation
  json out = json::object();
  for (const auto& [k, v] : values) out[k] = param_json(v);
  return out;
}

/// Which interactions the algorithm was fitted on: its train and validation
/// parts, in order, and how equal timestamps order its sequences
/// (split.ties = "item" mixed in; "source" hashes as before it was). A saved
/// or cached model is read back only for the same ones (saved_models.hpp,
/// fit_cache.hpp): a changed split.seed keeps every size but moves this.
std::string fit_set_fingerprint(const Split& fit) {
  // Through a fixed 64 KiB buffer: a copy of the whole part would count in
  // the trial's peak RSS (20 bytes per interaction).
  Sha256 h;
  std::array<char, 65536> buf;
  std::size_t used = 0;
  const auto put = [&](const auto& v) {
    if (used + sizeof v > buf.size()) h.update(buf.data(), used), used = 0;
    std::memcpy(buf.data() + used, &v, sizeof v);
    used += sizeof v;
  };
  for (const std::vector<Interaction>* part : {&fit.train, &fit.validation}) {
    put(static_cast<std::uint64_t>(part->size()));
    for (const Interaction& x : *part) put(x.user), put(x.item), put(x.value), put(x.timestamp);
  }
  h.update(buf.data(), used);
  // train_data_builder.cpp orders each user's sequence by the rule.
  if (fit.ties_by_item) h.update("split.ties=item");
  return h.hex_digest().substr(0, 16);
}

const AlgorithmSpec& algorithm_of(const Scenario& s, const TrialSpec& t) {
  if (t.algorithm_index >= s.algorithms.size()) throw Error("trial refers to a missing algorithm");
  return s.algorithms[t.algorithm_index];
}

}  // namespace

json trial_provenance(const Scenario& scenario, const TrialSpec& trial, const PluginRegistry& registry) {
  // A library's file is hashed once per process: a sweep asks for every trial.
  static std::mutex mutex;
  static std::map<std::filesystem::path, std::string> file_hash;
  std::vector<AlgorithmHandle> used;
  check_model_tree(algorithm_of(scenario, trial), trial.params, registry, used);
  json libraries = json::object();
  const auto add = [&](const LoadedPlugin& p) {
    std::string hash;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = file_hash.find(p.file);
      if (it == file_hash.end()) it = file_hash.emplace(p.file, sha256_file(p.file).substr(0, 16)).first;
      hash = it->second;
    }
    libraries[p.descriptor->name] = std::string(p.descriptor->version) + " sha256:" + hash;
  };
  for (const AlgorithmHandle& h : used) add(*h.plugin);
  if (!scenario.environment.plugin.empty())
    add(*check_environment(scenario.environment, registry).handle.plugin);
  json out = {{"recfuse", std::string(build_info::kVersion) + " source:" + build_info::kHostSourceHash + " " +
                              build_info::kBuildType + " " + build_info::kCxxCompiler + build_info::kCxxFlags},
              {"plugins", std::move(libraries)}};
  if (scenario.has_dataset) {  // the data files, once per process, dataset and fold (a sweep asks for every trial)
    static std::map<std::string, std::string> data_hash;
    const std::string fold = scenario.split.method == "fixed" ? trial.fold : std::string();
    const std::string key = scenario.dataset.format + '\n' + scenario.dataset.path + '\n' + fold;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = data_hash.find(key);
    if (it == data_hash.end()) it = data_hash.emplace(key, data_files_sha256(scenario.dataset, scenario.split, fold)).first;
    if (!it->second.empty()) out["data"] = "sha256:" + it->second;
  }
  return out;
}

json failed_record(const Scenario& scenario, const TrialSpec& trial, const std::string& status,
                   const std::string& error) {
  json rec;
  rec["record_version"] = kRecordVersion;
  rec["trial_id"] = trial.id;
  rec["index"] = trial.index;
  rec["algorithm"] = trial.algorithm;
  rec["plugin"] = trial.plugin;
  rec["params"] = params_json(trial.params);
  rec["seed"] = trial.seed;
  rec["fold"] = trial.fold;
  rec["protocol"] = trial.protocol;
  rec["status"] = status;
  rec["error"] = error;
  rec["started_at"] = utc_now();
  // What the sweep expects (parent-written records); a trial process
  // replaces it with what it loaded (execute_trial).
  if (!trial.provenance.empty()) rec["provenance"] = json::parse(trial.provenance);
  (void)scenario;
  return rec;
}

AlgorithmHandle check_trial_algorithm(const Scenario& scenario, const TrialSpec& trial,
                                      const PluginRegistry& registry, json& rec) {
  std::vector<AlgorithmHandle> used;
  check_model_tree(algorithm_of(scenario, trial), trial.params, registry, used);
  const AlgorithmHandle handle = used.front();
  const PluginDescriptor& desc = *handle.plugin->descriptor;
  rec["plugin_library"] = desc.name;
  rec["plugin_file"] = handle.plugin->file.string();
  rec["plugin_version"] = desc.version;
  rec["plugin_fingerprint"] = desc.fingerprint;
  return handle;
}

FittedModel fit_trial_model(const Scenario& scenario, const TrialSpec& trial,
                            const PluginRegistry& registry, const TrainData& train,
                            const TrialOptions& options, ProgressSink* progress, json& rec,
                            json& timing, FitStore* store) {
  FitContext ctx;
  ctx.seed = trial.seed;
  ctx.threads = options.threads;
  ctx.progress = progress;
  const double t0 = wall_seconds();
  const double c0 = process_cpu_seconds();
  FittedModel fitted =
      fit_model_tree(algorithm_of(scenario, trial), trial.params, registry, train, ctx, store);
  timing["fit_wall_s"] = wall_seconds() - t0;
  timing["fit_cpu_s"] = process_cpu_seconds() - c0;
  rec["params"] = fitted.tree["params"];
  if (fitted.tree.contains("children")) rec["model_tree"] = fitted.tree;
  return fitted;
}

FittedModel load_or_fit_trial_model(const Scenario& scenario, const TrialSpec& trial,
                                    const PluginRegistry& registry, const TrainData& train,
                                    const TrialOptions& options, ProgressSink* progress, json& rec,
                                    json& timing) {
  // A saved model (--load-models) in place of fitting, when the algorithm has one.
  std::optional<FittedModel> loaded = load_trial_model(algorithm_of(scenario, trial), trial, registry,
                                                       options.load_model_dir, rec, timing);
  std::optional<FitCache> cache;
  if (!loaded && !options.fit_cache_dir.empty())
    cache.emplace(options.fit_cache_dir, trial, registry, rec);
  FittedModel fitted = loaded ? std::move(*loaded)
                              : fit_trial_model(scenario, trial, registry, train, options, progress, rec, timing,
                                                cache ? &*cache : nullptr);
  if (cache) rec["fit_cache"] = cache->record();
  save_trial_model(fitted, trial, options.model_dir, rec);
  return fitted;
}

void precheck_loadable_model(const Scenario& scenario, const TrialSpec& trial, const PluginRegistry& registry,
                             const TrialOptions& options, const json& known) {
  precheck_trial_model(algorithm_of(scenario, trial), trial, registry, options.load_model_dir, known);
}

void record_model(const Recommender& model, json& rec) {
  // peak_rss_bytes: added by the trial process when it writes the record
  // (trial_command.cpp), the last moment of the trial.
  rec["resources"]["model_bytes"] = model.model_bytes();
  if (const auto diag = model.diagnostics(); !diag.empty()) {
    json d = json::object();
    for (const auto& [name, value] : diag) d[name] = finite_or_null(value);
    rec["diagnostics"] = std::move(d);
  }
}

json execute_trial(const Scenario& scenario, const TrialSpec& trial, const TrialOptions& options,
                   ProgressSink* progress) {
  json rec = failed_record(scenario, trial, "failed", "");
  rec["threads"] = options.threads;
  const double t_start = wall_seconds();
  json timing = json::object();
  // Declared outside the try: a plugin's exception (whose code may live in
  // its library) is read in the handler while the libraries are loaded.
  PluginRegistry registry;
  try {
    omp_set_num_threads(std::max(1, options.threads));
    // Plugins first: a wrong name or parameter fails before any data work.
    registry.scan(options.plugin_dirs);
    rec["provenance"] = trial_provenance(scenario, trial, registry);
    if (trial.simulated()) {
      execute_simulated_trial(scenario, trial, options, progress, rec, timing);
      rec["status"] = "ok";
      timing["trial_wall_s"] = wall_seconds() - t_start;
      rec["timing"] = std::move(timing);
      return rec;
    }

    const AlgorithmHandle handle = check_trial_algorithm(scenario, trial, registry, rec);

    double t0 = wall_seconds();
    Dataset data = load_dataset(scenario.dataset, options.cache_dir);
    apply_filters(data, scenario.filter);
    timing["load_s"] = wall_seconds() - t0;

    t0 = wall_seconds();
    const std::uint64_t split_seed =
        scenario.split.seed ? scenario.split.seed : derive_seed(trial.seed, "split");
    const Split split = make_split(data, scenario.split, trial.fold, split_seed);
    // Model selection evaluates the validation part and never reads test.
    const bool on_validation = scenario.evaluation.target == "validation";
    if (on_validation && split.validation.empty())
      throw Error(scenario.file + ": [evaluation] target = \"validation\" but split '" +
                  split.label + "' produced no validation data (set split." +
                  (scenario.split.method == "leave_last_one_out" ? "validation = true" : "validation_ratio > 0") + ")");
    // Nested: the algorithm's own validation part is carved from train, so
    // the validation part scored here stays unseen (specs.hpp).
    const bool nested = on_validation && scenario.evaluation.nested_validation;
    const Split inner = nested ? nested_validation_split(data, scenario.split, split, split_seed) : Split{};
    if (nested && inner.validation.empty())
      throw Error(scenario.file + ": [evaluation] nested_validation = true but split '" + split.label +
                  "' left no training data to carve a nested validation part from (users need two "
                  "training interactions" +
                  (scenario.split.method == "leave_last_one_out" ? "" : ", or split.validation_ratio > 0") + ")");
    const TrainData train = build_train_data(data, nested ? inner : split);
    // The evaluator's history statistics (cold users, head items, novelty)
    // count the outer train either way, so segments do not move with nesting.
    const TrainData outer_train = nested ? build_train_data(data, split) : TrainData{};
    const TrainData& history = nested ? outer_train : train;
    const CsrMatrix test = build_user_item_csr(on_validation ? split.validation : split.test,
                                               data.n_users(), data.n_items());
    // On test, validation items are history too: never ranked (evaluator.hpp),
    // unless the user repeats one as a test item (sequences may), which
    // must stay rankable.
    std::vector<Interaction> known = split.train;
    if (!on_validation)
      for (const Interaction& x : split.validation) {
        const auto row = test.row(x.user);
        if (!std::binary_search(row.begin(), row.end(), x.item)) known.push_back(x);
      }
    const CsrMatrix excluded = build_user_item_csr(known, data.n_users(), data.n_items());
    timing["split_s"] = wall_seconds() - t0;

    std::int64_t test_users = 0;
    for (std::int32_t u = 0; u < test.rows; ++u) test_users += test.row_size(u) > 0;
    rec["dataset"] = {{"name", data.name},
                      {"format", data.format},
                      {"sha256", data.sha256},
                      {"users", data.n_users()},
                      {"items", data.n_items()},
                      {"interactions", data.interactions.size()},
                      {"skipped_rows", data.skipped_rows},
                      {"split", split.label},
                      {"train", split.train.size()},
                      {"validation", split.validation.size()},
                      {"test", split.test.size()},
                      {"evaluated_on", scenario.evaluation.target},
                      {"nested_validation", nested},
                      {"algorithm_train", (nested ? inner : split).train.size()},
                      {"algorithm_validation", (nested ? inner : split).validation.size()},
                      {"test_users", test_users},
                      {"test_sha256", test_set_fingerprint(test, data.sha256)}};
    // Only what a model file is matched by (~75 ms on ml-1m's 20 MB of interactions).
    if (options.saves_or_loads_models())
      rec["dataset"]["fit_sha256"] = fit_set_fingerprint(nested ? inner : split);

    FittedModel fitted = load_or_fit_trial_model(scenario, trial, registry, train, options, progress, rec, timing);
    Recommender* model = fitted.model.get();

    t0 = wall_seconds();
    const bool rates = (handle.algorithm->capabilities & kCapPredictRating) != 0;
    const EvalOutput ev = evaluate(*model, history, test, excluded, scenario.evaluation, rates, trial.seed);
    timing["eval_wall_s"] = wall_seconds() - t0;
    timing["latency_ms"] = {{"p50", ev.latency.p50_ms}, {"p95", ev.latency.p95_ms},
                            {"p99", ev.latency.p99_ms}, {"max", ev.latency.max_ms},
                            {"mean", ev.latency.mean_ms}, {"n", ev.latency.n}};
    timing["batch_s"] = ev.batch_seconds;
    timing["throughput_users_per_s"] = ev.throughput_users_per_s;

    rec["metrics"] = eval_json::metrics(ev, scenario.evaluation, trial.seed);
    rec["segments"] = eval_json::segments(ev, scenario.evaluation, trial.seed);
    rec["segment_definition"] = eval_json::segment_definition(ev.segment_definition);
    json per_user = json::object();
    per_user["users"] = ev.users;
    per_user["history"] = ev.history;
    eval_json::add_item_segment_vectors(per_user, ev);
    eval_json::add_rating_vectors(per_user, ev);
    for (const auto& [name, values] : ev.per_user) {
      json arr = json::array();
      for (double v : values) arr.push_back(finite_or_null(v));
      per_user[name] = std::move(arr);
    }
    rec["per_user"] = std::move(per_user);
    record_model(*model, rec);
    // After every timed figure and the model's diagnostics, so neither
    // counts them; never fails the trial (runner/explanations.hpp).
    if (scenario.evaluation.explain_users > 0) {
      t0 = wall_seconds();
      add_explanations(*model, (handle.algorithm->capabilities & kCapExplain) != 0, trial.plugin, data, test,
                       excluded, scenario.evaluation, rec);
      timing["explain_s"] = wall_seconds() - t0;
    }
    rec["status"] = "ok";
  } catch (const std::exception& e) {
    rec["status"] = "failed";
    rec["error"] = e.what();
  }
  timing["trial_wall_s"] = wall_seconds() - t_start;
  rec["timing"] = std::move(timing);
  return rec;
}

}  // namespace recfuse
