// The calibrated world's item sampler: which items exist at each step of a
// session and how a step's candidates are drawn from them.
//
// Arrivals. Items are ordered by their first interaction in the dataset
// (ties, and datasets without timestamps, in a random order drawn from the
// world seed; items nobody interacted with last). The newest
// H = floor(new_item_fraction · n_items) are held back: the j-th of them
// (j = 0..H−1, oldest first) arrives at step 1 + floor(j · A / H),
// A = arrival_steps, and is no candidate before. Arrival is on the session's
// own step clock, not on a count of episodes, because the environment
// contract wants reset(seed) to give the same episode whatever ran before.
//
// Candidates. num_candidates distinct items among those available at the
// step: each is drawn popularity-weighted (weight 1 + the item's
// interactions in the dataset) with probability popular_share, else
// uniformly; a repeat is drawn again. Items are stored in arrival order, so
// the items available at step t are a prefix and each draw is one uniform
// index or one binary search in the prefix sums of the weights.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "calibrated_config.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/train_data.hpp"

namespace recfuse::calibrated {

/// std::upper_bound(sorted, sorted + n, target) - sorted (n >= 1), without
/// a branch on the data: each popularity-weighted draw searches once, at a
/// random target, where std::upper_bound's branches cannot be predicted.
inline std::size_t upper_bound_index(const double* sorted, std::size_t n, double target) {
  const double* base = sorted;
  while (n > 1) {  // the answer lies in [base, base + n]
    const std::size_t half = n / 2;
    base += static_cast<std::size_t>(base[half - 1] <= target) * half;
    n -= half;
  }
  return static_cast<std::size_t>(base - sorted) + static_cast<std::size_t>(*base <= target);
}

class Catalogue {
 public:
  Catalogue() = default;
  Catalogue(const TrainData& data, const CalConfig& c, std::uint64_t seed) {
    const auto n = static_cast<std::size_t>(data.n_items);
    std::vector<std::int64_t> first(n, std::numeric_limits<std::int64_t>::max());
    const CsrMatrix& by_item = data.by_item;
    for (std::int32_t i = 0; i < by_item.rows && static_cast<std::size_t>(i) < n; ++i) {
      if (by_item.row_size(i) == 0) continue;
      first[static_cast<std::size_t>(i)] =
          by_item.timestamps.empty()
              ? 0
              : *std::min_element(by_item.row_timestamps(i).begin(), by_item.row_timestamps(i).end());
    }
    std::vector<std::uint64_t> tie(n);
    Rng rng(seed);
    for (auto& t : tie) t = rng.next();
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), ItemId{0});
    std::sort(order_.begin(), order_.end(), [&](ItemId a, ItemId b) {
      const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
      return first[ua] != first[ub] ? first[ua] < first[ub]
             : tie[ua] != tie[ub]   ? tie[ua] < tie[ub]
                                    : a < b;
    });
    const auto held = static_cast<std::size_t>(c.new_item_fraction * static_cast<double>(n));
    arrival_.assign(n, 0);
    for (std::size_t j = 0; j < held; ++j) {
      const auto step = 1 + static_cast<std::int64_t>(j) * c.arrival_steps / static_cast<std::int64_t>(held);
      arrival_[static_cast<std::size_t>(order_[n - held + j])] = static_cast<std::int32_t>(step);
    }
    // The held-back items' steps, ascending (j's order): a count per step
    // would cost memory in proportion to arrival_steps, declared up to 1e9.
    initially_ = static_cast<std::int32_t>(n - held);
    arriving_.resize(held);
    for (std::size_t j = 0; j < held; ++j) arriving_[j] = arrival_[static_cast<std::size_t>(order_[n - held + j])];
    cumulative_weight_.resize(n);
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      const ItemId i = order_[j];
      sum += 1.0 + static_cast<double>(i < by_item.rows ? by_item.row_size(i) : 0);
      cumulative_weight_[j] = sum;
    }
    popular_share_ = c.popular_share;
  }

  /// The first step at which `item` may be a candidate.
  std::int32_t arrival(ItemId item) const { return arrival_[static_cast<std::size_t>(item)]; }
  std::int32_t held_back() const {
    return static_cast<std::int32_t>(order_.size()) - available(0);
  }
  /// Number of items available at `step`.
  std::int32_t available(int step) const {
    return initially_ + static_cast<std::int32_t>(std::upper_bound(arriving_.begin(), arriving_.end(), step) -
                                                  arriving_.begin());
  }

  /// Fills out[0..m) with m distinct items available at `step`
  /// (m <= available(step), checked by the caller once at build).
  void draw(int step, int m, Rng& rng, ItemId* out) const {
    const auto n = static_cast<std::size_t>(available(step));
    for (int j = 0; j < m; ++j) {
      ItemId item;
      do {
        std::size_t at;
        if (rng.uniform() < popular_share_) {
          const double target = rng.uniform() * cumulative_weight_[n - 1];
          at = upper_bound_index(cumulative_weight_.data(), n, target);
        } else {
          at = rng.below(n);
        }
        item = order_[std::min(at, n - 1)];
      } while (std::find(out, out + j, item) != out + j);
      out[j] = item;
    }
  }

 private:
  std::vector<ItemId> order_;                // items in arrival order
  std::vector<std::int32_t> arrival_;        // per item: its first step
  std::int32_t initially_ = 0;               // items available from step 0
  std::vector<std::int32_t> arriving_;       // the others' arrival steps, ascending
  std::vector<double> cumulative_weight_;    // prefix sums of the weights in arrival order
  double popular_share_ = 0.0;
};

}  // namespace recfuse::calibrated
