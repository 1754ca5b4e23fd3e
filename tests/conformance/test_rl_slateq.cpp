// SlateQ (plugins/rl/slateq.hpp): its item values follow its TD targets
// (one-step and n-step); its choice model (choice_model.hpp: diagonal Newton
// steps by hand, position bias recovered from sampled choices, per-item
// choice weights) and its cold start from the logs.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "conformance_support.hpp"
#include "plugins/rl/choice_model.hpp"
#include "plugins/rl/slateq.hpp"
#include "recfuse/rng.hpp"
#include "rl_worlds.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::rl_worlds;

TEST_CASE("SlateQ's item values follow its TD targets", "[rl]") {
  // γ = 0: Q̄ regresses the immediate reward of the consumed item (1 for a
  // trap, 0.6 for keep) and 0 for no click. γ = 0.99: a keep click is worth
  // its reward plus the session after it, a trap click still 1.
  const TrainData d = TrapWorld::train();
  auto myopic = fitted<rl::SlateQ>(d, 4, {{"gamma", 0.0}, {"epsilon", 0.2}});
  auto farsighted = fitted<rl::SlateQ>(d, 4, {{"epsilon", 0.2}});
  ModelActor a(*myopic), b(*farsighted);
  simulate(a, 250, 32, 4);
  simulate(b, 250, 32, 4);
  const std::vector<ItemId> items{0, 2};
  const auto q0 = myopic->item_values(0, items);  // a new session of user 0
  INFO("gamma 0: trap " << q0[0] << ", keep " << q0[1] << ", no click " << q0[2]);
  CHECK(q0[0] == Approx(1.0).margin(0.1));
  CHECK(q0[1] == Approx(0.6).margin(0.1));
  CHECK(q0[2] == Approx(0.0).margin(0.1));
  const auto q1 = farsighted->item_values(0, items);
  INFO("gamma 0.99: trap " << q1[0] << ", keep " << q1[1] << ", no click " << q1[2]);
  CHECK(q1[0] == Approx(1.0).margin(0.2));
  CHECK(q1[1] > 3.0);
  CHECK(q1[1] > q1[0] + 1.5);
  CHECK(q1[2] > 2.5);  // a no-click step keeps the session, hence its keep clicks
  // n-step targets spanning the whole horizon (Monte Carlo returns) agree.
  auto monte_carlo = fitted<rl::SlateQ>(d, 4, {{"epsilon", 0.2}, {"n_step", std::int64_t{TrapWorld::kHorizon}}});
  ModelActor c(*monte_carlo);
  simulate(c, 250, 32, 4);
  const auto q2 = monte_carlo->item_values(0, items);
  INFO("n_step 10: trap " << q2[0] << ", keep " << q2[1] << ", no click " << q2[2]);
  CHECK(q2[0] == Approx(1.0).margin(0.2));
  CHECK(q2[1] == Approx(q1[1]).margin(0.75));
}

TEST_CASE("SlateQ's choice model takes diagonal Newton steps, position offsets included, worked by hand",
          "[rl][slateq]") {
  // Items 0 and 1 of tiny_items (features (1,0,0) and (0,1,0)), state φ = (1),
  // prior λ = 2. At the start every utility is 0: P(0) = P(1) = P(⊥) = 1/3.
  // The user clicks position 1: d = (1/3, −2/3). The Hessian's diagonal is
  // P(1 − P) = 2/9 for a_0, a_1, o_1, for C's rows of features 0 and 1
  // (Var_P of an indicator) and for its bias row (Var_P(x̃_bias) = 2/3 − 4/9).
  // So every weight moves by −g / (λ + 2/9) = −(9/20) g:
  //   a_0 = C_0 = −0.15, a_1 = C_1 = o_1 = 0.3, C_bias = 0.15,
  //   u(0) = C_0 + C_bias + a_0 = −0.15, u(1) = C_1 + C_bias + a_1 = 0.75.
  // (Adam's first step would move every weight by its learning rate instead.)
  const TrainData d = tiny_items(7);
  rl::ItemFeatures items;
  items.build(d, "test");
  rl::ChoiceModel m;
  m.reset(&items, 1, 2.0, true);
  const double phi[] = {1.0};
  const ItemId slate[] = {0, 1};
  m.accumulate(phi, slate, 2, 1);
  CHECK(m.position_weight(1) == 1.0);  // nothing applied yet
  m.apply();
  std::vector<double> g(4);
  m.project(phi, g.data());
  CHECK(std::log(m.attraction(0, g.data(), phi)) == Approx(-0.15).epsilon(1e-12));
  CHECK(std::log(m.attraction(1, g.data(), phi)) == Approx(0.75).epsilon(1e-12));
  CHECK(std::log(m.position_weight(1)) == Approx(0.3).epsilon(1e-12));
  CHECK(m.position_weight(0) == 1.0);  // o_0 = 0: C's bias row sets the level
  CHECK(m.position_weight(4) == 1.0);  // a position never seen
}

TEST_CASE("SlateQ's choice model recovers item utilities and position bias from sampled choices", "[rl][slateq]") {
  // Users examine position p with weight 1 / (1 + p) (log −0.69, −1.10 at
  // p = 1, 2); item i has utility −1 + 0.5 i. Slates of 3 of the 6 items in
  // random order; a model blind to positions could not fit the offsets, and
  // one whose steps ignore the evidence's weight would not settle on them.
  TrainData d = make_train_data(1, 6, {}, false);
  d.item_features = TwinWorld::train().item_features;  // one feature, 1 for all: items known by their biases
  rl::ItemFeatures items;
  items.build(d, "test");
  rl::ChoiceModel m;
  m.reset(&items, 1, 1.0, true);
  Rng rng(11);
  const double phi[] = {1.0};
  std::vector<ItemId> all{0, 1, 2, 3, 4, 5};
  for (int batch = 0; batch < 400; ++batch) {
    for (int r = 0; r < 100; ++r) {
      for (std::size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng.below(i)]);
      double w[4] = {1.0, 0, 0, 0}, total = 1.0;  // w[0]: ⊥
      for (int p = 0; p < 3; ++p) total += w[p + 1] = std::exp(-1.0 + 0.5 * all[static_cast<std::size_t>(p)]) / (1.0 + p);
      double target = rng.uniform() * total;
      int choice = -1;
      for (int p = 0; p < 4; ++p)
        if ((target -= w[p]) < 0) { choice = p - 1; break; }
      m.accumulate(phi, all.data(), 3, choice);
    }
    m.apply();
  }
  CHECK(std::log(m.position_weight(1)) == Approx(std::log(0.5)).margin(0.08));
  CHECK(std::log(m.position_weight(2)) == Approx(std::log(1.0 / 3)).margin(0.08));
  std::vector<double> g(2);
  m.project(phi, g.data());
  for (ItemId i = 0; i < 6; ++i) {
    INFO("item " << i);
    CHECK(std::log(m.attraction(i, g.data(), phi)) == Approx(-1.0 + 0.5 * i).margin(0.1));
  }
}

TEST_CASE("SlateQ's per-item choice weights learn what users of each profile think of each item",
          "[rl][slateq]") {
  // Two items with the same features; users of profile A (φ = (1, 0)) give
  // item 0 utility +1 and item 1 −1, users of profile B (φ = (1, 1)) the
  // reverse. C sees the same x̃ for both items and the biases a_i ignore the
  // user, so without per-item weights u(0) − u(1) is the same for A and B;
  // with them t_i over φ_u = φ can hold the truth.
  const TrainData d = TwinWorld::train();  // one feature, 1 for all; items 0 and 1 are used
  rl::ItemFeatures items;
  items.build(d, "test");
  const double phi_a[] = {1.0, 0.0}, phi_b[] = {1.0, 1.0};
  auto learn = [&](double item_prior) {
    rl::ChoiceModel m;
    m.reset(&items, 2, 1.0, true, item_prior);
    Rng rng(5);
    for (int batch = 0; batch < 300; ++batch) {
      for (int r = 0; r < 100; ++r) {
        const bool b = rng.uniform() < 0.5;
        const ItemId first = rng.uniform() < 0.5 ? 0 : 1, slate[2] = {first, 1 - first};
        double w[3] = {1.0, 0, 0}, total = 1.0;  // w[0]: ⊥
        for (int p = 0; p < 2; ++p) total += w[p + 1] = std::exp((slate[p] == 0) == !b ? 1.0 : -1.0);
        double target = rng.uniform() * total;
        int choice = -1;
        for (int p = 0; p < 3; ++p)
          if ((target -= w[p]) < 0) { choice = p - 1; break; }
        m.accumulate(b ? phi_b : phi_a, slate, 2, choice);
      }
      m.apply();
    }
    std::vector<double> g(2);
    auto gap = [&](const double* phi) {  // u(0) − u(1) for a user of profile phi
      m.project(phi, g.data());
      return std::log(m.attraction(0, g.data(), phi)) - std::log(m.attraction(1, g.data(), phi));
    };
    return std::pair{gap(phi_a), gap(phi_b)};
  };
  const auto [plain_a, plain_b] = learn(0.0);
  CHECK(plain_a == Approx(plain_b).margin(1e-12));  // one gap for every profile
  const auto [own_a, own_b] = learn(1.0);
  CHECK(own_a == Approx(2.0).margin(0.25));
  CHECK(own_b == Approx(-2.0).margin(0.25));
}

TEST_CASE("SlateQ's per-item choice weights take diagonal Newton steps, worked by hand", "[rl][slateq]") {
  // Items 0 and 1 of one feature, φ = (1, 0.5) = φ_u, item prior λ_t = 2.
  // From all-zero utilities (P = 1/3 each) a click on position 1 gives
  // d = (1/3, −2/3): t_i's gradient d_i φ, its curvature P(1 − P) φ² =
  // (2/9, 1/18), so t_0 = −(1/3, 1/6) / (2 + 2/9, 2 + 1/18) = (−3/20, −3/37)
  // and t_1 = (3/10, 6/37). Every other weight takes the same step as in a
  // model without t, so u(i) differs between the two by t_iᵀφ.
  const TrainData d = TwinWorld::train();
  rl::ItemFeatures items;
  items.build(d, "test");
  rl::ChoiceModel with, without;
  with.reset(&items, 2, 50.0, true, 2.0);
  without.reset(&items, 2, 50.0, true);
  const double phi[] = {1.0, 0.5};
  const ItemId slate[] = {0, 1};
  for (rl::ChoiceModel* m : {&with, &without}) {
    m->accumulate(phi, slate, 2, 1);
    m->apply();
  }
  std::vector<double> g(2);
  with.project(phi, g.data());
  const double u0 = std::log(with.attraction(0, g.data(), phi)), u1 = std::log(with.attraction(1, g.data(), phi));
  without.project(phi, g.data());
  CHECK(u0 - std::log(without.attraction(0, g.data(), phi)) == Approx(-3.0 / 20 - 0.5 * 3.0 / 37).epsilon(1e-12));
  CHECK(u1 - std::log(without.attraction(1, g.data(), phi)) == Approx(3.0 / 10 + 0.5 * 6.0 / 37).epsilon(1e-12));
}

TEST_CASE("SlateQ with per-item choice weights still learns which items pay", "[rl][slateq]") {
  // The weights reach fit, act and the TD targets: the model carries them
  // (n items x (F + 1) weights and precisions, F = 1 feature + log
  // popularity), and the TwinWorld is learned as without them.
  const TrainData d = TwinWorld::train();
  auto plain = fit_algorithm("slateq", d, {}, 3);
  auto own = fit_algorithm("slateq", d, {{"choice_item_weights", true}}, 3);
  CHECK(own->model_bytes() - plain->model_bytes() == 2 * TwinWorld::kItems * 3 * sizeof(double));
  ModelActor actor(*own);
  const Run run = simulate<TwinWorld>(actor, 100, 32, 3);
  INFO("mean return over the last 320 sessions " << run.mean_last(320));
  CHECK(run.mean_last(320) > 7.5);
}

TEST_CASE("SlateQ ranks by its warm-started choice model before its first TD update", "[rl][slateq]") {
  // Item values Q̄ start at 1 for every item (0 for no click), so the first
  // slates are the most attractive candidates under the logs' click counts
  // (item 5 clicked by two users, item 3 by one), not the smallest ids, as
  // when every value started at 0.
  TrainData d = make_train_data(2, 7, {{0, 5}, {1, 5}, {0, 3}}, false);
  d.item_features = tiny_items(7).item_features;
  for (const std::string optimizer : {"greedy", "top_k"}) {
    INFO("slate_optimizer " << optimizer);
    auto q = fitted<rl::SlateQ>(d, 1, {{"epsilon", 0.0}, {"slate_optimizer", optimizer}});
    const std::vector<UserId> users{0};
    const std::vector<ItemId> cands{0, 3, 6, 5};
    std::vector<ItemId> slate(2);
    q->act(users, cands, 4, 2, slate);
    CHECK(slate == std::vector<ItemId>{5, 3});
  }
}
