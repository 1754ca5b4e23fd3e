// Top-k selection over one row of scores, the one routine every recommender
// and the evaluator share (after faiss/utils/Heap.h). Order: higher score
// first, ties by smaller item id; NaN ranks as -inf. Results are padded with
// kNoItem and -inf when fewer than k candidates remain.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "recfuse/types.hpp"

namespace recfuse {

namespace topk_detail {
inline float key(float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; }
/// True when (sa, ia) ranks strictly before (sb, ib).
inline bool better(float sa, ItemId ia, float sb, ItemId ib) {
  return sa > sb || (sa == sb && ia < ib);
}
/// Sift the element at `i` down a heap whose top is the worst kept element.
inline void sift_down(float* s, ItemId* id, int n, int i) {
  const float vs = s[i];
  const ItemId vi = id[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && better(s[c], id[c], s[c + 1], id[c + 1])) ++c;  // pick the worse child
    if (!better(vs, vi, s[c], id[c])) break;
    s[i] = s[c]; id[i] = id[c]; i = c;
  }
  s[i] = vs; id[i] = vi;
}
inline void sift_up(float* s, ItemId* id, int i) {
  const float vs = s[i];
  const ItemId vi = id[i];
  while (i > 0) {
    const int p = (i - 1) / 2;
    if (!better(s[p], id[p], vs, vi)) break;  // parent already worse or equal
    s[i] = s[p]; id[i] = id[p]; i = p;
  }
  s[i] = vs; id[i] = vi;
}
}  // namespace topk_detail

/// Bounded heap writing straight into caller-owned arrays of size k.
class TopKHeap {
 public:
  TopKHeap(int k, ItemId* items, float* scores) : k_(k), items_(items), scores_(scores) {}
  void push(float score, ItemId item) {
    using namespace topk_detail;
    const float s = key(score);
    if (size_ < k_) {
      scores_[size_] = s; items_[size_] = item;
      sift_up(scores_, items_, size_);
      ++size_;
    } else if (k_ > 0 && better(s, item, scores_[0], items_[0])) {
      scores_[0] = s; items_[0] = item;
      sift_down(scores_, items_, k_, 0);  // full: size_ == k_ (k_ lets GCC see the bound)
    }
  }
  /// Sorts best-first, pads the tail; returns the number of real results.
  int finish() {
    using namespace topk_detail;
    // size_ <= k_ always; the min tells GCC so (else -Warray-bounds fires
    // where k is a known small constant).
    for (int n = std::min(size_, k_); n > 1; --n) {  // heap sort: move the worst to the end
      std::swap(scores_[0], scores_[n - 1]);
      std::swap(items_[0], items_[n - 1]);
      sift_down(scores_, items_, n - 1, 0);
    }
    for (int j = size_; j < k_; ++j) {
      items_[j] = kNoItem;
      scores_[j] = -std::numeric_limits<float>::infinity();
    }
    return size_;
  }

 private:
  int k_;
  int size_ = 0;
  ItemId* items_;
  float* scores_;
};

/// Top-k of `scores[0..n_items)` skipping `exclude` (sorted ascending item
/// ids). Writes `out_items[0..k)` and `out_scores[0..k)`. Returns the number
/// of real (non-padding) results. O(n log k), no allocation.
inline int topk_exclude(const float* scores, ItemId n_items, std::span<const ItemId> exclude,
                        int k, ItemId* out_items, float* out_scores) {
  TopKHeap heap(k, out_items, out_scores);
  std::size_t e = 0;
  for (ItemId i = 0; i < n_items; ++i) {
    while (e < exclude.size() && exclude[e] < i) ++e;
    if (e < exclude.size() && exclude[e] == i) continue;
    heap.push(scores[i], i);
  }
  return heap.finish();
}

/// Top-k over a candidate list: `scores[j]` belongs to `candidates[j]`
/// (any order, distinct ids). Same ordering and padding as topk_exclude.
inline int topk_candidates(const float* scores, std::span<const ItemId> candidates, int k,
                           ItemId* out_items, float* out_scores) {
  TopKHeap heap(k, out_items, out_scores);
  for (std::size_t j = 0; j < candidates.size(); ++j) heap.push(scores[j], candidates[j]);
  return heap.finish();
}

}  // namespace recfuse
