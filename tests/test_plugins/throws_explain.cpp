// explain throws (it declares kCapExplain): the trial keeps its metrics and
// its lists, with a note instead of reasons (runner/explanations.hpp).
#include "tiny.hpp"

namespace {
using namespace recfuse;

class ThrowsExplain final : public test_plugins::Tiny {
 public:
  std::string explain(UserId, ItemId) override { throw Error("boom in explain"); }
};

std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<ThrowsExplain>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {{"test_throws_explain", PluginKind::kRecommender,
                                               "explain throws", kCapExplain, &test_plugins::no_params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_throws_explain", "1.0.0", "test", "throws in explain", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
