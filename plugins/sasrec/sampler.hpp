// Training examples of SASRec as the reference's WarpSampler draws them (pmixer
// SASRec.pytorch utils.py): for a user's time-ordered training items s_1..s_n, the input
// is s_1..s_{n-1} and the target at each position is the next item; only the last
// `maxlen` positions are kept. Negatives are uniform over the items the user never
// interacted with in training (rejection sampling, as random_neq).
//
// Every user's randomness comes from its own stream (derive_seed(seed, name, epoch·U + u)),
// so an epoch's examples do not depend on the thread count or on how users are packed.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "model.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::sasrec {

enum class Loss { kBce, kCe, kSampledSoftmax };

/// Time-ordered item rows per user (CSR), copied from TrainData so it outlives fit.
struct Sequences {
  std::vector<std::int64_t> ptr{0};
  std::vector<std::int32_t> items;
  std::span<const std::int32_t> row(std::int32_t u) const {
    return {items.data() + ptr[u], static_cast<std::size_t>(ptr[u + 1] - ptr[u])};
  }
  std::int32_t rows() const { return static_cast<std::int32_t>(ptr.size()) - 1; }
};

/// Positions a user contributes to an epoch: min(n − 1, maxlen), 0 if n < 2.
inline Idx training_length(Idx n, Idx maxlen) { return n < 2 ? 0 : std::min(n - 1, maxlen); }

/// A uniform item not in `seen` (sorted); after 64 rejections any item, so a user who
/// has seen (almost) every item cannot stall training.
inline std::int32_t sample_negative(Rng& rng, std::int32_t n_items,
                                    std::span<const std::int32_t> seen) {
  std::int32_t j = 0;
  for (int tries = 0; tries < 64; ++tries) {
    j = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(n_items)));
    if (!std::binary_search(seen.begin(), seen.end(), j)) return j;
  }
  return j;
}

/// Appends user u's training example of `epoch` to `b`: inputs, targets, negatives
/// (BCE: one per position; sampled softmax: k per sequence) and its dropout seed.
inline void add_training_example(Batch& b, std::span<const std::int32_t> seq,
                                 std::span<const std::int32_t> seen, std::int32_t n_items,
                                 Idx maxlen, Loss loss, Idx k, std::uint64_t seed,
                                 std::uint64_t stream) {
  const Idx n = static_cast<Idx>(seq.size());
  const Idx L = training_length(n, maxlen);
  if (L == 0) return;
  b.add_sequence(seq.data() + (n - 1 - L), L, maxlen, derive_seed(seed, "sasrec/seq", stream));
  b.targets.insert(b.targets.end(), seq.begin() + (n - L), seq.end());
  Rng rng(derive_seed(seed, "sasrec/neg", stream));
  const Idx draws = loss == Loss::kBce ? L : loss == Loss::kSampledSoftmax ? k : 0;
  for (Idx j = 0; j < draws; ++j) b.negatives.push_back(sample_negative(rng, n_items, seen));
}

/// Users in a uniformly random order for `epoch` (Fisher–Yates on the epoch's stream);
/// each trainable user appears once, as in one pass of the reference's current sampler
/// (shuffled ids, ⌈U / batch⌉ batches). Its first version drew users with replacement for
/// ⌊U / batch⌋ batches: 7 Adam steps per ml-100k epoch instead of 8.
inline void epoch_order(std::vector<std::int32_t>& order, const std::vector<std::int32_t>& users,
                        std::uint64_t seed, std::uint64_t epoch) {
  order = users;
  Rng rng(derive_seed(seed, "sasrec/order", epoch));
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<std::size_t>(rng.below(i))]);
}

}  // namespace recfuse::sasrec
