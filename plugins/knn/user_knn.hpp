// User-based kNN (Herlocker, Konstan, Borchers & Riedl, "An algorithmic
// framework for performing collaborative filtering", SIGIR 1999), in its
// top-N form: unnormalised weighted sum over the user's neighbourhood.
//
//   [algorithms.uknn]
//   plugin = "user_knn"
//   params = { neighbors = 50, similarity = "cosine" }
//
// Fit: user–user similarities over the (weighted) users x items matrix; each
// user u keeps its `neighbors` most similar users N_k(u) (neighbours.hpp).
// Score: s(u, i) = Σ_{v ∈ N_k(u)} sim(u, v) · r_vi. Scoring a user costs
// O(Σ_{v ∈ N_k(u)} |I_v|). An item no v ∈ N_k(u) rated has no evidence:
// `fallback` (fallback.hpp). explain names the terms of that sum: how many
// v ∈ N_k(u) rated i, and the (at most two) contributing most.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "knn_io.hpp"
#include "knn_params.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

class UserKnnRecommender final : public Recommender {
 public:
  explicit UserKnnRecommender(const ParamSet& p) : opts_(knn_options(p)), fallback_(knn_fallback(p)) {}

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_item.rows != data.n_items || data.by_user.rows != data.n_users)
      throw Error("user_knn: training matrices do not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    model_ = build_neighbours(data.by_user, data.by_item, opts_);
    history_.assign(data.by_user, opts_.implicit);
    labels_.clear();
    for (UserId u = 0; u < data.n_users; ++u) labels_.push_back(user_label(data, u));
    fit_fallback();
    std::int32_t lone = 0;  // users without neighbours (a neighbour shares an item, so rated one)
    for (UserId u = 0; u < data.n_users; ++u) lone += model_.row(u).empty();
    ctx.log("user_knn: kept " + std::to_string(model_.ids.size()) + " neighbour pairs for " +
            std::to_string(data.n_users) + " users; " + std::to_string(lone) + " have no neighbour evidence");
  }

  /// out: users.size() x n_items, row-major; parallel over users.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    score_two_level(users, static_cast<std::size_t>(n_items()), out, model_.indptr, model_.ids, model_.sims,
                    history_.indptr, history_.ids, history_.values, fallback_);
  }

  /// Pairwise scores, summed over neighbours in the same order as score_all
  /// (neighbours that did not rate the item add nothing there either).
  void score(std::span<const UserId> users, std::span<const ItemId> items,
             std::span<float> out) override {
    for (std::size_t p = 0; p < users.size(); ++p) {
      float s = 0.0f;
      bool evidenced = false;
      const UserId u = users[p];
      for (std::int64_t a = model_.indptr[u]; a < model_.indptr[u + 1]; ++a)
        if (const auto rvi = rating(model_.ids[static_cast<std::size_t>(a)], items[p])) {
          s += model_.sims[static_cast<std::size_t>(a)] * *rvi;
          evidenced = true;
        }
      out[p] = evidenced ? s : fallback_.score(floor(u), items[p]);
    }
  }

  std::size_t model_bytes() const override { return model_.bytes(); }

  /// kCapSaveLoad: the shape, the neighbour lists, the users' rated rows
  /// and how explain names the neighbours.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    knn_io::write_shape(w, n_users(), n_items());
    knn_io::write(w, model_);
    knn_io::write(w, history_);
    w.labels(labels_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "user_knn");
    const auto [users, items] = knn_io::read_shape(r);
    NeighbourLists model = knn_io::read_neighbours(r);
    RatedRows history = knn_io::read_history(r);
    std::vector<std::string> labels = r.labels(users, "the user label count", "user", "a user label");
    r.finish();
    knn_io::check_neighbours(r, model, users);
    knn_io::check_history(r, history, users, items);
    model_ = std::move(model);
    history_ = std::move(history);
    labels_ = std::move(labels);
    set_shape(users, items);
    fit_fallback();
  }

  /// "2 of your 3 nearest neighbours interacted with it: user 196 (similarity
  /// 0.82), user 42 (similarity 0.50)", users named by their dataset ids
  /// (user_label): the terms sim(u, v) · r_vi of s(u,
  /// item), counted, and the (at most two) largest positive ones named with
  /// sim(u, v). An item without evidence that the fallback ranked says so,
  /// with the popularity it was ranked by.
  std::string explain(UserId u, ItemId item) override {
    std::vector<std::pair<float, std::size_t>> parts;  // (−term, its slot in u's neighbour row)
    std::int32_t rated = 0;  // terms of the sum: neighbours who rated the item
    const auto a0 = static_cast<std::size_t>(model_.indptr[u]), a1 = static_cast<std::size_t>(model_.indptr[u + 1]);
    for (std::size_t a = a0; a < a1; ++a) {
      const auto rvi = rating(model_.ids[a], item);
      if (!rvi) continue;
      ++rated;
      if (const float c = model_.sims[a] * *rvi; c > 0.0f) parts.emplace_back(-c, a);
    }
    const std::size_t k = a1 - a0;
    const std::string nearest =
        "your " + std::to_string(k) + (k == 1 ? " nearest neighbour" : " nearest neighbours");
    if (rated == 0 && fallback_.enabled())
      return (k == 0 ? std::string("you have no nearest neighbours")
                     : "no user among " + nearest + " interacted with it") +
             "; " + fallback_.reason(item);
    if (parts.empty()) return {};
    std::sort(parts.begin(), parts.end());  // largest contribution first, then smaller id (rows sort by id)
    std::string text = std::to_string(rated) + " of " + nearest + " interacted with it: ";
    for (std::size_t p = 0; p < parts.size() && p < 2; ++p) {
      const std::size_t a = parts[p].second;
      const auto v = static_cast<std::size_t>(model_.ids[a]);
      text += (p > 0 ? ", " : "") + (v < labels_.size() ? labels_[v] : "user " + std::to_string(v)) + " (similarity " +
              two_decimals(model_.sims[a]) + ")";
    }
    return text;
  }

 private:
  /// Locale-independent fixed-point text with two decimals.
  static std::string two_decimals(float x) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, 2);
    return std::string(buf, res.ptr);
  }
  /// r_vi if v rated i, else nothing.
  std::optional<float> rating(std::int32_t v, ItemId i) const {
    const auto first = history_.ids.begin() + history_.indptr[v];
    const auto last = history_.ids.begin() + history_.indptr[v + 1];
    const auto it = std::lower_bound(first, last, i);
    if (it == last || *it != i) return std::nullopt;
    return history_.values[static_cast<std::size_t>(it - history_.ids.begin())];
  }
  /// Popularity from the rated rows; u's terms are its neighbours' rated rows.
  void fit_fallback() { fallback_.fit(history_.ids, n_items(), history_.indptr, history_.values); }
  double floor(UserId u) const { return fallback_.floor(model_.row(u), model_.row_sims(u)); }

  NeighbourOptions opts_;
  PopularityFallback fallback_;
  NeighbourLists model_;  // row u: u's top-k users
  RatedRows history_;     // by_user copy: r_vi
  std::vector<std::string> labels_;  // user_label of each user, for explain
};

}  // namespace recfuse
