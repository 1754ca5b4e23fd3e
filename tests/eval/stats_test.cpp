// Statistics against R and SciPy reference outputs and hand examples.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "eval/stats.hpp"
#include "recfuse/types.hpp"

using namespace recfuse;

namespace {
// R's sleep data: wch/r-source src/library/datasets/data/sleep.R
// (extra hours of sleep of 10 patients under drug 1 and drug 2).
const std::vector<double> kDrug1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
const std::vector<double> kDrug2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
}  // namespace

TEST_CASE("paired t-test: R's sleep example", "[eval][stats][reference]") {
  // r-devel/r-svn tests/Examples/stats-Ex.Rout.save, ?t.test example:
  //   t.test(sleep2$extra.1, sleep2$extra.2, paired = TRUE)
  //   t = -4.0621, df = 9, p-value = 0.002833
  //   95 percent confidence interval: -2.4598858 -0.7001142
  //   mean difference -1.58
  const PairedComparison c = paired_compare(kDrug1, kDrug2);
  CHECK(c.n == 10);
  CHECK(c.mean_diff == Approx(-1.58));
  CHECK(c.mean_a == Approx(0.75));
  CHECK(c.mean_b == Approx(2.33));
  CHECK(c.t == Approx(-4.0621).margin(5e-5));
  CHECK(c.t_p == Approx(0.002833).margin(5e-7));
  CHECK(c.diff_low == Approx(-2.4598858).margin(5e-8));
  CHECK(c.diff_high == Approx(-0.7001142).margin(5e-8));
  // Cohen's d_z = mean / sd of the differences = t / sqrt(n)
  CHECK(c.effect_size == Approx(c.t / std::sqrt(10.0)));
}

TEST_CASE("one-sample t via paired_compare against zero: R's sleep example", "[eval][stats][reference]") {
  // Same file: t.test(sleep$extra) -> t = 3.413, df = 19, p-value = 0.002918,
  // 95 percent confidence interval 0.5955845 2.4844155, mean 1.54.
  std::vector<double> extra = kDrug1;
  extra.insert(extra.end(), kDrug2.begin(), kDrug2.end());
  const std::vector<double> zeros(extra.size(), 0.0);
  const PairedComparison c = paired_compare(extra, zeros);
  CHECK(c.t == Approx(3.413).margin(5e-4));
  CHECK(c.t_p == Approx(0.002918).margin(5e-7));
  CHECK(c.diff_low == Approx(0.5955845).margin(5e-8));
  CHECK(c.diff_high == Approx(2.4844155).margin(5e-8));
}

TEST_CASE("wilcoxon: SciPy test_accuracy_wilcoxon (values from R)", "[eval][stats][reference]") {
  // scipy/scipy scipy/stats/tests/test_morestats.py, test_accuracy_wilcoxon:
  //   > wilcox.test(x, y, paired=TRUE, exact=FALSE, correct={FALSE,TRUE})
  //   T = 34, p = 0.6948866 (correct=FALSE), 0.7240817 (correct=TRUE)
  // SciPy's T is min(V, n(n+1)/2 - V); here V (positive ranks) = 34.
  const std::vector<double> x = {120, 114, 181, 188, 180, 146, 121, 191, 132, 113, 127, 112};
  const std::vector<double> y = {133, 143, 119, 189, 112, 199, 198, 113, 115, 121, 142, 187};
  std::vector<double> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - y[i];
  const auto plain = wilcoxon_signed_rank(d, false);
  CHECK(plain.v == 34);
  CHECK(plain.p == Approx(0.6948866).epsilon(1e-6));
  const auto corrected = wilcoxon_signed_rank(d, true);
  CHECK(corrected.p == Approx(0.7240817).epsilon(1e-6));
  // paired_compare reports R's default (continuity correction on).
  const PairedComparison c = paired_compare(x, y);
  CHECK(c.w == 34);
  CHECK(c.w_p == Approx(0.7240817).epsilon(1e-6));
}

TEST_CASE("wilcoxon: ties and dropped zeros (SciPy zero_method='wilcox')", "[eval][stats][reference]") {
  // Same file: freq = [1,4,16,15,8,4,5,1,2] of the values -4..4 against zeros;
  // zero_method "wilcox" (zeros dropped, as R) -> T = 327, p = 0.00641346115861
  // (normal approximation with tie correction, no continuity correction).
  const int freq[] = {1, 4, 16, 15, 8, 4, 5, 1, 2};
  std::vector<double> d;
  for (int v = -4; v <= 4; ++v)
    for (int c = 0; c < freq[v + 4]; ++c) d.push_back(v);
  const auto w = wilcoxon_signed_rank(d, false);
  CHECK(w.n == 48);  // the 8 zeros are dropped
  CHECK(std::min(w.v, 48.0 * 49 / 2 - w.v) == 327);
  CHECK(w.p == Approx(0.00641346115861).epsilon(1e-9));
}

TEST_CASE("wilcoxon: all differences tied (SciPy test_wilcoxon_tie)", "[eval][stats][reference]") {
  // scipy/scipy scipy/stats/tests/test_morestats.py, test_wilcoxon_tie, from R:
  //   wilcox.test(rep(0.1, 10), exact=FALSE, correct=FALSE)$p.value 0.001565402
  //   wilcox.test(rep(0.1, 10), exact=FALSE, correct=TRUE)$p.value  0.001904195
  const std::vector<double> d(10, 0.1);
  CHECK(wilcoxon_signed_rank(d, false).p == Approx(0.001565402).epsilon(1e-6));
  CHECK(wilcoxon_signed_rank(d, true).p == Approx(0.001904195).epsilon(1e-6));
  CHECK(wilcoxon_signed_rank(d, true).v == Approx(55));  // ten ranks of 5.5
}

TEST_CASE("wilcoxon: no non-zero difference gives p = 1", "[eval][stats]") {
  const std::vector<double> zeros(5, 0.0);
  const auto w = wilcoxon_signed_rank(zeros);
  CHECK(w.n == 0);
  CHECK(w.p == 1);
}

TEST_CASE("wilcoxon: differences equal but for their last bits tie (digits.rank)", "[eval][stats]") {
  // a - b is 0.1 four times and -0.1 once on paper; in binary 0.3 - 0.2 and
  // 0.5 - 0.4 are 0.09999999999999998 and 0.2 - 0.1 is 0.1. As one tie group
  // of five (R: wilcox.test(d, digits.rank = 10, exact = FALSE)): every rank
  // 3, V = 4 * 3 = 12, var = 5*6*11/24 - (5^3 - 5)/48 = 11.25,
  // z = (12 - 7.5 - 0.5) / sqrt(11.25), p = 0.2330380. Ranked on the raw
  // bits the negative difference is not tied with the two largest: V = 13,
  // p = 0.1675.
  const std::vector<double> a = {.3, .2, .1, .5, .4}, b = {.2, .1, 0, .4, .5};
  const PairedComparison c = paired_compare(a, b);
  CHECK(c.n == 5);
  CHECK(c.w == 12);
  CHECK(c.w_p == Approx(0.23303798).epsilon(1e-7));
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  const auto w = wilcoxon_signed_rank(d, true);
  CHECK(w.n == 5);
  CHECK(w.v == 12);
  // Rounding is relative: tiny but genuine differences keep their ranks.
  const auto small = wilcoxon_signed_rank(std::vector<double>{1e-20, 2e-20, -3e-20}, true);
  CHECK(small.n == 3);
  CHECK(small.v == 3);  // ranks 1 + 2 positive
}

TEST_CASE("paired_compare: a - b within 1e-12 relative is an exact zero", "[eval][stats]") {
  // 0.3 against 0.1 + 0.2 (= 0.30000000000000004) is no difference: the pair
  // counts in n (and as 0 in the t-test) but is dropped from the signed-rank
  // test, leaving ranks 1..3 all positive: V = 6, n = 3,
  // z = (6 - 3 - 0.5) / sqrt(3 * 4 * 7 / 24), p = 0.1814492. Counted as a
  // tiny negative difference it would take rank 1: V = 9 of n = 4.
  const std::vector<double> a = {0.3, 1, 2, 3}, b = {0.1 + 0.2, 0, 0, 0};
  const PairedComparison c = paired_compare(a, b);
  CHECK(c.n == 4);
  CHECK(c.w == 6);
  CHECK(c.w_p == Approx(0.18144921).epsilon(1e-7));
  CHECK(c.mean_diff == Approx(1.5));
  // Every pair equal up to rounding: no evidence, not certainty.
  const PairedComparison same = paired_compare(std::vector<double>{0.3, 0.6, 0.7},
                                               std::vector<double>{0.1 + 0.2, 0.2 + 0.4, 0.3 + 0.4});
  CHECK(same.t_p == 1);
  CHECK(same.w_p == 1);
}

TEST_CASE("sample_sd: n - 1, exactly 0 for equal values whose mean is inexact", "[eval][stats]") {
  CHECK(sample_sd(std::vector<double>{1, 2, 3}) == Approx(1.0));
  CHECK(std::isnan(sample_sd(std::vector<double>{4})));
  REQUIRE((0.1 + 0.1 + 0.1) / 3 != 0.1);
  CHECK(sample_sd(std::vector<double>{0.1, 0.1, 0.1}) == 0);
  // The same differences every time, with that inexact mean: certain, not
  // a t of 1e16 and an effect size of 6e15.
  const PairedComparison c = paired_compare(std::vector<double>{0.1, 0.1, 0.1}, std::vector<double>{0, 0, 0});
  CHECK(std::isinf(c.t));
  CHECK(c.t > 0);
  CHECK(c.t_p == 0);
  CHECK(std::isnan(c.effect_size));
}

TEST_CASE("paired_compare: NaN pairs dropped, degenerate inputs", "[eval][stats]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> a = {1, 2, nan, 4}, b = {0, 1, 5, nan};
  const PairedComparison c = paired_compare(a, b);
  CHECK(c.n == 2);
  CHECK(c.mean_diff == Approx(1.0));
  CHECK(c.t_p == 0);  // identical non-zero differences
  const PairedComparison same = paired_compare(std::vector<double>{1, 2, 3},
                                               std::vector<double>{1, 2, 3});
  CHECK(same.t == 0);
  CHECK(same.t_p == 1);
  CHECK(same.w_p == 1);
  CHECK_THROWS_AS(paired_compare(std::vector<double>{1}, std::vector<double>{1, 2}), Error);
}

TEST_CASE("student t: known quantiles and CDF values", "[eval][stats]") {
  CHECK(student_t_quantile(0.975, 9) == Approx(2.262157).margin(5e-7));
  CHECK(student_t_quantile(0.025, 9) == Approx(-2.262157).margin(5e-7));
  CHECK(student_t_quantile(0.5, 4) == 0);
  // df = 1 is Cauchy: F(1) = 3/4, F(t) = 1/2 + atan(t)/pi.
  CHECK(student_t_cdf(1.0, 1) == Approx(0.75));
  CHECK(student_t_cdf(-3.0, 1) == Approx(0.5 + std::atan(-3.0) / M_PI));
  // df = 2 closed form: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
  for (double t : {-5.0, -0.7, 0.3, 2.0, 40.0})
    CHECK(student_t_cdf(t, 2) == Approx(0.5 + t / (2 * std::sqrt(2 + t * t))));
  CHECK(student_t_two_sided_p(0, 7) == Approx(1));
  CHECK(student_t_two_sided_p(INFINITY, 7) == 0);
  // Large df tends to the normal.
  CHECK(student_t_quantile(0.975, 1e7) == Approx(1.959964).margin(1e-5));
  // Past df = 1e6 the normal: no jump at the switch, and no breakdown at a
  // df that only rounding produced (1e61 once gave a quantile of 1e20).
  // 0.04999607 is the t's (mpmath), the normal's 0.04999579.
  CHECK(student_t_two_sided_p(1.96, 1e6) == Approx(0.0499961).margin(1e-8));
  CHECK(student_t_two_sided_p(1.96, 1.000001e6) == Approx(0.0499958).margin(1e-8));
  for (double df : {1e7, 1e12, 1e30, 1e61, 1e300}) {
    INFO("df " << df);
    CHECK(student_t_quantile(0.975, df) == Approx(1.959964).margin(1e-6));
    CHECK(student_t_two_sided_p(3.0, df) == Approx(std::erfc(3.0 / std::sqrt(2.0))).epsilon(1e-12));
  }
  CHECK(normal_cdf(1.959964) == Approx(0.975).margin(1e-7));
  CHECK(std::isnan(student_t_quantile(1.5, 3)));
}

TEST_CASE("student t: quantile and CDF round trip", "[eval][stats]") {
  for (double df : {1.0, 2.5, 9.0, 30.0, 1000.0})
    for (double p : {1e-6, 0.01, 0.2, 0.5, 0.8, 0.975, 0.999999}) {
      INFO("df " << df << " p " << p);
      CHECK(student_t_cdf(student_t_quantile(p, df), df) == Approx(p).epsilon(1e-9));
    }
}

TEST_CASE("holm: hand example, caps and NaN", "[eval][stats]") {
  // sorted 0.005*4 = .02, 0.01*3 = .03, 0.03*2 = .06, 0.04*1 = .04 -> max(.06,.04) = .06
  const auto adj = holm_adjust(std::vector<double>{0.01, 0.04, 0.03, 0.005});
  REQUIRE(adj.size() == 4);
  CHECK(adj[0] == Approx(0.03));
  CHECK(adj[1] == Approx(0.06));
  CHECK(adj[2] == Approx(0.06));
  CHECK(adj[3] == Approx(0.02));
  // [0.6, 0.2]: 0.2*2 = .4, then max(.4, 0.6*1) = .6
  const auto two = holm_adjust(std::vector<double>{0.6, 0.2});
  CHECK(two[0] == Approx(0.6));
  CHECK(two[1] == Approx(0.4));
  // [0.7, 0.6]: 0.6*2 = 1.2 capped at 1, then max(1, .7) = 1
  const auto capped = holm_adjust(std::vector<double>{0.7, 0.6});
  CHECK(capped[0] == 1);
  CHECK(capped[1] == 1);
  const auto with_nan = holm_adjust(std::vector<double>{NAN, 0.02, 0.01});
  CHECK(std::isnan(with_nan[0]));
  CHECK(with_nan[1] == Approx(0.02));  // m = 2: 0.01*2 = .02, 0.02*1 -> max .02
  CHECK(with_nan[2] == Approx(0.02));
}

TEST_CASE("bootstrap: deterministic in the seed, contains the mean", "[eval][stats]") {
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back((i * 37 % 101) / 100.0);
  const Interval a = bootstrap_mean_ci(v, 1000, 42);
  const Interval b = bootstrap_mean_ci(v, 1000, 42);
  const Interval c = bootstrap_mean_ci(v, 1000, 43);
  CHECK(a.low == b.low);
  CHECK(a.high == b.high);
  CHECK((a.low != c.low || a.high != c.high));
  CHECK(a.n == 200);
  CHECK(a.low < a.mean);
  CHECK(a.mean < a.high);
  // Width close to the normal theory 2 * 1.96 * sd / sqrt(n).
  double m = a.mean, ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  const double se = std::sqrt(ss / (v.size() - 1)) / std::sqrt(double(v.size()));
  CHECK((a.high - a.low) == Approx(2 * 1.96 * se).epsilon(0.15));
}

TEST_CASE("bootstrap: width shrinks with n, constant data has zero width", "[eval][stats]") {
  std::vector<double> small, large;
  for (int i = 0; i < 50; ++i) small.push_back(i % 2);
  for (int i = 0; i < 5000; ++i) large.push_back(i % 2);
  const Interval s = bootstrap_mean_ci(small, 500, 1);
  const Interval l = bootstrap_mean_ci(large, 500, 1);
  CHECK((l.high - l.low) < 0.5 * (s.high - s.low));
  const Interval flat = bootstrap_mean_ci(std::vector<double>(30, 0.25), 200, 9);
  CHECK(flat.mean == 0.25);
  CHECK(flat.low == 0.25);
  CHECK(flat.high == 0.25);
}

TEST_CASE("bootstrap: NaN dropped, empty input, bad arguments", "[eval][stats]") {
  const Interval i = bootstrap_mean_ci(std::vector<double>{1, NAN, 3}, 100, 5);
  CHECK(i.n == 2);
  CHECK(i.mean == 2);
  CHECK(i.low >= 1);
  CHECK(i.high <= 3);
  const Interval e = bootstrap_mean_ci(std::vector<double>{NAN}, 100, 5);
  CHECK(e.n == 0);
  CHECK(std::isnan(e.mean));
  CHECK(std::isnan(e.low));
  CHECK_THROWS_AS(bootstrap_mean_ci(std::vector<double>{1}, 0, 5), Error);
  CHECK_THROWS_AS(bootstrap_mean_ci(std::vector<double>{1}, 10, 5, 1.5), Error);
}

TEST_CASE("bootstrap_ratio_ci resamples units, not the observations inside them", "[eval][stats]") {
  // Ten users with ten ratings each: five err by 0 on every rating, five by 1.
  // Per rating that is 100 observations (the mean's sd about 0.05); per user
  // only ten (sd about 0.16): the interval must be the users' width.
  std::vector<double> sums, counts;
  for (int u = 0; u < 10; ++u) sums.push_back(u < 5 ? 0.0 : 10.0), counts.push_back(10.0);
  const Interval ci = bootstrap_ratio_ci(sums, counts, 2000, 7);
  CHECK(ci.mean == Approx(0.5));
  CHECK(ci.n == 10);
  CHECK(ci.high - ci.low > 0.45);
  CHECK(ci.high - ci.low < 0.8);
  // Ratio, not mean of ratios: a user with more ratings weighs more.
  const Interval w = bootstrap_ratio_ci(std::vector<double>{1.0, 30.0}, std::vector<double>{1.0, 10.0}, 200, 3);
  CHECK(w.mean == Approx(31.0 / 11.0));
  // Units without observations are left out; sizes must match.
  CHECK(bootstrap_ratio_ci(std::vector<double>{2.0, 5.0}, std::vector<double>{2.0, 0.0}, 50, 1).n == 1);
  CHECK(std::isnan(bootstrap_ratio_ci({}, {}, 50, 1).mean));
  CHECK_THROWS_AS(bootstrap_ratio_ci(std::vector<double>{1.0}, std::vector<double>{}, 50, 1), Error);
}

TEST_CASE("bootstrap: one unit has no interval", "[eval][stats]") {
  // Every resample of one unit is that unit, so the percentile interval was
  // [v, v]: a "95% CI" claiming certainty from a single user or episode
  // (and `recfuse compare` of two such rows read p = 0). SciPy's
  // stats.bootstrap refuses a sample of fewer than two observations.
  const Interval one = bootstrap_mean_ci(std::vector<double>{0.7, NAN}, 200, 3);
  CHECK(one.n == 1);
  CHECK(one.mean == 0.7);
  CHECK(std::isnan(one.low));
  CHECK(std::isnan(one.high));
  const Interval ratio = bootstrap_ratio_ci(std::vector<double>{3.0, 1.0}, std::vector<double>{2.0, 0.0}, 200, 3);
  CHECK(ratio.n == 1);
  CHECK(ratio.mean == 1.5);
  CHECK(std::isnan(ratio.low));
  CHECK(std::isnan(ratio.high));
}
