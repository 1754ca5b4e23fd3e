// Building a trial's model: the algorithm named by the scenario, with its
// parameters validated against the plugin's declared table, and for fusion
// strategies (kCapChildren) the child recommenders built, fitted and handed
// over first, recursively; or the same tree built unfitted, for a saved
// model to be loaded into (runner/saved_models.hpp).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "host/plugin_loader.hpp"
#include "recfuse/recommender.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// The plugin of `spec`, or an Error at the scenario's `plugin` key:
/// "s.toml:4:10: [algorithms.x] unknown plugin 'itemkn'; did you mean ...",
/// listing libraries that failed to load.
AlgorithmHandle resolve_algorithm(const AlgorithmSpec& spec, const PluginRegistry& registry);

/// Checks the whole tree without fitting it: plugins exist, parameters
/// validate (`params` are the root's values for this trial), children are
/// given exactly to algorithms that take them, and with `build` each node's
/// factory accepts them (the object is built and dropped: the run's up-front
/// check; a trial's fit builds them anyway). Returns the plugins used.
void check_model_tree(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                      const PluginRegistry& registry, std::vector<AlgorithmHandle>& used, bool build = false);

/// The parameters of one node of the tree validated against its plugin's
/// table (defaults filled in), and the children rule checked.
ParamSet node_params(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                     const AlgorithmHandle& h);

/// Validated parameters as a JSON object (for records).
nlohmann::json params_json(const ParamSet& p);

struct FittedModel {
  RecommenderPtr model;
  AlgorithmHandle handle;
  ParamSet params;
  /// {"name","plugin","plugin_version","params","fit_wall_s","fit_cpu_s",
  ///  "children":[...]} — the report records the tree.
  nlohmann::json tree;
};

/// Builds and fits the tree depth-first (children before their parent).
/// The root's fit time in `tree` includes its children's.
FittedModel fit_model_tree(const AlgorithmSpec& spec,
                           const std::map<std::string, ParamValue>& params,
                           const PluginRegistry& registry, const TrainData& train,
                           const FitContext& ctx);

/// The same tree built without fitting: every node created, children handed
/// over unfitted with set_children (the state Recommender::load expects);
/// `tree` without fit times.
FittedModel build_model_tree(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                             const PluginRegistry& registry);

}  // namespace recfuse
