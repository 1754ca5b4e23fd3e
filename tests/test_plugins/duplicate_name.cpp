// Two algorithms of one library share a name.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<test_plugins::Tiny>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_twice", PluginKind::kRecommender, "", 0, &test_plugins::no_params, &make},
      {"test_twice", PluginKind::kRecommender, "", 0, &test_plugins::no_params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_duplicate_name", "1.0.0", "test", "duplicate names", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
