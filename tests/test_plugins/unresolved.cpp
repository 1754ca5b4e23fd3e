// References a function nobody defines. Linked without --no-undefined, so the
// failure shows up when the host loads it with rtld_now.
#include "tiny.hpp"

extern "C" int recfuse_test_function_that_does_not_exist(int);

namespace {
using namespace recfuse;

std::unique_ptr<Recommender> make_tiny(const ParamSet&) {
  static volatile int x = recfuse_test_function_that_does_not_exist(1);
  (void)x;
  return std::make_unique<test_plugins::Tiny>();
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_unresolved", PluginKind::kRecommender, "", 0, &test_plugins::no_params, &make_tiny}};
  static const PluginDescriptor d =
      make_descriptor("test_unresolved", "1.0.0", "test", "undefined symbol", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
