// A well-formed descriptor with an empty algorithm table.
#include <recfuse/plugin.hpp>

namespace {
const recfuse::PluginDescriptor* describe() {
  static const recfuse::PluginDescriptor d = {recfuse::kAbiVersion, recfuse::kBuildFingerprint,
                                              "test_no_algorithms", "1.0.0", "test", "empty", {}, {}};
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
