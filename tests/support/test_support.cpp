#include "test_support.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace recfuse::test {

std::filesystem::path shared_data() {
  if (const char* env = std::getenv("RECFUSE_DATA"); env && *env) return env;
  return RECFUSE_TEST_SHARED_DATA;
}

bool have_shared(const std::string& relative) {
  if (std::filesystem::exists(shared_data() / relative)) return true;
  // In CI (CI=true) or on request the real data must be there: a test that
  // would silently skip fails instead.
  const char* ci = std::getenv("CI");
  const char* require = std::getenv("RECFUSE_REQUIRE_DATA");
  if ((ci && std::string(ci) == "true") || (require && *require))
    throw std::runtime_error((shared_data() / relative).string() +
                             " is missing; the tests need ../shared/data (or RECFUSE_DATA)");
  return false;
}

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(RECFUSE_TEST_FIXTURES) / name;
}

std::filesystem::path temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("recfuse-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path plugin_dir() { return RECFUSE_TEST_PLUGIN_DIR; }
std::filesystem::path bad_plugin_dir() { return RECFUSE_TEST_BAD_PLUGIN_DIR; }
std::filesystem::path recfuse_binary() {
  return std::filesystem::path(RECFUSE_TEST_BINARY_DIR) / "bin" / "recfuse";
}
std::filesystem::path source_dir() { return RECFUSE_TEST_SOURCE_DIR; }

}  // namespace recfuse::test
