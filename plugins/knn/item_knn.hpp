// Item-based kNN for top-N recommendation (Deshpande & Karypis, "Item-based
// top-N recommendation algorithms", TOIS 2004, §3; the model of implicit's
// ItemItemRecommender).
//
//   [algorithms.iknn]
//   plugin = "item_knn"
//   params = { neighbors = 50, similarity = "cosine", weighting = "bm25" }
//
// Fit: item–item similarities over the (weighted) items x users matrix; each
// item j keeps its `neighbors` most similar items S_k(j) (neighbours.hpp).
// Score: s(u, i) = Σ_{j ∈ I_u} r_uj · sim(j, i) · [i ∈ S_k(j)],
// i.e. the user's rows of the sparse model summed, as in implicit's
// `user_items · similarity`. Scoring a user costs O(|I_u| · k). An item no
// j ∈ I_u keeps as a neighbour has no evidence: `fallback` (fallback.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "knn_io.hpp"
#include "knn_params.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

class ItemKnnRecommender final : public Recommender {
 public:
  explicit ItemKnnRecommender(const ParamSet& p) : opts_(knn_options(p)), fallback_(knn_fallback(p)) {}

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_item.rows != data.n_items || data.by_user.rows != data.n_users)
      throw Error("item_knn: training matrices do not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    model_ = build_neighbours(data.by_item, data.by_user, opts_);
    history_.assign(data.by_user, opts_.implicit);
    titles_ = item_labels(data);
    fit_fallback();
    std::int32_t lone = 0;  // users none of whose items has a neighbour
    for (UserId u = 0; u < data.n_users; ++u) {
      const auto items = history_.row(u);
      lone += std::none_of(items.begin(), items.end(), [&](std::int32_t j) { return !model_.row(j).empty(); });
    }
    ctx.log("item_knn: kept " + std::to_string(model_.ids.size()) + " neighbour pairs for " +
            std::to_string(data.n_items) + " items; " + std::to_string(lone) + " of " +
            std::to_string(data.n_users) + " users have no neighbour evidence");
  }

  /// out: users.size() x n_items, row-major; parallel over users.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    score_two_level(users, static_cast<std::size_t>(n_items()), out, history_.indptr, history_.ids, history_.values,
                    model_.indptr, model_.ids, model_.sims, fallback_);
  }

  /// Pairwise scores in the same summation order as score_all, so they agree
  /// exactly (terms of non-neighbours add nothing there either).
  void score(std::span<const UserId> users, std::span<const ItemId> items,
             std::span<float> out) override {
    for (std::size_t p = 0; p < users.size(); ++p) {
      float s = 0.0f;
      bool evidenced = false;
      for (std::int64_t a = history_.indptr[users[p]]; a < history_.indptr[users[p] + 1]; ++a)
        if (const auto sim = model_.lookup(history_.ids[static_cast<std::size_t>(a)], items[p])) {
          s += history_.values[static_cast<std::size_t>(a)] * *sim;
          evidenced = true;
        }
      out[p] = evidenced ? s : fallback_.score(floor(users[p]), items[p]);
    }
  }

  std::size_t model_bytes() const override { return model_.bytes(); }

  /// kCapSaveLoad: the shape, the neighbour lists, the users' rated rows and the titles.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    knn_io::write_shape(w, n_users(), n_items());
    knn_io::write(w, model_);
    knn_io::write(w, history_);
    w.titles(titles_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "item_knn");
    const auto [users, items] = knn_io::read_shape(r);
    NeighbourLists model = knn_io::read_neighbours(r);
    RatedRows history = knn_io::read_history(r);
    std::vector<std::string> titles = r.titles(items);
    r.finish();
    knn_io::check_neighbours(r, model, items);
    knn_io::check_history(r, history, users, items);
    model_ = std::move(model);
    history_ = std::move(history);
    titles_ = std::move(titles);
    set_shape(users, items);
    fit_fallback();
  }

  /// "because you interacted with A, B, C": the (at most three) training
  /// items contributing most to s(u, item). An item without evidence that
  /// the fallback ranked says so, with the popularity it was ranked by.
  std::string explain(UserId u, ItemId item) override {
    std::vector<std::pair<float, std::int32_t>> parts;
    bool evidenced = false;
    for (std::int64_t a = history_.indptr[u]; a < history_.indptr[u + 1]; ++a) {
      const std::int32_t j = history_.ids[static_cast<std::size_t>(a)];
      const auto sim = model_.lookup(j, item);
      evidenced = evidenced || sim.has_value();
      const float c = history_.values[static_cast<std::size_t>(a)] * sim.value_or(0.0f);
      if (c > 0.0f) parts.emplace_back(-c, j);
    }
    if (!evidenced && fallback_.enabled())
      return "no item you interacted with has it as a neighbour; " + fallback_.reason(item);
    if (parts.empty()) return {};
    std::sort(parts.begin(), parts.end());  // largest contribution first, then smaller id
    std::string text = "because you interacted with ";
    for (std::size_t k = 0; k < parts.size() && k < 3; ++k) {
      if (k > 0) text += ", ";
      const auto j = static_cast<std::size_t>(parts[k].second);
      text += j < titles_.size() && !titles_[j].empty() ? titles_[j]
                                                        : "item " + std::to_string(j);
    }
    return text;
  }

 private:
  /// Popularity from the rated rows; u's terms are its items' neighbour rows.
  void fit_fallback() { fallback_.fit(history_.ids, n_items(), model_.indptr, model_.sims); }
  double floor(UserId u) const { return fallback_.floor(history_.row(u), history_.row_values(u)); }

  NeighbourOptions opts_;
  PopularityFallback fallback_;
  NeighbourLists model_;     // row j: j's top-k items
  RatedRows history_;        // by_user copy: I_u and r_uj
  std::vector<std::string> titles_;  // item_labels (title, else dataset id), for explain
};

}  // namespace recfuse
