// An algorithm without a description (null): the loader must refuse it, as
// it refuses a library without one (`recfuse plugins` prints it).
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<test_plugins::Tiny>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_no_description", PluginKind::kRecommender, nullptr, 0, &test_plugins::no_params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_no_description", "1.0.0", "test", "an algorithm with a null description", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
