// Same ABI version, different toolchain: the host must refuse the fingerprint.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make_tiny(const ParamSet&) {
  return std::make_unique<test_plugins::Tiny>();
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {{"test_wrong_fingerprint", PluginKind::kRecommender,
                                               "", 0, &test_plugins::no_params, &make_tiny}};
  static PluginDescriptor d =
      make_descriptor("test_wrong_fingerprint", "1.0.0", "test", "other toolchain", algos);
  d.fingerprint = "cc=clang 99;std=202302L";
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
