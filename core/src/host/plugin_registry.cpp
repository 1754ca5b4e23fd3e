// PluginRegistry: every plugin library found on the search path, indexed by
// algorithm name. A broken library is recorded, not fatal, so that one bad
// file in a plugin directory never hides the good ones.
#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <system_error>

#include "host/plugin_loader.hpp"
#include "util/text.hpp"

namespace recfuse {
namespace fs = std::filesystem;

namespace {

bool is_plugin_file(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.rfind("librecfuse_", 0) == 0 && p.extension() == ".so";
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

}  // namespace

void PluginRegistry::scan(const std::vector<fs::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;  // search path entries are optional
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (is_plugin_file(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      // A file met again (directory listed twice, symlink): one entry, one
      // error at most. add() skips a loaded one; a broken one is skipped here.
      if (std::any_of(scanned_.begin(), scanned_.end(), [&](const fs::path& s) { return same_file(f, s); })) continue;
      scanned_.push_back(f);
      try {
        add(f);
      } catch (const Error& e) {
        errors_.push_back(e.what());
      }
    }
  }
}

void PluginRegistry::add(const fs::path& file) {
  // One file reached twice (a directory listed twice on the search path, a
  // symlink to a library found elsewhere) is one library, not a clash with
  // itself: loaded once, under the path found first.
  for (const auto& other : plugins_)
    if (same_file(file, other->file)) return;
  auto plugin = load_plugin(file);
  // Names are global: the first library to claim one keeps it, so the order
  // of the search path decides (build tree before --plugin-path). Library
  // names too: a trial record's provenance names each library it loaded by
  // its name, so a second library of that name would pass unseen.
  for (const auto& other : plugins_) {
    if (std::string_view(plugin->descriptor->name) == other->descriptor->name) {
      throw Error(file.string() + ": plugin library name '" + plugin->descriptor->name + "' is already taken by " +
                  other->file.string() + " (give each library its own name in make_descriptor)");
    }
  }
  for (const auto& a : plugin->descriptor->algorithms) {
    for (const auto& other : plugins_) {
      for (const auto& b : other->descriptor->algorithms) {
        if (std::string_view(a.name) == b.name) {
          throw Error(file.string() + ": algorithm '" + a.name + "' is already provided by " +
                      other->file.string());
        }
      }
    }
  }
  for (const auto& e : plugin->descriptor->environments) {
    for (const auto& other : plugins_) {
      for (const auto& b : other->descriptor->environments) {
        if (std::string_view(e.name) == b.name) {
          throw Error(file.string() + ": environment '" + e.name + "' is already provided by " +
                      other->file.string());
        }
      }
    }
  }
  plugins_.push_back(std::move(plugin));
}

std::vector<AlgorithmHandle> PluginRegistry::algorithms() const {
  std::vector<AlgorithmHandle> out;
  for (const auto& p : plugins_) {
    for (const auto& a : p->descriptor->algorithms) out.push_back({p, &a});
  }
  return out;
}

bool PluginRegistry::contains(const std::string& algorithm) const {
  for (const auto& p : plugins_) {
    for (const auto& a : p->descriptor->algorithms) {
      if (algorithm == a.name) return true;
    }
  }
  return false;
}

AlgorithmHandle PluginRegistry::find(const std::string& algorithm) const {
  std::vector<std::string> known;
  for (const auto& p : plugins_) {
    for (const auto& a : p->descriptor->algorithms) {
      if (algorithm == a.name) return {p, &a};
      known.emplace_back(a.name);
    }
  }
  std::sort(known.begin(), known.end());
  std::string msg = "unknown plugin '" + algorithm + "'";
  if (const std::string near = closest_match(algorithm, known); !near.empty()) {
    msg += "; did you mean '" + near + "'? ";
  } else {
    msg += "; ";
  }
  msg += known.empty() ? "no plugins are loaded (check --plugin-path / RECFUSE_PLUGIN_PATH)"
                       : "known: " + join(known);
  throw Error(msg);
}

std::vector<EnvironmentHandle> PluginRegistry::environments() const {
  std::vector<EnvironmentHandle> out;
  for (const auto& p : plugins_) {
    for (const auto& e : p->descriptor->environments) out.push_back({p, &e});
  }
  return out;
}

EnvironmentHandle PluginRegistry::find_environment(const std::string& environment) const {
  std::vector<std::string> known;
  for (const auto& h : environments()) {
    if (environment == h.environment->name) return h;
    known.push_back(h.name());
  }
  std::sort(known.begin(), known.end());
  std::string msg = "unknown environment '" + environment + "'";
  if (const std::string near = closest_match(environment, known); !near.empty()) {
    msg += "; did you mean '" + near + "'? ";
  } else {
    msg += "; ";
  }
  msg += known.empty() ? "no environment plugins are loaded (check --plugin-path / RECFUSE_PLUGIN_PATH)"
                       : "known: " + join(known);
  throw Error(msg);
}

}  // namespace recfuse
