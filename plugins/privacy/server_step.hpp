// The FCF server's update of the item factors from one round's released sum
// (fed_round.hpp):
//
//   ServerStep step(ServerOptimizer::kAdam, /*lr=*/0.05, /*reg=*/0.01, /*sampling=*/1.0);
//   step.reset(y.rows(), y.cols());
//   step.apply(s.sum, s.y, threads);  // s.sum is overwritten by the gradient g
//
//   g = sum / q + 2λ·Y
// the gradient of J = Σ_u L_u + λ‖Y‖² when every client takes part
// (q = 1) and nothing is clipped, and its unbiased estimate under Poisson
// sampling at rate q (E[Σ_{u∈S} G_u] = q·Σ_u G_u). The λ‖Y‖² term is the
// server's own (data-independent) and is added after the noise.
//   kSgd:  Y ← Y − lr·g
//   kAdam: Kingma & Ba, ICLR 2015, Algorithm 1 (β₁ 0.9, β₂ 0.999, ε 1e-8):
//          FCF uses Adam's adaptive steps for the master model's item
//          factors (Ammad-ud-din et al. 2019), our default. Adam only
//          post-processes the noisy sums, so the privacy accounting is
//          unchanged.
// Every entry is updated on its own: the result does not depend on the
// thread count.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>

#include "recfuse/factor_scoring.hpp"

namespace recfuse {

enum class ServerOptimizer { kAdam, kSgd };

class ServerStep {
 public:
  ServerStep(ServerOptimizer optimizer, double lr, double reg, double sampling)
      : optimizer_(optimizer), lr_(lr), reg_(reg), sampling_(sampling) {}

  /// Zero moments for a fresh fit of a rows x cols item matrix.
  void reset(Eigen::Index rows, Eigen::Index cols) {
    t_ = 0;
    if (optimizer_ == ServerOptimizer::kAdam) {
      m_.setZero(rows, cols);
      v_.setZero(rows, cols);
    }
  }

  /// y ← one step along g = sum/q + 2λy; `sum` (same shape as y) becomes g.
  void apply(RowMatrixF& sum, RowMatrixF& y, int threads) {
    ++t_;
    const float inv_q = static_cast<float>(1.0 / sampling_), two_reg = static_cast<float>(2.0 * reg_);
    const float lr = static_cast<float>(lr_);
    const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(kBeta1, t_)));
    const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(kBeta2, t_)));
    float* g = sum.data();
    float* w = y.data();
    const Eigen::Index n = y.size();
    const bool adam = optimizer_ == ServerOptimizer::kAdam;
    float* m = adam ? m_.data() : nullptr;
    float* v = adam ? v_.data() : nullptr;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (Eigen::Index k = 0; k < n; ++k) {
      g[k] = g[k] * inv_q + two_reg * w[k];
      if (!adam) {
        w[k] -= lr * g[k];
        continue;
      }
      m[k] = kBeta1 * m[k] + (1.0f - kBeta1) * g[k];
      v[k] = kBeta2 * v[k] + (1.0f - kBeta2) * g[k] * g[k];
      w[k] -= lr * (m[k] * c1) / (std::sqrt(v[k] * c2) + kEps);
    }
  }

 private:
  static constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
  ServerOptimizer optimizer_;
  double lr_, reg_, sampling_;
  std::int64_t t_ = 0;
  RowMatrixF m_, v_;  // Adam's first and second moments, shaped as Y
};

}  // namespace recfuse
