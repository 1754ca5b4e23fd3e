// DQN (plugins/rl/dqn.hpp): it learns the long-term choice that a myopic
// DQN and a myopic learner miss; its TD targets (the max over the next
// candidates of the target network); its ε schedule; its Huber loss
// (q_net.hpp) against finite differences and hand-worked values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "plugins/rl/dqn.hpp"
#include "plugins/rl/q_net.hpp"
#include "recfuse/rng.hpp"
#include "rl_worlds.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::rl_worlds;

TEST_CASE("DQN learns the long-term choice, which a myopic DQN and a myopic learner miss", "[rl][dqn]") {
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    auto dqn = fitted<rl::Dqn>(d, seed);
    auto myopic_dqn = fitted<rl::Dqn>(d, seed, {{"gamma", 0.0}});
    ModelActor a_dqn(*dqn), a_myopic(*myopic_dqn);
    MyopicGreedy greedy;
    const double r_dqn = simulate(a_dqn, 250, 32, seed).mean_last(320);
    const double r_myopic_dqn = simulate(a_myopic, 250, 32, seed).mean_last(320);
    const double r_greedy = simulate(greedy, 30, 32, seed).mean_last(320);
    INFO("mean return over the last 320 sessions: dqn " << r_dqn << ", dqn gamma 0 " << r_myopic_dqn
                                                        << ", myopic greedy " << r_greedy);
    CHECK(r_dqn > 4.0);
    CHECK(r_dqn > r_greedy + 2.5);
    CHECK(r_myopic_dqn < 1.5);
    CHECK(dqn->diagnostics()[0].second > 1000);  // updates
  }
}

TEST_CASE("DQN's values follow its targets: the max over the next candidates of the target network",
          "[rl][dqn]") {
  // γ = 0: Q(s, i) regresses the reward of the step that put i first: 0.9 · 1
  // for a trap, 0.9 · 0.6 for keep (a no-click step is (s, top item, 0)).
  // γ = 0.99, at the first step: showing keep from then on earns 0.54 a step,
  // Q*(keep) = 0.54 Σ_{t<10} 0.99^t = 5.16 (a target taking the mean over the
  // next candidates instead of the max would stay below 2); Q*(trap) =
  // 0.9 + 0.1 · 0.99 · 0.54 Σ_{t<9} 0.99^t = 1.37. The max over noisy values
  // overestimates (van Hasselt 2010), so keep gets room above 5.16.
  const TrainData d = TrapWorld::train();
  auto myopic = fitted<rl::Dqn>(d, 4, {{"gamma", 0.0}, {"eps_end", 0.2}});
  auto farsighted = fitted<rl::Dqn>(d, 4, {{"eps_end", 0.2}});
  ModelActor a(*myopic), b(*farsighted);
  simulate(a, 250, 32, 4);
  simulate(b, 250, 32, 4);
  const std::vector<ItemId> items{0, 2};
  const auto q0 = myopic->item_values(0, items);
  INFO("gamma 0: trap " << q0[0] << ", keep " << q0[1]);
  CHECK(q0[0] == Approx(0.9).margin(0.1));
  CHECK(q0[1] == Approx(0.54).margin(0.1));
  const auto q1 = farsighted->item_values(0, items);
  INFO("gamma 0.99: trap " << q1[0] << ", keep " << q1[1]);
  CHECK(q1[0] == Approx(1.37).margin(0.4));
  CHECK(q1[1] == Approx(5.16).margin(1.0));
  CHECK(q1[1] > q1[0] + 3.0);
}

TEST_CASE("DQN's exploration falls linearly over the observed steps", "[rl][dqn]") {
  const TrainData d = TrapWorld::train();
  auto model = fitted<rl::Dqn>(d, 1, {{"eps_start", 1.0}, {"eps_end", 0.1}, {"eps_decay_steps", std::int64_t{100}}});
  CHECK(model->epsilon() == 1.0);
  const std::vector<UserId> users(25, 1);
  const std::vector<ItemId> cands = [] {
    std::vector<ItemId> c;
    for (int r = 0; r < 25; ++r) c.push_back(0), c.push_back(2);
    return c;
  }();
  std::vector<ItemId> slates(25);
  const std::vector<std::int32_t> choice(25, -1);
  const std::vector<float> reward(25, 0.0f);
  const std::vector<std::uint8_t> done(25, 0);
  for (int step = 1; step <= 6; ++step) {
    model->act(users, cands, 2, 1, slates);
    model->observe(Feedback{users, 1, slates, choice, reward, done});
    // 25 session steps each: 1 − 0.9 · min(1, 25 step / 100)
    CHECK(model->epsilon() == Approx(1.0 - 0.9 * std::min(1.0, 25.0 * step / 100)));
  }
  // ε = 1 draws every slate uniformly; ε = 0 is greedy, so deterministic.
  auto greedy = fitted<rl::Dqn>(d, 1, {{"eps_start", 0.0}, {"eps_end", 0.0}});
  std::vector<ItemId> first(25), again(25);
  greedy->act(users, cands, 2, 1, first);
  greedy->act(users, cands, 2, 1, again);
  CHECK(first == again);
  CHECK(std::all_of(first.begin(), first.end(), [&](ItemId i) { return i == first[0]; }));
}

TEST_CASE("DQN's Huber loss matches finite differences and hand-worked values", "[rl][dqn]") {
  const TrainData data = tiny_items(7);
  rl::ItemFeatures items;
  items.build(data, "test");
  rl::QNet net;
  net.reset(&items, 4, 3, false);
  REQUIRE(net.size() == 3 * 4 + 3 + 3 * 4);  // U, c, P
  net.reset(&items, 4, 3, true);
  Eigen::VectorXd theta = net.init(1.0, 3);
  REQUIRE(theta.size() == 3 * 4 + 3 + 3 * 4 + 7);  // and one bias per item, starting at 0
  const Eigen::Index bias = theta.size() - 7;
  CHECK(theta.tail(7).isZero());
  Rng rng(9);
  for (Eigen::Index j = bias; j < theta.size(); ++j) theta[j] = rng.uniform(-1, 1);
  std::vector<std::vector<double>> phis(5, std::vector<double>(4));
  for (auto& phi : phis)
    for (double& x : phi) x = rng.uniform(-1, 1);
  const ItemId actions[] = {0, 4, 2, 6, 4};
  const double offsets[] = {0.3, -2.5, 0.7, 3.0, -0.2};  // Q − y: two beyond δ = 1, three inside
  std::vector<rl::QEvent> events;
  std::vector<double> h(3), g(4);
  for (std::size_t e = 0; e < phis.size(); ++e) {
    net.forward(theta, phis[e].data(), h.data(), g.data());
    events.push_back({phis[e].data(), actions[e], net.value(theta, actions[e], g.data()) - offsets[e]});
  }
  // (0.3²/2 + 1·(2.5 − 0.5) + 0.7²/2 + 1·(3 − 0.5) + 0.2²/2) / 5 = 4.81 / 5
  CHECK(net.loss(theta, events, 1.0, nullptr) == Approx(4.81 / 5).epsilon(1e-12));
  // δ = 10: every error inside, plain squared error: (0.09 + 6.25 + 0.49 + 9 + 0.04) / 2 / 5
  CHECK(net.loss(theta, events, 10.0, nullptr) == Approx(15.87 / 10).epsilon(1e-12));
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(theta.size());
  net.loss(theta, events, 1.0, &grad);
  double worst = 0, norm = 0;
  for (Eigen::Index j = 0; j < theta.size(); ++j) {
    const double keep = theta[j], step = 1e-6;
    theta[j] = keep + step;
    const double up = net.loss(theta, events, 1.0, nullptr);
    theta[j] = keep - step;
    const double down = net.loss(theta, events, 1.0, nullptr);
    theta[j] = keep;
    worst = std::max(worst, std::abs(grad[j] - (up - down) / (2 * step)));
    norm = std::max(norm, std::abs(grad[j]));
  }
  CHECK(norm > 1e-2);
  CHECK(worst < 1e-7);
  for (ItemId i = 0; i < 7; ++i) {  // only the actions' biases move
    INFO("item " << i);
    CHECK((grad[bias + i] != 0.0) == (i % 2 == 0));
  }
}
