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
