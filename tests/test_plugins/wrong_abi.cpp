// Built against a "future" SDK: the host must refuse it on the ABI version.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make_tiny(const ParamSet&) {
  return std::make_unique<test_plugins::Tiny>();
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_wrong_abi", PluginKind::kRecommender, "", 0, &test_plugins::no_params, &make_tiny}};
  static PluginDescriptor d =
      make_descriptor("test_wrong_abi", "1.0.0", "test", "wrong ABI version", algos);
  d.abi_version = kAbiVersion + 1000;
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
