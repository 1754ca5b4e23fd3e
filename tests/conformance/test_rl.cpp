// Reinforcement-learning policies (plugins/rl): in a tiny MDP where the
// myopic choice is provably worse, SlateQ, top-K REINFORCE and DQN learn the
// long-term one while myopic learners do not; SlateQ's and DQN's TD targets;
// DQN's Huber loss against finite differences and its ε schedule; the
// REINFORCE loss (top-K factor, capped weights) against finite differences
// and against the gradient of the top-K objective; the inclusion weight,
// the Plackett-Luce slate gradient and per-item embeddings against finite
// differences and exact expectations, GAE by hand, and the importance
// weights and slate order through observe; exact slate propensities; learning from another policy's logs through the
// off-policy correction; per-item biases telling apart items of identical
// features, and their gradients; SlateQ's choice model (diagonal Newton
// steps by hand, position bias recovered) and its cold start; session
// bookkeeping; seeded determinism.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "conformance_support.hpp"
#include "test_fusion_support.hpp"
#include "host/params_validation.hpp"
#include "plugins/fusion/score_fusion.hpp"
#include "plugins/rl/dqn.hpp"
#include "plugins/rl/policy_net.hpp"
#include "plugins/rl/q_net.hpp"
#include "plugins/rl/reinforce_topk.hpp"
#include "plugins/rl/session_book.hpp"
#include "plugins/rl/slateq.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// 4 users, 4 items, features one-hot over {trap, keep}: items 0 and 1
/// are traps (reward 1 when clicked, and the session ends), items 2 and 3
/// keep the session going (reward 0.6). Each step offers one trap and one
/// keep item in random order; the slate holds one; the user clicks it with
/// probability 0.9. Sessions last at most kHorizon steps. Always showing
/// a trap returns at most 1; always showing keep items 0.6 · 0.9 · 10 = 5.4.
struct TrapWorld {
  static constexpr int kUsers = 4, kItems = 4, kHorizon = 10;
  static constexpr double kClick = 0.9;
  static bool trap(ItemId i) { return i < 2; }
  static double reward(ItemId i) { return trap(i) ? 1.0 : 0.6; }
  static double click(ItemId) { return kClick; }
  static bool ends(ItemId i) { return trap(i); }
  /// The step's two candidates: a trap and a keep item, in random order.
  static void offer(Rng& rng, ItemId* two) {
    const ItemId a = static_cast<ItemId>(rng.below(2)), k = static_cast<ItemId>(2 + rng.below(2));
    const bool swap = rng.uniform() < 0.5;
    two[0] = swap ? k : a;
    two[1] = swap ? a : k;
  }

  static TrainData train() {
    TrainData d = make_train_data(kUsers, kItems, {}, false);
    CsrMatrix& f = d.item_features.matrix;
    f.rows = kItems;
    f.cols = 2;
    f.indptr.assign(1, 0);
    for (ItemId i = 0; i < kItems; ++i) {
      f.indices.push_back(trap(i) ? 0 : 1);
      f.values.push_back(1.0f);
      f.indptr.push_back(f.nnz());
    }
    d.item_features.names = {"kind=trap", "kind=keep"};
    return d;
  }
};

/// 4 users, 6 items of identical features (one feature, 1 for all): the
/// odd items are clicked with probability 0.9 when shown, the even ones
/// (which win ties, going to the smaller id, two times in three) with 0.2;
/// reward 1 a click, sessions of kHorizon steps. Each step offers one item
/// of each kind in random order; the slate holds one. Telling them apart
/// returns 9 a session, features alone 5.5 at best.
struct TwinWorld {
  static constexpr int kUsers = 4, kItems = 6, kHorizon = 10;
  static double reward(ItemId) { return 1.0; }
  static double click(ItemId i) { return i % 2 == 1 ? 0.9 : 0.2; }
  static bool ends(ItemId) { return false; }
  static void offer(Rng& rng, ItemId* two) {
    const ItemId good = static_cast<ItemId>(1 + 2 * rng.below(3)), poor = static_cast<ItemId>(2 * rng.below(3));
    const bool swap = rng.uniform() < 0.5;
    two[0] = swap ? poor : good;
    two[1] = swap ? good : poor;
  }
  static TrainData train() {
    TrainData d = make_train_data(kUsers, kItems, {}, false);
    CsrMatrix& f = d.item_features.matrix;
    f.rows = kItems;
    f.cols = 1;
    f.indptr.assign(1, 0);
    for (ItemId i = 0; i < kItems; ++i) f.indices.push_back(0), f.values.push_back(1.0f), f.indptr.push_back(f.nnz());
    d.item_features.names = {"kind=film"};
    return d;
  }
};

/// Something that picks slates and may learn from the feedback.
struct Actor {
  virtual ~Actor() = default;
  virtual void act(std::span<const UserId> users, std::span<const ItemId> cands, std::span<ItemId> slates) = 0;
  virtual void observe(const Feedback& fb) = 0;
};

struct ModelActor final : Actor {
  explicit ModelActor(Recommender& m) : model(m) {}
  void act(std::span<const UserId> u, std::span<const ItemId> c, std::span<ItemId> s) override {
    model.act(u, c, 2, 1, s);
  }
  void observe(const Feedback& fb) override { model.observe(fb); }
  Recommender& model;
};

/// Another policy's logs: a fixed behaviour shows the trap with
/// probability p_trap; the model only observes (it never acted for these
/// sessions).
struct LoggedActor final : Actor {
  LoggedActor(Recommender& m, double p_trap) : model(m), p_trap(p_trap) {}
  void act(std::span<const UserId>, std::span<const ItemId> c, std::span<ItemId> s) override {
    for (std::size_t r = 0; r < s.size(); ++r) {
      const bool first_is_trap = TrapWorld::trap(c[2 * r]);
      s[r] = c[2 * r + ((rng.uniform() < p_trap) == first_is_trap ? 0 : 1)];
    }
  }
  void observe(const Feedback& fb) override { model.observe(fb); }
  Recommender& model;
  double p_trap;
  Rng rng{77};
};

/// A myopic learner: the mean immediate reward of each kind of item when
/// shown, greedy with 10% uniform exploration.
struct MyopicGreedy final : Actor {
  void act(std::span<const UserId>, std::span<const ItemId> c, std::span<ItemId> s) override {
    for (std::size_t r = 0; r < s.size(); ++r) {
      const auto mean = [&](ItemId i) {
        const int kind = TrapWorld::trap(i);
        return n[kind] > 0 ? sum[kind] / n[kind] : 0.0;
      };
      const std::size_t pick = rng.uniform() < 0.1 ? rng.below(2) : (mean(c[2 * r]) >= mean(c[2 * r + 1]) ? 0 : 1);
      s[r] = c[2 * r + pick];
    }
  }
  void observe(const Feedback& fb) override {
    for (std::size_t r = 0; r < fb.users.size(); ++r) {
      sum[TrapWorld::trap(fb.slates[r])] += fb.reward[r];
      n[TrapWorld::trap(fb.slates[r])] += 1;
    }
  }
  double sum[2] = {0, 0}, n[2] = {0, 0};
  Rng rng{5};
};

struct Run {
  std::vector<double> returns;  // per session, in order
  std::vector<ItemId> shown;    // every slate entry, in order
  double mean_last(std::size_t n) const {
    double s = 0;
    for (std::size_t e = returns.size() - n; e < returns.size(); ++e) s += returns[e];
    return s / static_cast<double>(n);
  }
};

/// `batches` batches of `sessions` sessions of World run side by side, like
/// the host's runner: live sessions in a fixed order, act then observe.
template <typename World = TrapWorld>
Run simulate(Actor& actor, int batches, int sessions, std::uint64_t seed) {
  Rng world(derive_seed(seed, "trap-world"));
  Run run;
  for (int b = 0; b < batches; ++b) {
    std::vector<UserId> user(static_cast<std::size_t>(sessions));
    for (auto& u : user) u = static_cast<UserId>(world.below(World::kUsers));
    std::vector<double> ret(user.size(), 0.0);
    std::vector<std::uint8_t> over(user.size(), 0);
    for (int t = 0; t < World::kHorizon; ++t) {
      std::vector<std::size_t> live;
      for (std::size_t s = 0; s < user.size(); ++s)
        if (!over[s]) live.push_back(s);
      if (live.empty()) break;
      std::vector<UserId> users;
      std::vector<ItemId> cands, slates(live.size());
      for (std::size_t s : live) {
        users.push_back(user[s]);
        ItemId two[2];
        World::offer(world, two);
        cands.insert(cands.end(), two, two + 2);
      }
      actor.act(users, cands, slates);
      std::vector<std::int32_t> choice(live.size());
      std::vector<float> reward(live.size());
      std::vector<std::uint8_t> done(live.size());
      for (std::size_t r = 0; r < live.size(); ++r) {
        const bool click = world.uniform() < World::click(slates[r]);
        choice[r] = click ? 0 : -1;
        reward[r] = click ? static_cast<float>(World::reward(slates[r])) : 0.0f;
        done[r] = (click && World::ends(slates[r])) || t + 1 == World::kHorizon;
        ret[live[r]] += reward[r];
        over[live[r]] = done[r];
        run.shown.push_back(slates[r]);
      }
      actor.observe(Feedback{users, 1, slates, choice, reward, done});
    }
    run.returns.insert(run.returns.end(), ret.begin(), ret.end());
  }
  return run;
}

template <typename T>
std::unique_ptr<T> fitted(const TrainData& d, std::uint64_t seed,
                          const std::map<std::string, ParamValue>& values = {}) {
  auto p = std::make_unique<T>(validate_params(T::params(), values, {}, "", "rl"));
  FitContext ctx;
  ctx.seed = seed;
  p->fit(d, ctx);
  return p;
}

/// A feature matrix for direct tests of the networks: item i has
/// features (i % 3 == f) + 0.5 (i == 4 && f == 1).
TrainData tiny_items(int n_items) {
  TrainData d = make_train_data(2, n_items, {}, false);
  CsrMatrix& f = d.item_features.matrix;
  f.rows = n_items;
  f.cols = 3;
  f.indptr.assign(1, 0);
  for (ItemId i = 0; i < n_items; ++i) {
    for (int c = 0; c < 3; ++c) {
      const double v = (i % 3 == c ? 1.0 : 0.0) + (i == 4 && c == 1 ? 0.5 : 0.0);
      if (v != 0) f.indices.push_back(c), f.values.push_back(static_cast<float>(v));
    }
    f.indptr.push_back(f.nnz());
  }
  return d;
}

}  // namespace

TEST_CASE("rl plugins load with their capabilities", "[rl]") {
  const auto& reg = plugin_registry();
  REQUIRE(reg.contains("slateq"));
  REQUIRE(reg.contains("reinforce_topk"));
  REQUIRE(reg.contains("dqn"));
  CHECK(reg.find("slateq").algorithm->capabilities == kCapObserve);
  CHECK(reg.find("dqn").algorithm->capabilities == kCapObserve);
  CHECK(std::string(reg.find("dqn").plugin->descriptor->version) == "1.6.0");
  CHECK(reg.find("reinforce_topk").algorithm->capabilities == (kCapObserve | kCapPropensity));
  CHECK(std::string(reg.find("slateq").plugin->descriptor->family) == "rl");
}

TEST_CASE("SlateQ and top-K REINFORCE learn the long-term choice, myopic learners do not", "[rl]") {
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    auto slateq = fitted<rl::SlateQ>(d, seed);
    auto myopic_q = fitted<rl::SlateQ>(d, seed, {{"gamma", 0.0}});
    auto reinforce = fitted<rl::ReinforceTopK>(d, seed);
    ModelActor a_slateq(*slateq), a_myopic_q(*myopic_q), a_reinforce(*reinforce);
    MyopicGreedy greedy;
    const double r_slateq = simulate(a_slateq, 250, 32, seed).mean_last(320);
    const double r_myopic_q = simulate(a_myopic_q, 250, 32, seed).mean_last(320);
    const double r_greedy = simulate(greedy, 30, 32, seed).mean_last(320);
    const double r_reinforce = simulate(a_reinforce, 250, 32, seed).mean_last(320);
    INFO("mean return over the last 320 sessions: slateq " << r_slateq << ", slateq gamma 0 " << r_myopic_q
                                                           << ", myopic greedy " << r_greedy << ", reinforce_topk "
                                                           << r_reinforce);
    CHECK(r_slateq > 4.0);
    CHECK(r_reinforce > 4.0);
    CHECK(r_myopic_q < 1.5);
    CHECK(r_greedy < 1.5);
  }
}

TEST_CASE("per-item biases tell apart items of identical features, features alone cannot", "[rl]") {
  // (item_bias is set explicitly: DQN's default is off, dqn.hpp.)
  // 100 batches give top-K REINFORCE ~280 Adam steps: its default step
  // size (1e-3, tuned for interest_evolution) would move a bias by 0.28 at most.
  const TrainData d = TwinWorld::train();
  for (const std::string name : {"slateq", "reinforce_topk", "dqn"}) {
    for (std::uint64_t seed : {1u, 2u}) {
      INFO("algorithm " << name << ", seed " << seed);
      std::map<std::string, ParamValue> on{{"item_bias", true}}, off{{"item_bias", false}};
      if (name == "reinforce_topk") on["learning_rate"] = off["learning_rate"] = 1e-2;
      auto with = fit_algorithm(name, d, on, seed);
      auto without = fit_algorithm(name, d, off, seed);
      ModelActor a_with(*with), a_without(*without);
      const Run r_with = simulate<TwinWorld>(a_with, 100, 32, seed);
      const Run r_without = simulate<TwinWorld>(a_without, 100, 32, seed);
      std::size_t good = 0, tail = r_with.shown.size() / 5;  // the last fifth of the slates
      for (std::size_t s = r_with.shown.size() - tail; s < r_with.shown.size(); ++s) good += r_with.shown[s] % 2 == 1;
      INFO("mean return over the last 320 sessions: with item biases " << r_with.mean_last(320) << ", without "
                                                                       << r_without.mean_last(320) << "; good items "
                                                                       << good << " of the last " << tail);
      CHECK(r_with.mean_last(320) > 7.5);
      CHECK(r_without.mean_last(320) < 6.5);
      CHECK(static_cast<double>(good) > 0.8 * static_cast<double>(tail));
    }
  }
}

TEST_CASE("the warm start from the logs: a popularity feature and softmax biases from the logged clicks", "[rl]") {
  // TwinWorld's 6 items; clicks by user: item 1 by users 0-3, item 3 by 0-1, item 4 by 2.
  TrainData d = make_train_data(4, 6, {{0, 1}, {1, 1}, {2, 1}, {3, 1}, {0, 3}, {1, 3}, {2, 4}}, false);
  d.item_features = TwinWorld::train().item_features;
  rl::ItemFeatures plain, warm;
  plain.build(d, "test");
  warm.build(d, "test", true);
  REQUIRE(plain.dim() == 1);
  REQUIRE(warm.dim() == 2);
  const double n[] = {0, 4, 0, 2, 1, 0};
  for (ItemId i = 0; i < 6; ++i) {
    INFO("item " << i);
    CHECK(warm.row(i)[0] == 1.0);
    CHECK(warm.row(i)[1] == Approx(std::log1p(n[i]) / std::log1p(4.0)).epsilon(1e-12));
  }
  // log((1 + n_i) / (1 + n̄)), n̄ = 7 / 6
  const Eigen::VectorXd b = rl::logged_click_bias(d);
  for (ItemId i = 0; i < 6; ++i) CHECK(b[i] == Approx(std::log((1 + n[i]) / (1 + 7.0 / 6))).epsilon(1e-12));
  // A softmax over items starts at it: π ∝ 1 + n_i in both heads of top-K REINFORCE.
  auto model = fitted<rl::ReinforceTopK>(d, 1, {{"init_scale", 0.0}});
  const std::vector<ItemId> cands{0, 1, 3};
  for (auto head : {rl::PolicyNet::kPolicy, rl::PolicyNet::kBehavior}) {
    const auto p = model->policy_probs(0, cands, head);
    CHECK(p[0] == Approx(1.0 / 9));
    CHECK(p[1] == Approx(5.0 / 9));
    CHECK(p[2] == Approx(3.0 / 9));
  }
  auto cold = fitted<rl::ReinforceTopK>(d, 1, {{"init_scale", 0.0}, {"log_popularity", false}});
  CHECK(cold->policy_probs(0, cands)[1] == Approx(1.0 / 3));
  // warm_start_scale 2 sharpens the policy head only: π ∝ (1 + n_i)², while
  // the behaviour head still estimates the logs' softmax.
  auto sharp = fitted<rl::ReinforceTopK>(d, 1, {{"init_scale", 0.0}, {"warm_start_scale", 2.0}});
  const auto pi = sharp->policy_probs(0, cands);
  CHECK(pi[0] == Approx(1.0 / 35));
  CHECK(pi[1] == Approx(25.0 / 35));
  CHECK(pi[2] == Approx(9.0 / 35));
  CHECK(sharp->policy_probs(0, cands, rl::PolicyNet::kBehavior)[1] == Approx(5.0 / 9));
  CHECK_THROWS_WITH((fitted<rl::ReinforceTopK>(d, 1, {{"warm_start_scale", 2.0}, {"item_bias", false}})),
                    Catch::Contains("'warm_start_scale'") && Catch::Contains("item_bias = true"));
}

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

TEST_CASE("the Plackett-Luce slate log-probability by hand, and its gradient by finite differences", "[rl]") {
  const std::vector<double> z{0.3, -1.2, 0.8, 0.1};
  const auto softmax = [](const std::vector<double>& x) {
    std::vector<double> p(x.size());
    double t = 0;
    for (std::size_t j = 0; j < x.size(); ++j) t += p[j] = std::exp(x[j]);
    for (double& v : p) v /= t;
    return p;
  };
  const std::vector<int> slate{2, 0, 3};
  std::vector<char> scratch;
  std::vector<double> d(4);
  const auto p = softmax(z);
  const double logp = rl::slate_log_probability(p, slate, scratch, d.data());
  CHECK(logp == Approx(std::log(p[2]) + std::log(p[0] / (1 - p[2])) + std::log(p[3] / (1 - p[2] - p[0]))));
  for (std::size_t j = 0; j < 4; ++j) {
    std::vector<double> up = z, down = z;
    up[j] += 1e-6, down[j] -= 1e-6;
    const double fd = (rl::slate_log_probability(softmax(up), slate, scratch) -
                       rl::slate_log_probability(softmax(down), slate, scratch)) / 2e-6;
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
  std::vector<rl::PolicyEvent> events;
  for (std::size_t e = 0; e < f.phis.size(); ++e) {
    const double m = 0.7 - 0.4 * static_cast<double>(e);
    if (e % 2 == 0)
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

TEST_CASE("top-K REINFORCE learns the long-term choice with its rl 1.5.0 options on", "[rl]") {
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u}) {
    for (const std::map<std::string, ParamValue>& options :
         {std::map<std::string, ParamValue>{{"behavior", std::string("inclusion")}, {"gae_lambda", 0.0}},
          std::map<std::string, ParamValue>{{"objective", std::string("slate")}, {"gae_lambda", 0.0}},
          std::map<std::string, ParamValue>{{"objective", std::string("slate")}, {"item_embeddings", true}}}) {
      auto model = fitted<rl::ReinforceTopK>(d, seed, options);
      ModelActor actor(*model);
      const double r = simulate(actor, 250, 32, seed).mean_last(320);
      INFO("seed " << seed << ", options " << options.size() << ": mean return over the last 320 sessions " << r);
      CHECK(r > 4.0);
    }
  }
  CHECK_THROWS_WITH((fitted<rl::ReinforceTopK>(d, 1, {{"objective", std::string("slate")},
                                                       {"behavior", std::string("learned")}})),
                    Catch::Contains("'behavior'") && Catch::Contains("objective \"topk\""));
}

namespace {

/// TrapWorld's users and items, every item a candidate at every step, slates
/// of two; the user looks at the first position only and clicks it with
/// probability 0.9 when it holds a keep item (2 or 3), 0.1 for a trap; a
/// click pays 1; sessions last 5 steps. Returns the share of slates that
/// led with a keep item over the last fifth of the steps.
double keep_first_share(rl::ReinforceTopK& model, int batches, std::uint64_t seed) {
  constexpr int kSessions = 32, kSteps = 5, kK = 2;
  Rng world(derive_seed(seed, "first-world"));
  std::vector<std::uint8_t> keep_first;
  for (int b = 0; b < batches; ++b) {
    std::vector<UserId> users(kSessions);
    for (auto& u : users) u = static_cast<UserId>(world.below(TrapWorld::kUsers));
    for (int t = 0; t < kSteps; ++t) {
      std::vector<ItemId> cands, slates(kSessions * kK);
      for (int s = 0; s < kSessions; ++s)
        for (ItemId i = 0; i < TrapWorld::kItems; ++i) cands.push_back(i);
      model.act(users, cands, TrapWorld::kItems, kK, slates);
      std::vector<std::int32_t> choice(kSessions);
      std::vector<float> reward(kSessions);
      std::vector<std::uint8_t> done(kSessions, t + 1 == kSteps);
      for (int s = 0; s < kSessions; ++s) {
        const bool keep = !TrapWorld::trap(slates[s * kK]);
        const bool click = world.uniform() < (keep ? 0.9 : 0.1);
        choice[s] = click ? 0 : -1;
        reward[s] = click ? 1.0f : 0.0f;
        keep_first.push_back(keep);
      }
      model.observe(Feedback{users, kK, slates, choice, reward, done});
    }
  }
  const std::size_t tail = keep_first.size() / 5;
  return static_cast<double>(std::count(keep_first.end() - static_cast<std::ptrdiff_t>(tail), keep_first.end(), 1)) /
         static_cast<double>(tail);
}

double diagnostic(const Recommender& model, const std::string& name) {
  for (const auto& [key, value] : model.diagnostics())
    if (key == name) return value;
  FAIL("no diagnostic " << name);
  return 0;
}

}  // namespace

// Which items lead is learned here; that observe records each slate in its
// shown order is checked by the importance-weight test below (a reversed
// record gives slate weights far from 1).
TEST_CASE("the slate objective learns what to lead with when only the first position is looked at", "[rl]") {
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u}) {
    for (const double lambda : {1.0, 0.0}) {
      INFO("seed " << seed << ", gae_lambda " << lambda);
      auto model = fitted<rl::ReinforceTopK>(
          d, seed, {{"objective", std::string("slate")}, {"gae_lambda", lambda}, {"learning_rate", 0.01}});
      const double share = keep_first_share(*model, 150, seed);
      INFO("keep items lead " << share << " of the last fifth of the slates (0.5 at the start)");
      CHECK(share > 0.85);
      CHECK(diagnostic(*model, "policy_updates") >= 5);
    }
  }
}

TEST_CASE("reinforce_topk's importance weights: 1 on-policy, the inclusion weight 1 / (2 - pi) for K = 2", "[rl]") {
  // With a vanishing step size θ stays where it acted, so the recorded
  // weights π/β and the slate weights P_π(A)/P_acting(A) are 1: observe
  // recorded the propensity of the slate that was shown, in its order. The
  // inclusion weight π / (1 − (1 − π)²) = 1 / (2 − π) lies in (0.5, 1).
  const TrainData d = TrapWorld::train();
  const auto run = [&](const std::string& objective, const std::string& behavior) {
    auto model = fitted<rl::ReinforceTopK>(
        d, 3, {{"objective", objective}, {"behavior", behavior}, {"learning_rate", 1e-9}});
    keep_first_share(*model, 40, 3);
    REQUIRE(diagnostic(*model, "policy_updates") >= 1);
    return diagnostic(*model, "mean_weight");
  };
  CHECK(run("slate", "recorded") == Approx(1.0).epsilon(1e-6));
  CHECK(run("topk", "recorded") == Approx(1.0).epsilon(1e-6));
  const double inclusion = run("topk", "inclusion");
  CHECK(inclusion > 0.5);
  CHECK(inclusion < 0.75);  // π near 1/4 at the start: 1 / 1.75 = 0.571
}

TEST_CASE("gae_lambda near 1 gives the return's advantage, 0 another update", "[rl]") {
  const TrainData d = TrapWorld::train();
  const auto probs = [&](double lambda) {
    auto model = fitted<rl::ReinforceTopK>(d, 4, {{"gae_lambda", lambda}, {"learning_rate", 0.01}});
    keep_first_share(*model, 40, 4);
    return model->policy_probs(1, std::vector<ItemId>{0, 1, 2, 3});
  };
  const auto one = probs(1.0), near = probs(1.0 - 1e-12), zero = probs(0.0);
  double gap = 0;
  for (std::size_t j = 0; j < 4; ++j) {
    CHECK(near[j] == Approx(one[j]).epsilon(1e-6));
    gap = std::max(gap, std::abs(zero[j] - one[j]));
  }
  CHECK(gap > 1e-3);
}

TEST_CASE("reinforce_topk's slate propensities are exact", "[rl]") {
  auto p = fitted<rl::ReinforceTopK>(tiny_items(7), 6, {{"init_scale", 3.0}});
  const std::vector<ItemId> cands{6, 1, 4, 2};
  for (int k : {1, 2, 3}) {
    INFO("slate size " << k);
    std::vector<std::vector<ItemId>> all;  // every ordered slate of k distinct candidates
    std::vector<ItemId> cur;
    const std::function<void()> rec = [&] {
      if (static_cast<int>(cur.size()) == k) return all.push_back(cur);
      for (ItemId i : cands)
        if (std::find(cur.begin(), cur.end(), i) == cur.end()) cur.push_back(i), rec(), cur.pop_back();
    };
    rec();
    std::vector<UserId> users(all.size(), 1);
    std::vector<ItemId> rep, flat;
    for (const auto& s : all) {
      rep.insert(rep.end(), cands.begin(), cands.end());
      flat.insert(flat.end(), s.begin(), s.end());
    }
    std::vector<double> prop(all.size());
    p->propensity(users, rep, 4, k, flat, prop);
    double total = 0;
    for (double x : prop) total += x;
    CHECK(total == Approx(1.0).epsilon(1e-12));
    // Hand-worked for the first slate: π(a1) · π(a2) / (1 − π(a1)) ...
    const auto pi = p->policy_probs(1, cands);
    double expect = 1, used = 0;
    for (ItemId i : all[0]) {
      const double q = pi[static_cast<std::size_t>(std::find(cands.begin(), cands.end(), i) - cands.begin())];
      expect *= q / (1 - used);
      used += q;
    }
    CHECK(prop[0] == Approx(expect).epsilon(1e-12));
    if (k == 2) {  // act's empirical frequencies match
      constexpr int kDraws = 40000;
      std::vector<UserId> many(kDraws, 1);
      std::vector<ItemId> many_cands, out(2 * kDraws);
      for (int t = 0; t < kDraws; ++t) many_cands.insert(many_cands.end(), cands.begin(), cands.end());
      p->act(many, many_cands, 4, 2, out);
      for (std::size_t s = 0; s < all.size(); ++s) {
        int hits = 0;
        for (int t = 0; t < kDraws; ++t) hits += out[2 * t] == all[s][0] && out[2 * t + 1] == all[s][1];
        const double freq = static_cast<double>(hits) / kDraws;
        INFO("slate (" << all[s][0] << ", " << all[s][1] << ") propensity " << prop[s] << " frequency " << freq);
        CHECK(std::abs(freq - prop[s]) < 4.5 * std::sqrt(prop[s] * (1 - prop[s]) / kDraws) + 1e-4);
      }
    }
  }
  std::vector<double> zero(1);
  p->propensity(std::vector<UserId>{1}, cands, 4, 2, std::vector<ItemId>{6, 5}, zero);  // 5 is no candidate
  CHECK(zero[0] == 0.0);
  p->propensity(std::vector<UserId>{1}, cands, 4, 2, std::vector<ItemId>{6, 6}, zero);  // a repeat
  CHECK(zero[0] == 0.0);
}

TEST_CASE("reinforce_topk learns from another policy's logs through the off-policy correction", "[rl]") {
  // The logging policy shows the trap 70% of the time, so 70% of its
  // clicks are traps. The model never acted in these sessions, so their
  // steps are logged data: catalogue softmax, learned β.
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u}) {
    INFO("seed " << seed);
    auto model = fitted<rl::ReinforceTopK>(d, seed);
    LoggedActor logs(*model, 0.7);
    simulate(logs, 250, 32, seed);
    const std::vector<ItemId> catalogue{0, 1, 2, 3};
    const auto pi = model->policy_probs(0, catalogue);
    const auto beta = model->policy_probs(0, catalogue, rl::PolicyNet::kBehavior);
    INFO("π over the catalogue " << pi[0] << " " << pi[1] << " " << pi[2] << " " << pi[3]);
    INFO("β over the catalogue " << beta[0] << " " << beta[1] << " " << beta[2] << " " << beta[3]);
    CHECK(pi[2] + pi[3] > 0.9);
    CHECK(beta[0] + beta[1] == Approx(0.7).margin(0.08));
    CHECK(model->diagnostics()[0].second >= 3);  // policy updates happened
    ModelActor deployed(*model);
    CHECK(simulate(deployed, 10, 32, seed + 10).mean_last(320) > 4.0);
  }
}

TEST_CASE("sessions of one user open at the same time are kept apart", "[rl]") {
  const TrainData d = TrapWorld::train();
  rl::ItemFeatures items;
  items.build(d, "test");
  rl::SessionBook<int> book;
  book.reset(&items, TrapWorld::kUsers, 10, 1.0);
  std::vector<rl::SessionBook<int>::Session*> rows;
  const std::vector<UserId> users{3, 1, 3};
  book.map(users, true, rows);
  REQUIRE(rows[0] != rows[2]);
  const ItemId trap = 0, keep = 2;
  book.record(*rows[0], &trap, 1, 0);   // user 3's first session clicks a trap
  book.record(*rows[2], &keep, 1, -1);  // the second sees keep, no click
  rows[2]->extra = 42;
  std::vector<double> a(9), b(9);
  book.state(3, rows[0], a.data());
  book.state(3, rows[2], b.data());
  CHECK(a[1 + 2 + 2] == Approx(1.0));  // clicks of kind trap / count_scale 1
  CHECK(b[1 + 2 + 2] == 0.0);
  CHECK(b[1 + 6] == 1.0);              // one step
  // The first session ends: next step the user's only row is the second.
  book.close(users, std::vector<std::uint8_t>{1, 0, 0});
  book.map(std::vector<UserId>{3}, false, rows);
  REQUIRE(rows[0] != nullptr);
  CHECK(rows[0]->extra == 42);
  // Its profile now holds the trap clicked in the session that ended.
  book.state(3, nullptr, a.data());
  CHECK(a[1] == 1.0);
  CHECK(a[2] == 0.0);
}

namespace {

/// Three rows of one step: two open sessions of user 0 and one of user 1.
const std::vector<UserId> kThreeRows = {0, 0, 1};

/// Every item of TrapWorld as the candidates of each of `rows` rows.
std::vector<ItemId> every_item(std::size_t rows) {
  std::vector<ItemId> c;
  for (std::size_t r = 0; r < rows; ++r)
    for (ItemId i = 0; i < TrapWorld::kItems; ++i) c.push_back(i);
  return c;
}

/// Opens the sessions of kThreeRows with one step each over every item
/// (slates of four): row 0 clicks its first item, row 1 nothing, row 2 its
/// second; no session ends.
void open_three_sessions(Recommender& m) {
  const std::vector<ItemId> cands = every_item(kThreeRows.size());
  std::vector<ItemId> slates(cands.size());
  m.act(kThreeRows, cands, TrapWorld::kItems, TrapWorld::kItems, slates);
  const std::vector<std::int32_t> choice = {0, -1, 1};
  const std::vector<float> reward = {1.0f, 0.0f, 1.0f};
  const std::vector<std::uint8_t> done(kThreeRows.size(), 0);
  m.observe(Feedback{kThreeRows, TrapWorld::kItems, slates, choice, reward, done});
}

/// `batches` batches of complete sessions (users 0..3, five steps each)
/// over every item with slates of four; the user clicks a random position
/// or nothing, reward 1 a click.
void run_sessions(Recommender& m, int batches, std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<UserId> users = {0, 1, 2, 3};
  const std::vector<ItemId> cands = every_item(users.size());
  std::vector<ItemId> slates(cands.size());
  for (int b = 0; b < batches; ++b)
    for (int t = 0; t < 5; ++t) {
      m.act(users, cands, TrapWorld::kItems, TrapWorld::kItems, slates);
      std::vector<std::int32_t> choice(users.size());
      std::vector<float> reward(users.size());
      for (std::size_t r = 0; r < users.size(); ++r) {
        choice[r] = static_cast<std::int32_t>(rng.below(TrapWorld::kItems + 1)) - 1;
        reward[r] = choice[r] >= 0 ? 1.0f : 0.0f;
      }
      const std::vector<std::uint8_t> done(users.size(), t == 4);
      m.observe(Feedback{users, TrapWorld::kItems, slates, choice, reward, done});
    }
}

/// score_all of kThreeRows, one row of TrapWorld::kItems scores per row.
std::vector<float> three_rows(Recommender& m) {
  std::vector<float> out(kThreeRows.size() * TrapWorld::kItems);
  m.score_all(kThreeRows, out);
  return out;
}

std::vector<float> row(const std::vector<float>& rows, std::size_t r) {
  return {rows.begin() + static_cast<std::ptrdiff_t>(r * TrapWorld::kItems),
          rows.begin() + static_cast<std::ptrdiff_t>((r + 1) * TrapWorld::kItems)};
}

/// The items in descending order of `scores`, ties to the smaller id.
std::vector<ItemId> ranked(const std::vector<float>& scores) {
  std::vector<ItemId> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](ItemId a, ItemId b) {
    return scores[static_cast<std::size_t>(a)] > scores[static_cast<std::size_t>(b)];
  });
  return order;
}

/// The slates `m` acts for kThreeRows with every item a candidate and
/// slates of every item: its full ranking per row.
std::vector<std::vector<ItemId>> acted_rankings(Recommender& m) {
  const std::vector<ItemId> cands = every_item(kThreeRows.size());
  std::vector<ItemId> slates(cands.size());
  m.act(kThreeRows, cands, TrapWorld::kItems, TrapWorld::kItems, slates);
  std::vector<std::vector<ItemId>> out;
  for (std::size_t r = 0; r < kThreeRows.size(); ++r)
    out.emplace_back(slates.begin() + static_cast<std::ptrdiff_t>(r * TrapWorld::kItems),
                     slates.begin() + static_cast<std::ptrdiff_t>((r + 1) * TrapWorld::kItems));
  return out;
}

/// Mid-session score_all moved off the pre-session scores, and the two
/// sessions of user 0 are scored apart.
void check_scored_in_session(const std::vector<float>& pre, const std::vector<float>& mid) {
  CHECK(row(mid, 0) != row(pre, 0));
  CHECK(row(mid, 2) != row(pre, 2));
  CHECK(row(mid, 0) != row(mid, 1));
}

}  // namespace

// A fusion strategy acting over an rl policy ranks by the child's score_all
// (plugins/fusion/fusion_common.hpp), so score_all must see the session its
// row belongs to, as the policy's own act does.
TEST_CASE("rl policies score each open session in its own state, as their act does", "[rl]") {
  const TrainData d = TrapWorld::train();
  SECTION("reinforce_topk: score_all is log pi of the row's session, the propensities' softmax") {
    auto m = fitted<rl::ReinforceTopK>(d, 3);
    const std::vector<float> pre = three_rows(*m);
    open_three_sessions(*m);
    const std::vector<float> mid = three_rows(*m);
    check_scored_in_session(pre, mid);
    const std::vector<ItemId> cands = every_item(kThreeRows.size());
    for (ItemId i = 0; i < TrapWorld::kItems; ++i) {
      const std::vector<ItemId> slate(kThreeRows.size(), i);
      std::vector<double> p(kThreeRows.size());
      m->propensity(kThreeRows, cands, TrapWorld::kItems, 1, slate, p);
      for (std::size_t r = 0; r < kThreeRows.size(); ++r) {
        double z = 0;
        for (float s : row(mid, r)) z += std::exp(static_cast<double>(s));
        INFO("row " << r << ", item " << i);
        CHECK(p[r] == Approx(std::exp(static_cast<double>(mid[r * TrapWorld::kItems + static_cast<std::size_t>(i)])) / z)
                          .epsilon(1e-5));
      }
    }
  }
  SECTION("dqn and slateq: score_all ranks each row as act does") {
    auto dqn = fitted<rl::Dqn>(d, 3, {{"eps_start", 0.0}, {"eps_end", 0.0}});
    auto slateq = fitted<rl::SlateQ>(d, 3, {{"slate_optimizer", std::string("top_k")}, {"epsilon", 0.0}});
    run_sessions(*slateq, 40, 3);  // TD updates and a choice model that see the session's state
    for (Recommender* m : {static_cast<Recommender*>(dqn.get()), static_cast<Recommender*>(slateq.get())}) {
      const std::vector<float> pre = three_rows(*m);
      open_three_sessions(*m);
      const std::vector<float> mid = three_rows(*m);
      check_scored_in_session(pre, mid);
      const auto acted = acted_rankings(*m);
      for (std::size_t r = 0; r < kThreeRows.size(); ++r) {
        INFO("row " << r);
        CHECK(acted[r] == ranked(row(mid, r)));
      }
    }
  }
}

TEST_CASE("a fusion strategy acting over an rl policy ranks each session in the child's own state", "[rl][fusion]") {
  const TrainData d = TrapWorld::train();
  auto dqn = std::make_shared<rl::Dqn>(
      validate_params(rl::Dqn::params(), {{"eps_start", 0.0}, {"eps_end", 0.0}}, {}, "", "rl"));
  FitContext ctx;
  ctx.seed = 3;
  dqn->fit(d, ctx);
  std::vector<Child> children = {Child{"dqn", "dqn", kCapObserve, dqn},
                                 fixed_child("zero", std::vector<std::vector<float>>(TrapWorld::kUsers,
                                                                                     std::vector<float>(TrapWorld::kItems)),
                                             d)};
  auto fused = make_fused<ScoreFusion>({{"normalization", std::string("none")}, {"weights", std::string("1,0")}},
                                       std::move(children), d);
  open_three_sessions(*fused);  // the fusion's slates and feedback reach the child
  const auto child = acted_rankings(*dqn);
  REQUIRE(child[0] != child[1]);  // user 0's two sessions are ranked apart
  CHECK(acted_rankings(*fused) == child);
}

TEST_CASE("rl policies: the same seed gives the same actions, another seed other ones", "[rl]") {
  const TrainData d = TrapWorld::train();
  for (const char* name : {"slateq", "reinforce_topk", "dqn"}) {
    INFO("algorithm " << name);
    auto a = fit_algorithm(name, d, {}, 21);
    auto b = fit_algorithm(name, d, {}, 21);
    auto c = fit_algorithm(name, d, {}, 22);
    ModelActor aa(*a), ab(*b), ac(*c);
    const Run ra = simulate(aa, 12, 32, 8), rb = simulate(ab, 12, 32, 8), rc = simulate(ac, 12, 32, 8);
    CHECK(ra.shown == rb.shown);
    CHECK(ra.returns == rb.returns);
    CHECK(ra.shown != rc.shown);
    CHECK(a->model_bytes() == b->model_bytes());
    CHECK(a->model_bytes() > 0);
  }
}

TEST_CASE("rl policies refuse data without item features and malformed feedback", "[rl]") {
  TrainData d = TrapWorld::train();
  auto model = fitted<rl::SlateQ>(d, 1);
  const std::vector<UserId> users{0};
  const std::vector<ItemId> bad{9};
  const std::vector<std::int32_t> choice{0};
  const std::vector<float> reward{1};
  const std::vector<std::uint8_t> done{0};
  CHECK_THROWS_WITH(model->observe(Feedback{users, 1, bad, choice, reward, done}),
                    Catch::Contains("slateq: feedback item 9 outside [0, 4)"));
  d.item_features = {};
  auto q = std::make_unique<rl::ReinforceTopK>(validate_params(rl::ReinforceTopK::params(), {}, {}, "", "rl"));
  CHECK_THROWS_WITH(q->fit(d, FitContext{}), Catch::Contains("reinforce_topk: needs item features"));
}
