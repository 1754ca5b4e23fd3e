// The learning step of top-K REINFORCE (reinforce_topk.hpp, which includes
// this file after the class): returns of ended sessions, advantages (G − b
// or GAE, gae_advantages; with objective "positions" split over the slate's
// positions, append_position_advantages), each event's multiplier under the
// current θ (the top-K corrected single-item weight, the slate's
// P_π / P_acting, or with ratio "position" each position's own ratio,
// position_log_ratios), Adam passes over the batch, and the baseline's
// decayed ridge refit.
#pragma once

#include <Eigen/Cholesky>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "reinforce_topk.hpp"

namespace recfuse::rl {

/// Generalized advantage estimates (Schulman, Moritz, Levine, Jordan &
/// Abbeel, ICLR 2016) over one ended session of T steps:
///   A_t = Σ_(l≥0) (γλ)^l δ_(t+l),  δ_t = r_t + γ V_(t+1) − V_t,  V_T = 0,
/// computed from the last step back. λ = 1 gives G_t − V_t, λ = 0 the TD error.
inline void gae_advantages(std::span<const double> rewards, std::span<const double> values, double gamma,
                           double lambda, std::span<double> out) {
  if (values.size() != rewards.size() || out.size() != rewards.size())
    throw Error("gae_advantages: " + std::to_string(rewards.size()) + " rewards, " + std::to_string(values.size()) +
                " values and " + std::to_string(out.size()) + " outputs");
  double next_v = 0, next_a = 0;
  for (std::size_t t = rewards.size(); t-- > 0;) {
    out[t] = next_a = rewards[t] + gamma * next_v - values[t] + gamma * lambda * next_a;
    next_v = values[t];
  }
}

/// Objective "positions": a step's advantage a, split over its slate's k
/// positions (reinforce_topk.hpp, the file comment), with b the baseline
/// b(s) and `choice` the clicked position (−1 none):
///   out[p] = (a + b) · [p = choice] − b / k,
///   or (a + b) / k − b / k = a / k for every p when none was clicked.
/// Σ_p out[p] = a.
inline void position_advantages(double a, double b, int choice, std::span<double> out) {
  const double k = static_cast<double>(out.size()), share = b / k;
  for (std::size_t q = 0; q < out.size(); ++q)
    out[q] = (choice < 0 ? (a + b) / k : (static_cast<int>(q) == choice ? a + b : 0.0)) - share;
}

/// Objective "positions", over one ended session: for each step with a
/// slate (slate_at >= 0), in order, appends its slate_k position
/// advantages position_advantages(adv[t], values[t], choice) to out; adv
/// the steps' advantages, values the baseline's b(s_t).
inline void append_position_advantages(std::span<const ReinforceStep> steps, std::span<const double> values,
                                       std::span<const double> adv, std::vector<double>& out) {
  if (values.size() != steps.size() || adv.size() != steps.size())
    throw Error("append_position_advantages: " + std::to_string(steps.size()) + " steps, " +
                std::to_string(values.size()) + " values and " + std::to_string(adv.size()) + " advantages");
  for (std::size_t t = 0; t < steps.size(); ++t) {
    if (steps[t].slate_at < 0) continue;
    out.resize(out.size() + static_cast<std::size_t>(steps[t].slate_k));
    position_advantages(adv[t], values[t], steps[t].choice,
                        std::span<double>(out.end() - steps[t].slate_k, out.end()));
  }
}

/// PPO's clipped surrogate (Schulman, Wolski, Dhariwal, Radford & Klimov,
/// "Proximal Policy Optimization Algorithms", 2017) for one term of weight
/// w = P_θ / P_acting and advantage a, min(w a, clip(w, 1 − ε, 1 + ε) a):
/// whether its clipped branch is the smaller and constant in θ (a > 0 and
/// w > 1 + ε, or a < 0 and w < 1 − ε), so that the term adds no gradient;
/// else its gradient is a w ∇log P_θ, the unclipped one. ε <= 0: never.
inline bool ppo_clipped(double w, double a, double eps) {
  return eps > 0 && ((a > 0 && w > 1 + eps) || (a < 0 && w < 1 - eps));
}

/// Objective "positions" under clip ε: out[p] = adv[p], the advantage of
/// slate position p's term, or 0 where ppo_clipped(ratio, adv[p], ε), with
/// the slate's ratio P_θ / P_acting for every position (a trust-region
/// rule by analogy with PPO, not the gradient of its surrogate: see the
/// file comment of reinforce_topk.hpp). Returns how many were set to 0.
inline std::size_t clip_position_advantages(double ratio, std::span<const double> adv, double eps,
                                            std::span<double> out) {
  if (adv.size() != out.size())
    throw Error("clip_position_advantages: " + std::to_string(adv.size()) + " advantages and " +
                std::to_string(out.size()) + " outputs");
  std::size_t clipped = 0;
  for (std::size_t q = 0; q < adv.size(); ++q) {
    const bool c = ppo_clipped(ratio, adv[q], eps);
    out[q] = c ? 0.0 : adv[q];
    clipped += c;
  }
  return clipped;
}

/// What position_ratio_advantages took away and weighed.
struct PositionRatioCounts {
  std::size_t clipped = 0, capped = 0;
  double weight_sum = 0;  // Σ of the (capped) ratios
};

/// Objective "positions" with ratio "position": position p's term judged
/// on its own ratio r_p = π_θ(a_p | s, a_<p) / π_acting(a_p | s, a_<p)
/// (log_ratio[p] = log r_p), each position a decision of its own given the
/// ones before it: out[p] = w_p · adv[p] with w_p = min(r_p, cap) (cap 0:
/// r_p), or 0 where ppo_clipped(r_p, adv[p], ε), judged on the uncapped
/// r_p. With w_p = r_p this is the gradient of PPO's surrogate
/// Σ_p min(r_p a_p, clip(r_p, 1 ± ε) a_p).
inline PositionRatioCounts position_ratio_advantages(std::span<const double> log_ratio, std::span<const double> adv,
                                                     double eps, double cap, std::span<double> out) {
  if (log_ratio.size() != adv.size() || out.size() != adv.size())
    throw Error("position_ratio_advantages: " + std::to_string(log_ratio.size()) + " ratios, " +
                std::to_string(adv.size()) + " advantages and " + std::to_string(out.size()) + " outputs");
  PositionRatioCounts n;
  for (std::size_t q = 0; q < adv.size(); ++q) {
    const double r = std::exp(log_ratio[q]);
    const bool capped = cap > 0 && log_ratio[q] > std::log(cap);
    const double w = capped ? cap : r;
    const bool clipped = ppo_clipped(r, adv[q], eps);
    out[q] = clipped ? 0.0 : w * adv[q];
    n.clipped += clipped;
    n.capped += capped;
    n.weight_sum += w;
  }
  return n;
}

/// Ratio "position": out[p] = log π_θ(a_p | s, a_<p) − acting[p], the log
/// of position p's own ratio, with p the current π_θ over the candidates
/// and acting[p] the term slate_log_probability gave the acting policy's π
/// when it acted. Returns the slate's log P_θ(slate) (the sum of the
/// current terms).
inline double position_log_ratios(std::span<const double> p, std::span<const int> slate,
                                  std::span<const double> acting, std::vector<char>& drawn, std::span<double> out) {
  if (acting.size() != slate.size() || out.size() != slate.size())
    throw Error("position_log_ratios: a slate of " + std::to_string(slate.size()) + ", " +
                std::to_string(acting.size()) + " acting terms and " + std::to_string(out.size()) + " outputs");
  const double log_p = slate_log_probability(p, slate, drawn, nullptr, {}, out.data());
  for (std::size_t q = 0; q < slate.size(); ++q) out[q] -= acting[q];
  return log_p;
}

inline void ReinforceTopK::end_episode(Episode&& ep) {
  double g = 0;
  std::size_t events = 0;
  for (auto st = ep.steps.rbegin(); st != ep.steps.rend(); ++st) {
    g = st->reward + gamma_ * g;
    st->ret = g;
    events += is_event(*st);
  }
  // With objective "slate" or "positions" a session this policy did not act
  // in has no event and cannot start an update: keeping it would only grow
  // done_.
  if (slate_objective_ && events == 0) return;
  pending_events_ += events;
  done_.push_back(std::move(ep));
}

inline std::vector<ReinforceTopK::EventRef> ReinforceTopK::advantages() {
  pos_adv_.clear();
  const auto d = static_cast<std::size_t>(book_.dim());
  std::vector<EventRef> events;
  double sq = 0;
  std::vector<double> reward, value, adv;
  for (std::size_t e = 0; e < done_.size(); ++e) {
    const std::vector<Step>& steps = done_[e].steps;
    value.resize(steps.size());
    for (std::size_t t = 0; t < steps.size(); ++t)
      value[t] = v_.dot(Eigen::Map<const Eigen::VectorXd>(done_[e].phi.data() + t * d, book_.dim()));
    adv.resize(steps.size());
    if (gae_lambda_ < 1.0) {  // λ = 1 keeps G_t − b(s_t) from the stored returns
      reward.resize(steps.size());
      for (std::size_t t = 0; t < steps.size(); ++t) reward[t] = steps[t].reward;
      gae_advantages(reward, value, gamma_, gae_lambda_, adv);
    } else {
      for (std::size_t t = 0; t < steps.size(); ++t) adv[t] = steps[t].ret - value[t];
    }
    if (positions_objective_) {  // an event is a step with a slate: K values each, in step order
      std::size_t at = pos_adv_.size();
      for (std::size_t t = 0; t < steps.size(); ++t)
        if (is_event(steps[t])) {
          events.push_back({e, t, 0.0, at});
          at += static_cast<std::size_t>(steps[t].slate_k);
        }
      append_position_advantages(steps, value, adv, pos_adv_);
      if (at != pos_adv_.size())  // the events' offsets must be what was appended
        throw Error("reinforce_topk: " + std::to_string(pos_adv_.size()) + " position advantages where the events need " +
                    std::to_string(at));
      continue;
    }
    for (std::size_t t = 0; t < steps.size(); ++t) {
      if (!is_event(steps[t])) continue;
      events.push_back({e, t, adv[t]});
      sq += adv[t] * adv[t];
    }
  }
  if (positions_objective_) {
    for (const double x : pos_adv_) sq += x * x;
    const double sd = pos_adv_.empty() ? 1.0 : std::sqrt(sq / static_cast<double>(pos_adv_.size())) + 1e-12;
    for (double& x : pos_adv_) x /= sd;
    return events;
  }
  const double sd = events.empty() ? 1.0 : std::sqrt(sq / static_cast<double>(events.size())) + 1e-12;
  for (EventRef& r : events) r.adv /= sd;
  return events;
}

inline PolicyEvent ReinforceTopK::policy_event(const EventRef& r) {
  const Episode& ep = done_[r.ep];
  const Step& st = ep.steps[r.step];
  const double* phi = ep.phi.data() + r.step * static_cast<std::size_t>(book_.dim());
  const auto cands = cands_of(ep, st);
  h_.resize(static_cast<std::size_t>(hidden_));
  p_.resize(cands.size());
  net_.encode(phi, h_.data());
  net_.probs(h_.data(), PolicyNet::kPolicy, cands, p_.data());
  if (slate_objective_) {  // exact REINFORCE over the slate, weight P_π / P_acting
    const std::span<const int> slate(ep.slates.data() + st.slate_at, static_cast<std::size_t>(st.slate_k));
    if (position_ratio_) {  // each position's term on its own ratio and advantage
      pos_terms_.resize(slate.size());
      position_log_ratios(p_, slate,
                          std::span<const double>(ep.slate_terms.data() + st.slate_at, slate.size()), drawn_,
                          pos_terms_);
      const std::span<double> live(pos_live_.data() + r.pos_at, slate.size());
      const PositionRatioCounts n = position_ratio_advantages(
          pos_terms_, std::span<const double>(pos_adv_.data() + r.pos_at, slate.size()), clip_, cap_, live);
      clipped_ += static_cast<std::int64_t>(n.clipped);
      capped_ += static_cast<std::int64_t>(n.capped);
      weight_sum_ += n.weight_sum, weights_ += static_cast<std::int64_t>(slate.size());
      return {phi, cands, -1, 1.0, slate, live};
    }
    const double log_w = slate_log_probability(p_, slate, drawn_) - ep.slate_log_behavior(st);
    const bool capped = cap_ > 0 && log_w > std::log(cap_);
    capped_ += capped;
    const double ratio = std::exp(log_w);  // clip judges the uncapped ratio; the cap scales the gradient
    const double w = capped ? cap_ : ratio;
    weight_sum_ += w, ++weights_;
    if (positions_objective_) {  // each position's term clipped on its own advantage
      const std::span<double> live(pos_live_.data() + r.pos_at, slate.size());
      clipped_ += static_cast<std::int64_t>(clip_position_advantages(
          ratio, std::span<const double>(pos_adv_.data() + r.pos_at, slate.size()), clip_, live));
      return {phi, cands, -1, w, slate, live};
    }
    const bool clipped = ppo_clipped(ratio, r.adv, clip_);
    clipped_ += clipped;
    return {phi, cands, -1, clipped ? 0.0 : w * r.adv, slate};
  }
  const auto a = static_cast<std::size_t>(st.action);
  const double pi = p_[a];
  double beta = st.behavior;
  if (st.catalogue || learned_behavior_) {
    net_.probs(h_.data(), PolicyNet::kBehavior, cands, p_.data());
    beta = p_[a];
  } else if (inclusion_behavior_) {
    beta = topk_inclusion(beta, k_);
  }
  capped_ += cap_ > 0 && pi > cap_ * beta;
  weight_sum_ += cap_ > 0 ? std::min(pi / beta, cap_) : pi / beta, ++weights_;
  return {phi, cands, st.action, topk_multiplier(pi, beta, k_, cap_, r.adv)};
}

inline void ReinforceTopK::update() {
  std::vector<EventRef> events = advantages();
  pos_live_.assign(pos_adv_.size(), 0.0);
  Eigen::VectorXd grad(net_.size());
  std::vector<PolicyEvent> batch;
  for (int epoch = 0; epoch < epochs_; ++epoch) {
    for (std::size_t i = events.size(); i > 1; --i) std::swap(events[i - 1], events[shuffle_rng_.below(i)]);
    for (std::size_t b = 0; b < events.size(); b += minibatch_) {
      batch.clear();
      for (std::size_t j = b; j < std::min(events.size(), b + minibatch_); ++j)
        batch.push_back(policy_event(events[j]));
      grad.setZero();
      net_.loss(batch, PolicyNet::kPolicy, &grad);
      if (!slate_objective_) net_.loss(batch, PolicyNet::kBehavior, &grad);
      adam_.step(net_.theta, grad);
    }
  }
  refit_baseline();
  done_.clear();
  pending_events_ = 0;
  ++updates_;
}

inline void ReinforceTopK::refit_baseline() {
  const auto d = static_cast<std::size_t>(book_.dim());
  base_a_ *= 0.5;
  base_b_ *= 0.5;
  for (const Episode& ep : done_)
    for (std::size_t t = 0; t < ep.steps.size(); ++t) {
      const Eigen::Map<const Eigen::VectorXd> phi(ep.phi.data() + t * d, book_.dim());
      base_a_.selfadjointView<Eigen::Lower>().rankUpdate(phi);
      base_b_ += ep.steps[t].ret * phi;
    }
  base_a_.triangularView<Eigen::StrictlyUpper>() = base_a_.transpose().eval();
  v_ = (base_a_ + 1e-3 * Eigen::MatrixXd::Identity(book_.dim(), book_.dim())).ldlt().solve(base_b_);
}

}  // namespace recfuse::rl
