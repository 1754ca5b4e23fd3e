// The sampled protocol (eval/sampled.cpp) on tiny catalogues where every
// value is worked by hand: how many negatives a user gets, how a positive
// tied with a negative is ranked, and where the draws come from.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "eval/evaluator.hpp"
#include "item_rows.hpp"
#include "eval/evaluator_detail.hpp"

using namespace recfuse;

namespace {

using IdRows = std::vector<std::vector<ItemId>>;

/// Every user gives item i the score s[i].
class ItemScoreRecommender final : public Recommender {
 public:
  explicit ItemScoreRecommender(std::vector<float> s) : s_(std::move(s)) {}
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    for (std::size_t i = 0; i < users.size(); ++i)
      std::copy(s_.begin(), s_.end(), out.begin() + static_cast<std::ptrdiff_t>(i * s_.size()));
  }
  std::size_t model_bytes() const override { return 0; }

 private:
  std::vector<float> s_;
};

/// evaluate() under the sampled protocol with item scores `scores` (one per
/// catalogue item), users' training rows `train_rows` and test rows `test_rows`.
EvalOutput run_sampled(const std::vector<float>& scores, const IdRows& train_rows, const IdRows& test_rows,
                       std::int32_t negatives, std::vector<std::int32_t> cutoffs,
                       std::uint64_t seed = 1) {
  TrainData train;
  train.n_users = static_cast<std::int32_t>(train_rows.size());
  train.n_items = static_cast<std::int32_t>(scores.size());
  train.by_user = test::item_rows(train.n_items, train_rows);
  ItemScoreRecommender rec(scores);
  rec.fit(train, FitContext{});
  EvaluationSpec spec;
  spec.protocol = "sampled";
  spec.sampled_negatives = negatives;
  spec.cutoffs = std::move(cutoffs);
  spec.metrics = {"hr", "mrr", "ndcg", "recall", "precision"};
  return evaluate(rec, train, test::item_rows(train.n_items, test_rows), spec, false, seed);
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("sampled protocol: a positive tied with a sampled negative ranks below it",
          "[eval][sampled]") {
  // One user, nothing trained, test item 0; every item scores the same. All
  // 5 other items are drawn (100 asked). The test item has the lowest id, but
  // a tie must not count as beating a negative: it ranks last, 6th of 6.
  const EvalOutput flat = run_sampled(std::vector<float>(6, 0.5f), {{}}, {{0}}, 100, {1, 5, 6});
  CHECK(flat.per_user.at("sampled_hr@1")[0] == 0);
  CHECK(flat.per_user.at("sampled_hr@5")[0] == 0);
  CHECK(flat.per_user.at("sampled_hr@6")[0] == 1);
  CHECK(flat.per_user.at("sampled_mrr@6")[0] == Approx(1.0 / 6));
  CHECK(flat.per_user.at("sampled_ndcg@6")[0] == Approx(1 / std::log2(7.0)));
  // Scores [1, .5, .5, .5, 0, NaN], test item 2: item 0 is above it, items 1
  // and 3 tie with it (and count above), 4 and the NaN item (ranked as -inf)
  // below: rank 4.
  const EvalOutput mixed = run_sampled({1.0f, 0.5f, 0.5f, 0.5f, 0.0f, kNaN}, {{}}, {{2}}, 100, {3, 4});
  CHECK(mixed.per_user.at("sampled_hr@3")[0] == 0);
  CHECK(mixed.per_user.at("sampled_mrr@4")[0] == Approx(0.25));
  // A NaN test item ties with a NaN negative and with -inf ones: below both.
  const EvalOutput nan = run_sampled({kNaN, -INFINITY, kNaN, 1.0f}, {{}}, {{0}}, 100, {3, 4});
  CHECK(nan.per_user.at("sampled_hr@3")[0] == 0);
  CHECK(nan.per_user.at("sampled_mrr@4")[0] == Approx(0.25));
  // Two test items tied with each other and with two negatives: both below
  // the negatives, ranks 3 and 4 (which of them is 3rd does not matter).
  const EvalOutput two = run_sampled(std::vector<float>(4, 1.0f), {{}}, {{0, 1}}, 100, {2, 4});
  CHECK(two.per_user.at("sampled_hr@2")[0] == 0);
  CHECK(two.per_user.at("sampled_recall@4")[0] == 1);
  CHECK(two.per_user.at("sampled_mrr@4")[0] == Approx(1.0 / 3));
}

TEST_CASE("sampled protocol: the full protocol keeps the documented tie order (smaller id first)",
          "[eval][sampled]") {
  // The full ranking evaluates the list recommend() returns, whose ties go to
  // the smaller id (recfuse/topk.hpp): the flat user's item 0 is first there.
  const EvalOutput flat = run_sampled(std::vector<float>(6, 0.5f), {{}}, {{0}}, 100, {1});
  CHECK(flat.per_user.at("hr@1")[0] == 1);
  CHECK(flat.per_user.at("sampled_hr@1")[0] == 0);
}

TEST_CASE("sampled protocol: sampled_negatives is a count per test item (SCHEMA.md)",
          "[eval][sampled]") {
  // 30 items scored by id; user 0 trains on nothing and holds out {0, 1},
  // the two lowest-scored items, so every drawn negative outranks both: the
  // first test item is at rank (number of negatives) + 1. With 1 negative per
  // test item that is 2 negatives -> rank 3; user 1 (one test item, 5)
  // gets 1 negative, which outranks 5 only if drawn above it.
  std::vector<float> by_id(30);
  for (std::size_t i = 0; i < by_id.size(); ++i) by_id[i] = static_cast<float>(i);
  const EvalOutput one = run_sampled(by_id, {{}, {}}, {{0, 1}, {5}}, 1, {2, 3, 4});
  CHECK(one.per_user.at("sampled_hr@2")[0] == 0);
  CHECK(one.per_user.at("sampled_mrr@4")[0] == Approx(1.0 / 3));
  CHECK(one.per_user.at("sampled_recall@4")[0] == 1);
  // user 1: 1 relevant + 1 negative; always a hit within 2.
  CHECK(one.per_user.at("sampled_hr@2")[1] == 1);
  // 3 per test item: 6 negatives for user 0 -> first hit at rank 7.
  const EvalOutput three = run_sampled(by_id, {{}, {}}, {{0, 1}, {5}}, 3, {8});
  CHECK(three.per_user.at("sampled_mrr@8")[0] == Approx(1.0 / 7));
  // Capped at the eligible items: 30 - 2 = 28 negatives at most -> rank 29.
  const EvalOutput capped = run_sampled(by_id, {{}, {}}, {{0, 1}, {5}}, 100, {30});
  CHECK(capped.per_user.at("sampled_mrr@30")[0] == Approx(1.0 / 29));
  CHECK(capped.per_user.at("sampled_mrr@30")[1] == Approx(1.0 / 25));  // items 6..29 above 5
}

TEST_CASE("sampled protocol: negatives avoid training and test items and follow the seed",
          "[eval][sampled]") {
  // 200 items; the user trains on 150..199, scored highest, and holds out
  // 100 and 101, scored next. A training item drawn as a negative would
  // outrank them, a test item drawn as a negative would count twice.
  std::vector<float> scores(200);
  for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = i >= 150 ? 1000.0f : static_cast<float>(i);
  scores[100] = 501;
  scores[101] = 500;
  IdRows train(1);
  for (ItemId i = 150; i < 200; ++i) train[0].push_back(i);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    // 2 x 70 = 140 of the 148 eligible items: nearly all of them.
    const EvalOutput out = run_sampled(scores, train, {{100, 101}}, 70, {2, 200}, seed);
    CHECK(out.per_user.at("sampled_recall@2")[0] == 1);
    CHECK(out.per_user.at("sampled_recall@200")[0] == 1);
    CHECK(out.per_user.at("sampled_ndcg@200")[0] == Approx(1.0));
  }
  // Scores by id, the same training items, test item 100: its rank is 1 +
  // the number of negatives drawn from 101..149, which moves with the draw.
  std::vector<float> by_id(200);
  for (std::size_t i = 0; i < by_id.size(); ++i) by_id[i] = static_cast<float>(i);
  std::vector<double> mrr;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    const double r = run_sampled(by_id, train, {{100}}, 99, {100}, seed).per_user.at("sampled_mrr@100")[0];
    REQUIRE(r > 0);
    CHECK(1 / r <= 50);  // at most the 49 items 101..149 above it
    // The same seed draws the same negatives.
    CHECK(run_sampled(by_id, train, {{100}}, 99, {100}, seed).per_user.at("sampled_mrr@100")[0] == r);
    mrr.push_back(r);
  }
  // Different trial seeds draw different negatives (fixed draws: this tests
  // that the trial seed reaches the sampler, not chance).
  CHECK(std::adjacent_find(mrr.begin(), mrr.end(), std::not_equal_to<>()) != mrr.end());
}

TEST_CASE("sampled protocol: a cutoff beyond the candidates keeps hits / k", "[eval][sampled]") {
  // 5 items, test {3}, 2 negatives per test item; the list holds 3
  // candidates at most, k = 1000 still divides precision by k.
  const EvalOutput out = run_sampled({0.1f, 0.2f, 0.3f, 0.9f, 0.5f}, {{}}, {{3}}, 2, {1000});
  CHECK(out.per_user.at("sampled_hr@1000")[0] == 1);
  CHECK(out.per_user.at("sampled_mrr@1000")[0] == 1);
  CHECK(out.per_user.at("sampled_precision@1000")[0] == Approx(1e-3));
}

TEST_CASE("sampled protocol: without ties it never ranks a test item lower than the full ranking",
          "[eval][sampled]") {
  // Ties aside (the full ranking gives them to the smaller id, the sampled
  // one to the negative), the sampled candidates are a subset of the full
  // ones in the same order, so every test item ranks at least as high.
  std::mt19937 gen(99);
  constexpr int kUsers = 40, kItems = 200;
  std::vector<float> scores(kItems);
  std::iota(scores.begin(), scores.end(), 0.0f);
  std::shuffle(scores.begin(), scores.end(), gen);  // distinct: no ties
  IdRows train(kUsers), test(kUsers);
  for (auto u = 0; u < kUsers; ++u)
    for (ItemId i = 0; i < kItems; ++i) {
      const unsigned r = gen() % 12;
      if (r == 0) train[static_cast<std::size_t>(u)].push_back(i);
      else if (r == 1) test[static_cast<std::size_t>(u)].push_back(i);
    }
  const EvalOutput out = run_sampled(scores, train, test, 3, {5, 20});
  REQUIRE(out.users.size() > 30);
  for (const char* m : {"recall@5", "recall@20", "ndcg@20", "mrr@20"}) {
    const auto& full = out.per_user.at(m);
    const auto& sampled = out.per_user.at(std::string("sampled_") + m);
    for (std::size_t i = 0; i < full.size(); ++i) {
      INFO(m << " user " << out.users[i]);
      CHECK(sampled[i] >= full[i] - 1e-12);
    }
  }
}

TEST_CASE("sampled protocol: thousands of negatives per user stay distinct and eligible",
          "[eval][sampled]") {
  // 20000 of 99996 eligible items: the rejection path (fewer than 1/4 wanted).
  const std::vector<ItemId> seen = {3, 70000}, rel = {5, 99999};
  std::vector<ItemId> out(20000);
  Rng rng(derive_seed(9, "sampled", 0));
  REQUIRE(eval_detail::sample_negatives(rng, 100000, seen, rel, out.size(), out.data()) == out.size());
  std::vector<ItemId> sorted = out;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  for (const ItemId i : {3, 5, 70000, 99999}) CHECK_FALSE(std::binary_search(sorted.begin(), sorted.end(), i));
  CHECK(sorted.front() >= 0);
  CHECK(sorted.back() < 100000);
}

TEST_CASE("sampled protocol: users scored in several blocks match the full ranking",
          "[eval][sampled]") {
  // 45 users x 100000 items, every eligible item drawn: 4.5M candidates,
  // more than one scoring block (2^22). Scores are the ids (no ties), so the
  // sampled lists are the full ones and every value must agree, user by
  // user. User u holds out 50 (a miss) and t(u) = 99999 - 3u and trains on
  // every other user's t(v): so the 3u items above t(u) less the u of those
  // that are t(v) put t(u) at rank 2u + 1, and another user's list misses it.
  constexpr int kItems = 100000, kUsers = 45;
  std::vector<float> scores(kItems);
  std::iota(scores.begin(), scores.end(), 0.0f);
  const auto t = [](int u) { return static_cast<ItemId>(kItems - 1 - 3 * u); };
  IdRows train(kUsers), test(kUsers);
  for (int u = 0; u < kUsers; ++u) {
    for (int v = kUsers - 1; v >= 0; --v)
      if (v != u) train[static_cast<std::size_t>(u)].push_back(t(v));  // ascending ids
    test[static_cast<std::size_t>(u)] = {50, t(u)};
  }
  const EvalOutput out = run_sampled(scores, train, test, kItems, {200});
  REQUIRE(out.users.size() == static_cast<std::size_t>(kUsers));
  for (const char* m : {"mrr@200", "ndcg@200", "recall@200"})
    CHECK(out.per_user.at(std::string("sampled_") + m) == out.per_user.at(m));
  for (int u = 0; u < kUsers; ++u)
    CHECK(out.per_user.at("sampled_mrr@200")[static_cast<std::size_t>(u)] == Approx(1.0 / (2 * u + 1)));
}
