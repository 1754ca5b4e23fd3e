// The simulated protocols of a trial (DESIGN.md "Environments"): the host
// builds the scenario's environment, collects logs from a logging policy
// (propensities recorded), fits the algorithm on them, and then either
//
// - online: deploys it as a policy for `episodes` episodes (its `act` picks
//   each slate from the step's candidates; `observe` is called when it
//   learns online) and reports return, CTR, session length, engagement,
//   coverage, diversity, regret against the environment's myopic oracle on
//   the same episodes, and the learning curve; or
// - off_policy: estimates the expected reward of the frozen policy's first
//   slate of a session from the first steps of a fresh log with IPS, SNIPS
//   and doubly robust (eval/ope.hpp), and measures that true value by
//   running the same frozen policy on-policy, so that each estimator's error
//   is known.
//
// Episodes are run in batches of sessions; batch b resets the environment
// from derive_seed(trial seed, "episodes", b), so every algorithm of a trial
// seed meets the same users in the same order (paired comparisons by episode).
#pragma once

#include <nlohmann/json.hpp>

#include "host/plugin_loader.hpp"
#include "runner/trial.hpp"

namespace recfuse {

/// The scenario's environment plugin with its parameters validated against
/// the plugin's table; errors name the scenario file, line and key.
struct CheckedEnvironment {
  EnvironmentHandle handle;
  ParamSet params;
};
CheckedEnvironment check_environment(const EnvironmentSpec& spec, const PluginRegistry& registry);

/// Runs an online or off_policy trial; fills `rec` (identity fields already
/// set by execute_trial). Throws on failure; the caller records the error.
void execute_simulated_trial(const Scenario& scenario, const TrialSpec& trial,
                             const TrialOptions& options, ProgressSink* progress,
                             nlohmann::json& rec, nlohmann::json& timing);

}  // namespace recfuse
