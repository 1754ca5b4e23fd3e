#include "runner/model_tree.hpp"

#include <cstdio>

#include "host/params_validation.hpp"
#include "util/clock.hpp"

namespace recfuse {
namespace {

std::string at(const AlgorithmSpec& spec) {
  auto it = spec.locations.find("plugin");
  return it != spec.locations.end() ? it->second + ": " : spec.location + ": ";
}

std::string path_of(const AlgorithmSpec& spec) { return spec.key_path + "." + spec.name; }

}  // namespace

ParamSet node_params(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                     const AlgorithmHandle& h) {
  ParamSet p = validate_params(h.params(), params, spec.locations, spec.location,
                               path_of(spec) + ".params");
  const bool takes = (h.algorithm->capabilities & kCapChildren) != 0;
  if (takes && spec.children.empty())
    throw Error(at(spec) + "[" + path_of(spec) + "] '" + spec.plugin +
                "' fuses child recommenders: give them as [[" + path_of(spec) + ".children]]");
  if (!takes && !spec.children.empty())
    throw Error(at(spec) + "[" + path_of(spec) + "] '" + spec.plugin +
                "' does not take children; remove [[" + path_of(spec) + ".children]]");
  return p;
}

nlohmann::json params_json(const ParamSet& p) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : p.values()) std::visit([&](const auto& x) { out[k] = x; }, v);
  return out;
}

AlgorithmHandle resolve_algorithm(const AlgorithmSpec& spec, const PluginRegistry& registry) {
  if (registry.contains(spec.plugin)) return registry.find(spec.plugin);
  std::string msg = at(spec) + "[" + path_of(spec) + "] ";
  try {
    registry.find(spec.plugin);
  } catch (const std::exception& e) {
    msg += e.what();
  }
  for (const auto& err : registry.errors()) msg += "\n  (plugin not loaded) " + err;
  throw Error(msg);
}

void check_model_tree(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                      const PluginRegistry& registry, std::vector<AlgorithmHandle>& used, bool build) {
  const AlgorithmHandle h = resolve_algorithm(spec, registry);
  const ParamSet p = node_params(spec, params, h);
  // The factory too (then dropped): what a plugin checks when it is built
  // (fusion's weight lists, SASRec's heads dividing hidden) fails here, at
  // the scenario's key, before any trial starts, not in each trial.
  if (build) {
    try {
      create_recommender(h, p);
    } catch (const std::exception& e) {
      throw Error(at(spec) + "[" + path_of(spec) + "] " + e.what());
    }
  }
  used.push_back(h);
  for (const auto& c : spec.children) check_model_tree(c, c.params, registry, used, build);
}

namespace {

/// The first node of the tree, depth-first, whose algorithm does not declare
/// kCapSaveLoad, with its path in `path` ("" at the root,
/// "children[0].children[1]" below it); null when every node declares it.
const AlgorithmSpec* find_unsaveable(const AlgorithmSpec& spec, const PluginRegistry& registry, std::string& path) {
  if (!(resolve_algorithm(spec, registry).algorithm->capabilities & kCapSaveLoad)) return &spec;
  const std::string at = path;
  for (std::size_t i = 0; i < spec.children.size(); ++i) {
    path = (at.empty() ? "" : at + ".") + "children[" + std::to_string(i) + "]";
    if (const AlgorithmSpec* node = find_unsaveable(spec.children[i], registry, path)) return node;
  }
  path = at;
  return nullptr;
}

}  // namespace

std::string unsaveable(const AlgorithmSpec& spec, const PluginRegistry& registry) {
  std::string path;
  const AlgorithmSpec* node = find_unsaveable(spec, registry, path);
  if (!node) return {};
  const std::string what = "'" + node->name + "' (plugin " + node->plugin + ") does not declare save/load";
  return "algorithm " + (path.empty() ? what : "'" + spec.name + "' has a child that cannot be saved: " + path + " " + what);
}

nlohmann::json without_fit_times(nlohmann::json tree) {
  tree.erase("fit_wall_s");
  tree.erase("fit_cpu_s");
  tree.erase("fit_cache");
  if (auto it = tree.find("children"); it != tree.end())
    for (nlohmann::json& child : *it) child = without_fit_times(std::move(child));
  return tree;
}

namespace {

/// Builds node `spec` and its children depth-first, each child handed over
/// with set_children before its parent; with `train`, fits each node after
/// its children (`tree` gains its fit times, the children's included), or,
/// with `store`, reads a saveable node kept there.
FittedModel grow_model_tree(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                            const PluginRegistry& registry, const TrainData* train, const FitContext& ctx,
                            FitStore* store) {
  const bool keep = train && store && unsaveable(spec, registry).empty();
  if (keep) {
    const double t0 = wall_seconds(), c0 = process_cpu_seconds();
    FittedModel kept = grow_model_tree(spec, params, registry, nullptr, ctx, nullptr);
    if (store->load(spec, kept)) {
      std::string wait;
      if (const auto w = kept.tree["fit_cache"].find("waited_s"); w != kept.tree["fit_cache"].end()) {
        char s[64];
        std::snprintf(s, sizeof s, " (after waiting %.2f s for another trial's fit)", w->get<double>());
        wait = s;
      }
      ctx.log("'" + spec.name + "' (" + spec.plugin + ") read from the fit cache, not fitted" + wait);
      kept.tree["fit_wall_s"] = wall_seconds() - t0;
      kept.tree["fit_cpu_s"] = process_cpu_seconds() - c0;
      return kept;
    }
  }
  FittedModel out;
  out.handle = resolve_algorithm(spec, registry);
  out.params = node_params(spec, params, out.handle);
  out.model = create_recommender(out.handle, out.params);
  out.tree = {{"name", spec.name},
              {"plugin", spec.plugin},
              {"plugin_version", out.handle.plugin->descriptor->version},
              {"params", params_json(out.params)}};
  const double t0 = wall_seconds(), c0 = process_cpu_seconds();
  if (!spec.children.empty()) {
    std::vector<Child> children;
    nlohmann::json child_trees = nlohmann::json::array();
    for (const auto& c : spec.children) {
      if (train) ctx.log("child '" + c.name + "' (" + c.plugin + ")");
      FittedModel child = grow_model_tree(c, c.params, registry, train, ctx, store);
      children.push_back({c.name, c.plugin, child.handle.algorithm->capabilities, child.model});
      child_trees.push_back(std::move(child.tree));
    }
    out.tree["children"] = std::move(child_trees);
    out.model->set_children(std::move(children));
  }
  if (!train) return out;
  out.model->fit(*train, ctx);
  out.tree["fit_wall_s"] = wall_seconds() - t0;
  out.tree["fit_cpu_s"] = process_cpu_seconds() - c0;
  if (keep) store->store(spec, out);
  return out;
}

}  // namespace

FittedModel fit_model_tree(const AlgorithmSpec& spec,
                           const std::map<std::string, ParamValue>& params,
                           const PluginRegistry& registry, const TrainData& train,
                           const FitContext& ctx, FitStore* store) {
  return grow_model_tree(spec, params, registry, &train, ctx, store);
}

FittedModel build_model_tree(const AlgorithmSpec& spec, const std::map<std::string, ParamValue>& params,
                             const PluginRegistry& registry) {
  return grow_model_tree(spec, params, registry, nullptr, FitContext{}, nullptr);
}

}  // namespace recfuse
