// What the policy save/load tests share (test_policy_save_load.cpp,
// test_policy_save_load_refusals.cpp): every bandit and rl policy, with
// parameters under which each piece of its state matters within a few
// steps (exploration draws, updates, replay rings that wrap, target
// networks), a deterministic world of overlapping sessions to drive them,
// and bit-exact comparisons.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "conformance_support.hpp"
#include "mf_test_support.hpp"  // all_scores
#include "recfuse/rng.hpp"

namespace recfuse::test::policy_io {

struct Policy {
  std::string plugin;
  std::map<std::string, ParamValue> params;
  std::string label() const {
    std::string s = plugin;
    for (const auto& [k, v] : params) s += " " + k;
    return s;
  }
};

inline std::vector<Policy> policies() {
  using I = std::int64_t;
  return {
      {"epsilon_greedy", {{"epsilon", 0.5}}},
      {"linucb", {}},
      {"linucb", {{"scope", std::string("item")}}},
      {"lin_ts", {}},
      {"lin_ts", {{"scope", std::string("global")}}},
      {"linucb_hybrid", {}},
      {"reinforce_topk", {{"hidden", I{8}}, {"update_events", I{3}}, {"minibatch", I{4}}, {"adam_epsilon", 0.1}}},
      {"reinforce_topk",
       {{"hidden", I{8}}, {"update_events", I{3}}, {"objective", std::string("slate")}, {"gae_lambda", 0.5}}},
      {"reinforce_topk",
       {{"hidden", I{8}}, {"update_events", I{3}}, {"objective", std::string("positions")}, {"gamma", 0.9}}},
      // The acting policy's per-position terms, kept in the file, feed the next update's ratios.
      {"reinforce_topk",
       {{"hidden", I{8}}, {"update_events", I{3}}, {"objective", std::string("positions")},
        {"ratio", std::string("position")}, {"clip", 0.2}, {"epochs", I{3}}, {"minibatch", I{2}}}},
      {"slateq",
       {{"epsilon", 0.5}, {"minibatch", I{4}}, {"replay_ratio", 2.0}, {"target_update", I{3}}, {"n_step", I{2}},
        {"replay_capacity", I{32}}}},
      {"dqn",
       {{"eps_start", 0.6}, {"eps_end", 0.2}, {"eps_decay_steps", I{60}}, {"minibatch", I{4}}, {"replay_ratio", 2.0},
        {"target_sync", I{3}}, {"hidden", I{8}}, {"replay_capacity", I{32}}}},
  };
}

/// kSessions sessions at a time, each kHorizon steps (started staggered),
/// of users drawn uniformly (a user may have two open); kCandidates distinct
/// random items a row, slates of kSlate; the user clicks a uniform slate
/// position with probability 1/2, reward 1 to 1.5. Every draw comes from
/// the world's stream: two policies shown the same slates get the same
/// feedback.
class World {
 public:
  static constexpr int kSessions = 4, kHorizon = 3, kCandidates = 6, kSlate = 2;

  World(std::int32_t n_users, std::int32_t n_items, std::uint64_t seed)
      : n_users_(n_users), n_items_(n_items), rng_(derive_seed(seed, "policy-io-world")) {
    for (int s = 0; s < kSessions; ++s) sessions_.push_back({draw_user(), s % kHorizon});
    deal();
  }
  std::span<const UserId> users() const { return users_; }
  std::span<const ItemId> candidates() const { return cands_; }

  /// The users' response to `slates` (users() x kSlate); valid until next().
  Feedback respond(std::span<const ItemId> slates) {
    slates_.assign(slates.begin(), slates.end());
    choice_.clear(), reward_.clear(), done_.clear();
    for (const Session& s : sessions_) {
      const bool click = rng_.uniform() < 0.5;
      choice_.push_back(click ? static_cast<std::int32_t>(rng_.below(kSlate)) : -1);
      reward_.push_back(click ? static_cast<float>(1.0 + 0.5 * rng_.uniform()) : 0.0f);
      done_.push_back(s.t == kHorizon - 1);
    }
    return {users_, kSlate, slates_, choice_, reward_, done_};
  }
  /// The next step: ended sessions are replaced by new ones.
  void next() {
    for (Session& s : sessions_) s = s.t == kHorizon - 1 ? Session{draw_user(), 0} : Session{s.user, s.t + 1};
    deal();
  }

 private:
  struct Session {
    UserId user;
    int t;
  };
  UserId draw_user() { return static_cast<UserId>(rng_.below(static_cast<std::uint64_t>(n_users_))); }
  void deal() {
    users_.clear(), cands_.clear();
    std::vector<ItemId> all(static_cast<std::size_t>(n_items_));
    for (const Session& s : sessions_) {
      users_.push_back(s.user);
      for (ItemId i = 0; i < n_items_; ++i) all[static_cast<std::size_t>(i)] = i;
      for (std::size_t j = 0; j < kCandidates; ++j) {  // partial Fisher–Yates
        std::swap(all[j], all[j + rng_.below(all.size() - j)]);
        cands_.push_back(all[j]);
      }
    }
  }

  std::int32_t n_users_, n_items_;
  Rng rng_;
  std::vector<Session> sessions_;
  std::vector<UserId> users_;
  std::vector<ItemId> cands_, slates_;
  std::vector<std::int32_t> choice_;
  std::vector<float> reward_;
  std::vector<std::uint8_t> done_;
};

inline std::vector<ItemId> act(Recommender& r, const World& w) {
  std::vector<ItemId> slates(w.users().size() * World::kSlate);
  r.act(w.users(), w.candidates(), World::kCandidates, World::kSlate, slates);
  return slates;
}

inline std::vector<double> propensities(Recommender& r, const World& w, std::span<const ItemId> slates) {
  std::vector<double> out(w.users().size());
  r.propensity(w.users(), w.candidates(), World::kCandidates, World::kSlate, slates, out);
  return out;
}

/// Entries whose bits differ (a size mismatch counts every entry): 0 is bit for bit.
template <typename T>
std::size_t bits_differ(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return std::max(a.size(), b.size()) + 1;
  std::size_t n = 0;
  for (std::size_t j = 0; j < a.size(); ++j) n += std::memcmp(&a[j], &b[j], sizeof(T)) != 0;
  return n;
}

inline std::string saved_bytes(const Recommender& r) {
  std::ostringstream out;
  r.save(out);
  return out.str();
}

/// A fresh instance of `a` loaded from `bytes`.
inline RecommenderPtr loaded_from(const AlgorithmHandle& a, const ParamSet& params, const std::string& bytes) {
  RecommenderPtr r = create_recommender(a, params);
  std::istringstream in(bytes);
  r->load(in);
  return r;
}

/// `p` fitted on the synthetic data, then `steps` steps of act + observe in `world`.
inline RecommenderPtr deployed(const Policy& p, const TrainData& data, World& world, int steps) {
  RecommenderPtr r = fit_algorithm(p.plugin, data, p.params);
  for (int t = 0; t < steps; ++t) {
    const std::vector<ItemId> slates = act(*r, world);
    r->observe(world.respond(slates));
    world.next();
  }
  return r;
}

}  // namespace recfuse::test::policy_io
