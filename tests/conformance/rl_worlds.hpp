// Tiny worlds, actors and helpers shared by the rl conformance tests
// (test_rl.cpp, test_rl_slateq.cpp, test_rl_dqn.cpp, test_rl_reinforce.cpp,
// test_rl_reinforce_gradients.cpp): a TrapWorld where the myopic choice is
// provably worse, a TwinWorld of items of identical features, the runner
// that simulates sessions side by side, and fitting an rl policy directly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::test::rl_worlds {

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
inline TrainData tiny_items(int n_items) {
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

}  // namespace recfuse::test::rl_worlds
