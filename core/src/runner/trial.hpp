// Inside one trial process: load and split the data, build and fit the
// plugin, evaluate it, and produce the trial record (runner/record.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recfuse/recommender.hpp"
#include "runner/model_tree.hpp"
#include "scenario/scenario.hpp"

namespace recfuse {

struct TrialOptions {
  std::vector<std::filesystem::path> plugin_dirs;  // search path for plugins
  std::filesystem::path cache_dir;                 // dataset cache; empty = none
  int threads = 1;                                 // OpenMP threads for this trial
  std::filesystem::path model_dir;                 // save the fitted model here; empty = no
  std::filesystem::path load_model_dir;            // read saved models from here instead of
                                                   // fitting (saved_models.hpp); empty = no
  std::filesystem::path fit_cache_dir;             // fits kept between trials (fit_cache.hpp);
                                                   // empty = none
  /// Whether fitted models are written or read by identity (saved_models.hpp,
  /// fit_cache.hpp), so the record needs the fingerprint of what the fit saw.
  bool saves_or_loads_models() const {
    return !model_dir.empty() || !load_model_dir.empty() || !fit_cache_dir.empty();
  }
};

/// Runs `trial` and returns its record. Never throws for a failure of the
/// trial itself: the record then has status "failed" and the error message.
nlohmann::json execute_trial(const Scenario& scenario, const TrialSpec& trial,
                             const TrialOptions& options, ProgressSink* progress);

/// Steps every protocol shares (trial.cpp), each filling its part of the
/// record: the algorithm tree checked against the plugins (plugin fields);
/// the tree fitted on `train` (params, model_tree, fit timings); the
/// fitted model's size and diagnostics.
AlgorithmHandle check_trial_algorithm(const Scenario& scenario, const TrialSpec& trial,
                                      const PluginRegistry& registry, nlohmann::json& rec);
FittedModel fit_trial_model(const Scenario& scenario, const TrialSpec& trial,
                            const PluginRegistry& registry, const TrainData& train,
                            const TrialOptions& options, ProgressSink* progress,
                            nlohmann::json& rec, nlohmann::json& timing, FitStore* store = nullptr);
/// The tree read from options.load_model_dir when that is set
/// (load_trial_model: a trial with no matching file throws; one whose
/// algorithm cannot be saved is fitted), else fitted on `train` (through
/// options.fit_cache_dir when set); then written to options.model_dir when
/// set (save_trial_model). `rec` must hold what the fit depends on first:
/// "dataset" (with fit_sha256 when options.saves_or_loads_models(), for an
/// offline trial), and for a simulated trial "environment" and "logs"
/// (with logs.fit_sha256 then).
FittedModel load_or_fit_trial_model(const Scenario& scenario, const TrialSpec& trial,
                                    const PluginRegistry& registry, const TrainData& train,
                                    const TrialOptions& options, ProgressSink* progress,
                                    nlohmann::json& rec, nlohmann::json& timing);
void record_model(const Recommender& model, nlohmann::json& rec);
/// With options.load_model_dir set, before a simulated trial builds its
/// world and collects its logs: throws load_or_fit_trial_model's error when
/// no saved file matches even what is known then (precheck_trial_model;
/// `known`: the record's "environment" and "logs" as far as the settings
/// give them), so a wrong directory, seed, parameter, environment or
/// logging setting fails without that work.
void precheck_loadable_model(const Scenario& scenario, const TrialSpec& trial, const PluginRegistry& registry,
                             const TrialOptions& options, const nlohmann::json& known);

/// What a trial's result depends on beyond its spec: this build of recfuse
/// (version, a hash of the host's source files taken at build time, build
/// type, compiler and flags) and every plugin library the trial loads (its
/// algorithm tree and the scenario's environment) by name, version and a
/// hash of the library file, and the data files it reads ("data",
/// data_files_sha256; absent for synthetic data). Each record carries it as "provenance"; a
/// resumed sweep reruns a record whose provenance differs from the current
/// build's (sweep.hpp). Not the git commit: a commit of scenarios or
/// documentation changes no result. Throws like check_model_tree on an
/// unknown plugin or invalid parameter.
nlohmann::json trial_provenance(const Scenario& scenario, const TrialSpec& trial,
                                const PluginRegistry& registry);

/// The record of a trial that produced none itself (crash, timeout, spawn
/// failure): identity fields from the spec, status and error.
nlohmann::json failed_record(const Scenario& scenario, const TrialSpec& trial,
                             const std::string& status, const std::string& error);

}  // namespace recfuse
