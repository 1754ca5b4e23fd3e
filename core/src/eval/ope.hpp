// Off-policy value estimators over logged steps (DESIGN.md "Environments":
// the third protocol). Step i logged action a_i in context x_i under the
// logging policy π_0 and earned reward r_i; the target policy π_e is judged
// from the importance weights w_i = π_e(a_i|x_i) / π_0(a_i|x_i) (for slates,
// of the whole ordered slate). Optional clipping w_i ← min(w_i, cap) trades
// bias for variance (Ionides, "Truncated importance sampling", JCGS 2008;
// Bottou et al., "Counterfactual reasoning and learning systems", JMLR 2013).
//
//   IPS   (Horvitz & Thompson, JASA 1952; Precup, Sutton & Singh, ICML 2000):
//         V̂ = (1/n) Σ w_i r_i,   SE = s(w r) / √n.
//   SNIPS (Swaminathan & Joachims, "The self-normalized estimator for
//         counterfactual learning", NeurIPS 2015):
//         V̂ = Σ w_i r_i / Σ w_i, SE by the delta method for a ratio of
//         means (Owen, "Monte Carlo theory, methods and examples", 2013, ch. 9):
//         SE² = Σ w_i² (r_i − V̂)² / (n (n−1) w̄²),  w̄ = Σ w_i / n.
//         The terms w_i (r_i − V̂) have mean exactly 0, so this is their sample
//         variance over n w̄²: Owen's Σ w_i²(r_i − V̂)² / (Σ w_i)² times n/(n−1).
//   DR    (Dudík, Langford & Li, "Doubly robust policy evaluation and
//         learning", ICML 2011):
//         V̂ = (1/n) Σ [ v̂(x_i) + w_i (r_i − q̂(x_i, a_i)) ],  SE = s(terms) / √n,
//         v̂(x) = E_{a~π_e} q̂(x, a); unbiased when the w_i are exact, whatever q̂.
//
// s(·) is the sample standard deviation (n − 1). Each CI is V̂ ± 1.96·SE,
// the normal approximation. The effective sample size of the (clipped)
// weights is Kish's (Σ w)² / Σ w² (Kish, "Survey sampling", 1965).
// With one step the SE and CI are NaN; with none, everything is. When every
// weight is 0 (no overlap: the target never takes a logged slate) the
// values stay (IPS 0, DR the reward model's own estimate, SNIPS NaN) but SE
// and CI are NaN: the data hold no evidence about the target.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace recfuse {

struct OpeEstimate {
  double value = 0;
  double std_error = 0;
  double low = 0, high = 0;   // 95% normal-approximation interval
  double ess = 0;             // Kish's effective sample size of the weights used
  std::int64_t n = 0;         // logged steps
  std::int64_t clipped = 0;   // steps whose weight the cap lowered
};

inline constexpr double kNoClip = std::numeric_limits<double>::infinity();

/// w_i = target[i] / logging[i]. Throws unless every logging propensity is
/// in (0, 1] and every target propensity in [0, 1]; sizes must match.
std::vector<double> importance_weights(std::span<const double> target, std::span<const double> logging);

/// Kish's effective sample size (Σ w)² / Σ w² (0 when every weight is 0).
double effective_sample_size(std::span<const double> weights);

/// IPS over n steps: weights (≥ 0) and rewards, both of size n. cap > 0.
OpeEstimate ips(std::span<const double> weights, std::span<const double> rewards, double cap = kNoClip);

/// Self-normalised IPS; NaN value when every weight is 0.
OpeEstimate snips(std::span<const double> weights, std::span<const double> rewards, double cap = kNoClip);

/// Doubly robust: q_logged[i] = q̂(x_i, a_i), v_target[i] = E_{a~π_e} q̂(x_i, a).
OpeEstimate doubly_robust(std::span<const double> weights, std::span<const double> rewards,
                          std::span<const double> q_logged, std::span<const double> v_target,
                          double cap = kNoClip);

}  // namespace recfuse
