// Finding, loading and checking plugin libraries (DESIGN.md "Plugin ABI").
// Every failure is a recfuse::Error whose message starts with the file name.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "recfuse/plugin.hpp"

namespace boost::dll { class shared_library; }

namespace recfuse {

/// One loaded library. Keeps the library mapped while anything refers to it.
struct LoadedPlugin {
  std::filesystem::path file;
  std::shared_ptr<boost::dll::shared_library> library;
  const PluginDescriptor* descriptor = nullptr;  // valid while `library` lives
  // Each algorithm's and environment's parameter table, read once at load (in
  // descriptor order) and checked there: the host never calls params() again,
  // so a table cannot change or throw after load. Declared after `library`, so
  // destroyed before it.
  std::vector<std::vector<ParamSpec>> algorithm_params, environment_params;
};

/// An algorithm of a loaded library.
struct AlgorithmHandle {
  std::shared_ptr<const LoadedPlugin> plugin;
  const AlgorithmDescriptor* algorithm = nullptr;
  std::string name() const { return algorithm->name; }
  /// The parameter table read and checked at load.
  const std::vector<ParamSpec>& params() const;
};

/// An environment of a loaded library.
struct EnvironmentHandle {
  std::shared_ptr<const LoadedPlugin> plugin;
  const EnvironmentDescriptor* environment = nullptr;
  std::string name() const { return environment->name; }
  /// The parameter table read and checked at load.
  const std::vector<ParamSpec>& params() const;
};

/// A recommender whose deleter holds its library alive.
using RecommenderPtr = std::shared_ptr<Recommender>;
/// An environment whose deleter holds its library alive.
using EnvironmentPtr = std::shared_ptr<Environment>;

/// Loads `file` with rtld_now, reads `recfuse_plugin`, checks ABI version and
/// fingerprint, then the tables (names, factories, descriptions, each
/// parameter table with its defaults). Throws Error("<file>: ...") naming
/// both values on mismatch.
std::shared_ptr<const LoadedPlugin> load_plugin(const std::filesystem::path& file);

/// Builds a recommender from validated parameters; the object keeps the
/// library loaded. Exceptions from the plugin's factory are rethrown as
/// Error naming the plugin file and algorithm.
RecommenderPtr create_recommender(const AlgorithmHandle& algorithm, const ParamSet& params);

/// Builds an (unbuilt) environment from validated parameters; errors name
/// the plugin file and environment.
EnvironmentPtr create_environment(const EnvironmentHandle& environment, const ParamSet& params);

/// Plugin search path: <dir of executable>/../lib/recfuse/plugins, then each
/// entry of `extra` (--plugin-path), then RECFUSE_PLUGIN_PATH (':'-separated).
std::vector<std::filesystem::path> plugin_search_path(const std::filesystem::path& executable,
                                                      const std::vector<std::string>& extra);

/// All plugins found in a search path. Libraries that fail to load are
/// recorded in `errors()` (one message each) rather than aborting the scan.
class PluginRegistry {
 public:
  /// Loads every `librecfuse_*.so` in each directory (non-recursive, sorted).
  void scan(const std::vector<std::filesystem::path>& dirs);
  /// Loads one file explicitly (throws on failure); a file already loaded,
  /// by this path or another (symlink, repeated directory), is skipped.
  void add(const std::filesystem::path& file);

  const std::vector<std::shared_ptr<const LoadedPlugin>>& plugins() const { return plugins_; }
  const std::vector<std::string>& errors() const { return errors_; }
  /// Throws Error "unknown plugin 'x'; did you mean 'y'? known: a, b, c".
  AlgorithmHandle find(const std::string& algorithm) const;
  bool contains(const std::string& algorithm) const;
  std::vector<AlgorithmHandle> algorithms() const;
  /// Throws Error "unknown environment 'x'; did you mean 'y'? known: ...".
  EnvironmentHandle find_environment(const std::string& environment) const;
  std::vector<EnvironmentHandle> environments() const;

 private:
  std::vector<std::shared_ptr<const LoadedPlugin>> plugins_;
  std::vector<std::string> errors_;
  std::vector<std::filesystem::path> scanned_;  // every file scan tried, loaded or not
};

}  // namespace recfuse
