// The LearnBPR update (Rendle et al., UAI 2009, §4.3) over a batch of
// sampled triples (u, i, j), with z = σ(−x̂_uij) = 1 / (1 + e^x̂_uij):
//
//   x̂_uij = w_u·(h_i − h_j) + b_i − b_j
//   w_u += lr (z (h_i − h_j) − λ w_u),  h_i += lr (z w_u − λ h_i),
//   h_j += lr (−z w_u − λ h_j),  b_i += lr (z − λ b_i),  b_j += lr (−z − λ b_j),
//
// every right-hand side with the values from before the step. The rows of
// the triple kPrefetch steps ahead are prefetched: at MovieLens sizes the
// factors live in L2/L3 and the step is otherwise bound by their latency.
// As plugins/mf_explicit/sgd_kernel.hpp, the loop is compiled twice, generic
// (SSE2) and AVX2+FMA, and chosen once from the CPU (no -march flags in
// plugins); both paths are deterministic on one machine.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace recfuse {

struct BprTriple {
  std::int32_t u, i, j;  // user, positive item, sampled negative item
};

struct BprStep {
  float lr = 0.01f, reg = 0.01f;
  bool item_bias = true;
  int factors = 0;
  int stride = 0;  // floats between rows of W and H; 0 = factors (unpadded)
  /// Row stride, and the floats the loops run over: padding must be zero,
  /// and stays zero (every update of a zero column is a multiple of it).
  int width() const { return stride > 0 ? stride : factors; }
};

namespace bpr_detail {

constexpr std::size_t kPrefetch = 4;

[[gnu::always_inline]] inline void prefetch_row(const float* row, int f) {
  for (int c = 0; c < f; c += 16) __builtin_prefetch(row + c, 1);
  __builtin_prefetch(row + f - 1, 1);  // rows need not start on a cache line
}

/// w·(hi − hj) in two 8-lane partial sums: the serial chain of one
/// accumulator (and omp simd's scalar epilogue) would cost more than the
/// arithmetic at f = 64.
[[gnu::always_inline]] inline float dot_difference(const float* w, const float* hi, const float* hj, int f) {
  using V8 = float __attribute__((vector_size(32), aligned(4), may_alias));  // unaligned loads
  V8 even = {}, odd = {};
  int c = 0;
  for (; c + 16 <= f; c += 16) {
    even += *reinterpret_cast<const V8*>(w + c) *
            (*reinterpret_cast<const V8*>(hi + c) - *reinterpret_cast<const V8*>(hj + c));
    odd += *reinterpret_cast<const V8*>(w + c + 8) *
           (*reinterpret_cast<const V8*>(hi + c + 8) - *reinterpret_cast<const V8*>(hj + c + 8));
  }
  even += odd;
  float x = ((even[0] + even[4]) + (even[1] + even[5])) + ((even[2] + even[6]) + (even[3] + even[7]));
  for (; c < f; ++c) x += w[c] * (hi[c] - hj[c]);
  return x;
}

/// One step; returns 1 when x̂_uij > 0 before the update.
[[gnu::always_inline]] inline int update(const BprStep& s, const BprTriple& t, float* W, float* H,
                                         float* b) {
  const int f = s.width();
  // i ≠ j, and users and items live in different arrays: no aliasing.
  float* __restrict w = W + static_cast<std::size_t>(t.u) * static_cast<std::size_t>(f);
  float* __restrict hi = H + static_cast<std::size_t>(t.i) * static_cast<std::size_t>(f);
  float* __restrict hj = H + static_cast<std::size_t>(t.j) * static_cast<std::size_t>(f);
  float x = dot_difference(w, hi, hj, f);
  if (s.item_bias) x += b[t.i] - b[t.j];
  const float z = 1.0f / (1.0f + std::exp(x));
  const float decay = 1.0f - s.lr * s.reg, step_z = s.lr * z;
#pragma omp simd
  for (int c = 0; c < f; ++c) {
    const float wc = w[c], hic = hi[c], hjc = hj[c];
    w[c] = decay * wc + step_z * (hic - hjc);
    hi[c] = decay * hic + step_z * wc;
    hj[c] = decay * hjc - step_z * wc;
  }
  if (s.item_bias) {
    b[t.i] += s.lr * (z - s.reg * b[t.i]);
    b[t.j] += s.lr * (-z - s.reg * b[t.j]);
  }
  return x > 0.0f ? 1 : 0;
}

[[gnu::always_inline]] inline std::int64_t batch_body(const BprStep& s, const BprTriple* t,
                                                      std::size_t n, float* W, float* H, float* b) {
  const auto f = static_cast<std::size_t>(s.width());
  std::int64_t correct = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (k + kPrefetch < n) {
      const BprTriple& a = t[k + kPrefetch];
      prefetch_row(W + static_cast<std::size_t>(a.u) * f, s.factors);
      prefetch_row(H + static_cast<std::size_t>(a.i) * f, s.factors);
      prefetch_row(H + static_cast<std::size_t>(a.j) * f, s.factors);
    }
    correct += update(s, t[k], W, H, b);
  }
  return correct;
}

[[gnu::target("avx2,fma")]] inline std::int64_t batch_avx2(const BprStep& s, const BprTriple* t,
                                                           std::size_t n, float* W, float* H, float* b) {
  return batch_body(s, t, n, W, H, b);
}

inline std::int64_t batch_generic(const BprStep& s, const BprTriple* t, std::size_t n, float* W,
                                  float* H, float* b) {
  return batch_body(s, t, n, W, H, b);
}

}  // namespace bpr_detail

/// Applies the steps t[0..n) in order (W: n_users rows, H: n_items rows,
/// both row-major with row stride s.width(); b: n_items item biases, read only when s.item_bias; all updated in
/// place). Returns how many triples had x̂_uij > 0 before their step.
inline std::int64_t bpr_update_batch(const BprStep& s, const BprTriple* t, std::size_t n, float* W,
                                     float* H, float* b) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2 ? bpr_detail::batch_avx2(s, t, n, W, H, b) : bpr_detail::batch_generic(s, t, n, W, H, b);
}

}  // namespace recfuse
