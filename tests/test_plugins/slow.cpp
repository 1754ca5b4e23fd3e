// fit sleeps for `seconds` in small steps, polling the cancel token: for the
// runner's time-limit and cancellation tests. With `wait_for`, fit first
// waits (at most a minute) until that file exists, so a test can change
// something while a trial is known to be running, without a race.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tiny.hpp"

namespace {
using namespace recfuse;

class Slow final : public test_plugins::Tiny {
 public:
  Slow(double seconds, std::string wait_for) : seconds_(seconds), wait_for_(std::move(wait_for)) {}
  void fit(const TrainData& data, const FitContext& ctx) override {
    if (!wait_for_.empty()) {
      const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!std::filesystem::exists(wait_for_)) {
        if (ctx.cancelled()) throw Error("cancelled");
        if (std::chrono::steady_clock::now() > limit) throw Error("waited a minute for " + wait_for_);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds_);
    while (std::chrono::steady_clock::now() < end) {
      if (ctx.cancelled()) throw Error("cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Tiny::fit(data, ctx);
  }

 private:
  double seconds_;
  std::string wait_for_;
};

std::vector<ParamSpec> params() {
  return {ParamSpec::real("seconds", 60.0, 0.0, 86400.0, "how long fit sleeps"),
          ParamSpec::string("wait_for", "", "a file fit waits for (at most a minute) before it sleeps")};
}
std::unique_ptr<Recommender> make(const ParamSet& p) {
  return std::make_unique<Slow>(p.get_float("seconds"), p.get_string("wait_for"));
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
