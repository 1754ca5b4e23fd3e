#include "runner/fit_cache.hpp"

#include "recfuse/model_io.hpp"
#include "runner/model_splice.hpp"
#include "runner/saved_models.hpp"
#include "util/clock.hpp"
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
  if (trial.simulated()) {  // fitted on logs collected in the trial's world (saved_models.hpp)
    const json& environment = rec.value("environment", json::object());
    const json& logs = rec.value("logs", json::object());
    json world = {{"params", environment.value("params", json())},
                  {"users", environment.value("users", json())},
                  {"items", environment.value("items", json())}};
    for (const char* f : kFitEnvironmentFields) world[f] = environment.value(f, json());
    json logged = json::object();
    for (const char* f : kFitLogFields) logged[f] = logs.value(f, json());
    trial_["environment"] = std::move(world);
    trial_["logs"] = std::move(logged);
  }
  libraries_ = provenance.value("plugins", json::object());
  record_ = {{"dir", dir_.string()}, {"read", json::array()},   {"stored", json::array()},
             {"errors", json::array()},  {"waited_s", 0.0}};
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

int FitCache::read(const json& id, const std::filesystem::path& file, FittedModel& node) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return 0;  // not kept yet (or not reachable: fit it)
  try {
    // Read twice, as the body's sha256 is checked before load; children
    // spliced out (model_splice.hpp) are read from their own files.
    BodyBuf check_buf(file);
    std::istream check(&check_buf);
    check.exceptions(std::ios::badbit);  // the splice reader's errors name the files
    const json& header = check_buf.header();
    // Another fit under the same name (a hash collision, a foreign file):
    // not this node's, so a miss; the store that follows replaces it.
    if (header.value("fit_cache", json()) != id) return 0;
    if (!header.contains("body_sha256")) throw Error("the header records no body_sha256");
    check_body_sha256(check, header, file.string());
    BodyBuf body_buf(file);
    std::istream body(&body_buf);
    body.exceptions(std::ios::badbit);
    node.model->load(body);
    // The users and items fitted on: the environment's in a simulated trial.
    const json& data = id.contains("environment") ? id.at("environment") : id.at("data");
    if (node.model->n_users() != data.value("users", -1) || node.model->n_items() != data.value("items", -1))
      throw Error("the model has " + std::to_string(node.model->n_users()) + " users and " +
                  std::to_string(node.model->n_items()) + " items, the " +
                  (id.contains("environment") ? "environment " : "data ") + data.value("users", json()).dump() +
                  " and " + data.value("items", json()).dump());
    return 1;
  } catch (const std::exception& e) {
    // The header's and body's errors name the file; a plugin's names itself.
    const std::string what = e.what();
    record_["errors"].push_back((what.rfind(file.string(), 0) == 0 ? what : file.string() + ": " + what) +
                                " (fitted instead)");
    return -1;
  }
}

bool FitCache::load(const AlgorithmSpec& spec, FittedModel& node) {
  const json id = identity(spec, node);
  const std::filesystem::path file = file_of(id);
  if (held_.count(file)) return false;  // this trial is fitting it (never: a node's name covers its subtree)
  // A kept file is renamed into place whole and checked before load: read
  // it without the lock, so trials reading one node do not queue.
  int got = read(id, file, node);
  double waited = 0.0;
  if (got <= 0) {
    const double t0 = wall_seconds();
    FileLock lock(std::filesystem::path(file).replace_extension(".lock"));  // waits for another trial's fit
    waited = wall_seconds() - t0;
    record_["waited_s"] = record_["waited_s"].get<double>() + waited;
    if (got == 0 && lock.held()) got = read(id, file, node);  // kept while this trial waited
    if (got <= 0) {
      held_.insert_or_assign(file, std::move(lock));  // until store: others wait for this fit
      return false;
    }
  }
  node.tree["fit_cache"] = {{"read", file.string()}};
  if (waited >= 1e-3) node.tree["fit_cache"]["waited_s"] = waited;
  record_["read"].push_back(spec.name);
  return true;
}

void FitCache::store(const AlgorithmSpec& spec, FittedModel& node) {
  const json id = identity(spec, node);
  const std::filesystem::path file = file_of(id);
  // A fusion node's children are kept in files of their own (read or
  // stored just before): its file leaves their bytes out.
  std::vector<std::filesystem::path> children;
  for (const json& child : node.tree.value("children", json::array())) {
    const json& note = child.value("fit_cache", json::object());
    for (const char* kept : {"read", "stored"})
      if (note.contains(kept)) children.emplace_back(note.at(kept).get<std::string>());
  }
  try {
    std::size_t spliced = 0;
    const std::uintmax_t bytes = write_model_file(file, {{"fit_cache", id}}, *node.model, children, &spliced);
    node.tree["fit_cache"] = {{"stored", file.string()}, {"bytes", bytes}};
    if (!children.empty()) node.tree["fit_cache"]["children_spliced"] = spliced;
    record_["stored"].push_back(spec.name);
  } catch (const std::exception& e) {
    const std::string error = std::string("fit not kept: ") + e.what();
    node.tree["fit_cache"] = {{"error", error}};
    record_["errors"].push_back(error);
  }
  held_.erase(file);  // a waiting trial reads it now (or, on an error, fits it)
}

}  // namespace recfuse
