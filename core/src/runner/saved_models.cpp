#include "runner/saved_models.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "recfuse/model_io.hpp"
#include "util/clock.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;

bool saveable(const AlgorithmHandle& handle) {
  return (handle.algorithm->capabilities & kCapSaveLoad) != 0;
}

/// The record's "dataset" fields a fitted model depends on: the data (its
/// hash and shape after [filter]) and the part of it the algorithm trained
/// on (sizes and fingerprint). Not the dataset's name, nor what was evaluated.
constexpr const char* kFitDataFields[] = {"sha256", "users", "items", "split", "nested_validation",
                                          "algorithm_train", "algorithm_validation", "fit_sha256"};

/// What a model saved for this trial's fit has in its header, as
/// (dotted name, value) pairs; the header's own value of each name is
/// header[name] with "params." and "dataset." resolved one level down.
std::vector<std::pair<std::string, json>> fit_identity(const TrialSpec& trial, const AlgorithmHandle& handle,
                                                       const json& params, const json& dataset) {
  const PluginDescriptor& desc = *handle.plugin->descriptor;
  std::vector<std::pair<std::string, json>> out = {{"plugin_library", desc.name},
                                                   {"plugin_version", desc.version},
                                                   {"plugin", trial.plugin},
                                                   {"seed", trial.seed},
                                                   {"fold", trial.fold}};
  for (const auto& [k, v] : params.items()) out.emplace_back("params." + k, v);
  for (const char* f : kFitDataFields) out.emplace_back(std::string("dataset.") + f, dataset.value(f, json()));
  return out;
}

json header_value(const json& header, const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return header.value(name, json());
  const json& table = header.value(name.substr(0, dot), json::object());
  return table.is_object() ? table.value(name.substr(dot + 1), json()) : json();
}

/// The names in `identity` whose saved value differs, as
/// "params.factors (saved 64, here 32)"; a saved parameter this plugin no
/// longer has counts too.
std::vector<std::string> differences(const json& header, const std::vector<std::pair<std::string, json>>& identity) {
  std::vector<std::string> out;
  for (const auto& [name, want] : identity) {
    const json got = header_value(header, name);
    if (got != want)
      out.push_back(name + " (saved " + (got.is_null() ? std::string("nothing") : got.dump()) + ", here " +
                    want.dump() + ")");
  }
  if (const json saved = header.value("params", json::object()); saved.is_object())
    for (const auto& [k, v] : saved.items())
      if (std::none_of(identity.begin(), identity.end(), [&](const auto& p) { return p.first == "params." + k; }))
        out.push_back("params." + k + " (saved " + v.dump() + ", not a parameter here)");
  return out;
}

/// The header of `file`, or nothing when it is not a readable model file.
std::optional<json> read_header(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    json header = json::parse(read_model_header(in, file.string()));
    if (header.is_object()) return header;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// The first `*.model` file in `dir` (the trial's own id first, then by
/// name) whose header matches `identity`; an Error naming the nearest file
/// and its differences when none does.
std::filesystem::path find_model(const std::filesystem::path& dir, const TrialSpec& trial,
                                 const std::vector<std::pair<std::string, json>>& identity) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".model" && it->is_regular_file()) files.push_back(it->path());
  if (ec) throw Error(dir.string() + ": cannot list the saved models: " + ec.message());
  std::sort(files.begin(), files.end());
  const std::filesystem::path own = dir / (trial.id + ".model");
  if (const auto it = std::find(files.begin(), files.end(), own); it != files.end())
    std::rotate(files.begin(), it, it + 1);

  std::filesystem::path nearest;
  std::vector<std::string> nearest_diff;
  std::size_t unreadable = 0;
  for (const auto& file : files) {
    const std::optional<json> header = read_header(file);
    if (!header) {
      ++unreadable;
      continue;
    }
    std::vector<std::string> diff = differences(*header, identity);
    if (diff.empty()) return file;
    // Only a model of the same plugin is worth naming.
    if (header_value(*header, "plugin") == json(trial.plugin) &&
        (nearest.empty() || diff.size() < nearest_diff.size())) {
      nearest = file;
      nearest_diff = std::move(diff);
    }
  }
  std::string msg = "no saved model in " + dir.string() + " fits trial '" + trial.algorithm + "' (plugin '" +
                    trial.plugin + "', seed " + std::to_string(trial.seed) +
                    (trial.fold.empty() ? std::string() : ", fold " + trial.fold) + ")";
  if (nearest.empty()) {
    msg += ": none of its " + std::to_string(files.size() - unreadable) + " model file(s) is of plugin '" +
           trial.plugin + "'";
  } else {
    msg += "; the nearest, " + nearest.filename().string() + ", differs in";
    for (std::size_t i = 0; i < nearest_diff.size(); ++i) msg += (i ? ", " : " ") + nearest_diff[i];
  }
  if (unreadable) msg += " (" + std::to_string(unreadable) + " file(s) there are not recfuse model files)";
  throw Error(msg);
}

}  // namespace

void save_trial_model(const Recommender& model, const AlgorithmHandle& handle, const TrialSpec& trial,
                      const std::filesystem::path& dir, json& rec) {
  if (dir.empty()) return;
  if (!saveable(handle)) {
    rec["saved_model"] = {{"skipped", "algorithm '" + handle.name() + "' does not declare save/load"}};
    return;
  }
  const PluginDescriptor& desc = *handle.plugin->descriptor;
  const json header = {{"plugin_library", desc.name},
                       {"plugin_version", desc.version},
                       {"plugin_fingerprint", desc.fingerprint},
                       {"plugin", trial.plugin},
                       {"algorithm", trial.algorithm},
                       {"params", rec["params"]},
                       {"trial_id", trial.id},
                       {"seed", trial.seed},
                       {"fold", trial.fold},
                       {"n_users", model.n_users()},
                       {"n_items", model.n_items()},
                       {"dataset", rec.value("dataset", json::object())},
                       {"provenance", rec.value("provenance", json::object())}};
  // Streamed to a temporary file, then renamed: no copy of the model in
  // memory (it would count in the trial's peak RSS), no torn file. A failed
  // save is noted in the record; the trial's metrics still count.
  const std::filesystem::path file = dir / (trial.id + ".model");
  const std::filesystem::path tmp = dir / (trial.id + ".model.tmp");
  try {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(dir.string() + ": " + ec.message());
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp.string() + ": cannot open for writing");
    out << kModelMagic << "\n" << header.dump() << "\n";
    model.save(out);
    out.close();
    if (!out) throw Error(tmp.string() + ": write failed");
    std::filesystem::rename(tmp, file);
    rec["saved_model"] = {{"file", file.string()}, {"bytes", std::filesystem::file_size(file)}};
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    rec["saved_model"] = {{"error", std::string("model not saved: ") + e.what()}};
  }
}

std::optional<FittedModel> load_trial_model(const AlgorithmSpec& spec, const TrialSpec& trial,
                                            const AlgorithmHandle& handle,
                                            const std::filesystem::path& dir, json& rec, json& timing) {
  if (dir.empty()) return std::nullopt;
  if (!saveable(handle) || !spec.children.empty()) {
    rec["loaded_model"] = {{"skipped", "algorithm '" + handle.name() + "' does not declare save/load: fitted"}};
    return std::nullopt;
  }
  const double t0 = wall_seconds();
  FittedModel out;
  out.handle = handle;
  out.params = node_params(spec, trial.params, handle);
  const json params = params_json(out.params);
  const std::filesystem::path file =
      find_model(dir, trial, fit_identity(trial, handle, params, rec.value("dataset", json::object())));
  std::ifstream in(file, std::ios::binary);
  const json header = json::parse(read_model_header(in, file.string()));
  out.model = create_recommender(handle, out.params);
  try {
    out.model->load(in);
  } catch (const std::exception& e) {
    throw Error(file.string() + ": " + e.what());
  }
  const auto& dataset = rec["dataset"];
  if (out.model->n_users() != dataset.value("users", -1) || out.model->n_items() != dataset.value("items", -1))
    throw Error(file.string() + ": the model has " + std::to_string(out.model->n_users()) + " users and " +
                std::to_string(out.model->n_items()) + " items; the data has " + dataset.value("users", json()).dump() +
                " and " + dataset.value("items", json()).dump());
  timing["load_model_s"] = wall_seconds() - t0;
  rec["params"] = params;
  rec["loaded_model"] = {{"file", file.string()},
                         {"bytes", std::filesystem::file_size(file)},
                         {"saved_trial_id", header.value("trial_id", "")},
                         {"saved_plugin_fingerprint", header.value("plugin_fingerprint", "")}};
  out.tree = {{"name", spec.name},
              {"plugin", spec.plugin},
              {"plugin_version", handle.plugin->descriptor->version},
              {"params", params}};
  return out;
}

}  // namespace recfuse
