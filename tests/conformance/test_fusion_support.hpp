// Helpers of the fusion tests: a child with fixed, hand-chosen scores, one
// that observes, saves, explains and counts the rows it scores (Shifting),
// building a strategy from its plugin header with validated parameters, and
// training data with a validation part (what learned strategies fit on).
#pragma once

#include <algorithm>
#include <istream>
#include <map>
#include <ostream>
#include <memory>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::test {

/// scores[u][i] for every user and item; score() overridden so a cascade's
/// re-ranker can count the pairs it was asked for.
class FixedScores final : public Recommender {
 public:
  explicit FixedScores(std::vector<std::vector<float>> s) : s_(std::move(s)) {}
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy_n(s_[static_cast<std::size_t>(users[r])].begin(), n, out.begin() + static_cast<std::ptrdiff_t>(r * n));
  }
  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    pairs_scored += static_cast<std::int64_t>(items.size());
    for (std::size_t j = 0; j < items.size(); ++j)
      out[j] = s_[static_cast<std::size_t>(users[j])][static_cast<std::size_t>(items[j])];
  }
  std::size_t model_bytes() const override { return 100; }
  std::int64_t pairs_scored = 0;

 private:
  std::vector<std::vector<float>> s_;
};

using Rows = std::vector<std::vector<float>>;

/// base[u][i] + shift · ((7 i) mod 5), shift growing by 1 with every
/// observe (kCapObserve) and saved (kCapSaveLoad); counts the user rows it
/// scores; explains (kCapExplain) as "<word> for user u item i".
class Shifting final : public Recommender {
 public:
  Shifting(Rows base, int shift, std::string word = "") : base_(std::move(base)), shift_(shift), word_(std::move(word)) {}
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    rows_scored += static_cast<std::int64_t>(users.size());
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t r = 0; r < users.size(); ++r)
      for (std::size_t i = 0; i < n; ++i)
        out[r * n + i] = base_[static_cast<std::size_t>(users[r])][i] + static_cast<float>(shift_ * ((7 * i) % 5));
  }
  void observe(const Feedback&) override { ++shift_; }
  void save(std::ostream& out) const override { out << n_users() << ' ' << n_items() << ' ' << shift_; }
  void load(std::istream& in) override {
    std::int32_t users = 0, items = 0;
    in >> users >> items >> shift_;
    set_shape(users, items);
  }
  std::size_t model_bytes() const override { return 0; }
  std::string explain(UserId u, ItemId i) override {
    return word_ + " for user " + std::to_string(u) + " item " + std::to_string(i);
  }
  std::int64_t rows_scored = 0;

 private:
  Rows base_;
  int shift_;
  std::string word_;
};

inline Rows random_rows(const TrainData& d, std::uint64_t seed) {
  Rng rng(seed);
  Rows s(static_cast<std::size_t>(d.n_users), std::vector<float>(static_cast<std::size_t>(d.n_items)));
  for (auto& row : s)
    for (float& v : row) v = static_cast<float>(rng.uniform(0, 1));
  return s;
}

inline Child fixed_child(const std::string& name, std::vector<std::vector<float>> scores, const TrainData& d) {
  auto m = std::make_shared<FixedScores>(std::move(scores));
  m->fit(d, FitContext{});
  return Child{name, "fixed", 0, m};
}

/// A strategy T built with its declared defaults overridden by `values`,
/// handed `children` and fitted on `d`.
template <typename T>
std::unique_ptr<T> make_fused(const std::map<std::string, ParamValue>& values, std::vector<Child> children,
                              const TrainData& d, std::uint64_t seed = 1) {
  auto m = std::make_unique<T>(validate_params(T::params(), values, {}, "", "test"));
  m->set_children(std::move(children));
  FitContext ctx;
  ctx.seed = seed;
  m->fit(d, ctx);
  return m;
}

/// Scores of `u` over every item, from score_all.
inline std::vector<float> row_of(Recommender& r, UserId u) {
  std::vector<float> out(static_cast<std::size_t>(r.n_items()));
  const UserId users[] = {u};
  r.score_all(users, out);
  return out;
}

/// Top-k items of `u` with `d`'s training rows excluded.
inline std::vector<ItemId> top_of(Recommender& r, UserId u, int k, const TrainData& d) {
  std::vector<ItemId> items(static_cast<std::size_t>(k));
  std::vector<float> scores(items.size());
  const UserId users[] = {u};
  r.recommend(users, k, SparseRowsView::of(d.by_user), items, scores);
  return items;
}

/// The hand-worked examples' data (test_fusion_hand.cpp's header): user 0 trained on
/// item 4; user 1 on items 0, 1, 2 (a longer history, for switching).
inline TrainData hand_data() { return make_train_data(2, 5, {{0, 4}, {1, 0}, {1, 1}, {1, 2}}, false); }

/// Children A and B of the hand-worked examples, over hand_data().
inline std::vector<Child> two_children(const TrainData& d) {
  return {fixed_child("A", {{3, 2, 2, 1, 9}, {1, 1, 1, 1, 1}}, d),
          fixed_child("B", {{0, 5, 1, 4, 0}, {5, 4, 3, 2, 1}}, d)};
}

/// synthetic_train_data plus one validation item per user (not in
/// training); with `rated`, explicit validation ratings 1..5 (rating_blend
/// fits on them), else 1.
inline TrainData data_with_validation(bool rated = false) {
  TrainData d = synthetic_train_data();
  std::vector<Interaction> val;
  Rng rng(3);
  for (UserId u = 0; u < d.n_users; ++u) {
    const auto row = d.by_user.row(u);
    for (;;) {
      const auto i = static_cast<ItemId>(rng.below(static_cast<std::uint64_t>(d.n_items)));
      if (std::binary_search(row.begin(), row.end(), i)) continue;
      val.push_back({u, i, rated ? static_cast<float>(1 + rng.below(5)) : 1.0f});
      break;
    }
  }
  d.validation = make_train_data(d.n_users, d.n_items, val, rated).by_user;
  return d;
}

}  // namespace recfuse::test
