// Split invariants on many small random datasets with repeated pairs, equal
// timestamps and short histories (the hand-worked cases are in splits_test).
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "data/splits.hpp"
#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

using Key = std::tuple<UserId, ItemId, std::int64_t, float>;
Key key(const Interaction& x) { return {x.user, x.item, x.timestamp, x.value}; }

Dataset random_dataset(std::mt19937& g) {
  Dataset d;
  d.has_timestamps = true;
  const int users = 1 + static_cast<int>(g() % 12), items = 2 + static_cast<int>(g() % 10);
  for (int u = 0; u < users; ++u) d.user_ids.push_back("u" + std::to_string(u));
  for (int i = 0; i < items; ++i) d.item_ids.push_back("i" + std::to_string(i));
  const int n = 1 + static_cast<int>(g() % 80);
  for (int k = 0; k < n; ++k)  // few timestamps: many ties; few items: repeats
    d.interactions.push_back({static_cast<UserId>(g() % users), static_cast<ItemId>(g() % items),
                              static_cast<float>(k), static_cast<std::int64_t>(g() % 6)});
  return d;
}

std::multiset<Key> keys(const std::vector<Interaction>& xs) {
  std::multiset<Key> out;
  for (const auto& x : xs) out.insert(key(x));
  return out;
}

/// Train, validation and test come from the data, each row once; a row is
/// missing only when its pair is in train (a dropped leak); no pair is in
/// train and in another part.
void check_parts(const Dataset& d, const Split& s) {
  const auto train = pairs_of(s.train);
  for (const auto* part : {&s.validation, &s.test})
    for (const auto& x : *part) REQUIRE(train.count({x.user, x.item}) == 0);
  std::multiset<Key> all = keys(d.interactions), placed;
  for (const auto* part : {&s.train, &s.validation, &s.test})
    for (const auto& x : *part) placed.insert(key(x));
  for (const Key& k : placed) REQUIRE(all.count(k) >= placed.count(k));
  for (const auto& x : d.interactions)
    if (!placed.count(key(x))) REQUIRE(train.count({x.user, x.item}) == 1);
}

/// Rows of `d` by time: timestamp, then item id when `by_item`, then source position.
std::vector<std::size_t> time_order(const Dataset& d, bool by_item) {
  std::vector<std::size_t> order(d.interactions.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  const auto& xs = d.interactions;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tuple(xs[a].timestamp, by_item ? xs[a].item : 0, a) <
           std::tuple(xs[b].timestamp, by_item ? xs[b].item : 0, b);
  });
  return order;
}

/// The test rows the documentation describes (splits.hpp), before leaks
/// are dropped: each user's last row (leave_last_one_out, users with two or
/// more), each user's latest clamp(round(r m), 1, m - 1) (temporal_user), the
/// latest round(r N) overall (temporal_global).
std::vector<std::uint8_t> documented_test(const Dataset& d, const std::string& method, double r,
                                          bool by_item) {
  std::vector<std::uint8_t> test(d.interactions.size(), 0);
  const std::vector<std::size_t> order = time_order(d, by_item);
  if (method == "temporal_global") {
    const auto n = static_cast<std::size_t>(std::llround(r * static_cast<double>(order.size())));
    for (std::size_t k = order.size() - n; k < order.size(); ++k) test[order[k]] = 1;
    return test;
  }
  std::map<UserId, std::vector<std::size_t>> lines;
  for (std::size_t k : order) lines[d.interactions[k].user].push_back(k);
  for (const auto& [u, line] : lines) {
    const std::size_t m = line.size();
    if (m < 2) continue;
    const std::size_t n =
        method == "leave_last_one_out"
            ? 1
            : std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(r * static_cast<double>(m))), 1, m - 1);
    for (std::size_t k = m - n; k < m; ++k) test[line[k]] = 1;
  }
  return test;
}

}  // namespace

TEST_CASE("split invariants on random small datasets", "[data][splits]") {
  std::mt19937 g(20240611);
  for (int round = 0; round < 300; ++round) {
    const Dataset d = random_dataset(g);
    for (const std::string method : {"random", "temporal_global", "temporal_user", "leave_last_one_out", "kfold"}) {
      for (const double val : {0.0, 0.3}) {
        SplitSpec spec;
        spec.method = method;
        spec.validation_ratio = method == "leave_last_one_out" ? 0.0 : val;
        spec.validation = val > 0.0;
        spec.folds = 3;
        spec.ties = g() % 2 ? "item" : "source";
        INFO("round " << round << " method " << method << " val " << val << " ties " << spec.ties);
        std::set<std::pair<UserId, ItemId>> fold_tests;
        for (const std::string& fold : split_folds(spec)) {
          const Split s = make_split(d, spec, fold, 5);
          check_parts(d, s);
          const Split again = make_split(d, spec, fold, 5);
          CHECK(keys(again.train) == keys(s.train));
          CHECK(keys(again.test) == keys(s.test));
          CHECK(keys(again.validation) == keys(s.validation));
          if (method == "kfold")
            for (const auto& p : pairs_of(s.test)) REQUIRE(fold_tests.insert(p).second);
          // Nested validation comes from the train part under the same rules.
          if (val > 0.0) {
            const Split inner = nested_validation_split(d, spec, s, 5);
            Dataset train_only = d;
            train_only.interactions = s.train;
            check_parts(train_only, inner);
          }
        }
        if (method == "kfold") CHECK(fold_tests == pairs_of(d.interactions));
      }
    }
  }
}

TEST_CASE("time-based test parts are the documented latest rows with ties as split.ties says", "[data][splits]") {
  std::mt19937 g(7);
  for (int round = 0; round < 300; ++round) {
    const Dataset d = random_dataset(g);
    for (const std::string method : {"temporal_global", "temporal_user", "leave_last_one_out"})
      for (const std::string ties : {"source", "item"}) {
        SplitSpec spec;
        spec.method = method;
        spec.ties = ties;
        spec.validation = false;
        spec.test_ratio = 0.3;
        INFO("round " << round << " method " << method << " ties " << ties);
        const Split s = make_split(d, spec, "", 1);
        const auto test = documented_test(d, method, spec.test_ratio, ties == "item");
        std::vector<Interaction> want_train, want_test;
        for (std::size_t k = 0; k < test.size(); ++k)
          (test[k] ? want_test : want_train).push_back(d.interactions[k]);
        const auto train_pairs = pairs_of(want_train);
        std::erase_if(want_test, [&](const Interaction& x) { return train_pairs.count({x.user, x.item}) > 0; });
        CHECK(keys(s.train) == keys(want_train));
        CHECK(keys(s.test) == keys(want_test));
      }
  }
}

TEST_CASE("validation_train = before_validation_item: each part is the documented slice of the user's timeline",
          "[data][splits]") {
  // Per user (time order, ties by split.ties): the last row is test; the
  // validation row is the latest timed before it (the second-last when none
  // is); train is what precedes the validation row; the rows between the
  // two are in no part. Users with two rows give the first to train, one
  // row to train; validation and test rows whose pair is in train drop.
  std::mt19937 g(99);
  for (int round = 0; round < 300; ++round) {
    const Dataset d = random_dataset(g);
    for (const std::string ties : {"source", "item"}) {
      SplitSpec spec;
      spec.method = "leave_last_one_out";
      spec.ties = ties;
      spec.validation_item = "before_test_time";
      spec.validation_train = "before_validation_item";
      INFO("round " << round << " ties " << ties);
      const Split s = make_split(d, spec, "", 1);
      std::map<UserId, std::vector<std::size_t>> lines;
      for (std::size_t k : time_order(d, ties == "item")) lines[d.interactions[k].user].push_back(k);
      std::vector<Interaction> train, validation, test;
      for (const auto& [u, line] : lines) {
        const std::size_t m = line.size();
        std::size_t v = m >= 3 ? m - 2 : m;  // m: no validation row
        if (m >= 3)
          for (std::size_t k = 0; k + 1 < m; ++k)
            if (d.interactions[line[k]].timestamp < d.interactions[line[m - 1]].timestamp) v = k;
        const std::size_t train_end = m >= 3 ? v : m >= 2 ? m - 1 : m;
        for (std::size_t k = 0; k < train_end; ++k) train.push_back(d.interactions[line[k]]);
        if (m >= 3) validation.push_back(d.interactions[line[v]]);
        if (m >= 2) test.push_back(d.interactions[line[m - 1]]);
      }
      const auto train_pairs = pairs_of(train);
      const auto leak = [&](const Interaction& x) { return train_pairs.count({x.user, x.item}) > 0; };
      std::erase_if(validation, leak);
      std::erase_if(test, leak);
      CHECK(keys(s.train) == keys(train));
      CHECK(keys(s.validation) == keys(validation));
      CHECK(keys(s.test) == keys(test));
      // Nested: parts of the outer train, the nested validation row again the
      // latest of its user's nested training timeline (nothing timed after it).
      const Split inner = nested_validation_split(d, spec, s, 1);
      std::multiset<Key> outer_train = keys(s.train), placed = keys(inner.train);
      placed.merge(keys(inner.validation));
      for (const Key& k : placed) CHECK(outer_train.count(k) >= placed.count(k));
      for (const Interaction& v : inner.validation)
        for (const Interaction& x : inner.train)
          if (x.user == v.user) CHECK(x.timestamp <= v.timestamp);
    }
  }
}

TEST_CASE("real ml-100k: the fixed folds u1..u5 partition u.data and each base is the rest", "[data][splits][real]") {
  if (!have_shared("ml-100k/u1.base")) {
    WARN("ml-100k not present; skipped");
    return;
  }
  const Dataset d = read_shared("ml-100k", "ml-100k");
  SplitSpec spec;
  spec.method = "fixed";
  std::multiset<Key> tests;
  for (const std::string& fold : split_folds(spec)) {
    const Split s = make_split(d, spec, fold, 0);
    std::multiset<Key> parts = keys(s.train);
    const std::multiset<Key> test = keys(s.test);
    parts.insert(test.begin(), test.end());
    CHECK(parts == keys(d.interactions));
    tests.insert(test.begin(), test.end());
  }
  CHECK(tests == keys(d.interactions));
}
