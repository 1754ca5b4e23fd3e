// One epoch of biased-MF SGD over a list of ratings, in Surprise's update
// order (surprise/prediction_algorithms/matrix_factorization.pyx, SVD.sgd):
//
//   e    = r − (μ + b_u + b_i + q_i·p_u)
//   b_u += γ_b (e − λ_b b_u)          (biased only)
//   b_i += γ_b (e − λ_b b_i)
//   for each f, with the values from before this step:
//     p_uf += γ (e q_if − λ p_uf)
//     q_if += γ (e p_uf − λ q_if)
//
// This is Koren, Bell & Volinsky (2009), eq. 5 and the §3 update rules.
// The kernel is compiled twice, generic (SSE2) and AVX2+FMA, and chosen once
// per epoch from the CPU: the SDK forbids -march flags in plugins (they change
// Eigen's alignment and so the build fingerprint), but a function may still
// carry its own target. Both paths are deterministic on one machine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "rating_model.hpp"
#include "recfuse/padded_rows.hpp"

namespace recfuse {

struct SgdStep {
  float lr = 0.005f, reg = 0.02f;            // factors
  float lr_bias = 0.005f, reg_bias = 0.02f;  // biases
  float mu = 0.0f;                           // 0 for the unbiased variant
  bool biased = true;
  int factors = 0;
  int stride = 0;  // floats between rows of P and Q; 0 = factors (unpadded)
  /// The row stride, which the loops run over whole: the padding must be
  /// zero; it stays zero (γ(e·0 − λ·0) = 0) and adds 0 to every dot
  /// product, and a multiple of 16 leaves the vector loops no scalar tail.
  int width() const { return stride > 0 ? stride : factors; }
};

namespace sgd_detail {

/// q·p in two 8-lane partial sums. GCC keeps an `omp simd reduction` in a
/// stack array and runs its scalar tail through memory, which at f = 100
/// cost more than the arithmetic.
[[gnu::always_inline]] inline float dot_two_chains(const float* q, const float* p, int f) {
  using V8 = float __attribute__((vector_size(32), aligned(4), may_alias));  // unaligned loads
  V8 even = {}, odd = {};
  int c = 0;
  for (; c + 16 <= f; c += 16) {
    even += *reinterpret_cast<const V8*>(q + c) * *reinterpret_cast<const V8*>(p + c);
    odd += *reinterpret_cast<const V8*>(q + c + 8) * *reinterpret_cast<const V8*>(p + c + 8);
  }
  if (c + 8 <= f) {
    even += *reinterpret_cast<const V8*>(q + c) * *reinterpret_cast<const V8*>(p + c);
    c += 8;
  }
  even += odd;
  float x = ((even[0] + even[4]) + (even[1] + even[5])) + ((even[2] + even[6]) + (even[3] + even[7]));
  for (; c < f; ++c) x += q[c] * p[c];
  return x;
}

/// The step of one rating once its error e is known.
[[gnu::always_inline]] inline void apply(const SgdStep& s, const Rating& t, float e,
                                         float* __restrict p, float* __restrict q, float* bu,
                                         float* bi) {
  if (s.biased) {
    bu[t.u] += s.lr_bias * (e - s.reg_bias * bu[t.u]);
    bi[t.i] += s.lr_bias * (e - s.reg_bias * bi[t.i]);
  }
  const float le = s.lr * e, decay = 1.0f - s.lr * s.reg;
#pragma omp simd
  for (int k = 0; k < s.width(); ++k) {
    const float pk = p[k], qk = q[k];
    // pk + lr (e qk − reg pk), rearranged so it is one FMA per factor.
    p[k] = decay * pk + le * qk;
    q[k] = decay * qk + le * pk;
  }
}

[[gnu::always_inline]] inline float* row(float* M, std::int32_t r, int f) {
  return M + static_cast<std::size_t>(r) * static_cast<std::size_t>(f);
}

/// One rating's update; returns e² (the error before the update).
[[gnu::always_inline]] inline float update(const SgdStep& s, const Rating& t, float* P, float* Q,
                                           float* bu, float* bi) {
  float* p = row(P, t.u, s.width());
  float* q = row(Q, t.i, s.width());
  const float e = t.r - (s.mu + bu[t.u] + bi[t.i] + dot_two_chains(q, p, s.width()));
  apply(s, t, e, p, q, bu, bi);
  return e * e;
}

/// Two consecutive ratings with different users and different items: the
/// second reads nothing the first writes, so both errors are computed
/// before either step and the result is bit for bit that of two update()
/// calls, while the two dot products' latency chains overlap. Adds e_a²
/// and then e_b² to se.
[[gnu::always_inline]] inline void update_disjoint_pair(const SgdStep& s, const Rating& a,
                                                        const Rating& b, float* P, float* Q,
                                                        float* bu, float* bi, double& se) {
  float* pa = row(P, a.u, s.width());
  float* qa = row(Q, a.i, s.width());
  float* pb = row(P, b.u, s.width());
  float* qb = row(Q, b.i, s.width());
  const float da = dot_two_chains(qa, pa, s.width()), db = dot_two_chains(qb, pb, s.width());
  const float ea = a.r - (s.mu + bu[a.u] + bi[a.i] + da);
  const float eb = b.r - (s.mu + bu[b.u] + bi[b.i] + db);
  apply(s, a, ea, pa, qa, bu, bi);
  apply(s, b, eb, pb, qb, bu, bi);
  se += ea * ea;
  se += eb * eb;
}

constexpr std::size_t kPrefetch = 4;  // ratings ahead whose rows are prefetched

[[gnu::always_inline]] inline void prefetch_row(const float* row, int f) {
  for (int c = 0; c < f; c += 16) __builtin_prefetch(row + c, 1);
  __builtin_prefetch(row + f - 1, 1);  // rows need not start on a cache line
}

[[gnu::always_inline]] inline double run_body(const SgdStep& s, const Rating* ratings, std::size_t n,
                                              float* P, float* Q, float* bu, float* bi) {
  const auto f = static_cast<std::size_t>(s.width());
  double se = 0.0;
  std::size_t k = 0;
  while (k < n) {
    for (std::size_t ahead = k + kPrefetch; ahead < std::min(n, k + kPrefetch + 2); ++ahead) {
      prefetch_row(P + static_cast<std::size_t>(ratings[ahead].u) * f, s.factors);
      prefetch_row(Q + static_cast<std::size_t>(ratings[ahead].i) * f, s.factors);  // padding unread
    }
    const Rating& a = ratings[k];
    if (k + 1 < n && ratings[k + 1].u != a.u && ratings[k + 1].i != a.i) {
      update_disjoint_pair(s, a, ratings[k + 1], P, Q, bu, bi, se);
      k += 2;
    } else {
      se += update(s, a, P, Q, bu, bi);
      k += 1;
    }
  }
  return se;
}

[[gnu::target("avx2,fma")]] inline double run_avx2(const SgdStep& s, const Rating* ratings,
                                                   std::size_t n, float* P, float* Q, float* bu,
                                                   float* bi) {
  return run_body(s, ratings, n, P, Q, bu, bi);
}

inline double run_generic(const SgdStep& s, const Rating* ratings, std::size_t n, float* P,
                          float* Q, float* bu, float* bi) {
  return run_body(s, ratings, n, P, Q, bu, bi);
}

}  // namespace sgd_detail

/// Runs the updates over ratings[0..n) in order (P: n_users rows, Q: n_items
/// rows, both row-major with row stride s.width(); bu: n_users, bi: n_items;
/// all updated in place). Two consecutive ratings with different users and
/// items are stepped as a pair (update_disjoint_pair, same result); the rows
/// of the ratings kPrefetch ahead prefetched (at MovieLens sizes P and Q sit
/// in L2/L3 and a random-order epoch is bound by their latency). Returns
/// Σ e² of the errors seen before each update (the running training loss).
inline double sgd_epoch(const SgdStep& s, const Rating* ratings, std::size_t n, float* P, float* Q,
                        float* bu, float* bi) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2 ? sgd_detail::run_avx2(s, ratings, n, P, Q, bu, bi)
              : sgd_detail::run_generic(s, ratings, n, P, Q, bu, bi);
}

/// The ratings cut into a k x k grid for stratified parallel SGD (Gemulla,
/// Nijkamp, Haas & Sismanis, KDD 2011, "DSGD"; the block scheduling of
/// LIBMF, Chin et al. 2015). Row block r holds a contiguous range of user
/// ids and column block c a contiguous range of item ids, cut so that every
/// row block and every column block holds about n/k ratings. Contiguous
/// ranges matter: two threads whose users interleaved in memory would write
/// the same cache lines of P and of the biases on every step (false
/// sharing), which on a 2-core machine made a parallel epoch slower than a
/// serial one. Block (r, c) is the slice [offset[r k + c], offset[r k + c +
/// 1]) of `ratings`.
struct SgdGrid {
  int k = 0;
  std::vector<Rating> ratings;
  std::vector<std::size_t> offset;  // k² + 1
};

namespace sgd_detail {

/// Block of every id in [0, n): contiguous ranges, each closed once it
/// holds its share of the ratings (counts[id] ratings per id).
inline std::vector<int> balanced_ranges(const std::vector<std::size_t>& counts, int k) {
  std::size_t total = 0;
  for (std::size_t c : counts) total += c;
  std::vector<int> block(counts.size());
  std::size_t seen = 0;
  for (std::size_t id = 0; id < counts.size(); ++id) {
    block[id] = static_cast<int>(std::min<std::size_t>(
        static_cast<std::size_t>(k) - 1, total == 0 ? 0 : seen * static_cast<std::size_t>(k) / total));
    seen += counts[id];
  }
  return block;
}

}  // namespace sgd_detail

/// Cuts `ratings` into a k x k grid of balanced contiguous id ranges.
inline SgdGrid make_sgd_grid(const std::vector<Rating>& ratings, std::int32_t n_users,
                             std::int32_t n_items, int k) {
  SgdGrid g;
  g.k = k;
  std::vector<std::size_t> per_user(static_cast<std::size_t>(n_users)), per_item(static_cast<std::size_t>(n_items));
  for (const Rating& t : ratings) {
    ++per_user[static_cast<std::size_t>(t.u)];
    ++per_item[static_cast<std::size_t>(t.i)];
  }
  const std::vector<int> row_of = sgd_detail::balanced_ranges(per_user, k);
  const std::vector<int> col_of = sgd_detail::balanced_ranges(per_item, k);
  const auto block = [&](const Rating& t) {
    return static_cast<std::size_t>(row_of[static_cast<std::size_t>(t.u)] * k +
                                    col_of[static_cast<std::size_t>(t.i)]);
  };
  const std::size_t blocks = static_cast<std::size_t>(k) * static_cast<std::size_t>(k);
  g.offset.assign(blocks + 1, 0);
  for (const Rating& t : ratings) ++g.offset[block(t) + 1];
  for (std::size_t b = 0; b < blocks; ++b) g.offset[b + 1] += g.offset[b];
  std::vector<std::size_t> fill(g.offset.begin(), g.offset.end() - 1);
  g.ratings.resize(ratings.size());
  for (const Rating& t : ratings) g.ratings[fill[block(t)]++] = t;  // stable within a block
  return g;
}

/// One stratified epoch over the grid: the k strata (block diagonals
/// {(r, (r + d) mod k)}) in an order drawn from `seed`; the k blocks of a
/// stratum share no user and no item, so up to `threads` of them run at
/// once with no two threads writing the same row or bias. Each block is
/// first reshuffled in place from its own stream derive_seed(seed, "block",
/// b). The model therefore depends on (seed, k) only, not on the thread
/// count or on which thread ran which block. `block_se` (k² entries,
/// reused) receives each block's Σ e²; returns their sum in block order.
inline double sgd_epoch_blocked(const SgdStep& s, SgdGrid& g, std::uint64_t seed, int threads,
                                float* P, float* Q, float* bu, float* bi,
                                std::vector<double>& block_se, bool reshuffle = true) {
  const int k = g.k;
  std::vector<std::uint32_t> strata;
  shuffled_order(strata, static_cast<std::size_t>(k), derive_seed(seed, "strata"));
  block_se.assign(static_cast<std::size_t>(k) * static_cast<std::size_t>(k), 0.0);
#pragma omp parallel num_threads(std::max(1, std::min(threads, k)))
  for (int t = 0; t < k; ++t) {
    const int d = static_cast<int>(strata[static_cast<std::size_t>(t)]);
#pragma omp for schedule(dynamic, 1)
    for (int r = 0; r < k; ++r) {
      const auto b = static_cast<std::size_t>(r * k + (r + d) % k);
      Rating* first = g.ratings.data() + g.offset[b];
      const std::size_t n = g.offset[b + 1] - g.offset[b];
      if (reshuffle) {
        Rng rng(derive_seed(seed, "block", b));
        for (std::size_t j = n; j > 1; --j) std::swap(first[j - 1], first[rng.below(j)]);
      }
      block_se[b] = sgd_epoch(s, first, n, P, Q, bu, bi);
    }  // the implicit barrier: the next stratum starts when this one is done
  }
  double se = 0.0;
  for (double v : block_se) se += v;
  return se;
}

}  // namespace recfuse
