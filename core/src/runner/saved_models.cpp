#include "runner/saved_models.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recfuse/model_io.hpp"
#include "runner/model_splice.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;

bool saveable(const AlgorithmHandle& handle) {
  return (handle.algorithm->capabilities & kCapSaveLoad) != 0;
}

using Fields = std::vector<std::pair<std::string, json>>;

/// What a model saved for this trial's fit has in its header: `trial` and
/// `data` as (dotted name, value) pairs, whose header values are
/// header[name] with "dataset.", "environment." or "logs." resolved one
/// level down (the last two null for an offline trial); the root's
/// validated `params`; `tree`, the model tree without fit times, whose
/// children (their names, plugins, versions, parameters and children)
/// must match the header's "model_tree"; and a simulated trial's
/// `environment`, whose validated parameters are compared key by key.
struct FitIdentity {
  Fields trial;
  json params;
  json tree;
  Fields data;
  json environment;
};

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

/// The first `*.model` file in `dir` (the trial's own id first, then by
/// name) whose header matches `identity`; an Error naming the nearest file
/// and its differences when none does.
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

void save_trial_model(const FittedModel& fitted, const TrialSpec& trial, const std::filesystem::path& dir,
                      json& rec) {
  if (dir.empty()) return;
  if (!saveable(fitted.handle)) {
    rec["saved_model"] = {{"skipped", "algorithm '" + fitted.handle.name() + "' does not declare save/load"}};
    return;
  }
  const PluginDescriptor& desc = *fitted.handle.plugin->descriptor;
  json header = {{"plugin_library", desc.name},
                 {"plugin_version", desc.version},
                 {"plugin_fingerprint", desc.fingerprint},
                 {"plugin", trial.plugin},
                 {"algorithm", trial.algorithm},
                 {"params", fitted.tree.at("params")},
                 {"model_tree", without_fit_times(fitted.tree)},
                 {"trial_id", trial.id},
                 {"seed", trial.seed},
                 {"fold", trial.fold},
                 {"n_users", fitted.model->n_users()},
                 {"n_items", fitted.model->n_items()},
                 {"dataset", rec.value("dataset", json::object())},
                 {"provenance", rec.value("provenance", json::object())}};
  for (const char* simulated : {"environment", "logs"})  // a simulated trial's
    if (rec.contains(simulated)) header[simulated] = rec.at(simulated);
  // A failed save (a fusion child that cannot be saved, a full disk) is
  // noted in the record; the trial's metrics still count.
  const std::filesystem::path file = dir / (trial.id + ".model");
  try {
    rec["saved_model"] = {{"file", file.string()}, {"bytes", write_model_file(file, header, *fitted.model)}};
  } catch (const std::exception& e) {
    rec["saved_model"] = {{"error", std::string("model not saved: ") + e.what()}};
  }
}

namespace {

/// Forwards what the model writes to `out`, hashing it on the way.
class HashingBuf final : public std::streambuf {
 public:
  explicit HashingBuf(std::streambuf* out) : out_(out) {}
  std::string hex_digest() { return hash_.hex_digest(); }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    hash_.update(&ch, 1);
    return out_->sputc(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    hash_.update(s, static_cast<std::size_t>(n));
    return out_->sputn(s, n);
  }

 private:
  std::streambuf* out_;
  Sha256 hash_;
};

constexpr std::size_t kHexDigest = 64;

}  // namespace

namespace {

/// One attempt of write_model_file; nothing when, splicing, the list of
/// what was left out outgrew the room kept for it (the caller writes whole).
std::optional<std::uintmax_t> write_model_file_once(const std::filesystem::path& file, const json& header,
                                                    const Recommender& model,
                                                    const std::vector<std::filesystem::path>& splice_from,
                                                    std::size_t* spliced) {
  // Streamed to a temporary file of this writer (util/fs.hpp), then renamed:
  // no copy of the model in memory (it would count in the trial's peak RSS;
  // a fusion strategy holds one child's bytes at a time, fusion_io.hpp), no
  // torn file, and writers of the same file on other machines do not mix
  // their bytes. The header's last fields, body_sha256 and "spliced", are
  // placeholders while the body is written, filled in last ("spliced"
  // padded with spaces).
  const std::filesystem::path tmp = unique_temp_path(file);
  try {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) throw Error(file.parent_path().string() + ": " + ec.message());
    json fields = header.is_null() ? json::object() : header;
    fields.erase("body_sha256");
    fields.erase("spliced");
    std::string line = fields.dump();
    line.pop_back();  // its closing brace
    if (line.size() > 1) line += ',';
    const std::size_t at = line.size() + 15;
    line += "\"body_sha256\":\"" + std::string(kHexDigest, '0') + "\"";
    const std::size_t room = 512 * splice_from.size();  // a splice is ~170 characters
    std::size_t list_at = 0;
    if (!splice_from.empty()) {
      line += ",\"spliced\":";
      list_at = line.size();
      line += std::string(room, ' ');
    }
    line += '}';
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp.string() + ": cannot open for writing");
    const auto header_at = static_cast<std::streamoff>(std::string_view(kModelMagic).size() + 1);
    out << kModelMagic << "\n" << line << "\n";
    {
      std::optional<SplicingBuf> splicing;
      if (!splice_from.empty()) splicing.emplace(out.rdbuf(), splice_from);
      HashingBuf hashing(splicing ? static_cast<std::streambuf*>(&*splicing) : out.rdbuf());
      std::ostream hashed(&hashing);
      hashed.exceptions(std::ios::badbit);  // the splicer's errors, as they are
      model.save(hashed);
      if (!hashed) throw Error(tmp.string() + ": write failed");
      if (splicing) {
        splicing->finish();
        const std::string list = splicing->splices().dump();
        if (list.size() > room) {
          out.close();
          std::filesystem::remove(tmp, ec);
          return std::nullopt;
        }
        out.seekp(header_at + static_cast<std::streamoff>(list_at));
        out << list;
        if (spliced) *spliced = splicing->splices().size();
      }
      out.seekp(header_at + static_cast<std::streamoff>(at));
      out << hashing.hex_digest();
    }
    out.close();
    if (!out) throw Error(tmp.string() + ": write failed");
    std::filesystem::rename(tmp, file);
    return std::filesystem::file_size(file);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace

std::uintmax_t write_model_file(const std::filesystem::path& file, const json& header, const Recommender& model,
                                const std::vector<std::filesystem::path>& splice_from, std::size_t* spliced) {
  if (spliced) *spliced = 0;
  if (const auto bytes = write_model_file_once(file, header, model, splice_from, spliced)) return *bytes;
  return *write_model_file_once(file, header, model, {}, nullptr);
}

void check_body_sha256(std::istream& in, const json& header, const std::string& file) {
  const std::string want = header.value("body_sha256", std::string());
  if (want.empty()) return;
  Sha256 hash;
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
    hash.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  if (hash.hex_digest() != want)
    throw Error(file + ": the model's bytes do not match the sha256 its header records (a damaged or "
                       "partly written file)");
}

void check_model_body(std::istream& in, const json& header, const std::string& file) {
  const std::streampos body = in.tellg();
  check_body_sha256(in, header, file);
  in.clear();
  in.seekg(body);
}

std::optional<FittedModel> load_trial_model(const AlgorithmSpec& spec, const TrialSpec& trial,
                                            const PluginRegistry& registry, const std::filesystem::path& dir,
                                            json& rec, json& timing) {
  if (dir.empty()) return std::nullopt;
  if (const std::string why = unsaveable(spec, registry); !why.empty()) {
    rec["loaded_model"] = {{"skipped", why + ": fitted"}};
    return std::nullopt;
  }
  const double t0 = wall_seconds();
  // Built unfitted (fusion strategies: children created and handed over
  // first); load fills the whole tree from the root's file.
  FittedModel out = build_model_tree(spec, trial.params, registry);
  const std::filesystem::path file = find_model(dir, trial, fit_identity(trial, out, rec));
  std::ifstream in(file, std::ios::binary);
  const json header = json::parse(read_model_header(in, file.string()));
  check_model_body(in, header, file.string());
  try {
    out.model->load(in);
  } catch (const std::exception& e) {
    throw Error(file.string() + ": " + e.what());
  }
  // The users and items fitted on: the environment's in a simulated trial.
  const bool simulated = trial.simulated();
  const json shape = rec.value(simulated ? "environment" : "dataset", json::object());
  if (out.model->n_users() != shape.value("users", -1) || out.model->n_items() != shape.value("items", -1))
    throw Error(file.string() + ": the model has " + std::to_string(out.model->n_users()) + " users and " +
                std::to_string(out.model->n_items()) + " items; the " + (simulated ? "environment" : "data") +
                " has " + shape.value("users", json()).dump() + " and " + shape.value("items", json()).dump());
  timing["load_model_s"] = wall_seconds() - t0;
  rec["params"] = out.tree.at("params");
  if (out.tree.contains("children")) rec["model_tree"] = out.tree;
  rec["loaded_model"] = {{"file", file.string()},
                         {"bytes", std::filesystem::file_size(file)},
                         {"saved_trial_id", header.value("trial_id", "")},
                         {"saved_plugin_fingerprint", header.value("plugin_fingerprint", "")}};
  return out;
}

}  // namespace recfuse
