// fit sleeps for `seconds` in small steps, polling the cancel token: for the
// runner's time-limit and cancellation tests.
#include <chrono>
#include <thread>

#include "tiny.hpp"

namespace {
using namespace recfuse;

class Slow final : public test_plugins::Tiny {
 public:
  explicit Slow(double seconds) : seconds_(seconds) {}
  void fit(const TrainData& data, const FitContext& ctx) override {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds_);
    while (std::chrono::steady_clock::now() < end) {
      if (ctx.cancelled()) throw Error("cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Tiny::fit(data, ctx);
  }

 private:
  double seconds_;
};

std::vector<ParamSpec> params() {
  return {ParamSpec::real("seconds", 60.0, 0.0, 86400.0, "how long fit sleeps")};
}
std::unique_ptr<Recommender> make(const ParamSet& p) {
  return std::make_unique<Slow>(p.get_float("seconds"));
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_slow", PluginKind::kRecommender, "fit sleeps", 0, &params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_slow", "1.0.0", "test", "sleeps in fit", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
