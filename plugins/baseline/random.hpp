// Random: the floor every recommender must beat.
//
//   [algorithms.rand]
//   plugin = "random"
//
// score(u, i) = h(derive_seed(seed, "random"), u, i) / 2^24, uniform in [0, 1).
// The score is a pure hash of (seed, user, item) rather than a stream drawn in
// call order, so a batch of users scores exactly like the same users one at a
// time, repeated calls agree, and the result does not depend on thread count.
#pragma once

#include <cstdint>
#include <span>

#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class RandomRecommender final : public Recommender {
 public:
  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    stream_ = derive_seed(ctx.seed, "random");
    ctx.log("random: seeded, " + std::to_string(data.n_items) + " items");
  }

  /// out: users.size() x n_items, row-major.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const std::size_t n = static_cast<std::size_t>(n_items());
#pragma omp parallel for schedule(static) if (users.size() > 8)
    for (std::size_t r = 0; r < users.size(); ++r) {
      float* row = out.data() + r * n;
      for (std::size_t i = 0; i < n; ++i) row[i] = value(users[r], static_cast<ItemId>(i));
    }
  }

  void score(std::span<const UserId> users, std::span<const ItemId> items,
             std::span<float> out) override {
    for (std::size_t j = 0; j < users.size(); ++j) out[j] = value(users[j], items[j]);
  }

  /// Nothing is learned: the seed is configuration, not a model.
  std::size_t model_bytes() const override { return 0; }

 private:
  float value(UserId u, ItemId i) const {
    const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(u)) << 32) |
                              static_cast<std::uint32_t>(i);
    // 24 bits: every value is exactly representable as a float below 1.
    return static_cast<float>(mix64(stream_ ^ mix64(key)) >> 40) * 0x1.0p-24f;
  }

  std::uint64_t stream_ = 0;
};

}  // namespace recfuse
