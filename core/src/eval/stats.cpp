// Confidence intervals and paired tests for per-user metric vectors.
// Student's t uses the regularized incomplete beta function evaluated by the
// continued fraction of Numerical Recipes (Press et al., 3rd ed., §6.4,
// eq. 6.4.5 and `betacf`, modified Lentz's method); the Wilcoxon signed-rank
// test follows R's `wilcox.test` normal approximation (Hollander & Wolfe 1973).
#include "eval/stats.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>

#include "recfuse/rng.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/// Significant digits |d| keeps before ranking (R's wilcox.test digits.rank).
constexpr int kRankDigits = 10;
/// Relative size under which a - b counts as an exact zero difference.
constexpr double kZeroDiffTolerance = 1e-12;

/// Continued fraction of I_x(a, b) (NR `betacf`), valid for x < (a+1)/(a+b+2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIter = 10000;
  constexpr double kEps = 1e-16;
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIter; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));  // even step
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));  // odd step
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}

/// Regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  // Use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction converges fast.
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

double mean_of(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? kNaN : s / static_cast<double>(v.size());
}

/// R's quantile type 7 (linear interpolation) of sorted data.
double sorted_quantile(const std::vector<double>& sorted, double q) {
  const double h = (static_cast<double>(sorted.size()) - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// R's signif(x, digits) for finite x >= 0 (0 stays 0).
double significant_digits(double x, int digits) {
  if (x == 0 || !std::isfinite(x)) return x;
  const int exponent = static_cast<int>(std::floor(std::log10(x)));
  const int shift = digits - 1 - exponent;
  // Scale by an exact power of ten on the side that keeps it representable.
  if (shift >= 0) {
    const double scale = std::pow(10.0, shift);
    if (!std::isfinite(scale) || !std::isfinite(x * scale)) return x;
    return std::round(x * scale) / scale;
  }
  const double scale = std::pow(10.0, -shift);
  return std::round(x / scale) * scale;
}

}  // namespace

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double sample_sd(std::span<const double> v) {
  if (v.size() < 2) return kNaN;
  if (std::adjacent_find(v.begin(), v.end(), std::not_equal_to<>()) == v.end()) return 0;
  const double mu = mean_of(v);
  double ss = 0;
  for (double x : v) ss += (x - mu) * (x - mu);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return 0;
  // Beyond df = 1e6 the normal's P(|Z| > |t|) is the t's to within 4e-7
  // (the first term of the expansion, 2φ(t)(t³ + t) / (4 df)), while the
  // incomplete beta below takes a difference of lgamma terms of size
  // (df/2) log(df/2) and loses it to rounding: at df = 1e61 (a report's
  // Welch–Satterthwaite df when seeds differ by rounding only) its
  // quantile came out as 1e20.
  if (df > 1e6) return std::erfc(std::abs(t) / std::sqrt(2.0));
  // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2)   (NR eq. 6.14.11)
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

double student_t_cdf(double t, double df) {
  const double two_sided = student_t_two_sided_p(t, df);
  if (std::isnan(two_sided)) return kNaN;
  return t >= 0 ? 1 - 0.5 * two_sided : 0.5 * two_sided;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
  if (p == 0.5) return 0;
  if (p < 0.5) return -student_t_quantile(1 - p, df);
  // Solve P(T > t) = 1 - p on the upper tail (no cancellation near p = 1):
  // the tail is decreasing in t, so bracket then bisect to machine precision.
  const double tail = 1 - p;
  const auto upper = [df](double t) { return 0.5 * student_t_two_sided_p(t, df); };
  double lo = 0, hi = 1;
  while (upper(hi) > tail && hi < 1e300) { lo = hi; hi *= 2; }
  for (int i = 0; i < 400 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (upper(mid) > tail ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

/// Percentile bootstrap (Efron & Tibshirani 1993, §13.3) around `estimate`
/// over n units: `draw(rng)` resamples the n units with one generator and
/// returns the statistic; the only buffer is the vector of resampled values.
template <class Draw>
Interval percentile_bootstrap(double estimate, std::size_t n, int resamples, std::uint64_t seed, double level,
                              Draw draw) {
  Interval out;
  out.n = static_cast<std::int64_t>(n);
  if (n == 0) {
    out.mean = out.low = out.high = kNaN;
    return out;
  }
  out.mean = estimate;
  if (n == 1) {  // every resample is the one unit: no spread, no interval (not [v, v])
    out.low = out.high = kNaN;
    return out;
  }
  Rng rng(seed);
  std::vector<double> stats(static_cast<std::size_t>(resamples));
  for (double& v : stats) v = draw(rng);
  std::sort(stats.begin(), stats.end());
  const double alpha = 1 - level;
  out.low = sorted_quantile(stats, alpha / 2);
  out.high = sorted_quantile(stats, 1 - alpha / 2);
  return out;
}

void check_bootstrap(int resamples, double level) {
  if (resamples < 1)
    throw Error("bootstrap: resamples must be >= 1, got " + std::to_string(resamples));
  if (!(level > 0 && level < 1))
    throw Error("bootstrap: level must be in (0, 1), got " + std::to_string(level));
}

}  // namespace

Interval bootstrap_mean_ci(std::span<const double> values, int resamples, std::uint64_t seed,
                           double level) {
  check_bootstrap(resamples, level);
  std::vector<double> x;
  x.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) x.push_back(v);
  const std::uint64_t n = x.size();
  return percentile_bootstrap(mean_of(x), x.size(), resamples, seed, level, [&](Rng& rng) {
    double sum = 0;
    for (std::uint64_t j = 0; j < n; ++j) sum += x[rng.below(n)];
    return sum / static_cast<double>(n);
  });
}

Interval bootstrap_ratio_ci(std::span<const double> num, std::span<const double> den, int resamples,
                            std::uint64_t seed, double level) {
  if (num.size() != den.size())
    throw Error("bootstrap_ratio_ci: " + std::to_string(num.size()) + " numerators and " +
                std::to_string(den.size()) + " denominators; each unit needs both");
  check_bootstrap(resamples, level);
  std::vector<double> a, b;
  for (std::size_t i = 0; i < num.size(); ++i)
    if (std::isfinite(num[i]) && std::isfinite(den[i]) && den[i] > 0) a.push_back(num[i]), b.push_back(den[i]);
  const std::uint64_t n = a.size();
  const double estimate = std::accumulate(a.begin(), a.end(), 0.0) / std::accumulate(b.begin(), b.end(), 0.0);
  return percentile_bootstrap(estimate, a.size(), resamples, seed, level, [&](Rng& rng) {
    double sa = 0, sb = 0;
    for (std::uint64_t j = 0; j < n; ++j) {
      const std::uint64_t k = rng.below(n);
      sa += a[k], sb += b[k];
    }
    return sa / sb;
  });
}

SignedRankTest wilcoxon_signed_rank(std::span<const double> d, bool continuity_correction) {
  // |d| rounded to kRankDigits significant digits (R's digits.rank), sorted
  // with their signs; zeros dropped as R does by default. Without the
  // rounding, differences that are equal on paper (0.3 - 0.2 and 0.2 - 0.1)
  // differ in their last bits and get distinct ranks instead of a tie.
  std::vector<std::pair<double, bool>> abs_sign;
  abs_sign.reserve(d.size());
  for (double x : d) {
    if (!std::isfinite(x)) continue;
    const double r = significant_digits(std::fabs(x), kRankDigits);
    if (r != 0) abs_sign.emplace_back(r, x > 0);
  }
  SignedRankTest out;
  out.n = static_cast<std::int64_t>(abs_sign.size());
  if (out.n == 0) return out;
  std::sort(abs_sign.begin(), abs_sign.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double v = 0, tie_term = 0;  // tie_term = sum over tie groups of (t^3 - t)
  for (std::size_t i = 0; i < abs_sign.size();) {
    std::size_t j = i;
    while (j < abs_sign.size() && abs_sign[j].first == abs_sign[i].first) ++j;
    const double avg_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j
    for (std::size_t r = i; r < j; ++r)
      if (abs_sign[r].second) v += avg_rank;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  const double n = static_cast<double>(out.n);
  const double mean = n * (n + 1) / 4;
  const double var = n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48;
  double z = v - mean;
  if (continuity_correction && z != 0) z -= std::copysign(0.5, z);  // R: sign(z) * 0.5
  out.v = v;
  out.z = var > 0 ? z / std::sqrt(var) : 0;
  out.p = 2 * std::min(normal_cdf(out.z), normal_cdf(-out.z));
  return out;
}

PairedComparison paired_compare(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size())
    throw Error("paired_compare: the two samples have " + std::to_string(a.size()) + " and " +
                std::to_string(b.size()) + " values; pairs need equal lengths");
  std::vector<double> diff;
  diff.reserve(a.size());
  PairedComparison out;
  double sum_a = 0, sum_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) continue;
    sum_a += a[i];
    sum_b += b[i];
    // Equal values computed along different paths (0.1 + 0.2 vs 0.3) are a
    // tie, not a tiny difference: it would count as a win in the signed-rank
    // test and could make sd > 0 when every pair agrees.
    const bool same = std::fabs(a[i] - b[i]) <=
                      kZeroDiffTolerance * std::max(std::fabs(a[i]), std::fabs(b[i]));
    diff.push_back(same ? 0.0 : a[i] - b[i]);
  }
  out.n = static_cast<std::int64_t>(diff.size());
  if (out.n == 0) {
    out.mean_a = out.mean_b = out.mean_diff = out.diff_low = out.diff_high = kNaN;
    out.effect_size = kNaN;
    return out;
  }
  const double n = static_cast<double>(out.n);
  out.mean_a = sum_a / n;
  out.mean_b = sum_b / n;
  out.mean_diff = mean_of(diff);
  const SignedRankTest w = wilcoxon_signed_rank(diff, true);
  out.w = w.v;
  out.w_p = w.p;
  if (out.n < 2) {  // no variance estimate: no t-test, no interval
    out.diff_low = out.diff_high = out.effect_size = kNaN;
    return out;
  }
  const double sd = sample_sd(diff);
  const double se = sd / std::sqrt(n);
  const double df = n - 1;
  if (sd > 0) {
    out.t = out.mean_diff / se;
    out.t_p = student_t_two_sided_p(out.t, df);
    out.effect_size = out.mean_diff / sd;
  } else {  // every difference identical: certain if non-zero, no evidence if zero
    out.t = out.mean_diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(),
                                                   out.mean_diff);
    out.t_p = out.mean_diff == 0 ? 1 : 0;
    out.effect_size = kNaN;
  }
  const double q = student_t_quantile(0.975, df);
  out.diff_low = out.mean_diff - q * se;
  out.diff_high = out.mean_diff + q * se;
  return out;
}

std::vector<double> holm_adjust(std::span<const double> p) {
  // Holm (1979): p_(i) * (m - i + 1), made monotone, capped at 1. NaN stays
  // NaN and does not count towards m (as R's p.adjust).
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return p[x] < p[y]; });
  std::vector<double> out(p.size(), kNaN);
  const double m = static_cast<double>(order.size());
  double running = 0;
  for (std::size_t j = 0; j < order.size(); ++j) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * p[order[j]]));
    out[order[j]] = running;
  }
  return out;
}

}  // namespace recfuse
