#include "runner/saved_models.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recfuse/model_io.hpp"
#include "runner/model_splice.hpp"
#include "runner/saved_models_match.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;

bool saveable(const AlgorithmHandle& handle) {
  return (handle.algorithm->capabilities & kCapSaveLoad) != 0;
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

void precheck_trial_model(const AlgorithmSpec& spec, const TrialSpec& trial, const PluginRegistry& registry,
                          const std::filesystem::path& dir, const json& known) {
  if (dir.empty() || !unsaveable(spec, registry).empty()) return;
  const FittedModel unfitted = build_model_tree(spec, trial.params, registry);
  FitIdentity identity = fit_identity(trial, unfitted, known);
  // Not known before the logs and the world: their fingerprint, the data.
  std::erase_if(identity.data, [](const auto& field) {
    return field.first == "logs.fit_sha256" || field.first.starts_with("dataset.");
  });
  try {
    find_model(dir, trial, identity);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (checked before the world was built; the logs' fingerprint not yet compared)");
  }
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
