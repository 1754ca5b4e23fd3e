// A minimal correct recommender shared by the test plugins: the score of an
// item is its parity (odd items 1, even 0), so results are easy to predict.
#pragma once

#include <recfuse/plugin.hpp>

namespace recfuse::test_plugins {

class Tiny : public Recommender {
 public:
  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
  }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const std::size_t n = static_cast<std::size_t>(n_items());
    for (std::size_t u = 0; u < users.size(); ++u) {
      for (std::size_t i = 0; i < n; ++i) out[u * n + i] = static_cast<float>(i % 2);
    }
  }
  std::size_t model_bytes() const override { return 0; }
};

inline std::vector<ParamSpec> no_params() { return {}; }

}  // namespace recfuse::test_plugins
