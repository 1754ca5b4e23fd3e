// Helpers of the rating_blend tests (test_rating_blend*.cpp): a child that
// predicts ratings from a fixed table and records what each fit handed it,
// and rating tasks whose validation ratings follow a chosen rule.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "plugins/fusion/rating_blend.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::test {

using Table = std::vector<std::vector<float>>;

/// Predicts ratings from a fixed table and records the number of training
/// ratings of every fit, so a test can see what a refit handed it.
class TableRater final : public Recommender {
 public:
  explicit TableRater(Table t) : t_(std::move(t)) {}
  void fit(const TrainData& d, const FitContext&) override {
    set_shape(d.n_users, d.n_items);
    fitted_on.push_back(d.by_user.nnz());
    last_validation_nnz = d.validation.nnz();
  }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy_n(t_[static_cast<std::size_t>(users[r])].begin(), n, out.begin() + static_cast<std::ptrdiff_t>(r * n));
  }
  void predict_rating(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    for (std::size_t j = 0; j < users.size(); ++j)
      out[j] = t_[static_cast<std::size_t>(users[j])][static_cast<std::size_t>(items[j])];
  }
  std::size_t model_bytes() const override { return 8; }
  std::vector<std::int64_t> fitted_on;
  std::int64_t last_validation_nnz = -1;

 private:
  Table t_;
};

/// A fitted TableRater handed over as the host would: kCapPredictRating.
inline Child rater(const std::string& name, Table t, const TrainData& d, std::shared_ptr<TableRater>* keep = nullptr) {
  auto m = std::make_shared<TableRater>(std::move(t));
  m->fit(d, FitContext{});
  if (keep) *keep = m;
  return Child{name, "table", kCapPredictRating, m};
}

/// n_users x n_items of uniform values in [lo, hi).
inline Table uniform_table(int n_users, int n_items, double lo, double hi, std::uint64_t seed) {
  Rng rng(seed);
  Table t(static_cast<std::size_t>(n_users), std::vector<float>(static_cast<std::size_t>(n_items)));
  for (auto& row : t)
    for (float& v : row) v = static_cast<float>(rng.uniform(lo, hi));
  return t;
}

/// Training rows of 2..21 ratings in 1..5 (at most n_items - per_user; so
/// the log-count meta-features vary), plus `per_user` validation pairs outside them whose ratings come
/// from `truth(u, i)`. Timestamps are distinct.
template <class Truth>
TrainData task(int n_users, int n_items, int per_user, Truth&& truth, std::vector<Interaction>* all = nullptr) {
  Rng rng(17);
  std::vector<Interaction> train, val;
  std::int64_t time = 1'000'000'000;
  for (UserId u = 0; u < n_users; ++u) {
    const int n = std::min(2 + u % 20, n_items - per_user);
    std::set<ItemId> seen;
    while (static_cast<int>(seen.size()) < n + per_user) seen.insert(static_cast<ItemId>(rng.below(n_items)));
    int k = 0;
    for (ItemId i : seen) {
      time += 1 + static_cast<std::int64_t>(rng.below(1000));
      if (k++ < n) train.push_back({u, i, static_cast<float>(1 + rng.below(5)), time});
      else val.push_back({u, i, static_cast<float>(truth(u, i)), time});
    }
  }
  TrainData d = make_train_data(n_users, n_items, train, true);
  d.validation = make_train_data(n_users, n_items, val, true).by_user;
  if (all) {
    *all = train;
    all->insert(all->end(), val.begin(), val.end());
  }
  return d;
}

inline double weight_of(const RatingBlend& b, const std::string& feature) {
  const auto& names = b.feature_names();
  const auto at = std::find(names.begin(), names.end(), feature);
  REQUIRE(at != names.end());
  return b.coefficients()[static_cast<std::size_t>(at - names.begin())];
}

}  // namespace recfuse::test
