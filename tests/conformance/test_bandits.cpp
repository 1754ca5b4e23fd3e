// Bandit policies (plugins/bandit) in a tiny simulated world: regret
// against uniform random and ε-greedy, convergence of LinUCB's estimate,
// Sherman–Morrison against a direct inverse, warm starts from logs, and
// scope item's per-item models. (Propensities, Thompson draws and seeded
// determinism: test_bandit_propensities.cpp.)
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

TEST_CASE("bandit plugins load with their capabilities", "[bandit]") {
  const auto& reg = plugin_registry();
  REQUIRE(reg.contains("epsilon_greedy"));
  REQUIRE(reg.contains("linucb"));
  REQUIRE(reg.contains("lin_ts"));
  REQUIRE(reg.contains("linucb_hybrid"));
  CHECK(reg.find("linucb_hybrid").algorithm->capabilities == (kCapObserve | kCapPropensity | kCapSaveLoad));
  CHECK(reg.find("epsilon_greedy").algorithm->capabilities == (kCapObserve | kCapPropensity | kCapSaveLoad));
  CHECK(reg.find("linucb").algorithm->capabilities == (kCapObserve | kCapPropensity | kCapSaveLoad));
  CHECK(reg.find("lin_ts").algorithm->capabilities == (kCapObserve | kCapSaveLoad));
  CHECK(std::string(reg.find("linucb").plugin->descriptor->version) == "1.4.0");
  CHECK(std::string(reg.find("linucb").plugin->descriptor->family) == "bandit");
}

TEST_CASE("LinUCB's regret is below epsilon-greedy's and uniform random's", "[bandit]") {
  const TrainData d = TopicWorld::train();
  constexpr int kSteps = 400;  // 1200 decisions
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    auto linucb = fit_algorithm("linucb", d, {}, seed);
    auto lin_ts = fit_algorithm("lin_ts", d, {}, seed);
    auto greedy = fit_algorithm("epsilon_greedy", d, {}, seed);
    const double r_linucb = simulate(linucb.get(), kSteps, seed).regret;
    const double r_lin_ts = simulate(lin_ts.get(), kSteps, seed).regret;
    const double r_greedy = simulate(greedy.get(), kSteps, seed).regret;
    const double r_random = simulate(nullptr, kSteps, seed).regret;
    INFO("regret linucb " << r_linucb << ", lin_ts " << r_lin_ts << ", epsilon_greedy " << r_greedy
                          << ", random " << r_random);
    // ε-greedy keeps one non-personalised estimate, so it cannot serve three
    // users who like three different topics; the linear models can.
    CHECK(r_linucb < 0.5 * r_greedy);
    CHECK(r_linucb < 0.5 * r_random);
    CHECK(r_lin_ts < 0.5 * r_random);
    CHECK(r_lin_ts < 0.5 * r_greedy);
  }
}

TEST_CASE("epsilon-greedy learns when every user likes the same items", "[bandit]") {
  const TrainData d = TopicWorld::train();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    auto greedy = fit_algorithm("epsilon_greedy", d, {}, seed);
    const double r_greedy = simulate(greedy.get(), 400, seed, true).regret;
    const double r_random = simulate(nullptr, 400, seed, true).regret;
    INFO("regret epsilon_greedy " << r_greedy << ", random " << r_random);
    CHECK(r_greedy < 0.5 * r_random);
  }
}

TEST_CASE("LinUCB's estimate converges toward each user's true click rates", "[bandit]") {
  auto linucb = fitted<LinUcb>(TopicWorld::train(), 4);
  std::vector<double> error_at;
  for (int rounds : {30, 1500}) {  // run on, measuring the estimate after each leg
    simulate(linucb.get(), rounds, 100 + static_cast<std::uint64_t>(rounds));
    double err = 0;
    for (UserId u = 0; u < TopicWorld::kUsers; ++u)
      for (ItemId i = 0; i < TopicWorld::kTopics; ++i) {  // items 0..2 cover the topics
        const double est = linucb->models().theta(linucb->slot(u)).dot(linucb->feature(i));
        err = std::max(err, std::abs(est - TopicWorld::click_prob(u, i)));
      }
    error_at.push_back(err);
  }
  INFO("max |θ̂ᵀx − p| after 30 and 1530 steps: " << error_at[0] << ", " << error_at[1]);
  CHECK(error_at[1] < 0.5 * error_at[0]);
  CHECK(error_at[1] < 0.12);
  // Offline, score() ranks each user's own topic first.
  for (UserId u = 0; u < TopicWorld::kUsers; ++u) {
    std::vector<float> row(TopicWorld::kItems);
    const UserId users[] = {u};
    linucb->score_all(users, row);
    for (ItemId i = 0; i < TopicWorld::kItems; ++i)
      if (TopicWorld::topic(i) != u) CHECK(row[static_cast<std::size_t>(i)] < row[static_cast<std::size_t>(u)]);
  }
}

TEST_CASE("Sherman-Morrison keeps A^-1 equal to the direct inverse", "[bandit]") {
  constexpr int d = 5;
  const double lambda = 0.7;
  RidgeModels m;
  m.reset(d, lambda);
  const std::int32_t s = m.add();
  Rng rng(11);
  Eigen::MatrixXd a = lambda * Eigen::MatrixXd::Identity(d, d);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
  for (int t = 0; t < 200; ++t) {
    Eigen::VectorXd x(d);
    for (int i = 0; i < d; ++i) x[i] = rng.uniform(-1, 2);
    const double r = rng.uniform();
    m.update(s, x, r);
    a += x * x.transpose();
    b += r * x;
  }
  const Eigen::MatrixXd direct = a.inverse();
  CHECK((Eigen::MatrixXd(m.a_inv(s)) - direct).cwiseAbs().maxCoeff() < 1e-12 * direct.cwiseAbs().maxCoeff() + 1e-14);
  CHECK(Eigen::MatrixXd(m.a_inv(s)) == Eigen::MatrixXd(m.a_inv(s)).transpose());  // exactly symmetric
  const Eigen::VectorXd theta = a.ldlt().solve(b);
  CHECK((Eigen::VectorXd(m.theta(s)) - theta).cwiseAbs().maxCoeff() < 1e-10);
  // The prior slot is untouched.
  CHECK(Eigen::MatrixXd(m.a_inv(0)).isApprox(Eigen::MatrixXd::Identity(d, d) / lambda));
}

TEST_CASE("a warm start from logs equals observing the same clicks online", "[bandit]") {
  // User 0 clicked items 1, 4, 5 in the logs; user 2 clicked item 8.
  const TrainData logged = TopicWorld::train({{0, 1}, {0, 4}, {0, 5}, {2, 8}});
  auto warm = fitted<LinUcb>(logged, 1);
  auto cold = fitted<LinUcb>(TopicWorld::train(), 1);
  const std::vector<UserId> users{0, 0, 0, 2};
  const std::vector<ItemId> slates{1, 4, 5, 8};
  const std::vector<std::int32_t> choice{0, 0, 0, 0};
  const std::vector<float> reward{1, 1, 1, 1};
  const std::vector<std::uint8_t> done{0, 0, 0, 0};
  cold->observe(Feedback{users, 1, slates, choice, reward, done});
  for (UserId u : {0, 1, 2}) {
    INFO("user " << u);
    check_same_slot(*warm, warm->slot(u), *cold, cold->slot(u));
  }
  CHECK(warm->slot(1) == 0);  // no data: the prior
  // User 0 clicked topics 1, 1, 2: topic 1 scores highest, topic 0 lowest.
  const float s1 = warm->models().theta(warm->slot(0)).dot(warm->feature(1));
  const float s2 = warm->models().theta(warm->slot(0)).dot(warm->feature(2));
  const float s0 = warm->models().theta(warm->slot(0)).dot(warm->feature(0));
  CHECK(s1 > s2);
  CHECK(s2 > s0);
}

TEST_CASE("scope item: one model per item over the user's context, the clicks joining it after the step", "[bandit]") {
  const double lambda = 0.5;
  auto p = fitted<LinUcb>(TopicWorld::train(), 1, {{"scope", std::string("item")}, {"lambda", lambda}});
  Eigen::VectorXd z;
  p->context(0, z);
  CHECK(z == Eigen::Vector4d(0, 0, 0, 1));  // no click yet: the bias alone
  // Step 1: user 0 twice in one batch (items 1 and 4, both topic 1), user 2
  // once (item 3, topic 0); user 0 clicks item 1, user 2 does not click.
  {
    const std::vector<UserId> users{0, 0, 2};
    const std::vector<ItemId> slates{1, 4, 3};
    const std::vector<std::int32_t> choice{0, -1, -1};
    const std::vector<float> reward{1, 0, 0};
    const std::vector<std::uint8_t> done{0, 0, 0};
    p->observe(Feedback{users, 1, slates, choice, reward, done});
  }
  // Both of user 0's sessions were decided with the context before the click.
  const Eigen::Vector4d bias(0, 0, 0, 1);
  auto ridge = [&](const std::vector<std::pair<Eigen::Vector4d, double>>& obs) {
    Eigen::Matrix4d a = lambda * Eigen::Matrix4d::Identity();
    Eigen::Vector4d b = Eigen::Vector4d::Zero();
    for (const auto& [x, r] : obs) {
      a += x * x.transpose();
      b += r * x;
    }
    return Eigen::Vector4d(a.ldlt().solve(b));
  };
  CHECK(Eigen::VectorXd(p->models().theta(p->item_slot(1))).isApprox(ridge({{bias, 1.0}}), 1e-12));
  CHECK(Eigen::VectorXd(p->models().theta(p->item_slot(4))).norm() == 0.0);  // one observation, reward 0
  CHECK(Eigen::MatrixXd(p->models().a_inv(p->item_slot(4)))
            .isApprox(Eigen::Matrix4d(lambda * Eigen::Matrix4d::Identity() + bias * bias.transpose()).inverse(), 1e-12));
  CHECK(Eigen::MatrixXd(p->models().a_inv(p->item_slot(0))) == Eigen::MatrixXd(p->models().a_inv(0)));  // item 0: the prior
  p->context(0, z);
  CHECK(z.isApprox(Eigen::Vector4d(0, 1, 0, 1)));  // item 1's features
  p->context(2, z);
  CHECK(z == bias);  // no click, no change
  // Step 2: user 0, now with topic-1 context, is shown item 1 again and clicks.
  {
    const std::vector<UserId> users{0};
    const std::vector<ItemId> slates{1};
    const std::vector<std::int32_t> choice{0};
    const std::vector<float> reward{1};
    const std::vector<std::uint8_t> done{0};
    p->observe(Feedback{users, 1, slates, choice, reward, done});
  }
  CHECK(Eigen::VectorXd(p->models().theta(p->item_slot(1)))
            .isApprox(ridge({{bias, 1.0}, {Eigen::Vector4d(0, 1, 0, 1), 1.0}}), 1e-12));
  // Mean scores: score_all, score and θ̂_iᵀz_u agree.
  std::vector<float> row(TopicWorld::kItems);
  const UserId users[] = {0};
  p->score_all(users, row);
  p->context(0, z);
  for (ItemId i = 0; i < TopicWorld::kItems; ++i) {
    const float direct = static_cast<float>(p->models().theta(p->item_slot(i)).dot(z));
    CHECK(row[static_cast<std::size_t>(i)] == Approx(direct).margin(1e-6));
    CHECK(score_pairs(*p, {0}, {i})[0] == Approx(direct).margin(1e-6));
  }
  CHECK(row[1] > row[2]);
  CHECK_THROWS_WITH(p->slot(0), Catch::Contains("per item"));
}


TEST_CASE("scope item's warm start equals observing the logged clicks online in time order", "[bandit]") {
  // The context of each logged click is the user's before it: item 1 is
  // learned under user 0's context (topic 2) and user 2's (topic 2); it
  // never sits inside the context it teaches about.
  const std::map<std::string, ParamValue> params{{"scope", std::string("item")}, {"lambda", 2.0}};
  auto warm = fitted<LinUcb>(TopicWorld::train(kTimedLogs), 1, params);
  auto cold = fitted<LinUcb>(TopicWorld::train(), 1, params);
  observe_clicks_online(*cold, kTimedClicks);
  for (ItemId i = 0; i < TopicWorld::kItems; ++i) {
    INFO("item " << i);
    check_same_slot(*warm, warm->item_slot(i), *cold, cold->item_slot(i));
  }
  Eigen::VectorXd zw, zc;
  for (UserId u : {0, 1, 2}) {
    warm->context(u, zw);
    cold->context(u, zc);
    CHECK(zw.isApprox(zc));
  }
  CHECK(zw.isApprox(Eigen::Vector4d(0, 0.5, 0.5, 1)));  // user 2: topics 2 and 1
  // Item 1 by hand: observed under z = x_5 = (0, 0, 1, 1) (user 0) and under
  // z = x_8 = (0, 0, 1, 1) (user 2), reward 1 each.
  const Eigen::Vector4d z(0, 0, 1, 1);
  const Eigen::Matrix4d a = 2.0 * Eigen::Matrix4d::Identity() + 2.0 * z * z.transpose();
  CHECK(Eigen::VectorXd(warm->models().theta(warm->item_slot(1))).isApprox(Eigen::Vector4d(a.ldlt().solve(2.0 * z)), 1e-12));
  // warm_start = false keeps the prior but still knows the users' contexts.
  auto prior = fitted<LinUcb>(TopicWorld::train(kTimedLogs), 1,
                              {{"scope", std::string("item")}, {"warm_start", false}});
  CHECK(Eigen::VectorXd(prior->models().theta(prior->item_slot(1))).norm() == 0.0);
  prior->context(2, zc);
  CHECK(zc.isApprox(Eigen::Vector4d(0, 0.5, 0.5, 1)));
}

TEST_CASE("scope item acts on theta_a'z + alpha sqrt(z'A_a^-1 z), per candidate", "[bandit]") {
  const double alpha = 0.7;
  auto p = fitted<LinUcb>(TopicWorld::train(kTimedLogs), 1, {{"scope", std::string("item")}, {"alpha", alpha}});
  Rng rng(5);
  for (int t = 0; t < 50; ++t) {
    const UserId u = static_cast<UserId>(rng.below(3));
    std::vector<ItemId> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (std::size_t j = 0; j < 4; ++j) std::swap(all[j], all[j + rng.below(12 - j)]);
    const std::vector<ItemId> cands(all.begin(), all.begin() + 4);
    Eigen::VectorXd z;
    p->context(u, z);
    ItemId best = -1;
    double best_p = -1e300;
    for (ItemId i : cands) {
      const auto s = p->item_slot(i);
      const Eigen::VectorXd theta = p->models().theta(s);
      const Eigen::MatrixXd ainv = p->models().a_inv(s);
      const double pa = static_cast<float>(theta.dot(z) + alpha * std::sqrt(z.dot(ainv * z)));
      if (pa > best_p || (pa == best_p && i < best)) best = i, best_p = pa;
    }
    std::vector<ItemId> slate(1);
    const std::vector<UserId> users{u};
    p->act(users, cands, 4, 1, slate);
    CHECK(slate[0] == best);
    // Learn from it, so the next state differs.
    const bool click = rng.uniform() < TopicWorld::click_prob(u, slate[0]);
    const std::vector<std::int32_t> choice{click ? 0 : -1};
    const std::vector<float> reward{click ? 1.0f : 0.0f};
    const std::vector<std::uint8_t> done{0};
    p->observe(Feedback{users, 1, slate, choice, reward, done});
  }
}

TEST_CASE("lin_ts with scope item draws one theta per candidate item", "[bandit]") {
  // No data: every item's posterior is the prior. One draw shared by all
  // candidates would score both identically and always pick the smaller id.
  auto p = fitted<LinTs>(TopicWorld::train(), 3, {{"scope", std::string("item")}, {"warm_start", false}});
  const std::vector<UserId> users{0};
  const std::vector<ItemId> cands{2, 7};
  std::vector<ItemId> slate(1);
  int larger = 0;
  constexpr int kDraws = 400;
  for (int t = 0; t < kDraws; ++t) {
    p->act(users, cands, 2, 1, slate);
    larger += slate[0] == 7;
  }
  INFO("item 7 chosen " << larger << " of " << kDraws);
  CHECK(larger > 0.35 * kDraws);
  CHECK(larger < 0.65 * kDraws);
}

TEST_CASE("feedback whose choice is not a slate position is refused", "[bandit]") {
  auto p = fitted<LinUcb>(TopicWorld::train(), 1, {{"scope", std::string("item")}});
  const std::vector<UserId> users{0};
  const std::vector<ItemId> slates{1, 2};
  const std::vector<std::int32_t> choice{2};
  const std::vector<float> reward{1};
  const std::vector<std::uint8_t> done{0};
  CHECK_THROWS_WITH(p->observe(Feedback{users, 2, slates, choice, reward, done}),
                    Catch::Contains("choice 2") && Catch::Contains("[0, 2)"));
}

TEST_CASE("scope item learns each item's own click rate, which topic features cannot", "[bandit]") {
  const TrainData d = TopicWorld::train();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    auto item = fitted<LinUcb>(d, seed, {{"scope", std::string("item")}, {"alpha", 0.3}});
    auto user = fitted<LinUcb>(d, seed, {{"scope", std::string("user")}, {"alpha", 0.3}});
    const double regret_item = simulate_with(item.get(), 400, seed, good_item_prob).regret;
    const double regret_user = simulate_with(user.get(), 400, seed, good_item_prob).regret;
    INFO("regret scope item " << regret_item << ", scope user " << regret_user);
    CHECK(regret_item < 0.5 * regret_user);
  }
}

TEST_CASE("linucb without item features is refused by name", "[bandit]") {
  TrainData d = TopicWorld::train();
  d.item_features = {};
  auto p = make<LinUcb>();
  CHECK_THROWS_WITH(p->fit(d, FitContext{}), Catch::Contains("linucb: needs item features"));
}
