// warm_negatives (plugins/bandit/bandit_features.hpp, UnclickedSampler): the
// non-clicks a warm start from click-only logs adds. The sampler draws only
// items the user never interacted with, from its own seeded stream; a warm
// start with them equals observing each logged click online in a slate with
// its drawn non-clicks, shown and not clicked. (linucb_hybrid's ranking
// with and without them: test_linucb_hybrid.cpp.)
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "bandit_worlds.hpp"
#include "plugins/bandit/linucb.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::bandits;

namespace {

/// The draws of `sampler` for `clicks` clicks of user u, in order.
std::vector<ItemId> draws(UnclickedSampler& sampler, UserId u, int clicks) {
  std::vector<ItemId> out;
  for (int c = 0; c < clicks; ++c) sampler.each(u, [&](ItemId o) { out.push_back(o); });
  return out;
}

}  // namespace

TEST_CASE("warm negatives are items the user never interacted with, from a seeded stream", "[bandit]") {
  std::vector<Interaction> logs;
  for (ItemId i = 0; i < TopicWorld::kItems; ++i) {
    logs.push_back({0, i, 1.0f, i});                                     // user 0: every item
    if (i != 7) logs.push_back({1, i, 1.0f, i});                         // user 1: all but item 7
    if (i % 3 == 0) logs.push_back({2, i, 1.0f, i});                     // user 2: 0, 3, 6, 9
  }
  const TrainData d = TopicWorld::train(logs);
  UnclickedSampler a(d, 2, 5, "linucb"), b(d, 2, 5, "linucb"), other(d, 2, 6, "linucb");
  CHECK(draws(a, 0, 10).empty());
  const std::vector<ItemId> only7 = draws(a, 1, 10);
  CHECK(only7 == std::vector<ItemId>(20, 7));
  const std::vector<ItemId> two = draws(a, 2, 500);
  REQUIRE(two.size() == 1000);
  const std::set<ItemId> seen(two.begin(), two.end());
  CHECK(seen == std::set<ItemId>{1, 2, 4, 5, 7, 8, 10, 11});  // every unclicked item, nothing else
  for (ItemId i : seen) {
    const auto n = std::count(two.begin(), two.end(), i);
    INFO("item " << i << " drawn " << n << " times of 1000");
    CHECK(n > 80);  // uniform: 125 expected, sd about 10
    CHECK(n < 170);
  }
  // the same seed and name draw the same items; another seed does not
  draws(b, 0, 10);
  draws(b, 1, 10);
  CHECK(draws(b, 2, 500) == two);
  draws(other, 1, 10);
  CHECK(draws(other, 2, 500) != two);
  // each algorithm draws from its own stream
  UnclickedSampler hybrid(d, 2, 5, "linucb_hybrid");
  draws(hybrid, 1, 10);
  CHECK(draws(hybrid, 2, 500) != two);
  // a user beyond the logged rows has interacted with nothing: any item
  TrainData short_rows = d;
  short_rows.by_user.rows = 2;
  short_rows.by_user.indptr.resize(3);
  UnclickedSampler beyond(short_rows, 1, 5, "linucb");
  const std::vector<ItemId> any = draws(beyond, 2, 300);
  CHECK(std::set<ItemId>(any.begin(), any.end()).size() == static_cast<std::size_t>(TopicWorld::kItems));
}

TEST_CASE("scope user: a warm start with negatives equals observing each click with its unclicked draws shown",
          "[bandit]") {
  // by_user order (item ids) is the warm start's order for scope user.
  const std::vector<Interaction> logs = {{0, 1, 1.0f, 1}, {0, 4, 1.0f, 2}, {0, 5, 1.0f, 3}, {2, 8, 1.0f, 4}};
  const TrainData logged = TopicWorld::train(logs);
  const std::map<std::string, ParamValue> params{{"warm_negatives", std::int64_t{2}}, {"lambda", 2.0}};
  auto warm = fitted<LinUcb>(logged, 3, params);
  auto cold = fitted<LinUcb>(TopicWorld::train(), 3, {{"lambda", 2.0}});
  UnclickedSampler sampler(logged, 2, 3, "linucb");
  observe_with_negatives(*cold, sampler, 2, {{0, 1}, {0, 4}, {0, 5}, {2, 8}});
  for (UserId u : {0, 1, 2}) {
    INFO("user " << u);
    check_same_slot(*warm, warm->slot(u), *cold, cold->slot(u));
  }
  // the negatives moved user 0's model: without them it is another one
  auto plain = fitted<LinUcb>(logged, 3, {{"lambda", 2.0}});
  CHECK_FALSE(Eigen::VectorXd(plain->models().theta(plain->slot(0)))
                  .isApprox(Eigen::VectorXd(warm->models().theta(warm->slot(0))), 1e-6));
}

TEST_CASE("scope item: a warm start with negatives equals observing each click in time order with its draws shown",
          "[bandit]") {
  const std::map<std::string, ParamValue> params{
      {"scope", std::string("item")}, {"warm_negatives", std::int64_t{1}}, {"lambda", 2.0}};
  const TrainData logged = TopicWorld::train(kTimedLogs);
  auto warm = fitted<LinUcb>(logged, 4, params);
  auto cold = fitted<LinUcb>(TopicWorld::train(), 4, {{"scope", std::string("item")}, {"lambda", 2.0}});
  UnclickedSampler sampler(logged, 1, 4, "linucb");
  observe_with_negatives(*cold, sampler, 1, kTimedClicks);
  for (ItemId i = 0; i < TopicWorld::kItems; ++i) {
    INFO("item " << i);
    check_same_slot(*warm, warm->item_slot(i), *cold, cold->item_slot(i));
  }
}

TEST_CASE("warm_negatives without a warm start changes nothing", "[bandit]") {
  const TrainData logged = TopicWorld::train(kTimedLogs);
  for (const char* scope : {"user", "item"}) {
    INFO(scope);
    auto with = fitted<LinUcb>(logged, 5, {{"scope", std::string(scope)}, {"warm_start", false},
                                          {"warm_negatives", std::int64_t{4}}});
    auto without = fitted<LinUcb>(logged, 5, {{"scope", std::string(scope)}, {"warm_start", false}});
    REQUIRE(with->models().size() == without->models().size());
    for (std::int32_t s = 0; s < with->models().size(); ++s) check_same_slot(*with, s, *without, s);
  }
}

TEST_CASE("scope global: a warm start with negatives equals observing each pair with its draws shown", "[bandit]") {
  const std::vector<Interaction> logs = {{0, 1, 1.0f, 1}, {0, 4, 1.0f, 2}, {2, 8, 1.0f, 3}};
  const TrainData logged = TopicWorld::train(logs);
  auto warm = fitted<LinUcb>(logged, 2, {{"scope", std::string("global")}, {"warm_negatives", std::int64_t{3}}});
  auto cold = fitted<LinUcb>(TopicWorld::train(), 2, {{"scope", std::string("global")}});
  UnclickedSampler sampler(logged, 3, 2, "linucb");
  observe_with_negatives(*cold, sampler, 3, {{0, 1}, {0, 4}, {2, 8}});
  check_same_slot(*warm, warm->slot(0), *cold, cold->slot(0));
  CHECK(warm->slot(0) == warm->slot(2));  // one shared model
}
