// A parameter table that counts its calls (test_params_once_calls). The host
// reads each table once, at load, and keeps that copy: nothing after load
// calls params() again, where a throw would escape the loader's checks.
#include "tiny.hpp"

namespace {
using namespace recfuse;

int calls = 0;
std::vector<ParamSpec> params() {
  ++calls;
  return {ParamSpec::integer("n", 3, 0, 10, "a count")};
}
std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<test_plugins::Tiny>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_params_once", PluginKind::kRecommender, "counts its params() calls", 0, &params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_params_once", "1.0.0", "test", "a parameter table that counts its calls", algos);
  return &d;
}
}  // namespace

extern "C" __attribute__((visibility("default"))) int test_params_once_calls() { return calls; }

RECFUSE_PLUGIN(describe)
