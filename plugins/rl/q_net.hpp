// The Q-network of DQN (dqn.hpp; Mnih et al., Nature 2015) as a
// forward/backward pair over one flat weight buffer (llm.c style, as
// policy_net.hpp).
//
// Shapes: D state features (session_book.hpp), H hidden units, E = F + 1
// item features with a bias, n items. θ = [U (H x D) | c (H) | P (H x E) | b (n)]:
//   h = tanh(U φ(s) + c)            (H, the encoder of rl_common.hpp)
//   g = Pᵀ h                        (E)
//   Q(s, i) = x̃_iᵀ g + b_i          (b: the per-item bias of ItemScore; absent when off)
// Loss over N events e = (s_e, a_e, y_e), the targets y_e held constant:
//   L(θ) = (1/N) Σ_e huber_δ(Q(s_e, a_e) − y_e),
//   huber_δ(x) = x²/2 for |x| ≤ δ, else δ (|x| − δ/2),
// so ∂L/∂Q(s_e, a_e) = clip(Q − y, −δ, δ) / N.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

#include "recfuse/rng.hpp"
#include "rl_common.hpp"

namespace recfuse::rl {

/// One term of the Q-network's loss: Q(s, action) regressed on target.
struct QEvent {
  const double* phi;  // D
  ItemId action;
  double target;
};

/// The Q-network of the file comment.
class QNet {
 public:
  void reset(const ItemFeatures* items, int state_dim, int hidden, bool item_bias) {
    score_.reset(items, item_bias);
    encoder_ = TanhEncoder(state_dim, hidden);
    e_ = score_.dim();
  }
  Eigen::Index size() const { return off_b() + score_.bias_size(); }
  int hidden() const { return encoder_.hidden(); }
  int item_dim() const { return e_; }

  /// U ~ N(0, scale² / D), c = 0, P ~ N(0, scale² / H), b = 0.
  Eigen::VectorXd init(double scale, std::uint64_t seed) const {
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(size());
    Rng rng(seed);
    encoder_.init(theta.data(), scale, rng);
    for (Eigen::Index j = encoder_.size(); j < off_b(); ++j)
      theta[j] = rng.normal() * scale / std::sqrt(static_cast<double>(hidden()));
    return theta;
  }
  /// h = tanh(U φ + c) (H values) and g = Pᵀ h (E values), so Q(s, i) = value(theta, i, g).
  void forward(const Eigen::VectorXd& theta, const double* phi, double* h, double* g) const {
    encoder_.forward(theta.data(), phi, h);
    Eigen::Map<Eigen::VectorXd>(g, e_).noalias() =
        p(theta).transpose() * Eigen::Map<const Eigen::VectorXd>(h, hidden());
  }
  double value(const Eigen::VectorXd& theta, ItemId i, const double* g) const {
    return score_(i, g, theta.data() + off_b());
  }

  /// L(θ) of the file comment over `events`; when
  /// grad is non-null adds ∇L (laid out like θ).
  double loss(const Eigen::VectorXd& theta, std::span<const QEvent> events, double delta,
              Eigen::VectorXd* grad) const {
    const double n = static_cast<double>(events.size());
    h_.resize(hidden()), dh_.resize(hidden()), g_.resize(e_), dg_.resize(e_);
    double total = 0;
    for (const QEvent& ev : events) {
      forward(theta, ev.phi, h_.data(), g_.data());
      const double x = value(theta, ev.action, g_.data()) - ev.target;
      total += (std::abs(x) <= delta ? 0.5 * x * x : delta * (std::abs(x) - 0.5 * delta)) / n;
      if (!grad) continue;
      dg_.setZero();  // ∂L/∂g = huber'(x) x̃_a / N; ∂L/∂b_a = huber'(x) / N
      score_.backward(ev.action, std::clamp(x, -delta, delta) / n, dg_.data(), grad->data() + off_b());
      Eigen::Map<RowMatrix>(grad->data() + encoder_.size(), hidden(), e_).noalias() += h_ * dg_.transpose();
      dh_.noalias() = p(theta) * dg_;
      encoder_.backward(ev.phi, h_.data(), dh_, grad->data());
    }
    return total;
  }

 private:
  Eigen::Map<const RowMatrix> p(const Eigen::VectorXd& theta) const {
    return {theta.data() + encoder_.size(), hidden(), e_};
  }
  Eigen::Index off_b() const { return encoder_.size() + static_cast<Eigen::Index>(hidden()) * e_; }

  ItemScore score_;
  TanhEncoder encoder_;  // U, c: the first weights of θ
  int e_ = 0;
  mutable Eigen::VectorXd h_, dh_, g_, dg_;  // scratch
};

}  // namespace recfuse::rl
