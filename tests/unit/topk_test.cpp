// The shared top-k routine against std::partial_sort with the same order
// (score descending, NaN as -inf, ties by smaller item id).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "recfuse/topk.hpp"

using namespace recfuse;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Result {
  std::vector<ItemId> items;
  std::vector<float> scores;
  int n = 0;
};

/// Reference: sort every candidate with partial_sort, then pad.
Result reference(const std::vector<float>& scores, const std::vector<ItemId>& ids, int k) {
  std::vector<std::pair<float, ItemId>> c;
  for (std::size_t j = 0; j < ids.size(); ++j)
    c.emplace_back(std::isnan(scores[j]) ? -kInf : scores[j], ids[j]);
  const auto take = std::min<std::size_t>(static_cast<std::size_t>(k), c.size());
  std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(take), c.end(),
                    [](const auto& a, const auto& b) {
                      return a.first > b.first || (a.first == b.first && a.second < b.second);
                    });
  Result r;
  r.n = static_cast<int>(take);
  for (int j = 0; j < k; ++j) {
    const bool real = static_cast<std::size_t>(j) < take;
    r.items.push_back(real ? c[j].second : kNoItem);
    r.scores.push_back(real ? c[j].first : -kInf);
  }
  return r;
}

std::vector<float> random_scores(std::mt19937& gen, int n) {
  std::vector<float> s(static_cast<std::size_t>(n));
  for (auto& x : s) {
    const unsigned r = gen() % 16;
    if (r == 0) x = std::numeric_limits<float>::quiet_NaN();
    else if (r == 1) x = -kInf;
    else if (r == 2) x = kInf;
    else x = static_cast<float>(gen() % 9) - 4.0f;  // few distinct values: many ties
  }
  return s;
}

void check_same(const Result& got, const Result& want) {
  CHECK(got.n == want.n);
  CHECK(got.items == want.items);
  REQUIRE(got.scores.size() == want.scores.size());
  for (std::size_t j = 0; j < got.scores.size(); ++j) CHECK(got.scores[j] == want.scores[j]);
}

}  // namespace

TEST_CASE("topk_exclude matches partial_sort on random rows", "[unit][topk]") {
  std::mt19937 gen(12345);
  for (int trial = 0; trial < 500; ++trial) {
    const int n = static_cast<int>(gen() % 50);
    const int k = static_cast<int>(gen() % 60);  // includes k = 0 and k > n
    const auto scores = random_scores(gen, n);
    std::vector<ItemId> exclude, kept;
    std::vector<float> kept_scores;
    for (ItemId i = 0; i < n; ++i) {
      if (gen() % 4 == 0) {
        exclude.push_back(i);
      } else {
        kept.push_back(i);
        kept_scores.push_back(scores[static_cast<std::size_t>(i)]);
      }
    }
    Result got;
    got.items.assign(static_cast<std::size_t>(k), 12345);
    got.scores.assign(static_cast<std::size_t>(k), 1.0f);
    got.n = topk_exclude(scores.data(), n, exclude, k, got.items.data(), got.scores.data());
    INFO("trial " << trial << " n " << n << " k " << k);
    check_same(got, reference(kept_scores, kept, k));
  }
}

TEST_CASE("topk_candidates matches partial_sort on shuffled candidates", "[unit][topk]") {
  std::mt19937 gen(777);
  for (int trial = 0; trial < 500; ++trial) {
    const int n_items = 1 + static_cast<int>(gen() % 80);
    std::vector<ItemId> all(static_cast<std::size_t>(n_items));
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), gen);
    const auto m = static_cast<std::size_t>(gen() % (all.size() + 1));
    const std::vector<ItemId> candidates(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m));
    const auto scores = random_scores(gen, static_cast<int>(m));
    const int k = static_cast<int>(gen() % 40);
    Result got;
    got.items.assign(static_cast<std::size_t>(k), 0);
    got.scores.assign(static_cast<std::size_t>(k), 0.0f);
    got.n = topk_candidates(scores.data(), candidates, k, got.items.data(), got.scores.data());
    INFO("trial " << trial << " m " << m << " k " << k);
    check_same(got, reference(scores, candidates, k));
  }
}

TEST_CASE("topk: ties broken by smaller id, NaN last, padding with kNoItem", "[unit][topk]") {
  const std::vector<float> s = {1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f, 1.0f, 2.0f};
  std::vector<ItemId> items(7);
  std::vector<float> scores(7);
  const int n = topk_exclude(s.data(), 5, std::vector<ItemId>{3}, 7, items.data(), scores.data());
  CHECK(n == 4);
  CHECK(items == std::vector<ItemId>{2, 4, 0, 1, kNoItem, kNoItem, kNoItem});
  CHECK(scores[0] == 2.0f);
  CHECK(scores[2] == 1.0f);
  CHECK(scores[3] == -kInf);  // the NaN item, ranked as -inf
  CHECK(scores[4] == -kInf);  // padding
}

TEST_CASE("topk: k = 0 writes nothing, every item excluded pads all", "[unit][topk]") {
  const std::vector<float> s = {3, 2, 1};
  ItemId sentinel_item = 99;
  float sentinel_score = 5;
  CHECK(topk_exclude(s.data(), 3, {}, 0, &sentinel_item, &sentinel_score) == 0);
  CHECK(sentinel_item == 99);
  CHECK(sentinel_score == 5);
  // (buffers larger than k: GCC 12 -Warray-bounds misfires on exact-size ones)
  std::vector<ItemId> items(4, 7);
  std::vector<float> scores(4, 7);
  CHECK(topk_exclude(s.data(), 3, std::vector<ItemId>{0, 1, 2}, 2, items.data(), scores.data()) == 0);
  CHECK(items == std::vector<ItemId>{kNoItem, kNoItem, 7, 7});  // only k entries written
  CHECK(scores[1] == -kInf);
  CHECK(topk_candidates(s.data(), {}, 3, items.data(), scores.data()) == 0);
  CHECK(items == std::vector<ItemId>{kNoItem, kNoItem, kNoItem, 7});
}
