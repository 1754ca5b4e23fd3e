// The softmax policy of top-K off-policy-corrected REINFORCE (Chen, Beutel,
// Covington, Jain, Belletti & Chi, "Top-K Off-Policy Correction for a
// REINFORCE Recommender System", WSDM 2019), as forward/backward pairs over
// one flat parameter buffer (llm.c style).
//
// Shapes: D state features (session_book.hpp), H hidden units, E = F + 1
// item features with a bias, n items.
// θ = [U (H x D) | c (H) | P (H x E) | B (H x E) | b (n) | b' (n)]:
//   state encoder   h = tanh(U φ(s) + c)                               (H)
//   policy          π(j | s) = softmax_j(x̃_jᵀ Pᵀ h + b_j) over the candidates
//   behaviour head  β(j | s) = softmax_j(x̃_jᵀ Bᵀ h + b'_j), h taken as a constant
// b, b' are the per-item biases of ItemScore (rl_common.hpp), absent when off.
// φ(s) holds the mean features of the user's recent clicked items, so U's
// first block acts on the average of learned linear item embeddings: the
// paper's GRU state encoder is replaced by that average plus the session
// counters of session_book.hpp (documented choice: sessions are short and
// the state sees items through their features only).
//
// Losses over N events e = (s_e, candidates, action a_e, multiplier m_e):
//   L_π = −(1/N) Σ_e m_e log π(a_e | s_e)   gradient into U, c, P, b
//   L_β = −(1/N) Σ_e log β(a_e | s_e)       gradient into B, b' only (the
//                                            paper's blocked gradient)
// with m_e frozen (computed by topk_multiplier before the step), so that
// ∇L_π = −(1/N) Σ m_e ∇log π(a_e|s_e), the paper's top-K corrected gradient.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "recfuse/rng.hpp"
#include "rl_common.hpp"

namespace recfuse::rl {

/// Chen et al.'s per-event multiplier, the capped importance weight times
/// the top-K factor:
///   min(π/β, cap) · λ_K(π) · advantage,  λ_K(π) = K (1 − π)^(K−1),
/// π = π_θ(a|s), β = the behaviour policy's probability of a; cap <= 0
/// means no capping.
inline double topk_multiplier(double pi, double beta, int k, double cap, double advantage) {
  double w = pi / beta;
  if (cap > 0) w = std::min(w, cap);
  return w * static_cast<double>(k) * std::pow(1.0 - pi, k - 1) * advantage;
}

struct PolicyEvent {
  const double* phi;              // D
  std::span<const ItemId> cands;  // the candidate set the softmax runs over
  int action;                     // index into cands
  double multiplier;              // m_e of L_π
};

class PolicyNet {
 public:
  enum Head { kPolicy, kBehavior };

  void reset(const ItemFeatures* items, int state_dim, int hidden, double init_scale, std::uint64_t seed,
             bool item_bias) {
    score_.reset(items, item_bias);
    encoder_ = TanhEncoder(state_dim, hidden);
    h_ = hidden, e_ = score_.dim();
    theta.setZero(size());
    Rng rng(seed);
    encoder_.init(theta.data(), init_scale, rng);
    for (Eigen::Index j = 0; j < 2 * static_cast<Eigen::Index>(h_) * e_; ++j)
      theta[off_p() + j] = rng.normal() * init_scale / std::sqrt(static_cast<double>(h_));
  }
  Eigen::Index size() const { return off_bias(kBehavior) + score_.bias_size(); }
  /// Sets both heads' per-item biases to b, the policy head's scaled by
  /// policy_scale (n values; no-op when the biases are off).
  void set_item_bias(const Eigen::VectorXd& b, double policy_scale = 1.0) {
    if (score_.bias_size() == 0) return;
    theta.segment(off_bias(kPolicy), b.size()) = policy_scale * b;
    theta.segment(off_bias(kBehavior), b.size()) = b;
  }
  int hidden() const { return h_; }

  /// h = tanh(U φ + c).
  void encode(const double* phi, double* h) const { encoder_.forward(theta.data(), phi, h); }
  /// probs[j] = softmax over cands of head's logits, from h.
  void probs(const double* h, Head head, std::span<const ItemId> cands, double* probs) const {
    g_.noalias() = proj(head).transpose() * Eigen::Map<const Eigen::VectorXd>(h, h_);
    const double* b = theta.data() + off_bias(head);
    double top = -INFINITY;
    for (std::size_t j = 0; j < cands.size(); ++j) top = std::max(top, probs[j] = score_(cands[j], g_.data(), b));
    double total = 0;
    for (std::size_t j = 0; j < cands.size(); ++j) total += probs[j] = std::exp(probs[j] - top);
    for (std::size_t j = 0; j < cands.size(); ++j) probs[j] /= total;
  }

  /// L_π or L_β over `events` (see the file comment); when grad is non-null
  /// adds the gradient (laid out like theta).
  double loss(std::span<const PolicyEvent> events, Head head, Eigen::VectorXd* grad) const {
    const double n = static_cast<double>(events.size());
    double total = 0;
    Eigen::VectorXd h(h_), dg(e_), dh(h_);
    for (const PolicyEvent& ev : events) {
      encode(ev.phi, h.data());
      p_.resize(ev.cands.size());
      probs(h.data(), head, ev.cands, p_.data());
      const double m = head == kPolicy ? ev.multiplier : 1.0;
      total -= m * std::log(std::max(p_[static_cast<std::size_t>(ev.action)], 1e-300)) / n;
      if (!grad) continue;
      dg.setZero();  // dg = Σ_j dz_j x̃_j, db_j += dz_j, dz_j = m (p_j − [j = a]) / N
      for (std::size_t j = 0; j < ev.cands.size(); ++j)
        score_.backward(ev.cands[j], m * (p_[j] - (static_cast<int>(j) == ev.action ? 1.0 : 0.0)) / n, dg.data(),
                        grad->data() + off_bias(head));
      const Eigen::Index off = head == kPolicy ? off_p() : off_b();
      Eigen::Map<RowMatrix>(grad->data() + off, h_, e_).noalias() += h * dg.transpose();
      if (head == kBehavior) continue;  // no gradient into the encoder
      dh.noalias() = proj(kPolicy) * dg;
      encoder_.backward(ev.phi, h.data(), dh, grad->data());
    }
    return total;
  }

  Eigen::VectorXd theta;

 private:
  Eigen::Index off_p() const { return encoder_.size(); }
  Eigen::Index off_b() const { return off_p() + static_cast<Eigen::Index>(h_) * e_; }
  Eigen::Index off_bias(Head head) const {
    return off_b() + static_cast<Eigen::Index>(h_) * e_ + (head == kPolicy ? 0 : score_.bias_size());
  }
  Eigen::Map<const RowMatrix> proj(Head head) const {
    return {theta.data() + (head == kPolicy ? off_p() : off_b()), h_, e_};
  }

  ItemScore score_;
  TanhEncoder encoder_;  // U, c: the first weights of θ
  int h_ = 0, e_ = 0;
  mutable Eigen::VectorXd g_;        // scratch: projᵀ h
  mutable std::vector<double> p_;    // scratch: probabilities
};

}  // namespace recfuse::rl
