// Reinforcement-learning policies (plugins/rl), all three together: in a
// tiny MDP where the myopic choice is provably worse, SlateQ and top-K
// REINFORCE learn the long-term one while myopic learners do not; per-item
// biases telling apart items of identical features; the warm start from the
// logs; session bookkeeping, and score_all in each open session's own state
// (also under a fusion strategy); seeded determinism; refusals. Each policy's
// own checks are in test_rl_slateq.cpp, test_rl_dqn.cpp,
// test_rl_reinforce.cpp and test_rl_reinforce_gradients.cpp; the worlds and
// actors in rl_worlds.hpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "plugins/fusion/score_fusion.hpp"
#include "plugins/rl/dqn.hpp"
#include "plugins/rl/policy_net.hpp"
#include "plugins/rl/reinforce_topk.hpp"
#include "plugins/rl/session_book.hpp"
#include "plugins/rl/slateq.hpp"
#include "rl_worlds.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::rl_worlds;

TEST_CASE("rl plugins load with their capabilities", "[rl]") {
  const auto& reg = plugin_registry();
  REQUIRE(reg.contains("slateq"));
  REQUIRE(reg.contains("reinforce_topk"));
  REQUIRE(reg.contains("dqn"));
  CHECK(reg.find("slateq").algorithm->capabilities == (kCapObserve | kCapSaveLoad));
  CHECK(reg.find("dqn").algorithm->capabilities == (kCapObserve | kCapSaveLoad));
  CHECK(std::string(reg.find("dqn").plugin->descriptor->version) == "1.12.0");
  CHECK(reg.find("reinforce_topk").algorithm->capabilities == (kCapObserve | kCapPropensity | kCapSaveLoad));
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
