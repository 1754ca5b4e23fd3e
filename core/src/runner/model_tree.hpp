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

/// Why the tree of `spec` cannot be saved: "algorithm 'rnd' (plugin random)
/// does not declare save/load", or "algorithm 'fused' has a child that
/// cannot be saved: children[1] 'rnd' (plugin random) does not declare
/// save/load"; "" when every node declares kCapSaveLoad.
std::string unsaveable(const AlgorithmSpec& spec, const PluginRegistry& registry);

/// FittedModel::tree without its fit times (nor fit_cache notes): what the
/// model is, children included.
nlohmann::json without_fit_times(nlohmann::json tree);

/// Fitted nodes kept between trials (runner/fit_cache.hpp, recfuse run
/// --fit-cache). fit_model_tree asks it before fitting a node whose whole
/// subtree declares save/load, and hands it every such node it fitted.
class FitStore {
 public:
  virtual ~FitStore() = default;
  /// Loads `node` (built unfitted, children handed over) when a fit of the
  /// same identity is kept, and notes so in node.tree; false: fit it.
  virtual bool load(const AlgorithmSpec& spec, FittedModel& node) = 0;
  /// Keeps the fitted `node`, noting the outcome in node.tree.
  virtual void store(const AlgorithmSpec& spec, FittedModel& node) = 0;
};

/// Builds and fits the tree depth-first (children before their parent).
/// The root's fit time in `tree` includes its children's. With `store`,
/// each saveable node is read from it when kept there (its "fit" time is
/// then the read's), else fitted and handed to it.
FittedModel fit_model_tree(const AlgorithmSpec& spec,
                           const std::map<std::string, ParamValue>& params,
                           const PluginRegistry& registry, const TrainData& train,
                           const FitContext& ctx, FitStore* store = nullptr);

/// The same tree built without fitting: every node created, children handed
/// over unfitted with set_children (the state Recommender::load expects);
/// `tree` without fit times.
FittedModel build_model_tree(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                             const PluginRegistry& registry);

}  // namespace recfuse
