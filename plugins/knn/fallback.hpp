// What item_knn and user_knn score an item the neighbourhood gives no
// evidence for (`fallback` parameter). Evidence means at least one term of
// the kNN sum: item_knn, some j ∈ I_u keeps i among its neighbours; user_knn,
// some v ∈ N_k(u) rated i. That is not the same as a sum of 0 (terms of
// both signs can cancel), so the recommenders track it, never test for 0.
//
//   PopularityFallback f(Fallback::kPopularity);
//   f.fit(history.ids, n_items, term_rows.indptr, term_rows.values);  // at fit and load
//   const double floor = f.floor(weights_of_u_terms, rows_of_u_terms);
//   f.fill(row, evidenced, floor);  // row[i] = f.score(floor, i) where !evidenced[i]
//
// "none": such an item scores 0, the empty sum (so among themselves they
// fall back to item-id order). "popularity": it ranks after every evidenced
// item, by training popularity (number of users, as the popularity
// baseline), ties by item id: LensKit's Fallback(ItemItem, Popular), and
// the role of the baseline Surprise's KNNBaseline predicts when a
// prediction is impossible. Its score is
//   floor_u − 1 − (max_pop − pop_i),
// where floor_u ≤ 0 bounds from below every sum the model can give u:
//   floor_u = Σ_t min(w_t · lo_t, w_t · hi_t)
// over u's terms t (item_knn: j ∈ I_u, w = r_uj, [lo, hi] the range of j's
// neighbour similarities widened to hold 0; user_knn: v ∈ N_k(u), w =
// sim(u, v), [lo, hi] the range of v's values with 0). An evidenced sum
// takes w_t · x with x in [lo_t, hi_t] from some of these terms, so it is
// ≥ floor_u, and every fallback score is at least 1 below it (up to the
// float rounding of the sums, far below 1 while their terms' magnitudes
// add up to less than ~1e5), one unit per user of popularity apart. With non-negative similarities and values
// (cosine or Jaccard of positive ratings, the usual case) floor_u = 0: the
// most popular item scores −1, one with p fewer users −1 − p. Scores
// (pairwise score, score_all, recommend) thus keep "evidence first" for
// fusion and AUC, and the evidenced sums are exactly those of "none". As a
// score-fusion child, note that z-score and min-max normalisation see the
// fallback's long negative tail (rank normalisation sees only the order).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

enum class Fallback { kNone, kPopularity };

inline Fallback parse_fallback(const std::string& s) {
  if (s == "none") return Fallback::kNone;
  if (s == "popularity") return Fallback::kPopularity;
  throw Error("unknown fallback '" + s + "'; known: none, popularity");
}

class PopularityFallback {
 public:
  explicit PopularityFallback(Fallback kind) : on_(kind == Fallback::kPopularity) {}
  bool enabled() const { return on_; }

  /// `rated_items`: every training (user, item) pair's item (popularity =
  /// occurrences); `term_indptr` / `term_values`: the CSR rows a user's
  /// terms multiply (their value ranges bound the sums). Derived from the
  /// model, so fitted again after load rather than saved.
  void fit(std::span<const std::int32_t> rated_items, std::int32_t n_items,
           std::span<const std::int64_t> term_indptr, std::span<const float> term_values) {
    gap_.clear();
    lo_.clear();
    hi_.clear();
    if (!on_) return;
    std::vector<std::int32_t> pop(static_cast<std::size_t>(n_items), 0);
    for (const std::int32_t i : rated_items) ++pop[static_cast<std::size_t>(i)];
    most_ = pop.empty() ? 0 : *std::max_element(pop.begin(), pop.end());
    gap_.resize(pop.size());
    for (std::size_t i = 0; i < pop.size(); ++i) gap_[i] = most_ - pop[i];
    const std::size_t rows = term_indptr.empty() ? 0 : term_indptr.size() - 1;
    lo_.assign(rows, 0.0f);
    hi_.assign(rows, 0.0f);
    for (std::size_t e = 0; e < rows; ++e)
      for (std::int64_t k = term_indptr[e]; k < term_indptr[e + 1]; ++k) {
        lo_[e] = std::min(lo_[e], term_values[static_cast<std::size_t>(k)]);
        hi_[e] = std::max(hi_[e], term_values[static_cast<std::size_t>(k)]);
      }
  }

  /// floor_u of one user's terms: term t multiplies row rows[t] by weights[t]. 0 when off.
  double floor(std::span<const std::int32_t> rows, std::span<const float> weights) const {
    double f = 0.0;
    if (!on_) return f;
    for (std::size_t t = 0; t < rows.size(); ++t) {
      const double w = weights[t];
      const auto e = static_cast<std::size_t>(rows[t]);
      f += std::min(w * lo_[e], w * hi_[e]);
    }
    return f;
  }

  /// Item i's training popularity (users), the fallback's order; 0 when off.
  std::int32_t popularity(ItemId i) const { return on_ ? most_ - gap_[static_cast<std::size_t>(i)] : 0; }
  /// "ranked by popularity (4 training users)": the end of an explanation
  /// of item i without evidence.
  std::string reason(ItemId i) const {
    const std::int32_t users = popularity(i);
    return "ranked by popularity (" + std::to_string(users) + (users == 1 ? " training user)" : " training users)");
  }

  /// The score of item i without evidence, for a user of floor `floor`.
  float score(double floor, ItemId i) const {
    return on_ ? static_cast<float>(floor - 1.0 - gap_[static_cast<std::size_t>(i)]) : 0.0f;
  }

  /// row[i] = score(floor, i) wherever !evidenced[i] (both n_items long). The
  /// rows hold 0 there already, so "none" leaves them.
  void fill(float* row, const std::uint8_t* evidenced, double floor) const {
    if (!on_) return;
    for (std::size_t i = 0; i < gap_.size(); ++i)
      if (!evidenced[i]) row[i] = score(floor, static_cast<ItemId>(i));
  }

 private:
  bool on_;
  std::int32_t most_ = 0;          // the largest popularity
  std::vector<std::int32_t> gap_;  // per item: max popularity − its popularity
  std::vector<float> lo_, hi_;     // per term row: min(0, values), max(0, values)
};

/// score_all of both kNN sums, parallel over users: for user u (row r of
/// `out`, n items wide),
///   row[i] = Σ_{a in outer row u} w_a · Σ_{b in inner row ids[a] with inner id i} x_b
/// (item_knn: outer = u's rated items and ratings, inner = their neighbour
/// lists and similarities; user_knn: outer = u's neighbours and
/// similarities, inner = their rated items and ratings); then the items no
/// term reached are filled by `fallback`, floored over u's outer row.
inline void score_two_level(std::span<const UserId> users, std::size_t n, std::span<float> out,
                            std::span<const std::int64_t> outer_ptr, std::span<const std::int32_t> outer_ids,
                            std::span<const float> outer_w, std::span<const std::int64_t> inner_ptr,
                            std::span<const std::int32_t> inner_ids, std::span<const float> inner_x,
                            const PopularityFallback& fallback) {
#pragma omp parallel if (users.size() > 8)
  {
    std::vector<std::uint8_t> evidenced(n);  // per thread, reused across users
#pragma omp for schedule(dynamic, 8)
    for (std::size_t r = 0; r < users.size(); ++r) {
      float* row = out.data() + r * n;
      std::fill(row, row + n, 0.0f);
      std::fill(evidenced.begin(), evidenced.end(), std::uint8_t{0});
      const UserId u = users[r];
      const auto a0 = static_cast<std::size_t>(outer_ptr[u]), a1 = static_cast<std::size_t>(outer_ptr[u + 1]);
      for (std::size_t a = a0; a < a1; ++a) {
        const std::int32_t e = outer_ids[a];
        const float w = outer_w[a];
        for (std::int64_t b = inner_ptr[e]; b < inner_ptr[e + 1]; ++b) {
          const auto i = static_cast<std::size_t>(inner_ids[static_cast<std::size_t>(b)]);
          row[i] += w * inner_x[static_cast<std::size_t>(b)];
          evidenced[i] = 1;
        }
      }
      fallback.fill(row, evidenced.data(), fallback.floor(outer_ids.subspan(a0, a1 - a0), outer_w.subspan(a0, a1 - a0)));
    }
  }
}

}  // namespace recfuse
