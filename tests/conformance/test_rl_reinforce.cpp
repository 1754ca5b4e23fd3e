// Top-K REINFORCE (plugins/rl/reinforce_topk.hpp) learning from sessions:
// the long-term choice with its rl 1.5.0 options on (and objective
// "positions"); the slate and positions objectives learning what to lead
// with; the importance weights and slate order through observe;
// gae_lambda; adam_epsilon; exact slate propensities; learning from another
// policy's logs through the off-policy correction; objective "positions"
// against "slate" with and without a clicked position; PPO's clip.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "plugins/rl/policy_net.hpp"
#include "plugins/rl/reinforce_topk.hpp"
#include "recfuse/rng.hpp"
#include "rl_worlds.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::rl_worlds;

namespace {

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

}  // namespace

TEST_CASE("top-K REINFORCE learns the long-term choice with its rl 1.5.0 options on", "[rl]") {
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u}) {
    for (const std::map<std::string, ParamValue>& options :
         {std::map<std::string, ParamValue>{{"behavior", std::string("inclusion")}, {"gae_lambda", 0.0}},
          std::map<std::string, ParamValue>{{"objective", std::string("slate")}, {"gae_lambda", 0.0}},
          std::map<std::string, ParamValue>{{"objective", std::string("slate")}, {"item_embeddings", true}},
          std::map<std::string, ParamValue>{{"objective", std::string("positions")}, {"gae_lambda", 0.0}}}) {
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

/// 30 batches of 16 four-step sessions over every TrapWorld item as
/// candidates, slates of two; each step pays 1 with probability 1/2, as a
/// click on slate position `clicked` when it is >= 0, else as a reward
/// without a click (choice -1). Returns π over the items for user 0.
std::vector<double> probs_after_sessions(rl::ReinforceTopK& model, int clicked, std::uint64_t seed) {
  constexpr int kSessions = 16, kSteps = 4, kK = 2;
  Rng world(derive_seed(seed, "paid-world"));
  std::vector<ItemId> items(TrapWorld::kItems);
  for (ItemId i = 0; i < TrapWorld::kItems; ++i) items[static_cast<std::size_t>(i)] = i;
  for (int b = 0; b < 30; ++b) {
    std::vector<UserId> users(kSessions);
    for (auto& u : users) u = static_cast<UserId>(world.below(TrapWorld::kUsers));
    for (int t = 0; t < kSteps; ++t) {
      std::vector<ItemId> cands, slates(kSessions * kK);
      for (int s = 0; s < kSessions; ++s) cands.insert(cands.end(), items.begin(), items.end());
      model.act(users, cands, TrapWorld::kItems, kK, slates);
      std::vector<std::int32_t> choice(kSessions, -1);
      std::vector<float> reward(kSessions, 0.0f);
      std::vector<std::uint8_t> done(kSessions, t + 1 == kSteps);
      for (int s = 0; s < kSessions; ++s)
        if (world.uniform() < 0.5) {
          reward[s] = 1.0f;
          choice[s] = clicked;
        }
      model.observe(Feedback{users, kK, slates, choice, reward, done});
    }
  }
  return model.policy_probs(0, items);
}

double diagnostic(const Recommender& model, const std::string& name) {
  for (const auto& [key, value] : model.diagnostics())
    if (key == name) return value;
  FAIL("no diagnostic " << name);
  return 0;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t j = 0; j < a.size(); ++j) m = std::max(m, std::abs(a[j] - b[j]));
  return m;
}

/// The policy after probs_after_sessions, and the diagnostics of clipping.
struct ClipRun {
  std::vector<double> probs;
  double clipped, mean_weight, capped;
};

/// A slate objective trained by probs_after_sessions (clicks on position 0)
/// with update_events 64 and learning rate 0.01, under the given ratio,
/// clip and step schedule.
ClipRun clip_run(const TrainData& d, const std::string& objective, const std::string& ratio, double clip,
                 std::int64_t epochs, std::int64_t minibatch, double cap) {
  auto model = fitted<rl::ReinforceTopK>(d, 5,
                                         {{"objective", objective},
                                          {"ratio", ratio},
                                          {"update_events", std::int64_t{64}},
                                          {"learning_rate", 0.01},
                                          {"epochs", epochs},
                                          {"minibatch", minibatch},
                                          {"weight_cap", cap},
                                          {"clip", clip}});
  auto probs = probs_after_sessions(*model, 0, 5);
  CHECK(diagnostic(*model, "policy_updates") >= 5);
  return ClipRun{std::move(probs), diagnostic(*model, "clipped_terms"), diagnostic(*model, "mean_weight"),
                 diagnostic(*model, "capped_weights")};
}

}  // namespace

// Which items lead is learned here; that observe records each slate in its
// shown order is checked by the importance-weight test below (a reversed
// record gives slate weights far from 1).
TEST_CASE("the slate and positions objectives learn what to lead with when only the first position is looked at",
          "[rl]") {
  const TrainData d = TrapWorld::train();
  for (std::uint64_t seed : {1u, 2u}) {
    for (const auto& [objective, lambda] :
         {std::pair{"slate", 1.0}, std::pair{"slate", 0.0}, std::pair{"positions", 1.0}, std::pair{"positions", 0.0}}) {
      INFO("seed " << seed << ", objective " << objective << ", gae_lambda " << lambda);
      auto model = fitted<rl::ReinforceTopK>(
          d, seed, {{"objective", std::string(objective)}, {"gae_lambda", lambda}, {"learning_rate", 0.01}});
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

TEST_CASE("adam_epsilon: a large epsilon turns Adam's steps into small SGD steps", "[rl]") {
  // Adam moves a parameter by about lr whatever its gradient's size; with
  // ε far above the gradients the step is lr · g / ε, so the same sessions
  // move the policy about ε / |g| times less, but still in some direction.
  const TrainData d = TrapWorld::train();
  const std::vector<ItemId> items{0, 1, 2, 3};
  const auto moved = [&](double eps) {
    auto model = fitted<rl::ReinforceTopK>(d, 5, {{"learning_rate", 0.01}, {"adam_epsilon", eps}});
    const auto before = model->policy_probs(1, items);
    keep_first_share(*model, 40, 5);
    REQUIRE(diagnostic(*model, "policy_updates") >= 1);
    const auto after = model->policy_probs(1, items);
    double gap = 0;
    for (std::size_t j = 0; j < items.size(); ++j) gap = std::max(gap, std::abs(after[j] - before[j]));
    return gap;
  };
  const double adam = moved(1e-8), sgd = moved(10.0);
  CHECK(adam > 1e-3);
  CHECK(sgd > 0.0);
  CHECK(sgd < 0.05 * adam);
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

TEST_CASE("objective positions splits the advantage by the clicked position, and is the slate objective when no "
          "step of a batch has a click",
          "[rl]") {
  // Without a clicked position every position gets a / K; when no step of
  // the batch has one, the batch's normalisation makes that the slate
  // objective's a for every term: the same updates. A click on position 0
  // gives its item the step's target and the other the baseline's share
  // only: other updates.
  const TrainData d = TrapWorld::train();
  const auto run = [&](const std::string& objective, int clicked) {
    auto model = fitted<rl::ReinforceTopK>(
        d, 5, {{"objective", std::string(objective)}, {"update_events", std::int64_t{64}}, {"learning_rate", 0.01}});
    auto p = probs_after_sessions(*model, clicked, 5);
    CHECK(diagnostic(*model, "policy_updates") >= 5);
    return p;
  };
  const auto start = fitted<rl::ReinforceTopK>(d, 5, {})->policy_probs(0, std::vector<ItemId>{0, 1, 2, 3});
  const auto slate_paid = run("slate", -1), positions_paid = run("positions", -1);
  CHECK(max_diff(slate_paid, start) > 1e-2);  // it learned
  CHECK(max_diff(positions_paid, slate_paid) < 1e-9);
  const auto slate_clicked = run("slate", 0), positions_clicked = run("positions", 0);
  CHECK(max_diff(positions_clicked, slate_clicked) > 1e-2);
}

TEST_CASE("clip: PPO's clipped surrogate over several epochs, a no-op when no ratio leaves 1 +- clip", "[rl]") {
  // Three epochs a batch: after the first Adam step the slates' ratios
  // leave 1. A clip no ratio reaches changes nothing, bit for bit, and
  // takes no term away; a tiny one takes away the gradient of every term
  // whose ratio has moved the way its advantage pushes, so here the policy
  // moves less (these seeds).
  const TrainData d = TrapWorld::train();
  const auto start = fitted<rl::ReinforceTopK>(d, 5, {})->policy_probs(0, std::vector<ItemId>{0, 1, 2, 3});
  for (const std::string objective : {"slate", "positions"}) {
    INFO("objective " << objective);
    const auto run = [&](double clip, std::int64_t epochs, std::int64_t minibatch, double cap) {
      return clip_run(d, objective, "slate", clip, epochs, minibatch, cap);
    };
    const ClipRun plain = run(0.0, 3, 16, 10.0), wide = run(1e3, 3, 16, 10.0), tight = run(1e-9, 3, 16, 10.0);
    CHECK(max_diff(wide.probs, plain.probs) == 0.0);
    CHECK(plain.clipped == 0.0);
    CHECK(wide.clipped == 0.0);
    CHECK(tight.clipped > 0.0);
    CHECK(max_diff(tight.probs, plain.probs) > 1e-3);
    CHECK(max_diff(tight.probs, start) < max_diff(plain.probs, start));
    // One step a batch: every ratio is 1 when the gradient is taken, so a
    // clip changes nothing and takes no term away, even under a weight_cap
    // (0.5) below 1 − clip; judged on the capped weight, every negative
    // term would be dropped.
    const ClipRun one_clip = run(0.2, 1, 64, 0.5), one_plain = run(0.0, 1, 64, 0.5);
    CHECK(max_diff(one_clip.probs, one_plain.probs) == 0.0);
    CHECK(one_clip.clipped == 0.0);
  }
  CHECK_THROWS_WITH((fitted<rl::ReinforceTopK>(d, 1, {{"clip", 0.2}})),
                    Catch::Contains("'clip'") && Catch::Contains("objectives \"slate\" and \"positions\""));
}

TEST_CASE("ratio position: each position's own ratio, the slate's ratio while theta is the acting one", "[rl]") {
  // One Adam step a batch: every position's ratio and the slate's are 1
  // when the gradient is taken, so ratio "position" learns as "slate", bit
  // for bit, clip and a weight_cap (0.5) below 1 − clip included. Three epochs
  // of minibatches: the ratios leave 1, each position's weight is its own
  // ratio instead of the slate's product of them, and the policies part.
  // A clip no ratio reaches changes nothing; a tiny one takes terms away.
  const TrainData d = TrapWorld::train();
  const auto run = [&](const std::string& ratio, double clip, std::int64_t epochs, std::int64_t minibatch, double cap) {
    return clip_run(d, "positions", ratio, clip, epochs, minibatch, cap);
  };
  for (const double clip : {0.0, 0.2}) {
    INFO("clip " << clip);
    const ClipRun slate = run("slate", clip, 1, 64, 0.5), position = run("position", clip, 1, 64, 0.5);
    CHECK(max_diff(position.probs, slate.probs) == 0.0);
    CHECK(position.clipped == 0.0);
    CHECK(position.mean_weight == 0.5);  // every ratio 1, capped at 0.5, as the slate's
    CHECK(slate.capped > 0.0);
    CHECK(position.capped == 2 * slate.capped);  // counted per position term, slates of two
    // Under a cap above 1 nothing is capped: every weight is exactly its ratio, 1.
    const ClipRun slate_wide = run("slate", clip, 1, 64, 10.0), position_wide = run("position", clip, 1, 64, 10.0);
    CHECK(max_diff(position_wide.probs, slate_wide.probs) == 0.0);
    CHECK(position_wide.mean_weight == 1.0);
    CHECK(position_wide.capped == 0.0);
  }
  const ClipRun slate = run("slate", 0.0, 3, 16, 10.0), plain = run("position", 0.0, 3, 16, 10.0),
            wide = run("position", 1e3, 3, 16, 10.0), tight = run("position", 1e-9, 3, 16, 10.0);
  CHECK(max_diff(plain.probs, slate.probs) > 1e-6);
  CHECK(plain.mean_weight != 1.0);
  CHECK(max_diff(wide.probs, plain.probs) == 0.0);
  CHECK(wide.clipped == 0.0);
  CHECK(tight.clipped > 0.0);
  CHECK(max_diff(tight.probs, plain.probs) > 1e-3);
  CHECK_THROWS_WITH((fitted<rl::ReinforceTopK>(d, 1, {{"objective", std::string("slate")}, {"ratio", std::string("position")}})),
                    Catch::Contains("'ratio'") && Catch::Contains("objective \"positions\""));
}
