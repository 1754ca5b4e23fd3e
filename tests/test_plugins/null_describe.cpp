// The entry point returns no descriptor.
#include <recfuse/plugin.hpp>

namespace {
const recfuse::PluginDescriptor* describe() { return nullptr; }
}  // namespace

RECFUSE_PLUGIN(describe)
