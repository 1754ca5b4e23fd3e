// Splits: leaks, sizes, determinism, time order, partitions, fixed folds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "data/splits.hpp"
#include "data/train_data_builder.hpp"
#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;

namespace {

const Dataset& synthetic() {
  static const Dataset d = [] {
    SyntheticSpec s;
    s.users = 200;
    s.items = 150;
    s.interactions_per_user = 20;
    return generate_synthetic(s);
  }();
  return d;
}

void check_no_leak(const Split& s) {
  const auto train = pairs_of(s.train);
  for (const auto& x : s.test) REQUIRE(train.count({x.user, x.item}) == 0);
  for (const auto& x : s.validation) REQUIRE(train.count({x.user, x.item}) == 0);
}

SplitSpec spec_for(const std::string& method) {
  SplitSpec s;
  s.method = method;
  return s;
}

/// A dataset with timestamps, items "0".."9" and one user per timeline,
/// each a list of (item, timestamp) rows in file order.
Dataset timelines(const std::vector<std::vector<std::pair<ItemId, std::int64_t>>>& users) {
  Dataset d;
  d.has_timestamps = true;
  for (int i = 0; i < 10; ++i) d.item_ids.push_back(std::to_string(i));
  for (std::size_t u = 0; u < users.size(); ++u) {
    d.user_ids.push_back("u" + std::to_string(u));
    for (const auto& [item, t] : users[u]) d.interactions.push_back({static_cast<UserId>(u), item, 1.0f, t});
  }
  return d;
}

}  // namespace

TEST_CASE("every method: no (user, item) leak and every interaction placed once", "[data][splits]") {
  const Dataset& d = synthetic();
  for (const std::string method :
       {"random", "temporal_global", "temporal_user", "leave_last_one_out", "kfold"}) {
    SplitSpec spec = spec_for(method);
    if (method != "leave_last_one_out") spec.validation_ratio = 0.1;
    const Split s = make_split(d, spec, method == "kfold" ? "2" : "", 7);
    INFO(method);
    check_no_leak(s);
    CHECK(s.train.size() + s.validation.size() + s.test.size() == d.interactions.size());
    CHECK_FALSE(s.test.empty());
    CHECK_FALSE(s.validation.empty());
  }
}

TEST_CASE("random split: deterministic in the seed, ratio respected", "[data][splits]") {
  const Dataset& d = synthetic();
  const SplitSpec spec = spec_for("random");
  const Split a = make_split(d, spec, "", 1), b = make_split(d, spec, "", 1);
  const Split c = make_split(d, spec, "", 2);
  CHECK(pairs_of(a.test) == pairs_of(b.test));
  CHECK(pairs_of(a.test) != pairs_of(c.test));
  const double ratio = static_cast<double>(a.test.size()) / d.interactions.size();
  CHECK(ratio == Approx(0.2).margin(0.001));
  SplitSpec seeded = spec;  // spec.seed overrides the trial seed
  seeded.seed = 99;
  CHECK(pairs_of(make_split(d, seeded, "", 1).test) == pairs_of(make_split(d, seeded, "", 2).test));
}

TEST_CASE("temporal splits respect time", "[data][splits]") {
  const Dataset& d = synthetic();
  SECTION("temporal_user: each user's test is after its train") {
    const Split s = make_split(d, spec_for("temporal_user"), "", 3);
    std::map<UserId, std::int64_t> last_train, first_test;
    for (const auto& x : s.train) last_train[x.user] = std::max(last_train[x.user], x.timestamp);
    for (const auto& x : s.test) {
      auto [it, fresh] = first_test.try_emplace(x.user, x.timestamp);
      if (!fresh) it->second = std::min(it->second, x.timestamp);
    }
    REQUIRE(first_test.size() == static_cast<std::size_t>(d.n_users()));
    for (const auto& [u, t] : first_test) CHECK(t >= last_train[u]);
  }
  SECTION("temporal_global: one cut for everyone") {
    const Split s = make_split(d, spec_for("temporal_global"), "", 3);
    std::int64_t max_train = 0, min_test = INT64_MAX;
    for (const auto& x : s.train) max_train = std::max(max_train, x.timestamp);
    for (const auto& x : s.test) min_test = std::min(min_test, x.timestamp);
    CHECK(min_test >= max_train);
    CHECK(s.test.size() == static_cast<std::size_t>(std::llround(0.2 * d.interactions.size())));
  }
  SECTION("validation_ratio under temporal methods lies between train and test in time") {
    // Random carving would leave most users training interactions later than
    // their validation ones: model selection would score interpolation.
    SplitSpec user = spec_for("temporal_user");
    user.validation_ratio = 0.25;
    const Split s = make_split(d, user, "", 3);
    std::map<UserId, std::int64_t> last_train, first_val, last_val, first_test;
    for (const auto& x : s.train) last_train[x.user] = std::max(last_train[x.user], x.timestamp);
    for (const auto& x : s.validation) {
      auto [a, fa] = first_val.try_emplace(x.user, x.timestamp);
      if (!fa) a->second = std::min(a->second, x.timestamp);
      last_val[x.user] = std::max(last_val[x.user], x.timestamp);
    }
    for (const auto& x : s.test) {
      auto [it, fresh] = first_test.try_emplace(x.user, x.timestamp);
      if (!fresh) it->second = std::min(it->second, x.timestamp);
    }
    REQUIRE(first_val.size() == static_cast<std::size_t>(d.n_users()));
    for (const auto& [u, t] : first_val) {
      CHECK(t >= last_train[u]);
      CHECK(first_test[u] >= last_val[u]);
    }
    SplitSpec global = spec_for("temporal_global");
    global.validation_ratio = 0.25;
    const Split g = make_split(d, global, "", 3);
    std::int64_t max_train = 0, min_val = INT64_MAX, max_val = 0, min_test = INT64_MAX;
    for (const auto& x : g.train) max_train = std::max(max_train, x.timestamp);
    for (const auto& x : g.validation) min_val = std::min(min_val, x.timestamp), max_val = std::max(max_val, x.timestamp);
    for (const auto& x : g.test) min_test = std::min(min_test, x.timestamp);
    CHECK(min_val >= max_train);
    CHECK(min_test >= max_val);
    CHECK(g.validation.size() > 0);
  }
  SECTION("leave_last_one_out: test is each user's latest, validation the one before") {
    const Split s = make_split(d, spec_for("leave_last_one_out"), "", 3);
    CHECK(s.test.size() == static_cast<std::size_t>(d.n_users()));
    CHECK(s.validation.size() == static_cast<std::size_t>(d.n_users()));
    std::map<UserId, std::int64_t> last_train, test_t, val_t;
    for (const auto& x : s.train) last_train[x.user] = std::max(last_train[x.user], x.timestamp);
    for (const auto& x : s.test) test_t[x.user] = x.timestamp;
    for (const auto& x : s.validation) val_t[x.user] = x.timestamp;
    for (const auto& [u, t] : test_t) {
      CHECK(t >= val_t[u]);
      CHECK(val_t[u] >= last_train[u]);
    }
  }
}

TEST_CASE("leave_last_one_out on short histories and sequences", "[data][splits]") {
  const Dataset s = read_fixture("sequence", "seq.txt");  // users with 4, 2 and 1 items
  const Split split = make_split(s, spec_for("leave_last_one_out"), "", 0);
  // user 0 "5 3 9 5": last (5) repeats a train item, so it is dropped as a leak;
  // validation = 9 (id 3). user 1 "3 4": test = 4 (id 1), no validation. user 2: train only.
  CHECK(split.validation.size() == 1);
  CHECK(split.validation[0].item == 3);
  REQUIRE(split.test.size() == 1);
  CHECK(split.test[0].user == 1);
  CHECK(split.test[0].item == 1);
  CHECK(pairs_of(split.train).count({2, 3}) == 1);
}

TEST_CASE("kfold: folds partition the data", "[data][splits]") {
  const Dataset& d = synthetic();
  SplitSpec spec = spec_for("kfold");
  spec.folds = 4;
  const auto folds = split_folds(spec);
  REQUIRE(folds == std::vector<std::string>{"1", "2", "3", "4"});
  std::size_t total = 0;
  std::set<std::pair<UserId, ItemId>> seen;
  for (const auto& f : folds) {
    const Split s = make_split(d, spec, f, 5);
    CHECK(s.label == "kfold " + f + "/4");
    total += s.test.size();
    for (const auto& p : pairs_of(s.test)) REQUIRE(seen.insert(p).second);
    CHECK(s.train.size() + s.test.size() == d.interactions.size());
  }
  CHECK(total == d.interactions.size());
  CHECK_THAT(error_of([&] { make_split(d, spec, "5", 5); }), Contains("1..4"));
  spec.fold_numbers = {2};
  CHECK(split_folds(spec) == std::vector<std::string>{"2"});
}

TEST_CASE("split_folds and errors", "[data][splits]") {
  CHECK(split_folds(spec_for("random")) == std::vector<std::string>{""});
  CHECK(split_folds(spec_for("fixed")) == std::vector<std::string>{"u1", "u2", "u3", "u4", "u5"});
  const Dataset& d = synthetic();
  CHECK_THAT(error_of([&] { make_split(d, spec_for("bogus"), "", 0); }),
             Contains("unknown split method 'bogus'"));
  CHECK_THAT(error_of([&] { make_split(d, spec_for("source"), "", 0); }),
             Contains("implicit-train-test"));
}

TEST_CASE("source split uses the dataset's own parts", "[data][splits]") {
  const Dataset d = read_fixture("implicit-train-test", "implicit-mini");
  const Split s = make_split(d, spec_for("source"), "", 0);
  CHECK(s.train.size() == 6);
  CHECK(s.test.size() == 3);
  check_no_leak(s);
}

TEST_CASE("fixed folds on the fixture map ids and name unknown ones", "[data][splits]") {
  const Dataset d = read_fixture("ml-100k", "ml100k-mini");
  const Split s = make_split(d, spec_for("fixed"), "u1", 0);
  CHECK(s.label == "fixed u1");
  CHECK(s.train.size() == 6);
  CHECK(s.test.size() == 3);
  CHECK(s.test[0].user == 1);  // "2 5 4 90": user "2" -> 1, item "5" -> 3
  CHECK(s.test[0].item == 3);
  const std::string msg = error_of([&] { make_split(d, spec_for("fixed"), "u2", 0); });
  CHECK_THAT(msg, Contains("u2.test:1:"));
  CHECK_THAT(msg, Contains("item id '99'"));
  CHECK_THAT(error_of([&] { make_split(d, spec_for("fixed"), "u9", 0); }), Contains("unknown fold"));
  SplitSpec carve = spec_for("fixed");
  carve.validation_ratio = 0.5;  // user "1" has 3 base pairs -> 2 to validation
  const Split v = make_split(d, carve, "u1", 0);
  CHECK(v.validation.size() == 2);
  CHECK(v.train.size() == 4);
  CHECK(v.test.size() == 3);
  check_no_leak(v);
}

TEST_CASE("real ml-100k: leave-one-out and fixed u1 sizes", "[data][splits][real]") {
  if (!have_shared("ml-100k/u1.base")) {
    WARN("ml-100k not present; skipped");
    return;
  }
  const Dataset d = read_shared("ml-100k", "ml-100k");
  const Split loo = make_split(d, spec_for("leave_last_one_out"), "", 0);
  CHECK(loo.test.size() == 943);
  CHECK(loo.validation.size() == 943);
  CHECK(loo.train.size() == 100000 - 2 * 943);
  check_no_leak(loo);
  const Split u1 = make_split(d, spec_for("fixed"), "u1", 0);
  CHECK(u1.train.size() == 80000);
  CHECK(u1.test.size() == 20000);
  check_no_leak(u1);
  const Split ua = make_split(d, spec_for("fixed"), "ua", 0);
  CHECK(ua.test.size() == 9430);
}

TEST_CASE("equal timestamps: source order by default, item id on request, and the sequences agree",
          "[data][splits]") {
  // One user, in file order: item 8 (t 0), 4 (t 0), 5 (t 1), 9 (t 3), 2 (t 3), 7 (t 2).
  // By time: {8, 4} tie, 5, 7, {9, 2} tie.
  Dataset d;
  d.has_timestamps = true;
  d.user_ids = {"u"};
  for (int i = 0; i < 10; ++i) d.item_ids.push_back(std::to_string(i));
  for (const auto& [item, t] : std::vector<std::pair<ItemId, std::int64_t>>{{8, 0}, {4, 0}, {5, 1}, {9, 3}, {2, 3}, {7, 2}})
    d.interactions.push_back({0, item, 1.0f, t});
  const auto sequence = [](const TrainData& td) {
    const auto r = td.sequences.indices;
    return std::vector<ItemId>(r.begin(), r.end());
  };
  SECTION("source: a stable sort by time") {
    const Split s = make_split(d, spec_for("leave_last_one_out"), "", 0);
    REQUIRE(s.test.size() == 1);
    REQUIRE(s.validation.size() == 1);
    CHECK(s.test[0].item == 2);
    CHECK(s.validation[0].item == 9);
    CHECK(sequence(build_train_data(d, s)) == std::vector<ItemId>{8, 4, 5, 7});
  }
  SECTION("item: equal timestamps by item id") {
    SplitSpec spec = spec_for("leave_last_one_out");
    spec.ties = "item";
    const Split s = make_split(d, spec, "", 0);
    REQUIRE(s.test.size() == 1);
    CHECK(s.test[0].item == 9);
    CHECK(s.validation[0].item == 2);
    CHECK(sequence(build_train_data(d, s)) == std::vector<ItemId>{4, 8, 5, 7});
  }
  SECTION("temporal_global keeps the same rule") {
    SplitSpec spec = spec_for("temporal_global");
    spec.test_ratio = 1.0 / 6.0;
    CHECK(make_split(d, spec, "", 0).test[0].item == 2);
    spec.ties = "item";
    CHECK(make_split(d, spec, "", 0).test[0].item == 9);
  }
  SECTION("an unknown rule is refused, naming the key") {
    SplitSpec spec = spec_for("leave_last_one_out");
    spec.ties = "time";
    CHECK_THROWS_WITH(make_split(d, spec, "", 0), Contains("split.ties"));
  }
}

TEST_CASE("leave_last_one_out validation_item: before_test_time holds out the last item timed before the test item",
          "[data][splits]") {
  // User 0 as above: {8, 4} at t 0, 5 at 1, 7 at 2, {9, 2} at 3.
  // User 1: {6, 3} at t 5, then 1 at 9: the earlier second ties.
  // User 2: 4, 6, 1, all at t 7: nothing is timed before the test item.
  // User 3, in file order: 8 (t 1), 1 (t 1), 5 (t 2), 3 (t 2): both seconds
  // tie, so the rule must take the last of the earlier one, not its first.
  const Dataset d = timelines({{{8, 0}, {4, 0}, {5, 1}, {9, 3}, {2, 3}, {7, 2}},
                               {{6, 5}, {1, 9}, {3, 5}},
                               {{4, 7}, {6, 7}, {1, 7}},
                               {{8, 1}, {1, 1}, {5, 2}, {3, 2}}});
  const auto item_of = [](const std::vector<Interaction>& part, UserId u) {
    for (const Interaction& x : part)
      if (x.user == u) return x.item;
    return ItemId{-1};
  };
  for (const std::string ties : {"source", "item"}) {
    INFO("ties = " << ties);
    SplitSpec spec = spec_for("leave_last_one_out");
    spec.ties = ties;
    const Split second_last = make_split(d, spec, "", 0);
    spec.validation_item = "before_test_time";
    const Split before = make_split(d, spec, "", 0);
    // The test part never moves.
    CHECK(before.test.size() == 4);
    for (UserId u = 0; u < 4; ++u) CHECK(item_of(before.test, u) == item_of(second_last.test, u));
    // User 0: the default holds out the test item's partner in second 3; the
    // rule takes 7, alone in second 2, under either tie order.
    CHECK(item_of(second_last.validation, 0) == (ties == "item" ? 2 : 9));
    CHECK(item_of(before.validation, 0) == 7);
    // User 1: the second-last is already timed before; of the tied {6, 3}
    // the last by the ties rule, as the default would take.
    CHECK(item_of(before.validation, 1) == (ties == "item" ? 6 : 3));
    CHECK(item_of(before.validation, 1) == item_of(second_last.validation, 1));
    // User 2: one second for the whole history, so the second-last.
    CHECK(item_of(before.validation, 2) == item_of(second_last.validation, 2));
    CHECK(item_of(before.validation, 2) == (ties == "item" ? 4 : 6));
    // User 3: the test item's partner by default; else the last of second 1.
    CHECK(item_of(second_last.validation, 3) == (ties == "item" ? 3 : 5));
    CHECK(item_of(before.validation, 3) == (ties == "item" ? 8 : 1));
    CHECK(before.train.size() == d.interactions.size() - 8);
    CHECK(second_last.label == "leave_last_one_out");
    CHECK(before.label == "leave_last_one_out, validation before_test_time");
    check_no_leak(before);
    // validation_train = "before_validation_item": what lies between the
    // validation and the test item is in no part (user 0: the test item's
    // partner in second 3; user 3: the test item's partner in second 2;
    // users 1 and 2 have nothing between); validation and test are as before.
    spec.validation_train = "before_validation_item";
    const Split cut = make_split(d, spec, "", 0);
    const auto holds = [](const std::vector<Interaction>& part, UserId u, ItemId item) {
      return std::any_of(part.begin(), part.end(), [&](const Interaction& x) { return x.user == u && x.item == item; });
    };
    const ItemId between0 = ties == "item" ? 2 : 9, between3 = ties == "item" ? 3 : 5;
    CHECK(holds(before.train, 0, between0));
    CHECK(holds(before.train, 3, between3));
    CHECK(cut.train.size() == before.train.size() - 2);
    for (const auto* part : {&cut.train, &cut.validation, &cut.test}) {
      CHECK_FALSE(holds(*part, 0, between0));
      CHECK_FALSE(holds(*part, 3, between3));
    }
    for (UserId u = 0; u < 4; ++u) {
      CHECK(item_of(cut.validation, u) == item_of(before.validation, u));
      CHECK(item_of(cut.test, u) == item_of(before.test, u));
    }
    CHECK(cut.label == "leave_last_one_out, validation before_test_time, training before it");
    check_no_leak(cut);
    spec.validation_train = "all";
    // Nested validation follows the rule once more: the latest training item
    // timed before the user's validation item (user 0: 5 at t 1, before 7 at
    // t 2; without the rule the latest, 2 or 9 at t 3); none is for
    // user 3 (validation at t 1), so the latest training item.
    const Split inner = nested_validation_split(d, spec, before, 0);
    CHECK(item_of(inner.validation, 0) == 5);
    CHECK(item_of(inner.validation, 3) == (ties == "item" ? 3 : 5));
    CHECK(item_of(inner.validation, 1) == -1);  // one training item left
    spec.validation_item = "second_last";
    CHECK(item_of(nested_validation_split(d, spec, second_last, 0).validation, 0) == 7);
  }
  SplitSpec spec = spec_for("leave_last_one_out");
  spec.validation_item = "latest";
  CHECK_THROWS_WITH(make_split(d, spec, "", 0), Contains("split.validation_item"));
  spec.validation_item = "before_test_time";
  spec.validation_train = "before";
  CHECK_THROWS_WITH(make_split(d, spec, "", 0), Contains("split.validation_train"));
}

TEST_CASE("leave_last_one_out validation_train: before_validation_item ends training at the validation item",
          "[data][splits]") {
  // File order is item order, so both tie rules agree.
  // User 0: 0 at t 1, 1 at 2, {2, 3} at 4, {4, 5, 6} at 6: test 6,
  // validation 3 (the last of second 4), and 4, 5 in between.
  // User 1: 7 at t 1, 8 at 2, {8, 9} at 3: test 9, validation 8 at t 2,
  // and between them a repeat of the validation pair.
  const Dataset d = timelines({{{0, 1}, {1, 2}, {2, 4}, {3, 4}, {4, 6}, {5, 6}, {6, 6}},
                               {{7, 1}, {8, 2}, {8, 3}, {9, 3}}});
  const auto items = [](const std::vector<Interaction>& part, UserId u) {
    std::vector<ItemId> out;
    for (const Interaction& x : part)
      if (x.user == u) out.push_back(x.item);
    return out;
  };
  using Items = std::vector<ItemId>;
  for (const std::string ties : {"source", "item"}) {
    INFO("ties = " << ties);
    SplitSpec spec = spec_for("leave_last_one_out");
    spec.ties = ties;
    spec.validation_item = "before_test_time";
    const Split all = make_split(d, spec, "", 0);
    spec.validation_train = "before_validation_item";
    const Split cut = make_split(d, spec, "", 0);
    CHECK(items(all.train, 0) == Items{0, 1, 2, 4, 5});
    CHECK(items(cut.train, 0) == Items{0, 1, 2});  // both items of the test item's second leave
    CHECK(items(cut.validation, 0) == Items{3});
    CHECK(items(cut.test, 0) == Items{6});
    // User 1: training keeps the later repeat of 8 under "all", so the
    // validation 8 is dropped as a leak; the cut leaves that repeat out and
    // keeps the validation item.
    CHECK(items(all.train, 1) == Items{7, 8});
    CHECK(items(all.validation, 1).empty());
    CHECK(items(cut.train, 1) == Items{7});
    CHECK(items(cut.validation, 1) == Items{8});
    CHECK(items(cut.test, 1) == Items{9});
    check_no_leak(cut);
    // Nested validation follows the cut: user 0's nested item is 1 (the
    // latest timed before 3's second), and 2, after it, leaves the nested
    // training part; without the cut it stays. User 1 has one training item.
    const Split inner = nested_validation_split(d, spec, cut, 0);
    CHECK(items(inner.validation, 0) == Items{1});
    CHECK(items(inner.train, 0) == Items{0});
    CHECK(items(inner.train, 1) == Items{7});
    spec.validation_train = "all";
    CHECK(items(nested_validation_split(d, spec, cut, 0).train, 0) == Items{0, 2});
  }
}

TEST_CASE("nested validation: the validation rule once more on train, disjoint from what the trial scores",
          "[data][splits]") {
  const Dataset& d = synthetic();
  for (const std::string method : {"random", "temporal_user", "leave_last_one_out", "kfold"}) {
    INFO(method);
    SplitSpec spec = spec_for(method);
    if (method == "leave_last_one_out")
      spec.validation = true;
    else
      spec.validation_ratio = 0.2;
    const std::string fold = method == "kfold" ? "2" : "";
    const Split outer = make_split(d, spec, fold, 7);
    const Split inner = nested_validation_split(d, spec, outer, 7);
    // The inner parts divide the outer train exactly, and share no pair.
    CHECK(inner.test.empty());
    CHECK(inner.train.size() + inner.validation.size() == outer.train.size());
    check_no_leak(inner);
    const auto inner_pairs = pairs_of(inner.train), inner_val = pairs_of(inner.validation);
    for (const auto& x : outer.train)
      CHECK(inner_pairs.count({x.user, x.item}) + inner_val.count({x.user, x.item}) == 1);
    // Nothing the trial scores (outer validation) or holds out (test) is in
    // either inner part.
    for (const auto* part : {&outer.validation, &outer.test})
      for (const auto& x : *part) {
        CHECK(inner_pairs.count({x.user, x.item}) == 0);
        CHECK(inner_val.count({x.user, x.item}) == 0);
      }
    CHECK_FALSE(inner.validation.empty());
    // Deterministic in the seed.
    CHECK(pairs_of(nested_validation_split(d, spec, outer, 7).validation) == inner_val);
    if (method == "leave_last_one_out") {
      // Exactly one per user who keeps a training item, the latest of its train.
      std::map<UserId, std::int64_t> last_train, val_t;
      std::map<UserId, int> n_val;
      for (const auto& x : inner.train) last_train[x.user] = std::max(last_train[x.user], x.timestamp);
      for (const auto& x : inner.validation) val_t[x.user] = x.timestamp, ++n_val[x.user];
      for (const auto& [u, n] : n_val) {
        CHECK(n == 1);
        CHECK(val_t[u] >= last_train[u]);
      }
      CHECK(n_val.size() == last_train.size());
    } else {
      const double share = static_cast<double>(inner.validation.size()) / static_cast<double>(outer.train.size());
      CHECK(share == Approx(0.2).margin(0.03));
    }
  }
  // The random per-user carve draws its own stream: another seed, another part.
  SplitSpec spec = spec_for("random");
  spec.validation_ratio = 0.2;
  const Split outer = make_split(d, spec, "", 7);
  CHECK(pairs_of(nested_validation_split(d, spec, outer, 8).validation) !=
        pairs_of(nested_validation_split(d, spec, outer, 7).validation));
}

TEST_CASE("nested leave-last-one-out skips a repeated pair and leaves short histories whole", "[data][splits]") {
  // User 0 over time: items 1 2 3 2 7 8 -> outer test 8, outer validation 7,
  // train 1 2 3 2. The latest training item, 2, repeats an earlier pair (a
  // validation copy of it would be dropped as a leak and lost to both
  // parts), so the nested validation is 3. User 1 (items 4 5 6) keeps one
  // training item: nothing to carve.
  Dataset d;
  d.user_ids = {"a", "b"};
  d.item_ids = {"0", "1", "2", "3", "4", "5", "6", "7", "8"};
  d.has_timestamps = true;
  const std::int64_t t0 = 1000;
  std::int64_t t = t0;
  for (ItemId i : {1, 2, 3, 2, 7, 8}) d.interactions.push_back({0, i, 1.0f, ++t});
  for (ItemId i : {4, 5, 6}) d.interactions.push_back({1, i, 1.0f, ++t});
  SplitSpec spec = spec_for("leave_last_one_out");
  spec.validation = true;
  const Split outer = make_split(d, spec, "", 1);
  REQUIRE(outer.train.size() == 5);  // 1 2 3 2 and user 1's 4
  const Split inner = nested_validation_split(d, spec, outer, 1);
  REQUIRE(inner.validation.size() == 1);
  CHECK(inner.validation[0].user == 0);
  CHECK(inner.validation[0].item == 3);
  CHECK(inner.train.size() == 4);  // nothing lost: 1 2 2 and 4
  CHECK(pairs_of(inner.train) == std::set<std::pair<UserId, ItemId>>{{0, 1}, {0, 2}, {1, 4}});
}

TEST_CASE("time-based splits refuse data with no time order", "[data][splits]") {
  // The two-file layout has no timestamps and documents no row order: a
  // "last" item would only be the file's last row.
  const Dataset pairs = read_fixture("implicit-train-test", "implicit-mini");
  REQUIRE_FALSE(pairs.has_timestamps);
  for (const char* method : {"leave_last_one_out", "temporal_user", "temporal_global"})
    CHECK_THROWS_WITH(make_split(pairs, spec_for(method), "", 1),
                      Contains(std::string("split '") + method + "' orders interactions by time") &&
                          Contains("does not list each user's rows in time order") && Contains("'random'"));
  // Sequence files list each user's items oldest first: per-user time order
  // holds, a global one does not (the file is grouped by user).
  const Dataset seq = read_fixture("sequence", "seq.txt");
  CHECK(seq.rows_in_time_order);
  CHECK_NOTHROW(make_split(seq, spec_for("leave_last_one_out"), "", 1));
  CHECK_NOTHROW(make_split(seq, spec_for("temporal_user"), "", 1));
  CHECK_THROWS_WITH(make_split(seq, spec_for("temporal_global"), "", 1),
                    Contains("time order within a user only"));
  // Methods that do not read time take either.
  for (const char* method : {"random", "kfold"}) {
    SplitSpec s = spec_for(method);
    CHECK_NOTHROW(make_split(pairs, s, std::string(method) == "kfold" ? "1" : "", 1));
  }
}
