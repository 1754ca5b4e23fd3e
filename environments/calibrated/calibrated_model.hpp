// The calibrated world's user model, as pure functions that tests can check
// on hand-made numbers. For session s (user u, factor x_s, which starts at
// the fitted x_u), item i (fitted y_i, genres G_i) and step t:
//
//   preference      z_si = (x_s·y_i − μ) / σ                      (calibrated_fit.hpp)
//   attractiveness  a_si = φ_si exp(z_si / T),  φ_si = mean_{g∈G_i} m_sg  (1 when G_i = ∅)
//   no click        w_0  = exp(z_0 / T)                            (z_0: no_click_preference)
//   examination     e_j  = (1 + j)^(−η),  slate positions j = 0..k−1
//
// Choice (a position-biased multinomial logit with an outside option, the
// examination hypothesis of Richardson et al. 2007 over the multinomial
// choice of RecSim's choice_model.py): every position is examined
// independently with probability e_j; among the examined set E the user
// picks position j ∈ E with probability a_j / (w_0 + Σ_{l∈E} a_l) and
// nothing with w_0 / (w_0 + Σ_{l∈E} a_l). Hence
//
//   P(click j) = e_j Σ_{E∌j} Π_{l∈E} e_l Π_{l∉E,l≠j} (1 − e_l) · a_j / (w_0 + a_j + Σ_{l∈E} a_l).
//
// Reward 1 per click. Engagement (watch-time proxy, the share of the item
// watched) σ(z_si) = 1 / (1 + e^(−z_si)) on a click, 0 otherwise.
//
// Transition, after the response of step t:
//   fatigue  every genre recovers, m_sg ← 1 − (1 − m_sg)(1 − ρ); then each
//            genre of the clicked item loses appeal, m_sg ← β m_sg (m starts at 1);
//   drift    x_s ← x_s + δ r ε,  ε ~ N(0, I), r = rms entry of the fitted user factors;
//   leaving  after n consecutive steps without a click (n = 0 after a click)
//            the user leaves with probability 1 − (1 − h_0)(1 − h_1)^n;
//   disappointment  after a click on item i the user leaves with
//            probability 1 − (1 − h_0)(1 − d_i) instead,
//            d_i = d / (1 + exp(κ q_i)), q_i the item's quality
//            (calibrated_fit.hpp: its standardised shrunk mean rating); with
//            d > 0 a click on a well-liked but poorly rated item costs the
//            rest of the session, which the myopic oracle, ranking by
//            attractiveness alone, ignores (d = 0 by default);
//   horizon  a session still going after max_steps steps is truncated.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "calibrated_config.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::calibrated {

/// e_j: probability that slate position j (0-based) is examined.
inline double examination_probability(int position, double eta) {
  return std::pow(1.0 + position, -eta);
}

/// log a = z / T + log φ (log space: exp(z / T) overflows for small T).
/// φ is floored at the least normal double: fatigue = 0 (or long runs of
/// clicks without recovery) makes it 0, and log 0 = -inf would break the
/// finite oracle scores environment.hpp promises; the floor's weight,
/// e^-708 relative, changes no choice.
inline double log_attractiveness(double preference, double appeal, const CalConfig& c) {
  return preference / c.temperature + std::log(std::max(appeal, std::numeric_limits<double>::min()));
}

inline double log_no_click_weight(const CalConfig& c) { return c.no_click_preference / c.temperature; }

/// The most positions a slate may have (declared bound of slate_size).
inline constexpr int kMaxSlate = 64;

/// out[j] = e_j for the positions j = 0..out.size()-1 (an environment
/// computes them once, not per step).
inline void examination_probabilities(double eta, std::span<double> out) {
  for (std::size_t j = 0; j < out.size(); ++j) out[j] = examination_probability(static_cast<int>(j), eta);
}

/// One choice: draws k examination flags then the pick, always k + 1
/// uniforms from `rng`. log_attr: the k positions' log a; examination: their
/// e_j (examination_probabilities), k <= kMaxSlate. Returns the position
/// clicked, or -1.
inline int choose_position(std::span<const double> log_attr, double log_no_click,
                           std::span<const double> examination, Rng& rng) {
  const int k = static_cast<int>(log_attr.size());
  std::uint64_t examined = 0;  // bit j: position j examined (k <= 64)
  double top = log_no_click;
  for (int j = 0; j < k; ++j) {
    if (rng.uniform() < examination[static_cast<std::size_t>(j)]) {
      examined |= std::uint64_t{1} << j;
      top = std::max(top, log_attr[static_cast<std::size_t>(j)]);
    }
  }
  std::array<double, kMaxSlate> weight;  // a_j / a_top of the examined positions
  double total = std::exp(log_no_click - top);
  for (int j = 0; j < k; ++j) {
    if (!(examined >> j & 1)) continue;
    const auto uj = static_cast<std::size_t>(j);
    weight[uj] = std::exp(log_attr[uj] - top);
    total += weight[uj];
  }
  const double target = rng.uniform() * total;
  double cumulative = 0.0;
  for (int j = 0; j < k; ++j) {
    if (!(examined >> j & 1)) continue;
    cumulative += weight[static_cast<std::size_t>(j)];
    if (target < cumulative) return j;
  }
  return -1;
}

/// The same choice with the examination decay eta (e_j = (1 + j)^(−η)).
inline int choose_position(std::span<const double> log_attr, double log_no_click, double eta,
                           Rng& rng) {
  std::array<double, kMaxSlate> e;
  const std::span<double> examination(e.data(), std::min<std::size_t>(log_attr.size(), e.size()));
  examination_probabilities(eta, examination);
  return choose_position(log_attr, log_no_click, examination, rng);
}

/// The most positions click_probabilities enumerates (2^k examination sets).
inline constexpr int kMaxExactSlate = 16;

/// out[j] = P(click j), exactly, by enumerating the examination sets
/// (the formula in the header). Σ out = the slate's expected reward.
/// Sizes: log_attr and out k <= kMaxExactSlate.
inline void click_probabilities(std::span<const double> log_attr, double log_no_click, double eta,
                                std::span<double> out) {
  const int k = static_cast<int>(log_attr.size());
  if (k > kMaxExactSlate) throw Error("calibrated: exact click probabilities need k <= 16");
  double top = log_no_click;
  for (double a : log_attr) top = std::max(top, a);
  std::fill(out.begin(), out.end(), 0.0);
  for (std::uint32_t set = 0; set < (std::uint32_t{1} << k); ++set) {
    double p = 1.0, total = std::exp(log_no_click - top);
    for (int j = 0; j < k; ++j) {
      const double e = examination_probability(j, eta);
      const bool in = set >> j & 1;
      p *= in ? e : 1.0 - e;
      if (in) total += std::exp(log_attr[static_cast<std::size_t>(j)] - top);
    }
    if (p == 0.0) continue;
    for (int j = 0; j < k; ++j)
      if (set >> j & 1) out[static_cast<std::size_t>(j)] += p * std::exp(log_attr[static_cast<std::size_t>(j)] - top) / total;
  }
}

/// m after one step of recovery.
inline double recovered_appeal(double m, const CalConfig& c) {
  return 1.0 - (1.0 - m) * (1.0 - c.fatigue_recovery);
}

/// Probability of leaving after `misses` consecutive steps without a click.
inline double leave_probability(int misses, const CalConfig& c) {
  return 1.0 - (1.0 - c.leave_base) * std::pow(1.0 - c.leave_per_miss, misses);
}

/// d_i: the added chance of leaving after a click on an item of quality q.
inline double disappointment_probability(double quality, const CalConfig& c) {
  return c.disappointment / (1.0 + std::exp(c.disappointment_slope * quality));
}

/// Engagement of a click on an item of preference z.
inline double watch_fraction(double preference) { return 1.0 / (1.0 + std::exp(-preference)); }

}  // namespace recfuse::calibrated
