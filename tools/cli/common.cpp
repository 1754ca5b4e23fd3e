#include <cstdlib>
#include <unistd.h>

#include "cli.hpp"
#include "host/plugin_loader.hpp"

namespace recfuse::cli {

std::filesystem::path self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("recfuse") : p;
}

std::vector<std::filesystem::path> plugin_dirs(const std::vector<std::string>& extra) {
  return plugin_search_path(self_executable(), extra);
}

std::string missing_plugin_dir(const std::vector<std::string>& extra) {
  // A typo was searched silently: its plugins were then "unknown".
  for (const std::string& list : extra) {
    std::size_t at = 0;
    while (at <= list.size()) {
      const std::size_t colon = std::min(list.find(':', at), list.size());
      const std::string entry = list.substr(at, colon - at);
      std::error_code ec;
      if (!entry.empty() && !std::filesystem::is_directory(entry, ec))
        return "--plugin-path " + entry + ": no such directory";
      at = colon + 1;
    }
  }
  return {};
}

std::filesystem::path cache_dir(const std::string& option) {
  if (!option.empty()) return option;
  if (const char* env = std::getenv("RECFUSE_CACHE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "recfuse";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "recfuse";
  return std::filesystem::temp_directory_path() / "recfuse-cache";
}

}  // namespace recfuse::cli
