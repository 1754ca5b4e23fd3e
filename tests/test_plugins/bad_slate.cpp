// A policy that breaks the act contract (recommender.hpp) on purpose:
// `test_bad_slate` fills every slate with an item that is not among the
// row's candidates (mode "outside") or with its first candidate twice
// (mode "repeat"; a slate of one item is then valid). The runner must stop
// the trial with an error that names the plugin, the session and the slate
// position.
#include <algorithm>

#include "tiny.hpp"

namespace {
using namespace recfuse;

class BadSlate final : public test_plugins::Tiny {
 public:
  explicit BadSlate(bool repeat) : repeat_(repeat) {}
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override {
    const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
    for (std::size_t r = 0; r < users.size(); ++r) {
      const auto row = candidates.subspan(r * c, c);
      ItemId outside = 0;  // the smallest item id not offered to this row
      while (std::find(row.begin(), row.end(), outside) != row.end()) ++outside;
      for (std::size_t j = 0; j < k; ++j) slates[r * k + j] = row[j];
      slates[r * k + k - 1] = repeat_ ? row[0] : outside;
    }
  }

 private:
  bool repeat_;
};

std::vector<ParamSpec> bad_slate_params() {
  return {ParamSpec::choice("mode", "outside", {"outside", "repeat"}, "how the slates break the contract")};
}
std::unique_ptr<Recommender> make_bad_slate(const ParamSet& p) {
  return std::make_unique<BadSlate>(p.get_string("mode") == "repeat");
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_bad_slate", PluginKind::kRecommender, "slates that break the act contract", 0, &bad_slate_params,
       &make_bad_slate}};
  static const PluginDescriptor d =
      make_descriptor("test_bad_slate", "1.0.0", "test", "a policy whose slates are invalid", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
