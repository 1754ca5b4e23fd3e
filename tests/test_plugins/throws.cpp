// fit throws: the runner must record the error, not crash.
#include "tiny.hpp"

namespace {
using namespace recfuse;

class Throws final : public test_plugins::Tiny {
 public:
  void fit(const TrainData&, const FitContext&) override { throw Error("boom in fit"); }
};

std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<Throws>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_throws", PluginKind::kRecommender, "fit throws", 0, &test_plugins::no_params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_throws", "1.0.0", "test", "throws in fit", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
