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

#include <cstdint>

#include "rating_model.hpp"

namespace recfuse {

struct SgdStep {
  float lr = 0.005f, reg = 0.02f;            // factors
  float lr_bias = 0.005f, reg_bias = 0.02f;  // biases
  float mu = 0.0f;                           // 0 for the unbiased variant
  bool biased = true;
  int factors = 0;
};

namespace sgd_detail {

/// One rating's update; returns e² (the error before the update).
[[gnu::always_inline]] inline float update(const SgdStep& s, const Rating& t, float* __restrict P,
                                           float* __restrict Q, float* bu, float* bi) {
  const int f = s.factors;
  float* __restrict p = P + static_cast<std::size_t>(t.u) * static_cast<std::size_t>(f);
  float* __restrict q = Q + static_cast<std::size_t>(t.i) * static_cast<std::size_t>(f);
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int k = 0; k < f; ++k) dot += q[k] * p[k];
  const float e = t.r - (s.mu + bu[t.u] + bi[t.i] + dot);
  if (s.biased) {
    bu[t.u] += s.lr_bias * (e - s.reg_bias * bu[t.u]);
    bi[t.i] += s.lr_bias * (e - s.reg_bias * bi[t.i]);
  }
  const float le = s.lr * e, decay = 1.0f - s.lr * s.reg;
#pragma omp simd
  for (int k = 0; k < f; ++k) {
    const float pk = p[k], qk = q[k];
    // pk + lr (e qk − reg pk), rearranged so it is one FMA per factor.
    p[k] = decay * pk + le * qk;
    q[k] = decay * qk + le * pk;
  }
  return e * e;
}

[[gnu::always_inline]] inline double epoch_body(const SgdStep& s, const Rating* ratings,
                                                std::size_t n, float* P, float* Q, float* bu,
                                                float* bi, bool hogwild) {
  double se = 0.0;
  if (hogwild) {
    // Hogwild (Recht et al. 2011): lock-free racing updates, so the result
    // depends on thread timing; only when `parallel = true`.
#pragma omp parallel for schedule(static) reduction(+ : se)
    for (std::size_t k = 0; k < n; ++k) se += update(s, ratings[k], P, Q, bu, bi);
  } else {
    for (std::size_t k = 0; k < n; ++k) se += update(s, ratings[k], P, Q, bu, bi);
  }
  return se;
}

[[gnu::target("avx2,fma")]] inline double epoch_avx2(const SgdStep& s, const Rating* ratings,
                                                     std::size_t n, float* P, float* Q, float* bu,
                                                     float* bi, bool hogwild) {
  return epoch_body(s, ratings, n, P, Q, bu, bi, hogwild);
}

inline double epoch_generic(const SgdStep& s, const Rating* ratings, std::size_t n, float* P,
                            float* Q, float* bu, float* bi, bool hogwild) {
  return epoch_body(s, ratings, n, P, Q, bu, bi, hogwild);
}

}  // namespace sgd_detail

/// Runs the updates over ratings[0..n) in order (P: n_users x f row-major,
/// Q: n_items x f, bu: n_users, bi: n_items, all updated in place). Returns
/// Σ e² of the errors seen before each update (the running training loss).
inline double sgd_epoch(const SgdStep& s, const Rating* ratings, std::size_t n, float* P, float* Q,
                        float* bu, float* bi, bool hogwild = false) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2 ? sgd_detail::epoch_avx2(s, ratings, n, P, Q, bu, bi, hogwild)
              : sgd_detail::epoch_generic(s, ratings, n, P, Q, bu, bi, hogwild);
}

}  // namespace recfuse
