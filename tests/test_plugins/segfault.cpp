// fit dereferences a null pointer: only a child process can contain this.
#include "tiny.hpp"

namespace {
using namespace recfuse;

class Segfault final : public test_plugins::Tiny {
 public:
  void fit(const TrainData& data, const FitContext& ctx) override {
    // Both volatile: with only the pointer volatile, GCC 12 -O3 loads it and
    // drops the store (objdump), so the plugin "succeeded".
    volatile int* volatile p = nullptr;
    *p = 42;
    Tiny::fit(data, ctx);
  }
};

std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<Segfault>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {{"test_segfault", PluginKind::kRecommender,
                                               "fit crashes", 0, &test_plugins::no_params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_segfault", "1.0.0", "test", "segfaults in fit", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
