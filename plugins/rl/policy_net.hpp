// The softmax policy of top-K off-policy-corrected REINFORCE (Chen, Beutel,
// Covington, Jain, Belletti & Chi, "Top-K Off-Policy Correction for a
// REINFORCE Recommender System", WSDM 2019), as forward/backward pairs over
// one flat parameter buffer (llm.c style).
//
// Shapes: D state features (session_book.hpp), H hidden units, E = F + 1
// item features with a bias, n items.
// θ = [U (H x D) | c (H) | P (H x E) | B (H x E) | b (n) | b' (n) | V (n x H) | V' (n x H)]:
//   state encoder   h = tanh(U φ(s) + c)                               (H)
//   policy          π(j | s) = softmax_j(x̃_jᵀ Pᵀ h + v_jᵀ h + b_j) over the candidates
//   behaviour head  β(j | s) = softmax_j(x̃_jᵀ Bᵀ h + v'_jᵀ h + b'_j), h taken as a constant
// b, b' are the per-item biases of ItemScore (rl_common.hpp), absent when off.
// V, V' are learned per-item output embeddings, the paper's v_a (absent when
// item_embeddings is off): through them each item has its own weights over
// the state, beyond what its features share with other items. They start at
// 0, so the warm start's probabilities are unchanged.
// φ(s) holds the mean features of the user's recent clicked items, so U's
// first block acts on the average of learned linear item embeddings: the
// paper's GRU state encoder is replaced by that average plus the session
// counters of session_book.hpp (documented choice: sessions are short and
// the state sees items through their features only).
//
// Losses over N events e = (s_e, candidates, action a_e, multiplier m_e):
//   L_π = −(1/N) Σ_e m_e log π(a_e | s_e)   gradient into U, c, P, b, V
//   L_β = −(1/N) Σ_e log β(a_e | s_e)       gradient into B, b', V' only (the
//                                            paper's blocked gradient)
// (an event whose action is a slate A uses log π(A), its Plackett–Luce
// log-probability, slate_log_probability, each position's term weighted
// when the event has position weights)
// with m_e frozen (computed by topk_multiplier before the step), so that
// ∇L_π = −(1/N) Σ m_e ∇log π(a_e|s_e), the paper's top-K corrected gradient.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
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

/// α(a) = 1 − (1 − β)^K, the chance that an item of single-draw probability β
/// is among K draws (Chen et al.'s approximation of the top-K inclusion).
inline double topk_inclusion(double beta, int k) { return 1.0 - std::pow(1.0 - beta, k); }

/// log P(slate) of K draws without replacement from the softmax p over c
/// candidates (Plackett–Luce): Σ_p log(p_(a_p) / R_p), R_p = Σ of p over the
/// candidates not drawn before position p. A position whose R_p underflows
/// to 0 is a uniform draw over the rest (as the acting draw takes it): it
/// adds −log(rest) and nothing to the gradient. When dlogp is non-null it
/// gets ∂log P / ∂z_j for the logits z of p: Σ_p ([j = a_p] − [j not drawn
/// before p] p_j / R_p). `drawn` is scratch (c values). Slates name indices
/// into the candidates; a repeated or out-of-range index has probability 0
/// (−inf), and a probability below 1e-300 counts as 1e-300. With `weights`
/// (one per slate position, else an Error), position p's term and its
/// gradient are multiplied by weights[p] (objective "positions" of
/// reinforce_topk.hpp). When `terms` is non-null it gets each position's
/// own, unweighted term: log(p_(a_p) / R_p), or −log(rest) where R_p
/// underflows (slate.size() values, written up to the position where a
/// slate of probability 0 stops).
inline double slate_log_probability(std::span<const double> p, std::span<const int> slate, std::vector<char>& drawn,
                                    double* dlogp = nullptr, std::span<const double> weights = {},
                                    double* terms = nullptr) {
  const std::size_t c = p.size();
  if (!weights.empty() && weights.size() != slate.size())
    throw Error("slate_log_probability: " + std::to_string(weights.size()) + " position weights for a slate of " +
                std::to_string(slate.size()));
  drawn.assign(c, 0);
  if (dlogp) std::fill(dlogp, dlogp + c, 0.0);
  double logp = 0;
  for (std::size_t pos = 0; pos < slate.size(); ++pos) {
    const int a = slate[pos];
    if (a < 0 || static_cast<std::size_t>(a) >= c || drawn[static_cast<std::size_t>(a)]) return -INFINITY;
    double left = 0;
    std::size_t count = 0;
    for (std::size_t j = 0; j < c; ++j)
      if (!drawn[j]) left += p[j], ++count;
    const double w = weights.empty() ? 1.0 : weights[pos];
    const double term = left > 0 ? std::log(std::max(p[static_cast<std::size_t>(a)], 1e-300) / left)
                                 : -std::log(static_cast<double>(count));
    logp += w * term;
    if (terms) terms[pos] = term;
    if (left > 0 && dlogp) {
      for (std::size_t j = 0; j < c; ++j)
        if (!drawn[j]) dlogp[j] -= w * p[j] / left;
      dlogp[static_cast<std::size_t>(a)] += w;
    }
    drawn[static_cast<std::size_t>(a)] = 1;
  }
  return logp;
}

struct PolicyEvent {
  const double* phi;              // D
  std::span<const ItemId> cands;  // the candidate set the softmax runs over
  int action;                     // index into cands (single-item events)
  double multiplier;              // m_e of L_π
  std::span<const int> slate{};   // when not empty, the event's action is this
                                  // ordered slate (indices into cands), log π
                                  // its Plackett–Luce log-probability
  std::span<const double> position_weights{};  // when not empty (slate events), log π(slate)'s
                                  // term of position p is weighted by position_weights[p]
};

class PolicyNet {
 public:
  enum Head { kPolicy, kBehavior };

  void reset(const ItemFeatures* items, int state_dim, int hidden, double init_scale, std::uint64_t seed,
             bool item_bias, bool item_embeddings = false) {
    score_.reset(items, item_bias);
    encoder_ = TanhEncoder(state_dim, hidden);
    h_ = hidden, e_ = score_.dim();
    emb_items_ = item_embeddings ? items->n_items() : 0;
    theta.setZero(size());
    Rng rng(seed);
    encoder_.init(theta.data(), init_scale, rng);
    for (Eigen::Index j = 0; j < 2 * static_cast<Eigen::Index>(h_) * e_; ++j)
      theta[off_p() + j] = rng.normal() * init_scale / std::sqrt(static_cast<double>(h_));
  }
  Eigen::Index size() const { return off_emb(kBehavior) + static_cast<Eigen::Index>(emb_items_) * h_; }
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
    for (std::size_t j = 0; j < cands.size(); ++j) {
      probs[j] = score_(cands[j], g_.data(), b);
      if (emb_items_ > 0) probs[j] += embedding(head, cands[j]).dot(Eigen::Map<const Eigen::VectorXd>(h, h_));
      top = std::max(top, probs[j]);
    }
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
      const bool slate = !ev.slate.empty();
      if (slate) {
        dlogp_.resize(ev.cands.size());
        total -= m *
                 slate_log_probability(p_, ev.slate, drawn_, grad ? dlogp_.data() : nullptr, ev.position_weights) / n;
      } else {
        total -= m * std::log(std::max(p_[static_cast<std::size_t>(ev.action)], 1e-300)) / n;
      }
      if (!grad) continue;
      // dg = Σ_j dz_j x̃_j, db_j += dz_j, dv_j += dz_j h, dh_V = Σ_j dz_j v_j,
      // dz_j = −m ∂log π / ∂z_j / N: m (p_j − [j = a]) / N for one item
      dg.setZero();
      dh.setZero();
      for (std::size_t j = 0; j < ev.cands.size(); ++j) {
        const double dz = slate ? -m * dlogp_[j] / n : m * (p_[j] - (static_cast<int>(j) == ev.action ? 1.0 : 0.0)) / n;
        score_.backward(ev.cands[j], dz, dg.data(), grad->data() + off_bias(head));
        if (emb_items_ == 0) continue;
        Eigen::Map<Eigen::VectorXd>(grad->data() + off_emb(head) + static_cast<Eigen::Index>(ev.cands[j]) * h_, h_) +=
            dz * h;
        if (head == kPolicy) dh += dz * embedding(head, ev.cands[j]);
      }
      const Eigen::Index off = head == kPolicy ? off_p() : off_b();
      Eigen::Map<RowMatrix>(grad->data() + off, h_, e_).noalias() += h * dg.transpose();
      if (head == kBehavior) continue;  // no gradient into the encoder
      dh.noalias() += proj(kPolicy) * dg;
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
  /// First weight of head's per-item embeddings (after both biases).
  Eigen::Index off_emb(Head head) const {
    return off_bias(kBehavior) + score_.bias_size() +
           (head == kPolicy ? 0 : static_cast<Eigen::Index>(emb_items_) * h_);
  }
  Eigen::Map<const Eigen::VectorXd> embedding(Head head, ItemId i) const {
    return {theta.data() + off_emb(head) + static_cast<Eigen::Index>(i) * h_, h_};
  }
  Eigen::Map<const RowMatrix> proj(Head head) const {
    return {theta.data() + (head == kPolicy ? off_p() : off_b()), h_, e_};
  }

  ItemScore score_;
  TanhEncoder encoder_;  // U, c: the first weights of θ
  int h_ = 0, e_ = 0;
  std::int32_t emb_items_ = 0;       // n with item_embeddings, else 0
  mutable Eigen::VectorXd g_;        // scratch: projᵀ h
  mutable std::vector<double> p_;    // scratch: probabilities
  mutable std::vector<double> dlogp_;  // scratch: ∂log P(slate) / ∂z
  mutable std::vector<char> drawn_;    // scratch of slate_log_probability
};

}  // namespace recfuse::rl
