// A parameter whose default lies outside its own range: the host hands
// defaults to the factory unchecked, so the loader must refuse the table.
#include "tiny.hpp"

namespace {
using namespace recfuse;

std::vector<ParamSpec> params() {
  return {ParamSpec::integer("n", 500, 0, 100, "default out of range")};
}
std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<test_plugins::Tiny>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_bad_default", PluginKind::kRecommender, "default out of range", 0, &params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_bad_default", "1.0.0", "test", "a default its range refuses", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
