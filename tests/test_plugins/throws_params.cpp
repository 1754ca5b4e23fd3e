// The parameter table itself throws. The loader must refuse the library,
// naming the file: a throw from params() escaping later (`recfuse plugins`,
// the run's up-front checks) is read after the library is unloaded.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::vector<ParamSpec> params() { throw Error("boom in params"); }
std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<test_plugins::Tiny>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_throws_params", PluginKind::kRecommender, "params() throws", 0, &params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_throws_params", "1.0.0", "test", "throws in its parameter table", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
