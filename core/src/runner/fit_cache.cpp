#include "runner/fit_cache.hpp"

#include <fstream>

#include "recfuse/model_io.hpp"
#include "runner/saved_models.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;

/// The plugin libraries of the node `spec` and its children, by name.
void add_libraries(const AlgorithmSpec& spec, const PluginRegistry& registry, const json& known, json& out) {
  const std::string lib = resolve_algorithm(spec, registry).plugin->descriptor->name;
  out[lib] = known.is_object() ? known.value(lib, json()) : json();
  for (const AlgorithmSpec& c : spec.children) add_libraries(c, registry, known, out);
}

}  // namespace

FitCache::FitCache(std::filesystem::path dir, const TrialSpec& trial, const PluginRegistry& registry,
                   const json& rec)
    : dir_(std::move(dir)), registry_(registry) {
  const json& provenance = rec.value("provenance", json::object());
  const json& dataset = rec.value("dataset", json::object());
  json data = json::object();
  for (const char* f : kFitDataFields) data[f] = dataset.value(f, json());
  trial_ = {{"fit_cache", 1},
            {"recfuse", provenance.value("recfuse", json())},
            {"seed", trial.seed},
            {"threads", rec.value("threads", json())},  // SASRec's gradient sums, Hogwild's streams
            {"fold", trial.fold},
            {"data", std::move(data)}};
  libraries_ = provenance.value("plugins", json::object());
  record_ = {{"dir", dir_.string()}, {"read", json::array()}, {"stored", json::array()}, {"errors", json::array()}};
}

json FitCache::identity(const AlgorithmSpec& spec, const FittedModel& node) const {
  json id = trial_;
  json tree = without_fit_times(node.tree);
  tree.erase("name");  // a standalone row and a fusion child of the same fit share it
  id["tree"] = std::move(tree);
  json libraries = json::object();
  add_libraries(spec, registry_, libraries_, libraries);
  id["libraries"] = std::move(libraries);
  return id;
}

std::filesystem::path FitCache::file_of(const json& identity) const {
  return dir_ / (sha256_hex(identity.dump()).substr(0, 32) + ".model");
}

bool FitCache::load(const AlgorithmSpec& spec, FittedModel& node) {
  const json id = identity(spec, node);
  const std::filesystem::path file = file_of(id);
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;  // not kept yet
  try {
    const json header = json::parse(read_model_header(in, file.string()));
    // Another fit under the same name (a hash collision, a foreign file):
    // not this node's, so a miss; the store that follows replaces it.
    if (header.value("fit_cache", json()) != id) return false;
    if (!header.contains("body_sha256")) throw Error("the header records no body_sha256");
    check_model_body(in, header, file.string());
    node.model->load(in);
    const json& data = id.at("data");
    if (node.model->n_users() != data.value("users", -1) || node.model->n_items() != data.value("items", -1))
      throw Error("the model has " + std::to_string(node.model->n_users()) + " users and " +
                  std::to_string(node.model->n_items()) + " items, the data " + data.value("users", json()).dump() +
                  " and " + data.value("items", json()).dump());
  } catch (const std::exception& e) {
    // read_model_header's and check_model_body's errors name the file; a plugin's names itself.
    const std::string what = e.what();
    const std::string error =
        (what.rfind(file.string(), 0) == 0 ? what : file.string() + ": " + what) + " (fitted instead)";
    record_["errors"].push_back(error);
    return false;
  }
  node.tree["fit_cache"] = {{"read", file.string()}};
  record_["read"].push_back(spec.name);
  return true;
}

void FitCache::store(const AlgorithmSpec& spec, FittedModel& node) {
  const json id = identity(spec, node);
  const std::filesystem::path file = file_of(id);
  try {
    const std::uintmax_t bytes = write_model_file(file, {{"fit_cache", id}}, *node.model);
    node.tree["fit_cache"] = {{"stored", file.string()}, {"bytes", bytes}};
    record_["stored"].push_back(spec.name);
  } catch (const std::exception& e) {
    const std::string error = std::string("fit not kept: ") + e.what();
    node.tree["fit_cache"] = {{"error", error}};
    record_["errors"].push_back(error);
  }
}

}  // namespace recfuse
