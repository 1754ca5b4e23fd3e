// Statistics for every mean and every comparison: bootstrap confidence
// intervals, paired t and Wilcoxon signed-rank tests, Holm correction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace recfuse {

struct Interval {
  double mean = 0, low = 0, high = 0;
  std::int64_t n = 0;
};

/// Percentile bootstrap CI of the mean (resampling units with replacement).
/// NaN values are dropped first. Deterministic in `seed`. n = 0 -> NaNs;
/// n = 1 -> the value with NaN low and high (one unit has no spread).
Interval bootstrap_mean_ci(std::span<const double> values, int resamples, std::uint64_t seed,
                           double level = 0.95);

/// Percentile bootstrap CI of the ratio Σ num / Σ den over units resampled
/// with replacement: the cluster bootstrap of a mean over observations that
/// come in groups (e.g. the squared errors of the ratings, summed per user,
/// den = the user's ratings: a user's errors are not independent of each
/// other, so users are what is resampled; Davison & Hinkley 1997, §3.8).
/// Units with a non-finite num or den <= 0 are dropped; n = units kept.
/// Deterministic in `seed`; no unit -> NaNs; one unit -> NaN low and high.
Interval bootstrap_ratio_ci(std::span<const double> num, std::span<const double> den, int resamples,
                            std::uint64_t seed, double level = 0.95);

struct PairedComparison {
  std::int64_t n = 0;          // pairs with both values finite
  double mean_a = 0, mean_b = 0;
  double mean_diff = 0;        // mean(a - b)
  double diff_low = 0, diff_high = 0;  // 95% t-interval of the mean difference
  double t = 0, t_p = 1;       // paired t-test, two-sided
  double w = 0, w_p = 1;       // Wilcoxon signed-rank (normal approx., ties/zeros handled), two-sided
  double effect_size = 0;      // Cohen's d_z = mean_diff / sd_diff
};
/// A pair with |a - b| <= 1e-12 * max(|a|, |b|) has an exact zero
/// difference (floating-point noise from summing the same values in another
/// order is not a win for either side): it counts in n and the t-test as 0
/// and is dropped from the signed-rank test.
PairedComparison paired_compare(std::span<const double> a, std::span<const double> b);

/// Wilcoxon signed-rank test of paired differences `d` (two-sided, normal
/// approximation): zeros dropped, average ranks for ties with the tie
/// correction of the variance, optional continuity correction -- R's
/// `wilcox.test(d, exact = FALSE, correct = ..., digits.rank = 10)`: |d| is
/// rounded to 10 significant digits before the zero test and the ranking, so
/// differences equal but for their last bits (0.3 - 0.2, 0.2 - 0.1) tie. `v` is the sum of the
/// ranks of the positive differences (R's V). Used by paired_compare.
struct SignedRankTest {
  std::int64_t n = 0;  // non-zero, finite differences
  double v = 0, z = 0, p = 1;
};
SignedRankTest wilcoxon_signed_rank(std::span<const double> d, bool continuity_correction = true);

/// Holm-Bonferroni adjusted p-values, same order as the input.
std::vector<double> holm_adjust(std::span<const double> p);

/// P(T <= t) for Student's t with `df` degrees of freedom.
double student_t_cdf(double t, double df);
/// Two-sided p-value of Student's t with `df` degrees of freedom.
double student_t_two_sided_p(double t, double df);
/// Quantile of Student's t (for CIs).
double student_t_quantile(double p, double df);
/// Standard normal CDF.
double normal_cdf(double z);
/// Sample standard deviation (n − 1); NaN for fewer than two values, and 0
/// exactly when every value is the same (their computed mean need not be
/// that value: (x + x + x) / 3 != x for most x, which left ~1e-18, then a
/// Welch df of 1e61 or a t of 1e16).
double sample_sd(std::span<const double> v);

}  // namespace recfuse
