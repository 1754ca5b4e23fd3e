// Loading and checking plugin libraries; see plugin_loader.hpp and DESIGN.md
// "Plugin ABI". The checks run in an order that never touches memory whose
// layout we cannot trust: the ABI version (first member, stable forever)
// before anything else, then the fingerprint, then the algorithm table.
#include "host/plugin_loader.hpp"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <system_error>

#include "host/params_validation.hpp"
#include "util/text.hpp"

namespace recfuse {
namespace fs = std::filesystem;

namespace {

constexpr const char* kEntryPoint = "recfuse_plugin";

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw Error(file.string() + ": " + what);
}

// Boost wraps dlerror() as "...load() failed (dlerror system message: X):
// Bad file descriptor"; X alone ("<file>: undefined symbol: f") is the news.
std::string dlerror_text(const std::string& what) {
  const std::string marker = "dlerror system message: ";
  const std::size_t begin = what.find(marker);
  const std::size_t end = what.rfind("): ");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return what;
  return what.substr(begin + marker.size(), end - begin - marker.size());
}

std::shared_ptr<boost::dll::shared_library> open_library(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) fail(file, "no such plugin file");
  try {
    // rtld_now: an unresolved symbol fails here, naming the file, instead of
    // killing the process at first call. rtld_local: two plugins may define
    // the same internal symbols without interposing on each other.
    return std::make_shared<boost::dll::shared_library>(
        file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    fail(file, "cannot load: " + dlerror_text(e.what()));
  }
}

const PluginDescriptor* describe(const fs::path& file, const boost::dll::shared_library& lib) {
  if (!lib.has(kEntryPoint)) {
    fail(file, std::string("not a recfuse plugin: no symbol '") + kEntryPoint + "'");
  }
  // get_alias, not get: the exported symbol is a pointer to the function
  // (BOOST_DLL_ALIAS), and get<> on it crashes in Boost 1.74.
  DescribeFn& fn = lib.get_alias<DescribeFn>(kEntryPoint);
  const PluginDescriptor* d = nullptr;
  try {
    d = fn();
  } catch (const std::exception& e) {
    fail(file, std::string("describe() threw: ") + e.what());
  } catch (...) {
    fail(file, "describe() threw a non-standard exception");
  }
  if (!d) fail(file, "describe() returned no descriptor");
  return d;
}

// The parameter table is plugin code; read once here, under the library, and
// checked like a scenario's values would be (its defaults reach the factory
// unvalidated otherwise). The host keeps this copy (LoadedPlugin) and never
// calls params() again, where an exception could outlive the library.
std::vector<ParamSpec> read_params(const fs::path& file, const std::string& where, ParamsFn params) {
  if (!params) fail(file, where + " has no parameter table");
  std::vector<ParamSpec> specs;
  try {
    specs = params();
  } catch (const std::exception& e) {
    fail(file, where + ": params() threw: " + e.what());
  } catch (...) {
    fail(file, where + ": params() threw a non-standard exception");
  }
  try {
    check_param_table(specs);
  } catch (const Error& e) {
    fail(file, where + ": parameter table: " + e.what());
  }
  return specs;
}

void check_descriptor(const fs::path& file, const PluginDescriptor& d, LoadedPlugin& out) {
  if (d.abi_version != kAbiVersion) {
    fail(file, "ABI version " + std::to_string(d.abi_version) + " does not match host ABI version " +
                   std::to_string(kAbiVersion) + "; rebuild the plugin against this recfuse SDK");
  }
  const std::string_view plugin_fp = d.fingerprint ? d.fingerprint : "(null)";
  if (plugin_fp != kBuildFingerprint) {
    fail(file, "build fingerprint mismatch: plugin '" + std::string(plugin_fp) + "', host '" +
                   kBuildFingerprint + "'; rebuild the plugin with the host's toolchain and flags");
  }
  // The library's name and version identify it in records (provenance) and
  // in the registry's name checks; `recfuse plugins` prints all four.
  if (!d.name || !*d.name) fail(file, "has no library name (make_descriptor's first argument)");
  if (!d.version || !*d.version) fail(file, std::string("library '") + d.name + "' has no version");
  if (!d.family || !d.description) fail(file, std::string("library '") + d.name + "' has no family or description");
  if (d.algorithms.empty() && d.environments.empty()) fail(file, "declares no algorithms");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < d.algorithms.size(); ++i) {
    const AlgorithmDescriptor& a = d.algorithms[i];
    if (!a.name || !*a.name) fail(file, "algorithm #" + std::to_string(i) + " has no name");
    const std::string where = std::string("algorithm '") + a.name + "'";
    if (!seen.insert(a.name).second) fail(file, where + " is declared twice");
    if (!a.description) fail(file, where + " has no description");
    if (a.kind == PluginKind::kRecommender && !a.create) fail(file, where + " has no factory");
    out.algorithm_params.push_back(read_params(file, where, a.params));
  }
  for (std::size_t i = 0; i < d.environments.size(); ++i) {
    const EnvironmentDescriptor& e = d.environments[i];
    if (!e.name || !*e.name) fail(file, "environment #" + std::to_string(i) + " has no name");
    const std::string where = std::string("environment '") + e.name + "'";
    if (!seen.insert(e.name).second) fail(file, where + " is declared twice");
    if (!e.description) fail(file, where + " has no description");
    if (!e.create) fail(file, where + " has no factory");
    out.environment_params.push_back(read_params(file, where, e.params));
  }
}

void append_dirs(std::vector<fs::path>& out, std::string_view list) {
  while (!list.empty()) {
    const std::size_t colon = list.find(':');
    const std::string_view entry = list.substr(0, colon);
    if (!entry.empty()) out.emplace_back(std::string(entry));
    if (colon == std::string_view::npos) break;
    list.remove_prefix(colon + 1);
  }
}

}  // namespace

std::shared_ptr<const LoadedPlugin> load_plugin(const fs::path& file) {
  auto lib = open_library(file);
  const PluginDescriptor* d = describe(file, *lib);
  auto plugin = std::make_shared<LoadedPlugin>();
  check_descriptor(file, *d, *plugin);
  plugin->file = file;
  plugin->library = std::move(lib);
  plugin->descriptor = d;
  return plugin;
}

const std::vector<ParamSpec>& AlgorithmHandle::params() const {
  const auto& all = plugin->descriptor->algorithms;
  return plugin->algorithm_params.at(static_cast<std::size_t>(algorithm - all.data()));
}

const std::vector<ParamSpec>& EnvironmentHandle::params() const {
  const auto& all = plugin->descriptor->environments;
  return plugin->environment_params.at(static_cast<std::size_t>(environment - all.data()));
}

RecommenderPtr create_recommender(const AlgorithmHandle& algorithm, const ParamSet& params) {
  if (!algorithm.plugin || !algorithm.algorithm) throw Error("create_recommender: empty handle");
  const fs::path& file = algorithm.plugin->file;
  const AlgorithmDescriptor& a = *algorithm.algorithm;
  const std::string where = std::string("algorithm '") + a.name + "': ";
  if (a.kind != PluginKind::kRecommender) fail(file, where + "is not a recommender");
  std::unique_ptr<Recommender> raw;
  try {
    raw = a.create(params);
  } catch (const std::exception& e) {
    fail(file, where + e.what());
  } catch (...) {
    fail(file, where + "the factory threw a non-standard exception");
  }
  if (!raw) fail(file, where + "the factory returned no object");
  // The deleter lives in host code and holds the library: the object's
  // destructor (plugin code) runs before the library can be unmapped.
  std::shared_ptr<boost::dll::shared_library> keep = algorithm.plugin->library;
  return RecommenderPtr(raw.release(), [keep](Recommender* r) { delete r; });
}

EnvironmentPtr create_environment(const EnvironmentHandle& environment, const ParamSet& params) {
  if (!environment.plugin || !environment.environment) throw Error("create_environment: empty handle");
  const fs::path& file = environment.plugin->file;
  const EnvironmentDescriptor& e = *environment.environment;
  const std::string where = std::string("environment '") + e.name + "': ";
  std::unique_ptr<Environment> raw;
  try {
    raw = e.create(params);
  } catch (const std::exception& ex) {
    fail(file, where + ex.what());
  } catch (...) {
    fail(file, where + "the factory threw a non-standard exception");
  }
  if (!raw) fail(file, where + "the factory returned no object");
  std::shared_ptr<boost::dll::shared_library> keep = environment.plugin->library;
  return EnvironmentPtr(raw.release(), [keep](Environment* x) { delete x; });
}

std::vector<fs::path> plugin_search_path(const fs::path& executable,
                                         const std::vector<std::string>& extra) {
  std::vector<fs::path> dirs;
  if (!executable.empty()) {
    std::error_code ec;
    fs::path exe = fs::weakly_canonical(executable, ec);
    if (ec) exe = executable;
    dirs.push_back((exe.parent_path() / ".." / "lib" / "recfuse" / "plugins").lexically_normal());
  }
  for (const auto& e : extra) append_dirs(dirs, e);
  if (const char* env = std::getenv("RECFUSE_PLUGIN_PATH")) append_dirs(dirs, env);
  return dirs;
}

}  // namespace recfuse
