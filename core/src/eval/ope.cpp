// IPS, SNIPS and DR with standard errors; the formulas are in ope.hpp.
#include "eval/ope.hpp"

#include <cmath>
#include <initializer_list>
#include <string>

#include "eval/stats.hpp"
#include "recfuse/types.hpp"

namespace recfuse {
namespace {

constexpr double kZ95 = 1.959963984540054;  // Φ⁻¹(0.975)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_sizes(const char* who, std::size_t n, std::initializer_list<std::size_t> others) {
  for (std::size_t m : others)
    if (m != n)
      throw Error(std::string(who) + ": every input needs one value per logged step (" + std::to_string(n) +
                  "), got " + std::to_string(m));
}

/// The weights after clipping; counts how many the cap lowered.
std::vector<double> clip(const char* who, std::span<const double> w, double cap, std::int64_t& clipped) {
  if (!(cap > 0)) throw Error(std::string(who) + ": the weight cap must be > 0, got " + std::to_string(cap));
  std::vector<double> out(w.begin(), w.end());
  clipped = 0;
  for (double& x : out) {
    if (!(x >= 0) || std::isinf(x))
      throw Error(std::string(who) + ": importance weights must be finite and >= 0, got " + std::to_string(x));
    if (x > cap) { x = cap; ++clipped; }
  }
  return out;
}

/// Fills value, SE and CI of the mean of `terms` (one per step).
void mean_with_se(std::span<const double> terms, OpeEstimate& e) {
  const auto n = static_cast<double>(terms.size());
  double mean = 0;
  for (double t : terms) mean += t;
  mean /= n;
  e.value = terms.empty() ? kNaN : mean;
  e.std_error = sample_sd(terms) / std::sqrt(n);  // NaN below two terms
}

void finish(OpeEstimate& e, std::span<const double> w) {
  e.n = static_cast<std::int64_t>(w.size());
  // No logged step the target could have taken (every weight 0): the terms'
  // spread says nothing about the target, so no standard error and no
  // interval (IPS would claim 0 ± 0, DR its reward model's guess ± its
  // spread over contexts).
  double sw = 0;
  for (double x : w) sw += x;
  if (!(sw > 0)) e.std_error = kNaN;
  e.low = e.value - kZ95 * e.std_error;
  e.high = e.value + kZ95 * e.std_error;
  e.ess = effective_sample_size(w);
}

}  // namespace

std::vector<double> importance_weights(std::span<const double> target, std::span<const double> logging) {
  check_sizes("importance_weights", target.size(), {logging.size()});
  std::vector<double> w(target.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!(logging[i] > 0 && logging[i] <= 1))
      throw Error("importance_weights: step " + std::to_string(i) + " has logging propensity " +
                  std::to_string(logging[i]) + "; it must be in (0, 1] (a step the logger could not take)");
    if (!(target[i] >= 0 && target[i] <= 1))
      throw Error("importance_weights: step " + std::to_string(i) + " has target propensity " +
                  std::to_string(target[i]) + "; it must be in [0, 1]");
    w[i] = target[i] / logging[i];
  }
  return w;
}

double effective_sample_size(std::span<const double> weights) {
  double s = 0, s2 = 0;
  for (double w : weights) { s += w; s2 += w * w; }
  return s2 > 0 ? s * s / s2 : 0.0;
}

OpeEstimate ips(std::span<const double> weights, std::span<const double> rewards, double cap) {
  check_sizes("ips", weights.size(), {rewards.size()});
  OpeEstimate e;
  const std::vector<double> w = clip("ips", weights, cap, e.clipped);
  std::vector<double> terms(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) terms[i] = w[i] * rewards[i];
  mean_with_se(terms, e);
  finish(e, w);
  return e;
}

OpeEstimate snips(std::span<const double> weights, std::span<const double> rewards, double cap) {
  check_sizes("snips", weights.size(), {rewards.size()});
  OpeEstimate e;
  const std::vector<double> w = clip("snips", weights, cap, e.clipped);
  const auto n = static_cast<double>(w.size());
  double sw = 0, swr = 0;
  for (std::size_t i = 0; i < w.size(); ++i) { sw += w[i]; swr += w[i] * rewards[i]; }
  e.value = sw > 0 ? swr / sw : kNaN;
  double ss = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double d = w[i] * (rewards[i] - e.value);
    ss += d * d;
  }
  const double w_bar = sw / n;
  e.std_error = w.size() < 2 || !(sw > 0) ? kNaN : std::sqrt(ss / (n * (n - 1))) / w_bar;
  finish(e, w);
  return e;
}

OpeEstimate doubly_robust(std::span<const double> weights, std::span<const double> rewards,
                          std::span<const double> q_logged, std::span<const double> v_target, double cap) {
  check_sizes("doubly_robust", weights.size(), {rewards.size(), q_logged.size(), v_target.size()});
  OpeEstimate e;
  const std::vector<double> w = clip("doubly_robust", weights, cap, e.clipped);
  std::vector<double> terms(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) terms[i] = v_target[i] + w[i] * (rewards[i] - q_logged[i]);
  mean_with_se(terms, e);
  finish(e, w);
  return e;
}

}  // namespace recfuse
