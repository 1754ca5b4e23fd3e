// Claims the library name of `good` with an algorithm of its own: the
// registry must refuse the second library (records name libraries by it).
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make_tiny(const ParamSet&) { return std::make_unique<test_plugins::Tiny>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_name_twin", PluginKind::kRecommender, "a distinct algorithm", 0, &test_plugins::no_params,
       &make_tiny}};
  static const PluginDescriptor d = make_descriptor("test_good", "1.0.0", "test", "library name clash", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
