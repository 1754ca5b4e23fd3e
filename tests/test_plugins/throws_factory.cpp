// The factory throws: create_recommender must name the file and algorithm.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make(const ParamSet&) { throw Error("boom in factory"); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {{"test_throws_factory", PluginKind::kRecommender,
                                               "factory throws", 0, &test_plugins::no_params,
                                               &make}};
  static const PluginDescriptor d =
      make_descriptor("test_throws_factory", "1.0.0", "test", "throws in factory", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
