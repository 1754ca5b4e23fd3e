// Claims the algorithm name of `good`: the registry must refuse the second.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make() { return std::make_unique<test_plugins::Tiny>(); }
std::unique_ptr<Recommender> make_tiny(const ParamSet&) { return make(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_good", PluginKind::kRecommender, "duplicate", 0, &test_plugins::no_params,
       &make_tiny}};
  static const PluginDescriptor d =
      make_descriptor("test_good_twin", "1.0.0", "test", "name clash", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
