// A descriptor without a library name: the loader must refuse it (records
// and the registry's name checks read it) rather than crash the scan.
#include <recfuse/plugin.hpp>

namespace {
const recfuse::PluginDescriptor* describe() {
  static const recfuse::PluginDescriptor d = {
      recfuse::kAbiVersion, recfuse::kBuildFingerprint, nullptr, "1.0.0", "test", "nameless", {}, {}};
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
