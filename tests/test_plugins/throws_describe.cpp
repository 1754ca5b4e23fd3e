// The entry point itself throws.
#include <recfuse/plugin.hpp>

namespace {
const recfuse::PluginDescriptor* describe() { throw recfuse::Error("boom in describe"); }
}  // namespace

RECFUSE_PLUGIN(describe)
