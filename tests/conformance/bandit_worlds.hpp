// Tiny worlds and helpers shared by the bandit conformance tests
// (test_bandits.cpp, test_linucb_hybrid.cpp).
#pragma once

#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "plugins/bandit/bandit_features.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::test::bandits {

/// 3 users, 12 items; item i has topic i % 3 (one-hot feature). User u
/// clicks a shown item of topic u with probability 0.6, others with 0.15;
/// in the `shared` variant every user prefers topic 0.
struct TopicWorld {
  static constexpr int kUsers = 3, kTopics = 3, kItems = 12, kCandidates = 4;
  static int topic(ItemId i) { return i % kTopics; }
  static double click_prob(UserId u, ItemId i, bool shared = false) {
    return topic(i) == (shared ? 0 : u) ? 0.6 : 0.15;
  }

  /// No logged interactions unless given; topic one-hot item features.
  static TrainData train(const std::vector<Interaction>& logs = {}) {
    TrainData d = make_train_data(kUsers, kItems, logs, false);
    CsrMatrix& f = d.item_features.matrix;
    f.rows = kItems;
    f.cols = kTopics;
    f.indptr.assign(1, 0);
    for (ItemId i = 0; i < kItems; ++i) {
      f.indices.push_back(topic(i));
      f.values.push_back(1.0f);
      f.indptr.push_back(f.nnz());
    }
    d.item_features.names = {"topic=0", "topic=1", "topic=2"};
    return d;
  }
};

struct Run {
  double regret = 0;            // Σ over decisions of max_c p(u, c) − p(u, a)
  std::vector<ItemId> actions;  // every slate entry, in order
};

/// `steps` steps of one session per user, slate size 1, 4 candidates drawn
/// by the world; `policy` null means a uniform random pick; p(u, i) is the
/// click probability. Clicks and candidates come from streams of
/// `world_seed` only.
template <typename ClickProb>
Run simulate_with(Recommender* policy, int steps, std::uint64_t world_seed, ClickProb&& p_click) {
  Rng cand_rng(derive_seed(world_seed, "candidates")), click_rng(derive_seed(world_seed, "clicks"));
  Rng pick_rng(derive_seed(world_seed, "uniform-policy"));
  const std::vector<UserId> users{0, 1, 2};
  const int c = TopicWorld::kCandidates;
  std::vector<ItemId> candidates(users.size() * c), slates(users.size());
  std::vector<std::int32_t> choice(users.size());
  std::vector<float> reward(users.size());
  std::vector<std::uint8_t> done(users.size(), 0);
  Run run;
  for (int t = 0; t < steps; ++t) {
    for (std::size_t s = 0; s < users.size(); ++s) {  // partial Fisher–Yates over the catalogue
      std::vector<ItemId> all(TopicWorld::kItems);
      for (ItemId i = 0; i < TopicWorld::kItems; ++i) all[static_cast<std::size_t>(i)] = i;
      for (int j = 0; j < c; ++j) {
        const auto k = static_cast<std::size_t>(j) + cand_rng.below(static_cast<std::uint64_t>(TopicWorld::kItems - j));
        std::swap(all[static_cast<std::size_t>(j)], all[k]);
        candidates[s * c + static_cast<std::size_t>(j)] = all[static_cast<std::size_t>(j)];
      }
    }
    if (policy) policy->act(users, candidates, c, 1, slates);
    else
      for (std::size_t s = 0; s < users.size(); ++s) slates[s] = candidates[s * c + pick_rng.below(c)];
    for (std::size_t s = 0; s < users.size(); ++s) {
      double best = 0;
      for (int j = 0; j < c; ++j) best = std::max(best, p_click(users[s], candidates[s * c + static_cast<std::size_t>(j)]));
      const double p = p_click(users[s], slates[s]);
      run.regret += best - p;
      const bool click = click_rng.uniform() < p;
      choice[s] = click ? 0 : -1;
      reward[s] = click ? 1.0f : 0.0f;
      run.actions.push_back(slates[s]);
    }
    if (policy) policy->observe(Feedback{users, 1, slates, choice, reward, done});
  }
  return run;
}

/// The topic world: user u likes topic u (or every user topic 0 when shared).
inline Run simulate(Recommender* policy, int steps, std::uint64_t world_seed, bool shared = false) {
  return simulate_with(policy, steps, world_seed,
                       [shared](UserId u, ItemId i) { return TopicWorld::click_prob(u, i, shared); });
}

/// Every user clicks items 0, 5 and 10 with probability 0.6, the rest with
/// 0.15: the good items span all three topics, so topic features alone
/// cannot tell them from their topic mates.
inline double good_item_prob(UserId, ItemId i) { return i % 5 == 0 ? 0.6 : 0.15; }

template <typename T>
std::unique_ptr<T> make(const std::map<std::string, ParamValue>& values = {}) {
  return std::make_unique<T>(validate_params(T::params(), values, {}, "", "bandit"));
}

template <typename T>
std::unique_ptr<T> fitted(const TrainData& d, std::uint64_t seed, const std::map<std::string, ParamValue>& values = {}) {
  auto p = make<T>(values);
  FitContext ctx;
  ctx.seed = seed;
  p->fit(d, ctx);
  return p;
}


/// a's ridge slot `sa` and b's slot `sb` hold the same θ̂ and A⁻¹ (to 1e-12).
template <typename P>
void check_same_slot(const P& a, std::int32_t sa, const P& b, std::int32_t sb) {
  CHECK(Eigen::VectorXd(a.models().theta(sa)).isApprox(Eigen::VectorXd(b.models().theta(sb)), 1e-12));
  CHECK(Eigen::MatrixXd(a.models().a_inv(sa)).isApprox(Eigen::MatrixXd(b.models().a_inv(sb)), 1e-12));
}

/// Each logged click of `logs` (time order per user) observed online, one
/// click per step and slate of one.
template <typename P>
void observe_clicks_online(P& p, const std::vector<std::pair<UserId, ItemId>>& clicks) {
  for (const auto& [u, i] : clicks) {
    const std::vector<UserId> users{u};
    const std::vector<ItemId> slates{i};
    const std::vector<std::int32_t> choice{0};
    const std::vector<float> reward{1};
    const std::vector<std::uint8_t> done{0};
    p.observe(Feedback{users, 1, slates, choice, reward, done});
  }
}

// User 0 clicked 5, 1, 4 (topics 2, 1, 1) and user 2 clicked 8, 1 (topics
// 2, 1), in that time order; item ids deliberately not in time order.
inline const std::vector<Interaction> kTimedLogs = {{0, 1, 1.0f, 20}, {0, 4, 1.0f, 30}, {0, 5, 1.0f, 10},
                                             {2, 8, 1.0f, 5}, {2, 1, 1.0f, 7}};
inline const std::vector<std::pair<UserId, ItemId>> kTimedClicks = {{0, 5}, {0, 1}, {0, 4}, {2, 8}, {2, 1}};


/// Each click (u, i) observed online in a slate of i and its `per_click`
/// draws from `sampler` (in the warm start's order), i clicked.
template <typename P>
void observe_with_negatives(P& p, UnclickedSampler& sampler, int per_click,
                            const std::vector<std::pair<UserId, ItemId>>& clicks) {
  for (const auto& [u, i] : clicks) {
    std::vector<ItemId> slate{i};
    sampler.each(u, [&](ItemId o) { slate.push_back(o); });
    REQUIRE(slate.size() == static_cast<std::size_t>(1 + per_click));
    const std::vector<UserId> users{u};
    const std::vector<std::int32_t> choice{0};
    const std::vector<float> reward{1};
    const std::vector<std::uint8_t> done{0};
    p.observe(Feedback{users, 1 + per_click, slate, choice, reward, done});
  }
}

}  // namespace recfuse::test::bandits
