// Bandit policies (plugins/bandit), what off-policy evaluation and online
// learning read from them: observe credits the clicked position, exact
// propensities (epsilon-greedy's mixture, LinUCB's deterministic slate),
// Thompson draws with the right covariance, and seeded determinism. (Regret,
// convergence and the ridge updates: test_bandits.cpp.)
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <vector>

#include "bandit_worlds.hpp"
#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "plugins/bandit/epsilon_greedy.hpp"
#include "plugins/bandit/lin_ts.hpp"
#include "plugins/bandit/linucb.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::bandits;

TEST_CASE("observe credits the clicked position under both targets", "[bandit]") {
  // Session 0 shows [3, 5] and clicks position 1 with reward 2.5; session 1
  // shows [5, 7] and clicks nothing. Item 5: shown twice, clicked once.
  const std::vector<UserId> users{0, 1};
  const std::vector<ItemId> slates{3, 5, 5, 7};
  const std::vector<std::int32_t> choice{1, -1};
  const std::vector<float> reward{2.5f, 0.0f};
  const std::vector<std::uint8_t> done{0, 1};
  const Feedback fb{users, 2, slates, choice, reward, done};
  const TrainData d = TopicWorld::train();
  auto click = fitted<EpsilonGreedy>(d, 1, {{"prior_count", 0.0}});
  click->observe(fb);
  CHECK(click->q(5) == Approx(0.5));
  CHECK(click->q(3) == 0.0);
  CHECK(click->q(7) == 0.0);
  auto watch = fitted<EpsilonGreedy>(d, 1, {{"prior_count", 0.0}, {"target", std::string("reward")}});
  watch->observe(fb);
  CHECK(watch->q(5) == Approx(1.25));
  // The prior: item i's logged clicks per logged user, at weight prior_count.
  auto prior = fitted<EpsilonGreedy>(TopicWorld::train({{0, 4}, {1, 4}, {2, 7}}), 1, {{"prior_count", 2.0}});
  CHECK(prior->q(4) == Approx(2.0 / 3));
  prior->observe(fb);  // item 7: (2 · 1/3 + 0) / (2 + 1)
  CHECK(prior->q(7) == Approx(2.0 / 9));
  const std::vector<ItemId> bad{3, 99, 5, 7};
  CHECK_THROWS_AS(click->observe(Feedback{users, 2, bad, choice, reward, done}), Error);
}

TEST_CASE("epsilon-greedy's propensities are exact", "[bandit]") {
  auto p = fitted<EpsilonGreedy>(TopicWorld::train(), 9, {{"epsilon", 0.3}, {"prior_count", 0.0}});
  // Estimates: q(2) = 1, q(6) = q(9) = 0.5 (a tie), q(11) = 0.
  const std::vector<UserId> u{0, 0, 0, 0, 0, 0};
  const std::vector<ItemId> shown{2, 6, 6, 9, 9, 11};
  const std::vector<std::int32_t> choice{0, 0, 0, -1, -1, -1};
  const std::vector<float> reward(6, 1.0f);
  const std::vector<std::uint8_t> done(6, 0);
  p->observe(Feedback{u, 1, shown, choice, reward, done});
  const std::vector<ItemId> cands{9, 11, 2, 6};
  std::vector<std::vector<ItemId>> slates;  // all 12 ordered pairs
  for (ItemId a : cands)
    for (ItemId b : cands)
      if (a != b) slates.push_back({a, b});
  std::vector<UserId> users(slates.size(), 1);
  std::vector<ItemId> rep_cands, flat;
  for (const auto& s : slates) {
    rep_cands.insert(rep_cands.end(), cands.begin(), cands.end());
    flat.insert(flat.end(), s.begin(), s.end());
  }
  std::vector<double> prop(slates.size());
  p->propensity(users, rep_cands, 4, 2, flat, prop);
  double total = 0;
  for (double x : prop) total += x;
  CHECK(total == Approx(1.0).epsilon(1e-12));
  // Hand-worked: greedy is 2, then 6 (ties with 9, smaller id). ε/4 + 0.7 = 0.775,
  // then ε/3 + 0.7 = 0.8: π(2, 6) = 0.62; π(6, 2) = 0.075 · 0.8 = 0.06.
  CHECK(prop[std::distance(slates.begin(), std::find(slates.begin(), slates.end(), std::vector<ItemId>{2, 6}))] ==
        Approx(0.775 * 0.8));
  CHECK(prop[std::distance(slates.begin(), std::find(slates.begin(), slates.end(), std::vector<ItemId>{6, 2}))] ==
        Approx(0.075 * 0.8));
  // An item outside the candidates has probability 0.
  std::vector<double> zero(1);
  const std::vector<ItemId> outside{2, 5};
  p->propensity(std::vector<UserId>{1}, cands, 4, 2, outside, zero);
  CHECK(zero[0] == 0.0);
  // act's empirical frequencies match the propensities.
  constexpr int kDraws = 60000;
  std::vector<UserId> many(kDraws, 1);
  std::vector<ItemId> many_cands, out(2 * kDraws);
  for (int t = 0; t < kDraws; ++t) many_cands.insert(many_cands.end(), cands.begin(), cands.end());
  p->act(many, many_cands, 4, 2, out);
  for (std::size_t s = 0; s < slates.size(); ++s) {
    int hits = 0;
    for (int t = 0; t < kDraws; ++t) hits += out[2 * t] == slates[s][0] && out[2 * t + 1] == slates[s][1];
    const double freq = static_cast<double>(hits) / kDraws;
    INFO("slate (" << slates[s][0] << ", " << slates[s][1] << ") propensity " << prop[s] << " frequency " << freq);
    CHECK(std::abs(freq - prop[s]) < 4.5 * std::sqrt(prop[s] * (1 - prop[s]) / kDraws) + 1e-4);
  }
}

TEST_CASE("linucb's propensity is 1 for its own slate and 0 otherwise", "[bandit]") {
  auto p = fitted<LinUcb>(TopicWorld::train(), 3);
  simulate(p.get(), 50, 3);
  const std::vector<UserId> users{0, 1, 2};
  const std::vector<ItemId> cands{0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<ItemId> slates(6);
  p->act(users, cands, 4, 2, slates);
  std::vector<double> prop(3);
  p->propensity(users, cands, 4, 2, slates, prop);
  CHECK(prop == std::vector<double>{1, 1, 1});
  std::swap(slates[0], slates[1]);  // same items, other order
  p->propensity(users, cands, 4, 2, slates, prop);
  CHECK(prop == std::vector<double>{0, 1, 1});
}

TEST_CASE("lin_ts draws theta from N(theta_hat, v^2 A^-1)", "[bandit]") {
  auto p = fitted<LinTs>(TopicWorld::train({{0, 1}, {0, 4}, {0, 2}}), 5, {{"v", 0.8}});
  simulate(p.get(), 20, 5);
  const std::int32_t s = p->slot(0);
  const Eigen::VectorXd mean = p->models().theta(s);
  const Eigen::MatrixXd cov = 0.64 * Eigen::MatrixXd(p->models().a_inv(s));
  constexpr int kDraws = 40000;
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(4), draw;
  Eigen::MatrixXd outer = Eigen::MatrixXd::Zero(4, 4);
  for (int t = 0; t < kDraws; ++t) {
    p->draw(s, draw);
    sum += draw;
    outer += (draw - mean) * (draw - mean).transpose();
  }
  const Eigen::VectorXd emp_mean = sum / kDraws;
  const Eigen::MatrixXd emp_cov = outer / kDraws;
  for (int i = 0; i < 4; ++i) {
    CHECK(std::abs(emp_mean[i] - mean[i]) < 5 * std::sqrt(cov(i, i) / kDraws));
    for (int j = 0; j < 4; ++j)  // sd of a sample covariance ≈ sqrt((σ_ii σ_jj + σ_ij²) / N)
      CHECK(std::abs(emp_cov(i, j) - cov(i, j)) <
            5 * std::sqrt((cov(i, i) * cov(j, j) + cov(i, j) * cov(i, j)) / kDraws));
  }
}

TEST_CASE("the same seed gives the same actions, another seed other ones", "[bandit]") {
  const TrainData d = TopicWorld::train();
  for (const char* name : {"epsilon_greedy", "linucb", "lin_ts"}) {
    INFO("algorithm " << name);
    auto a = fit_algorithm(name, d, {}, 21);
    auto b = fit_algorithm(name, d, {}, 21);
    auto c = fit_algorithm(name, d, {}, 22);
    const Run ra = simulate(a.get(), 100, 8), rb = simulate(b.get(), 100, 8), rc = simulate(c.get(), 100, 8);
    CHECK(ra.actions == rb.actions);
    CHECK(a->model_bytes() == b->model_bytes());
    CHECK(a->model_bytes() > 0);
    if (std::string(name) != "linucb") CHECK(ra.actions != rc.actions);  // linucb is deterministic
    else CHECK(ra.actions == rc.actions);
  }
}
