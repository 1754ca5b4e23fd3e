// Off-policy estimators (eval/ope.hpp): values worked by hand on a 4-step
// log, unbiasedness and interval coverage on a simulated bandit with known
// policies and reward means, and the special cases the formulas promise.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "eval/ope.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/types.hpp"

using namespace recfuse;

namespace {

constexpr double kZ = 1.959963984540054;

// The 4-step log: weights w and rewards r.
const std::vector<double> kW = {2.0, 0.5, 1.0, 0.0};
const std::vector<double> kR = {1.0, 0.0, 1.0, 1.0};

/// 3 equally likely contexts, 4 actions; logging and target policies and
/// Bernoulli reward means. Largest weight 0.4 / 0.1 = 4.
struct Bandit {
  double p0[3][4] = {{0.4, 0.3, 0.2, 0.1}, {0.25, 0.25, 0.25, 0.25}, {0.1, 0.2, 0.3, 0.4}};
  double pe[3][4] = {{0.1, 0.2, 0.3, 0.4}, {0.7, 0.1, 0.1, 0.1}, {0.25, 0.25, 0.25, 0.25}};
  double mu[3][4] = {{0.1, 0.3, 0.5, 0.7}, {0.6, 0.2, 0.4, 0.1}, {0.3, 0.3, 0.8, 0.2}};

  /// V(π_e) = (1/3) Σ_x Σ_a π_e(a|x) μ(x, a) = (0.5 + 0.49 + 0.4) / 3.
  double true_value() const {
    double v = 0;
    for (int x = 0; x < 3; ++x)
      for (int a = 0; a < 4; ++a) v += pe[x][a] * mu[x][a] / 3;
    return v;
  }

  struct Log {
    std::vector<double> w, r, q, v;  // weights, rewards, q̂(x, a), v̂(x)
  };
  /// n logged steps under π_0; q̂ = μ + q_bias (wrong when q_bias ≠ 0).
  Log draw(Rng& rng, int n, double q_bias) const {
    Log log;
    for (int i = 0; i < n; ++i) {
      const int x = static_cast<int>(rng.below(3));
      double u = rng.uniform(), acc = 0;
      int a = 0;
      while (a < 3 && u >= (acc += p0[x][a])) ++a;
      log.w.push_back(pe[x][a] / p0[x][a]);
      log.r.push_back(rng.uniform() < mu[x][a] ? 1.0 : 0.0);
      log.q.push_back(mu[x][a] + q_bias);
      double v = 0;
      for (int b = 0; b < 4; ++b) v += pe[x][b] * (mu[x][b] + q_bias);
      log.v.push_back(v);
    }
    return log;
  }
};

}  // namespace

TEST_CASE("IPS, SNIPS and DR on a 4-step log worked by hand", "[eval][ope]") {
  // IPS: terms w·r = {2, 0, 1, 0}, mean 0.75; deviations {1.25, -0.75, 0.25, -0.75},
  // squares sum 2.75, s² = 2.75/3, SE = sqrt(2.75/3/4) = 0.4787136.
  const OpeEstimate i = ips(kW, kR);
  CHECK(i.value == Approx(0.75));
  CHECK(i.std_error == Approx(0.4787135539));
  CHECK(i.low == Approx(0.75 - kZ * 0.4787135539));
  CHECK(i.high == Approx(0.75 + kZ * 0.4787135539));
  CHECK(i.n == 4);
  CHECK(i.clipped == 0);
  // ESS: (Σw)² / Σw² = 3.5² / 5.25 = 7/3.
  CHECK(i.ess == Approx(7.0 / 3));
  // SNIPS: Σwr / Σw = 3 / 3.5 = 6/7; w(r − 6/7) = {2/7, −3/7, 1/7, 0}, squares
  // sum 14/49 = 2/7; SE = sqrt(2/7 / (4·3)) / w̄ = sqrt(1/42) / 0.875 = 0.1763467.
  const OpeEstimate s = snips(kW, kR);
  CHECK(s.value == Approx(6.0 / 7));
  CHECK(s.std_error == Approx(std::sqrt(1.0 / 42) / 0.875));
  CHECK(s.low == Approx(6.0 / 7 - kZ * std::sqrt(1.0 / 42) / 0.875));
  // DR with q̂ = 0.5 everywhere, v̂ = {0.6, 0.4, 0.5, 0.7}: terms v̂ + w(r − q̂) =
  // {1.6, 0.15, 1.0, 0.7}, mean 0.8625; squared deviations sum 1.096875,
  // SE = sqrt(1.096875/3/4) = 0.3023347.
  const std::vector<double> q(4, 0.5), v = {0.6, 0.4, 0.5, 0.7};
  const OpeEstimate d = doubly_robust(kW, kR, q, v);
  CHECK(d.value == Approx(0.8625));
  CHECK(d.std_error == Approx(0.3023346656));
  // Clipping at 1: w = {1, 0.5, 1, 0}, one weight lowered; IPS terms {1, 0, 1, 0},
  // mean 0.5, s² = 1/3, SE = sqrt(1/12); ESS = 2.5² / 2.25.
  const OpeEstimate c = ips(kW, kR, 1.0);
  CHECK(c.value == Approx(0.5));
  CHECK(c.std_error == Approx(std::sqrt(1.0 / 12)));
  CHECK(c.clipped == 1);
  CHECK(c.ess == Approx(6.25 / 2.25));
}

TEST_CASE("OPE edge cases and input checks", "[eval][ope]") {
  CHECK(effective_sample_size(std::vector<double>{1, 1, 1}) == Approx(3.0));
  CHECK(effective_sample_size(std::vector<double>{0, 0}) == 0.0);
  const OpeEstimate one = ips(std::vector<double>{2.0}, std::vector<double>{0.5});
  CHECK(one.value == Approx(1.0));
  CHECK(std::isnan(one.std_error));
  CHECK(std::isnan(ips({}, {}).value));
  CHECK(std::isnan(snips(std::vector<double>{0, 0}, std::vector<double>{1, 1}).value));
  // No overlap: no interval, not a confident 0 ± 0 (IPS) or the reward
  // model's guess ± its spread (DR).
  const std::vector<double> none = {0, 0, 0}, rewards = {1, 0, 1}, q = {0.2, 0.4, 0.9};
  const OpeEstimate ips_none = ips(none, rewards), dr_none = doubly_robust(none, rewards, q, q);
  CHECK(ips_none.value == 0.0);
  CHECK(dr_none.value == Approx(0.5));
  for (const OpeEstimate& e : {ips_none, dr_none}) {
    CHECK(std::isnan(e.std_error));
    CHECK(std::isnan(e.low));
    CHECK(std::isnan(e.high));
  }
  CHECK_THROWS_AS(ips(kW, std::vector<double>{1, 2}), Error);
  CHECK_THROWS_AS(doubly_robust(kW, kR, kR, std::vector<double>{1}), Error);
  CHECK_THROWS_AS(ips(std::vector<double>{-1}, std::vector<double>{1}), Error);
  CHECK_THROWS_AS(ips(kW, kR, 0.0), Error);
  const std::vector<double> w = importance_weights(std::vector<double>{0.5, 0.0, 1.0},
                                                   std::vector<double>{0.25, 0.5, 1.0});
  CHECK(w == std::vector<double>{2.0, 0.0, 1.0});
  CHECK_THROWS_WITH(importance_weights(std::vector<double>{0.5}, std::vector<double>{0.0}),
                    Catch::Contains("logging propensity"));
}

TEST_CASE("SNIPS equals IPS when the weights average to 1", "[eval][ope]") {
  const std::vector<double> w = {0.5, 1.5, 2.0, 0.0}, r = {0.3, 1.0, 0.2, 0.9};
  CHECK(snips(w, r).value == Approx(ips(w, r).value).epsilon(1e-14));
  // ... and differs from it otherwise.
  CHECK(snips(kW, kR).value != Approx(ips(kW, kR).value));
}

TEST_CASE("DR with a perfect reward model has no variance from its correction", "[eval][ope]") {
  // Deterministic rewards r = μ(x, a) and q̂ = μ: every correction w(r − q̂)
  // is 0, so DR is the plain mean of v̂(x_i), with its SE, whatever the weights.
  const Bandit b;
  Rng rng(5);
  Bandit::Log log = b.draw(rng, 500, 0.0);
  log.r = log.q;
  const OpeEstimate dr = doubly_robust(log.w, log.r, log.q, log.v);
  const std::vector<double> ones(log.v.size(), 1.0);
  const OpeEstimate plain = ips(ones, log.v);
  CHECK(dr.value == Approx(plain.value).epsilon(1e-14));
  CHECK(dr.std_error == Approx(plain.std_error).epsilon(1e-12));
  CHECK(dr.std_error < 0.5 * ips(log.w, log.r).std_error);
  // One context only: v̂ is constant, so the SE is exactly 0.
  std::vector<double> v_const(log.v.size(), 0.47);
  const OpeEstimate flat = doubly_robust(log.w, log.q, log.q, v_const);
  CHECK(flat.value == Approx(0.47));
  CHECK(flat.std_error == Approx(0.0).margin(1e-15));
}

TEST_CASE("IPS and DR are unbiased and their 95% intervals cover", "[eval][ope]") {
  const Bandit b;
  const double truth = b.true_value();
  REQUIRE(truth == Approx((0.5 + 0.49 + 0.4) / 3));
  constexpr int kLogs = 2000, kSteps = 200;
  Rng rng(derive_seed(17, "ope-unbiased"));
  struct Tally {
    double sum = 0, sum2 = 0;
    int covered = 0;
    void add(const OpeEstimate& e, double truth) {
      sum += e.value;
      sum2 += e.value * e.value;
      covered += e.low <= truth && truth <= e.high;
    }
    double mean() const { return sum / kLogs; }
    double se_of_mean() const { return std::sqrt((sum2 / kLogs - mean() * mean()) / kLogs); }
    double coverage() const { return static_cast<double>(covered) / kLogs; }
  } t_ips, t_snips, t_dr, t_clip;
  for (int l = 0; l < kLogs; ++l) {
    const Bandit::Log log = b.draw(rng, kSteps, 0.15);  // DR with a wrong q̂
    t_ips.add(ips(log.w, log.r), truth);
    t_snips.add(snips(log.w, log.r), truth);
    t_dr.add(doubly_robust(log.w, log.r, log.q, log.v), truth);
    t_clip.add(ips(log.w, log.r, 1.0), truth);
  }
  INFO("truth " << truth << "; IPS " << t_ips.mean() << " ± " << t_ips.se_of_mean() << " cover "
                << t_ips.coverage() << "; SNIPS " << t_snips.mean() << " cover " << t_snips.coverage()
                << "; DR " << t_dr.mean() << " ± " << t_dr.se_of_mean() << " cover " << t_dr.coverage()
                << "; clipped IPS " << t_clip.mean());
  CHECK(std::abs(t_ips.mean() - truth) < 4 * t_ips.se_of_mean());
  CHECK(std::abs(t_dr.mean() - truth) < 4 * t_dr.se_of_mean());
  CHECK(std::abs(t_snips.mean() - truth) < 0.01);  // consistent; bias O(1/n)
  for (const Tally* t : {&t_ips, &t_snips, &t_dr}) {
    CHECK(t->coverage() > 0.925);
    CHECK(t->coverage() < 0.975);
  }
  // Clipped at 1, IPS estimates (1/3) Σ_x Σ_a π_0 min(w, 1) μ instead:
  // context 0: .4·.25·.1 + .3·(2/3)·.3 + .2·.5 + .1·.7 = .24; context 1:
  // .25·.6 + .25·.4·(.2 + .4 + .1) = .22; context 2: .1·.3 + .2·.3 +
  // .3·(5/6)·.8 + .4·.625·.2 = .34; so 0.8/3, biased down from 0.4633.
  CHECK(std::abs(t_clip.mean() - 0.8 / 3) < 0.01);
}
