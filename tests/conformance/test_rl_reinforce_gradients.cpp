// Top-K REINFORCE's losses (plugins/rl/policy_net.hpp) and advantages:
// the top-K multiplier; the REINFORCE loss (top-K factor, capped weights)
// against finite differences and against the gradient of the top-K
// objective; the inclusion weight, the Plackett-Luce slate gradient and
// per-item embeddings against finite differences and exact expectations;
// GAE by hand; which terms PPO's clipped surrogate leaves without gradient.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "plugins/rl/policy_net.hpp"
#include "plugins/rl/reinforce_topk.hpp"
#include "recfuse/rng.hpp"
#include "rl_worlds.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::rl_worlds;

TEST_CASE("the top-K multiplier caps the weight and applies lambda_K", "[rl]") {
  // π = 0.3, β = 0.1: weight 3; λ_2 = 2 · 0.7 = 1.4; advantage −2: −8.4.
  CHECK(rl::topk_multiplier(0.3, 0.1, 2, 10.0, -2.0) == Approx(-8.4));
  // π = 0.5, β = 0.01: weight 50, capped at 10; λ_3 = 3 · 0.25 = 0.75.
  CHECK(rl::topk_multiplier(0.5, 0.01, 3, 10.0, 1.0) == Approx(7.5));
  CHECK(rl::topk_multiplier(0.5, 0.01, 3, 0.0, 1.0) == Approx(37.5));  // uncapped
  CHECK(rl::topk_multiplier(0.2, 0.2, 1, 10.0, 4.0) == Approx(4.0));   // K = 1, on-policy: plain REINFORCE
}

namespace {

struct NetFixture {
  static constexpr int kD = 4, kH = 3, kItems = 7;
  TrainData data = tiny_items(kItems);
  rl::ItemFeatures items;
  rl::PolicyNet net;
  std::vector<std::vector<double>> phis;
  std::vector<std::vector<ItemId>> cands;
  /// With embeddings, V and V' are drawn too unless random_embeddings is false (then 0).
  explicit NetFixture(bool embeddings = false, bool random_embeddings = true) {
    items.build(data, "test");
    net.reset(&items, kD, kH, 1.0, 3, true, embeddings);
    Rng rng(9);
    const Eigen::Index emb = embeddings ? 2 * kItems * kH : 0;
    for (Eigen::Index j = net.size() - emb - 2 * kItems; j < net.size() - emb; ++j) net.theta[j] = rng.uniform(-1, 1);
    if (random_embeddings)
      for (Eigen::Index j = net.size() - emb; j < net.size(); ++j) net.theta[j] = rng.uniform(-1, 1);
    for (int e = 0; e < 5; ++e) {
      std::vector<double> phi(kD);
      for (double& x : phi) x = rng.uniform(-1, 1);
      phis.push_back(phi);
      std::vector<ItemId> c;
      for (ItemId i = 0; i < kItems; ++i)
        if ((i + e) % 3 != 0 || i == 4) c.push_back(i);
      cands.push_back(c);
    }
  }
  std::vector<double> probs(std::size_t e, rl::PolicyNet::Head head) const {
    std::vector<double> h(kH), p(cands[e].size());
    net.encode(phis[e].data(), h.data());
    net.probs(h.data(), head, cands[e], p.data());
    return p;
  }
};

/// ∂objective/∂θ_j by central differences (step 1e-6), for every weight of net.
template <typename F>
Eigen::VectorXd numeric_gradient(rl::PolicyNet& net, F&& objective) {
  Eigen::VectorXd g(net.size());
  for (Eigen::Index j = 0; j < net.size(); ++j) {
    const double keep = net.theta[j], step = 1e-6;
    net.theta[j] = keep + step;
    const double up = objective();
    net.theta[j] = keep - step;
    const double down = objective();
    net.theta[j] = keep;
    g[j] = (up - down) / (2 * step);
  }
  return g;
}

}  // namespace

TEST_CASE("the REINFORCE loss with top-K factor and capped weights matches finite differences", "[rl]") {
  NetFixture f;
  // Behaviour probabilities chosen so that some weights π/β exceed the cap.
  const double behavior[] = {0.9, 0.001, 0.2, 0.004, 0.5};
  const double advantage[] = {1.5, -0.7, 2.0, 0.3, -1.1};
  std::vector<rl::PolicyEvent> events;
  int capped = 0;
  for (std::size_t e = 0; e < f.phis.size(); ++e) {
    const int a = static_cast<int>(e % f.cands[e].size());
    const double pi = f.probs(e, rl::PolicyNet::kPolicy)[static_cast<std::size_t>(a)];
    capped += pi / behavior[e] > 5.0;
    events.push_back({f.phis[e].data(), f.cands[e], a, rl::topk_multiplier(pi, behavior[e], 3, 5.0, advantage[e])});
  }
  REQUIRE(capped >= 1);
  REQUIRE(capped < 5);
  // θ = [U | c | P | B | b | b']: β's weights are B (H x E) and b' (the last n).
  const Eigen::Index n = NetFixture::kItems, b_start = f.net.size() - 2 * n - NetFixture::kH * 4;
  REQUIRE(f.net.size() == NetFixture::kH * NetFixture::kD + NetFixture::kH + 2 * NetFixture::kH * 4 + 2 * n);
  const auto behaviour_weight = [&](Eigen::Index j) {
    return (j >= b_start && j < b_start + NetFixture::kH * 4) || j >= f.net.size() - n;
  };
  for (auto head : {rl::PolicyNet::kPolicy, rl::PolicyNet::kBehavior}) {
    INFO((head == rl::PolicyNet::kPolicy ? "policy loss" : "behaviour loss"));
    Eigen::VectorXd grad = Eigen::VectorXd::Zero(f.net.size());
    f.net.loss(events, head, &grad);
    CHECK(grad.segment(head == rl::PolicyNet::kPolicy ? f.net.size() - 2 * n : f.net.size() - n, n).norm() > 1e-3);
    const Eigen::VectorXd numeric = numeric_gradient(f.net, [&] { return f.net.loss(events, head, nullptr); });
    double worst = 0;
    for (Eigen::Index j = 0; j < f.net.size(); ++j) {
      const double fd = numeric[j];
      if (head == rl::PolicyNet::kPolicy) {
        worst = std::max(worst, std::abs(grad[j] - fd));
        if (behaviour_weight(j)) CHECK(grad[j] == 0.0);  // β's weights do not enter L_π
      } else if (behaviour_weight(j)) {
        worst = std::max(worst, std::abs(grad[j] - fd));
      } else {
        CHECK(grad[j] == 0.0);  // blocked: L_β never reaches the encoder or π
      }
    }
    CHECK(worst < 1e-7);
  }
}

TEST_CASE("in expectation over the behaviour, the corrected gradient is that of the top-K objective", "[rl]") {
  // Chen et al.'s top-K correction: E_{a~β}[(π/β) λ_K(π) R_a ∇log π(a)] = ∇ Σ_a R_a α(a),
  // α(a) = 1 − (1 − π(a))^K the probability that a is among K draws.
  NetFixture f;
  constexpr int kK = 2;
  const std::size_t e = 1;
  const auto pi = f.probs(e, rl::PolicyNet::kPolicy);
  const std::size_t c = pi.size();
  std::vector<double> beta(c), reward(c);
  for (std::size_t j = 0; j < c; ++j) beta[j] = (j + 1.0) / (c * (c + 1) / 2.0), reward[j] = std::sin(3.0 * j);
  std::vector<rl::PolicyEvent> events;  // one event per action, weighted by β(a) · c (loss divides by N = c)
  for (std::size_t j = 0; j < c; ++j)
    events.push_back({f.phis[e].data(), f.cands[e], static_cast<int>(j),
                      static_cast<double>(c) * beta[j] * rl::topk_multiplier(pi[j], beta[j], kK, 0.0, reward[j])});
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(f.net.size());
  f.net.loss(events, rl::PolicyNet::kPolicy, &grad);  // = −∇J
  const auto objective = [&] {
    const auto p = f.probs(e, rl::PolicyNet::kPolicy);
    double j = 0;
    for (std::size_t a = 0; a < c; ++a) j += reward[a] * (1.0 - std::pow(1.0 - p[a], kK));
    return j;
  };
  CHECK(grad.cwiseAbs().maxCoeff() > 1e-3);
  CHECK((-grad - numeric_gradient(f.net, objective)).cwiseAbs().maxCoeff() < 1e-7);
}

TEST_CASE("the top-K inclusion weight makes the click-event gradient that of the top-K objective", "[rl]") {
  // On-policy, a click on a arrives at rate α_π(a) c_a (a shown, then
  // clicked); the objective is J = Σ_a c_a R_a α_π(a). Weighting each event
  // by π/α_π (behavior "inclusion") gives ∇J in expectation; the paper's π/β
  // with β = π (behavior "recorded") scales each item's term by α/π instead.
  NetFixture f;
  constexpr int kK = 3;
  const std::size_t e = 2;
  const auto pi = f.probs(e, rl::PolicyNet::kPolicy);
  const std::size_t c = pi.size();
  std::vector<double> click(c), reward(c);
  for (std::size_t j = 0; j < c; ++j) click[j] = 0.2 + 0.1 * static_cast<double>(j % 4), reward[j] = std::cos(2.0 * j);
  const auto gradient = [&](bool inclusion) {
    std::vector<rl::PolicyEvent> events;  // one per item, weighted by its event rate · c
    for (std::size_t j = 0; j < c; ++j) {
      const double alpha = rl::topk_inclusion(pi[j], kK);
      const double beta = inclusion ? alpha : pi[j];
      events.push_back({f.phis[e].data(), f.cands[e], static_cast<int>(j),
                        static_cast<double>(c) * alpha * click[j] *
                            rl::topk_multiplier(pi[j], beta, kK, 0.0, reward[j])});
    }
    Eigen::VectorXd grad = Eigen::VectorXd::Zero(f.net.size());
    f.net.loss(events, rl::PolicyNet::kPolicy, &grad);  // = −∇J when unbiased
    return grad;
  };
  const auto objective = [&] {
    const auto p = f.probs(e, rl::PolicyNet::kPolicy);
    double j = 0;
    for (std::size_t a = 0; a < c; ++a) j += click[a] * reward[a] * rl::topk_inclusion(p[a], kK);
    return j;
  };
  const Eigen::VectorXd fd = numeric_gradient(f.net, objective);
  CHECK(rl::topk_inclusion(0.2, 3) == Approx(1 - 0.8 * 0.8 * 0.8));
  REQUIRE(fd.norm() > 1e-3);
  CHECK((-gradient(true) - fd).cwiseAbs().maxCoeff() < 1e-7);
  CHECK((-gradient(false) - fd).norm() > 0.1 * fd.norm());  // the recorded π/β is biased here
}

namespace {

/// softmax(x), without the max shift (the tests' logits are small).
std::vector<double> plain_softmax(const std::vector<double>& x) {
  std::vector<double> p(x.size());
  double t = 0;
  for (std::size_t j = 0; j < x.size(); ++j) t += p[j] = std::exp(x[j]);
  for (double& v : p) v /= t;
  return p;
}

}  // namespace

TEST_CASE("the Plackett-Luce slate log-probability by hand, and its gradient by finite differences", "[rl]") {
  const std::vector<double> z{0.3, -1.2, 0.8, 0.1};
  const std::vector<int> slate{2, 0, 3};
  std::vector<char> scratch;
  std::vector<double> d(4);
  const auto p = plain_softmax(z);
  const double logp = rl::slate_log_probability(p, slate, scratch, d.data());
  CHECK(logp == Approx(std::log(p[2]) + std::log(p[0] / (1 - p[2])) + std::log(p[3] / (1 - p[2] - p[0]))));
  for (std::size_t j = 0; j < 4; ++j) {
    std::vector<double> up = z, down = z;
    up[j] += 1e-6, down[j] -= 1e-6;
    const double fd = (rl::slate_log_probability(plain_softmax(up), slate, scratch) -
                       rl::slate_log_probability(plain_softmax(down), slate, scratch)) / 2e-6;
    CHECK(d[j] == Approx(fd).margin(1e-7));
  }
  // A repeat or an index outside the candidates has probability 0.
  CHECK(rl::slate_log_probability(p, std::vector<int>{1, 1}, scratch) == -INFINITY);
  CHECK(rl::slate_log_probability(p, std::vector<int>{4}, scratch) == -INFINITY);
  // Once the mass left underflows, the acting draw is uniform over the rest.
  const std::vector<double> sure{1.0, 0.0, 0.0};
  std::vector<double> d0(3);
  CHECK(rl::slate_log_probability(sure, std::vector<int>{0, 2, 1}, scratch, d0.data()) == Approx(-std::log(2.0)));
  CHECK(d0[0] == Approx(0.0).margin(1e-15));
  CHECK(d0[1] == 0.0);
  CHECK(d0[2] == 0.0);
}

TEST_CASE("position weights: each position's term of the slate log-probability, and its gradient", "[rl]") {
  const std::vector<double> z{0.3, -1.2, 0.8, 0.1};
  const std::vector<int> slate{2, 0, 3};
  const std::vector<double> w{0.5, -2.0, 1.5};
  std::vector<char> scratch;
  std::vector<double> d(4), d1(4);
  const auto p = plain_softmax(z);
  const double lp = rl::slate_log_probability(p, slate, scratch, d.data(), w);
  CHECK(lp == Approx(0.5 * std::log(p[2]) - 2.0 * std::log(p[0] / (1 - p[2])) +
                     1.5 * std::log(p[3] / (1 - p[2] - p[0]))));
  for (std::size_t j = 0; j < 4; ++j) {
    std::vector<double> up = z, down = z;
    up[j] += 1e-6, down[j] -= 1e-6;
    const double fd = (rl::slate_log_probability(plain_softmax(up), slate, scratch, nullptr, w) -
                       rl::slate_log_probability(plain_softmax(down), slate, scratch, nullptr, w)) / 2e-6;
    CHECK(d[j] == Approx(fd).margin(1e-7));
  }
  // Weights of 1 are the unweighted log-probability, bit for bit.
  std::vector<double> d0(4);
  const std::vector<double> ones(3, 1.0);
  CHECK(rl::slate_log_probability(p, slate, scratch, d1.data(), ones) ==
        rl::slate_log_probability(p, slate, scratch, d0.data()));
  CHECK(d1 == d0);
}

TEST_CASE("position_advantages: the clicked position gets the step's target, every position loses b / K", "[rl]") {
  std::vector<double> out(4);
  rl::position_advantages(0.6, 2.0, 1, out);  // target a + b = 2.6, share b / K = 0.5
  CHECK(out[0] == Approx(-0.5));
  CHECK(out[1] == Approx(2.1));
  CHECK(out[2] == Approx(-0.5));
  CHECK(out[3] == Approx(-0.5));
  CHECK(out[0] + out[1] + out[2] + out[3] == Approx(0.6));
  rl::position_advantages(-1.2, 2.0, -1, out);  // no click: a / K each
  for (const double x : out) CHECK(x == Approx(-0.3));
  std::vector<double> one(1);
  rl::position_advantages(0.7, 3.0, 0, one);  // a slate of one is the step's advantage
  CHECK(one[0] == Approx(0.7));
}

TEST_CASE("append_position_advantages: each slate step's split, in order, from its advantage and baseline", "[rl]") {
  // Three steps: a slate of 2 clicked at position 1, a logged step (no
  // slate), a slate of 2 without a click.
  std::vector<rl::ReinforceStep> steps(3);
  steps[0].slate_at = 0, steps[0].slate_k = 2, steps[0].choice = 1;
  steps[1].catalogue = true, steps[1].action = 3;
  steps[2].slate_at = 2, steps[2].slate_k = 2;
  const std::vector<double> values{2.0, 5.0, 1.0}, adv{0.6, 9.0, -1.2};
  std::vector<double> out{7.0};  // appended after what is there
  rl::append_position_advantages(steps, values, adv, out);
  REQUIRE(out.size() == 5);
  CHECK(out[0] == 7.0);
  CHECK(out[1] == Approx(-1.0));  // passed over: − b / K
  CHECK(out[2] == Approx(1.6));   // clicked: a + b − b / K
  CHECK(out[3] == Approx(-0.6));  // no click: a / K
  CHECK(out[4] == Approx(-0.6));
  CHECK_THROWS_WITH(rl::append_position_advantages(steps, values, std::vector<double>{0.6}, out),
                    Catch::Contains("3 steps, 3 values and 1 advantages"));
}

TEST_CASE("ppo_clipped: a term adds no gradient only where PPO's clipped branch is the smaller", "[rl]") {
  // min(w a, clip(w, 0.8, 1.2) a): the clipped branch is smaller, and
  // constant in θ, above 1.2 for a > 0 and below 0.8 for a < 0.
  CHECK(rl::ppo_clipped(1.3, 1.0, 0.2));
  CHECK_FALSE(rl::ppo_clipped(1.1, 1.0, 0.2));
  CHECK_FALSE(rl::ppo_clipped(0.5, 1.0, 0.2));   // a > 0 below 1 − ε: the unclipped term is the smaller
  CHECK(rl::ppo_clipped(0.7, -1.0, 0.2));
  CHECK_FALSE(rl::ppo_clipped(0.9, -1.0, 0.2));
  CHECK_FALSE(rl::ppo_clipped(1.5, -1.0, 0.2));  // a < 0 above 1 + ε: kept, the pessimistic side
  CHECK_FALSE(rl::ppo_clipped(3.0, 0.0, 0.2));
  CHECK_FALSE(rl::ppo_clipped(3.0, 1.0, 0.0));   // ε = 0: off
  CHECK_FALSE(rl::ppo_clipped(0.1, -1.0, 0.0));
}

TEST_CASE("clip_position_advantages: each position judged on its own advantage with the slate's ratio", "[rl]") {
  // Ratio 1.3 (ε 0.2): positive advantages are clipped, negative ones kept;
  // ratio 0.7: the other way round; ratio 1.1: none. Zero advantages stay.
  const std::vector<double> adv{0.9, -0.3, 0.0, 0.2, -1.5};
  std::vector<double> out(adv.size(), 42.0);
  CHECK(rl::clip_position_advantages(1.3, adv, 0.2, out) == 2);
  CHECK(out == std::vector<double>{0.0, -0.3, 0.0, 0.0, -1.5});
  CHECK(rl::clip_position_advantages(0.7, adv, 0.2, out) == 2);
  CHECK(out == std::vector<double>{0.9, 0.0, 0.0, 0.2, 0.0});
  CHECK(rl::clip_position_advantages(1.1, adv, 0.2, out) == 0);
  CHECK(out == adv);
  CHECK(rl::clip_position_advantages(5.0, adv, 0.0, out) == 0);  // ε = 0: off
  CHECK(out == adv);
  std::vector<double> short_out(2);
  CHECK_THROWS_WITH(rl::clip_position_advantages(1.0, adv, 0.2, short_out),
                    Catch::Contains("5 advantages and 2 outputs"));
}

TEST_CASE("position_ratio_advantages: each position weighed and clipped on its own ratio", "[rl]") {
  // Ratios 1.3, 0.7, 1.1, 3.0, 0.5 (ε 0.2, cap 2): position 0 (a > 0, r
  // above 1 + ε) and 1 (a < 0, r below 1 − ε) are clipped; 2 is kept at
  // r a; 3 (a < 0 above 1 + ε, the pessimistic side) is kept at the cap;
  // 4 (a > 0 below 1 − ε) is kept at r a.
  const std::vector<double> r{1.3, 0.7, 1.1, 3.0, 0.5}, adv{0.9, -0.3, 0.4, -1.5, 2.0};
  std::vector<double> log_r(r.size()), out(r.size(), 42.0);
  for (std::size_t q = 0; q < r.size(); ++q) log_r[q] = std::log(r[q]);
  rl::PositionRatioCounts n = rl::position_ratio_advantages(log_r, adv, 0.2, 2.0, out);
  CHECK(n.clipped == 2);
  CHECK(n.capped == 1);
  CHECK(n.weight_sum == Approx(1.3 + 0.7 + 1.1 + 2.0 + 0.5));
  CHECK(out[0] == 0.0);
  CHECK(out[1] == 0.0);
  CHECK(out[2] == Approx(1.1 * 0.4));
  CHECK(out[3] == Approx(2.0 * -1.5));
  CHECK(out[4] == Approx(0.5 * 2.0));
  // ε = 0 and cap 0: every term r a, nothing clipped or capped.
  n = rl::position_ratio_advantages(log_r, adv, 0.0, 0.0, out);
  CHECK(n.clipped == 0);
  CHECK(n.capped == 0);
  for (std::size_t q = 0; q < r.size(); ++q) CHECK(out[q] == Approx(r[q] * adv[q]));
  // Ratio 1 everywhere (the acting θ): the advantages themselves, bit for bit.
  const std::vector<double> zeros(r.size(), 0.0);
  n = rl::position_ratio_advantages(zeros, adv, 0.2, 2.0, out);
  CHECK(out == adv);
  CHECK(n.clipped == 0);
  std::vector<double> short_out(2);
  CHECK_THROWS_WITH(rl::position_ratio_advantages(log_r, adv, 0.2, 2.0, short_out),
                    Catch::Contains("5 ratios, 5 advantages and 2 outputs"));
}

TEST_CASE("position_log_ratios: each position's own ratio once the policy has moved from the acting one", "[rl]") {
  // Acting π (0.4, 0.3, 0.3), now (0.5, 0.3, 0.2), slate (2, 0): position
  // 0's ratio is 0.2 / 0.3; position 1's is (0.5 / 0.8) / (0.4 / 0.7), each
  // conditional on the positions before it, not their running product,
  // nor the first position's ratio, nor the slate's.
  std::vector<char> scratch;
  const std::vector<int> slate{2, 0};
  double acting[2];
  rl::slate_log_probability(std::vector<double>{0.4, 0.3, 0.3}, slate, scratch, nullptr, {}, acting);
  std::vector<double> out(2, 42.0);
  const double log_p = rl::position_log_ratios(std::vector<double>{0.5, 0.3, 0.2}, slate, acting, scratch, out);
  CHECK(std::exp(out[0]) == Approx(0.2 / 0.3));
  CHECK(std::exp(out[1]) == Approx((0.5 / 0.8) / (0.4 / 0.7)));
  CHECK(log_p == Approx(std::log(0.2) + std::log(0.5 / 0.8)));
  std::vector<double> short_out(1);
  CHECK_THROWS_WITH(rl::position_log_ratios(std::vector<double>{0.5, 0.3, 0.2}, slate, acting, scratch, short_out),
                    Catch::Contains("a slate of 2, 2 acting terms and 1 outputs"));
}

TEST_CASE("slate_log_probability's position terms: each log(p_a / R_p), summing to the slate's", "[rl]") {
  // p = (0.5, 0.3, 0.2), slate (2, 0): 0.2 / 1, then 0.5 / 0.8.
  std::vector<char> scratch;
  const std::vector<double> p{0.5, 0.3, 0.2};
  double terms[2] = {42.0, 42.0};
  const double total = rl::slate_log_probability(p, std::vector<int>{2, 0}, scratch, nullptr, {}, terms);
  CHECK(terms[0] == Approx(std::log(0.2)));
  CHECK(terms[1] == Approx(std::log(0.5 / 0.8)));
  CHECK(total == Approx(terms[0] + terms[1]));
  // Position weights scale the total, not the terms.
  const double weighted =
      rl::slate_log_probability(p, std::vector<int>{2, 0}, scratch, nullptr, std::vector<double>{2.0, 0.0}, terms);
  CHECK(weighted == Approx(2.0 * std::log(0.2)));
  CHECK(terms[1] == Approx(std::log(0.5 / 0.8)));
}

TEST_CASE("slate_log_probability refuses position weights of another size than the slate", "[rl]") {
  std::vector<char> scratch;
  CHECK_THROWS_WITH(rl::slate_log_probability(std::vector<double>{0.5, 0.5}, std::vector<int>{0, 1}, scratch, nullptr,
                                              std::vector<double>{1.0}),
                    Catch::Contains("1 position weights for a slate of 2"));
}

TEST_CASE("per-item embeddings and slate events: the policy losses match finite differences", "[rl]") {
  // θ = [U | c | P | B | b | b' | V | V']: the behaviour head's weights are
  // B, b' and V'; L_β reaches nothing else, L_π none of them.
  NetFixture f(true);
  constexpr Eigen::Index kD = NetFixture::kD, kH = NetFixture::kH, kN = NetFixture::kItems, kE = 4;
  REQUIRE(f.net.size() == kH * kD + kH + 2 * kH * kE + 2 * kN + 2 * kN * kH);
  const Eigen::Index b_at = kH * kD + kH + kH * kE, bias_b_at = b_at + kH * kE + kN, v_b_at = f.net.size() - kN * kH;
  const auto behaviour_weight = [&](Eigen::Index j) {
    return (j >= b_at && j < b_at + kH * kE) || (j >= bias_b_at && j < bias_b_at + kN) || j >= v_b_at;
  };
  const std::vector<std::vector<int>> slates{{1, 0}, {0, 2, 3}, {2}, {3, 1}, {0, 1}};
  static const std::vector<double> kPositionWeights{1.3, -0.4};
  std::vector<rl::PolicyEvent> events;
  for (std::size_t e = 0; e < f.phis.size(); ++e) {
    const double m = 0.7 - 0.4 * static_cast<double>(e);
    if (e == 4)  // position weights (objective "positions")
      events.push_back({f.phis[e].data(), f.cands[e], -1, m, slates[e], kPositionWeights});
    else if (e % 2 == 0)
      events.push_back({f.phis[e].data(), f.cands[e], -1, m, slates[e]});
    else
      events.push_back({f.phis[e].data(), f.cands[e], static_cast<int>(e % 2), m});
  }
  for (auto head : {rl::PolicyNet::kPolicy, rl::PolicyNet::kBehavior}) {
    INFO((head == rl::PolicyNet::kPolicy ? "policy loss" : "behaviour loss"));
    Eigen::VectorXd grad = Eigen::VectorXd::Zero(f.net.size());
    f.net.loss(events, head, &grad);
    const Eigen::Index v_at = head == rl::PolicyNet::kPolicy ? v_b_at - kN * kH : v_b_at;
    CHECK(grad.segment(v_at, kN * kH).norm() > 1e-3);  // the embeddings learn
    const Eigen::VectorXd numeric = numeric_gradient(f.net, [&] { return f.net.loss(events, head, nullptr); });
    double worst = 0;
    for (Eigen::Index j = 0; j < f.net.size(); ++j) {
      const double fd = numeric[j];
      if ((head == rl::PolicyNet::kPolicy) != behaviour_weight(j))
        worst = std::max(worst, std::abs(grad[j] - fd));
      else
        CHECK(grad[j] == 0.0);
    }
    CHECK(worst < 1e-7);
  }
  // The embeddings start at 0: the same probabilities as without them.
  NetFixture plain, fresh(true, false);
  for (std::size_t e = 0; e < plain.phis.size(); ++e)
    for (auto head : {rl::PolicyNet::kPolicy, rl::PolicyNet::kBehavior}) {
      const auto a = plain.probs(e, head), b = fresh.probs(e, head);
      for (std::size_t j = 0; j < a.size(); ++j) CHECK(a[j] == Approx(b[j]).epsilon(1e-14));
    }
}

TEST_CASE("in expectation over sampled slates, the slate objective's gradient is that of the expected reward",
          "[rl]") {
  // Exact REINFORCE: Σ_A P(A) R(A) ∇log P(A) = ∇ Σ_A P(A) R(A) over every
  // ordered slate A of 2 of the candidates, with the embeddings in the policy.
  NetFixture f(true);
  const std::size_t e = 3;
  const std::size_t c = f.cands[e].size();
  std::vector<std::vector<int>> slates;
  for (int a = 0; a < static_cast<int>(c); ++a)
    for (int b = 0; b < static_cast<int>(c); ++b)
      if (a != b) slates.push_back({a, b});
  const auto reward = [](const std::vector<int>& s) { return std::sin(1.0 + s[0]) + 0.5 * std::cos(2.0 * s[1]); };
  std::vector<char> scratch;
  const auto objective = [&] {
    const auto p = f.probs(e, rl::PolicyNet::kPolicy);
    double j = 0;
    for (const auto& s : slates) j += std::exp(rl::slate_log_probability(p, s, scratch)) * reward(s);
    return j;
  };
  const auto p = f.probs(e, rl::PolicyNet::kPolicy);
  std::vector<rl::PolicyEvent> events;  // each slate weighted by P(A) · N (the loss divides by N)
  for (const auto& s : slates)
    events.push_back({f.phis[e].data(), f.cands[e], -1,
                      static_cast<double>(slates.size()) * std::exp(rl::slate_log_probability(p, s, scratch)) *
                          reward(s),
                      s});
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(f.net.size());
  f.net.loss(events, rl::PolicyNet::kPolicy, &grad);
  CHECK(grad.cwiseAbs().maxCoeff() > 1e-3);
  CHECK((-grad - numeric_gradient(f.net, objective)).cwiseAbs().maxCoeff() < 1e-7);
}

TEST_CASE("generalized advantage estimates by hand", "[rl]") {
  const std::vector<double> r{1.0, 0.0, 2.0}, v{0.5, 1.0, 1.5};
  std::vector<double> a(3);
  // λ = 0: δ_2 = 2 − 1.5, δ_1 = 0 + 0.9 · 1.5 − 1, δ_0 = 1 + 0.9 · 1 − 0.5.
  rl::gae_advantages(r, v, 0.9, 0.0, a);
  CHECK(a[0] == Approx(1.4));
  CHECK(a[1] == Approx(0.35));
  CHECK(a[2] == Approx(0.5));
  // λ = 1: G_t − V_t with G = (2.62, 1.8, 2).
  rl::gae_advantages(r, v, 0.9, 1.0, a);
  CHECK(a[0] == Approx(2.12));
  CHECK(a[1] == Approx(0.8));
  CHECK(a[2] == Approx(0.5));
  // λ = 0.5: A_t = δ_t + 0.45 A_(t+1).
  rl::gae_advantages(r, v, 0.9, 0.5, a);
  CHECK(a[1] == Approx(0.35 + 0.45 * 0.5));
  CHECK(a[0] == Approx(1.4 + 0.45 * (0.35 + 0.45 * 0.5)));
}
