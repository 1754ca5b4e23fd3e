#include "runner/saved_models_match.hpp"

#include <algorithm>
#include <fstream>
#include <optional>

#include "recfuse/model_io.hpp"
#include "runner/saved_models.hpp"

namespace recfuse {

using json = nlohmann::json;

FitIdentity fit_identity(const TrialSpec& trial, const FittedModel& model, const json& rec) {
  const PluginDescriptor& desc = *model.handle.plugin->descriptor;
  FitIdentity out;
  out.trial = {{"plugin_library", desc.name},
               {"plugin_version", desc.version},
               {"plugin", trial.plugin},
               {"seed", trial.seed},
               {"fold", trial.fold}};
  out.params = model.tree.at("params");
  out.tree = without_fit_times(model.tree);
  out.environment = rec.value("environment", json::object());
  const auto add = [&](const char* table, const auto& fields) {
    const json t = rec.value(table, json::object());
    for (const char* f : fields) out.data.emplace_back(std::string(table) + "." + f, t.value(f, json()));
  };
  add("environment", kFitEnvironmentFields);
  add("logs", kFitLogFields);
  add("dataset", kFitDataFields);
  return out;
}

namespace {

json header_value(const json& header, const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return header.value(name, json());
  const json& table = header.value(name.substr(0, dot), json::object());
  return table.is_object() ? table.value(name.substr(dot + 1), json()) : json();
}

/// `saved` and `here` as one difference, "params.factors (saved 64, here 32)", when they differ.
void compare(const std::string& name, const json& saved, const json& here, std::vector<std::string>& out) {
  if (saved != here)
    out.push_back(name + " (saved " + (saved.is_null() ? std::string("nothing") : saved.dump()) + ", here " +
                  here.dump() + ")");
}

/// `node[key]`, or `fallback` when node is not an object or has no such key.
json member(const json& node, const char* key, json fallback) {
  return node.is_object() ? node.value(key, std::move(fallback)) : fallback;
}

/// The differences of the saved parameters from `here`, named `prefix` + key;
/// a saved parameter this plugin no longer has counts too.
void param_differences(const json& saved, const json& here, const std::string& prefix, std::vector<std::string>& out) {
  const json got = saved.is_object() ? saved : json::object();
  for (const auto& [k, v] : here.items()) compare(prefix + k, got.value(k, json()), v, out);
  for (const auto& [k, v] : got.items())
    if (!here.contains(k)) out.push_back(prefix + k + " (saved " + v.dump() + ", not a parameter here)");
}

/// The differences of the saved tree's children from `here`'s, named from
/// `at`: "children[0].params.factors (saved 64, here 32)". Another number
/// of children is one difference ("children (saved 3, here 2)"), and a
/// child of another plugin is one (its version and parameters are that
/// plugin's, not worth listing).
void child_differences(const json& saved, const json& here, const std::string& at, std::vector<std::string>& out) {
  const json s = member(saved, "children", json::array()), h = member(here, "children", json::array());
  const std::size_t ns = s.is_array() ? s.size() : 0, nh = h.size();
  if (ns != nh) compare(at + "children", json(ns), json(nh), out);
  for (std::size_t i = 0; i < std::min(ns, nh); ++i) {
    const std::string p = at + "children[" + std::to_string(i) + "].";
    compare(p + "name", member(s[i], "name", json()), h[i].at("name"), out);
    const json plugin = member(s[i], "plugin", json());
    compare(p + "plugin", plugin, h[i].at("plugin"), out);
    if (plugin != h[i].at("plugin")) continue;
    compare(p + "plugin_version", member(s[i], "plugin_version", json()), h[i].at("plugin_version"), out);
    param_differences(member(s[i], "params", json::object()), h[i].at("params"), p + "params.", out);
    child_differences(s[i], h[i], p, out);
  }
}

/// What differs between `header` and `identity`, in the order trial fields,
/// parameters, children, data, the environment's parameters (only for the
/// same environment plugin).
std::vector<std::string> differences(const json& header, const FitIdentity& identity) {
  std::vector<std::string> out;
  for (const auto& [name, want] : identity.trial) compare(name, header_value(header, name), want, out);
  param_differences(header.value("params", json::object()), identity.params, "params.", out);
  child_differences(header.value("model_tree", json::object()), identity.tree, "", out);
  for (const auto& [name, want] : identity.data) compare(name, header_value(header, name), want, out);
  const json& env = identity.environment;
  if (env.contains("params") && header_value(header, "environment.plugin") == env.value("plugin", json()))
    param_differences(header_value(header, "environment.params"), env.at("params"), "environment.params.", out);
  return out;
}

/// The header of `file`, or nothing when it is not a readable model file.
std::optional<json> read_header(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  // The magic line first, by a bounded read: a foreign file without line
  // breaks is not read whole (every trial scans the directory's headers).
  const std::string magic = std::string(kModelMagic) + "\n";
  std::string head(magic.size(), '\0');
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size())) || head != magic) return std::nullopt;
  in.seekg(0);
  try {
    json header = json::parse(read_model_header(in, file.string()));
    if (header.is_object()) return header;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

std::filesystem::path find_model(const std::filesystem::path& dir, const TrialSpec& trial,
                                 const FitIdentity& identity) {
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
  std::vector<std::string> unreadable;  // file names, the trial's own first
  for (const auto& file : files) {
    const std::optional<json> header = read_header(file);
    if (!header) {
      unreadable.push_back(file.filename().string());
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
    msg += ": none of its " + std::to_string(files.size() - unreadable.size()) + " model file(s) is of plugin '" +
           trial.plugin + "'";
  } else {
    msg += "; the nearest, " + nearest.filename().string() + ", differs in";
    for (std::size_t i = 0; i < nearest_diff.size(); ++i) msg += (i ? ", " : " ") + nearest_diff[i];
  }
  if (!unreadable.empty()) {  // a damaged copy of the trial's own file is named first
    msg += " (" + std::to_string(unreadable.size()) + " file(s) there are not readable recfuse model files:";
    for (std::size_t i = 0; i < unreadable.size() && i < 3; ++i) msg += (i ? ", " : " ") + unreadable[i];
    msg += (unreadable.size() > 3 ? ", ...)" : ")");
  }
  throw Error(msg);
}

}  // namespace recfuse
