// Cascade (retrieval -> ranking), as two-stage production recommenders do
// (Covington, Adams & Sargin, "Deep neural networks for YouTube
// recommendations", RecSys 2016, §3-4): child 0 retrieves each user's top
// `candidates` items (training items excluded), child 1 re-scores only those
// (user, item) pairs with score(), and the top k of the re-scored list is the
// answer. The re-ranker never scores the rest of the catalogue. A recommend
// with k above `candidates` retrieves k, so that the list can be full;
// score_all, which has no k, re-ranks `candidates` items.
//
//   [[algorithms]]
//   name = "cascade"
//   plugin = "cascade"
//   params = { candidates = 100 }
//   [[algorithms.children]]   # child 0: retrieval (cheap, high recall)
//   plugin = "item_knn"
//   [[algorithms.children]]   # child 1: ranking
//   plugin = "fm"
//
// score_all (used for AUC) keeps the same order: candidates carry their
// re-ranker score; every other item gets m − 2 + ŝ_0(i), m the user's lowest
// candidate score and ŝ_0 child 0's min-max normalised score, so it ranks
// below every candidate and in child 0's order among the rest. Acting as a
// policy, child 0 retrieves from the step's candidates (training items
// included), its top min(candidates, c) of them, and the rest are placed the
// same way. Over an rl child (whose scores follow a user's open session), child
// 0 sees each row's own session, but child 1 re-ranks through score(), one
// user at a time, so a user with several open sessions is re-ranked in the
// first one's state (plugins/rl/session_book.hpp).
// diagnostics(): retrieval_recall = recall@candidates of child 0 on the
// validation items (measured in fit); retrieval_ms_per_user and
// rerank_ms_per_user, accumulated inside recommend over every call since
// fit; full_rerank_ms_per_user, cascade_ms_per_user and speedup_vs_full_rerank,
// timed once in fit on up to 256 users (child 1's own full-catalogue
// recommend vs this cascade, both for k = 10).
// explain says whether child 0 retrieved the item (its rank among u's
// candidates, as score_all retrieves) and child 1's score and reason, or
// child 0's reason for an item it did not retrieve (fusion_explain.hpp).
#pragma once

#include <chrono>
#include <cmath>

#include "fusion_common.hpp"
#include "fusion_explain.hpp"
#include "recfuse/params.hpp"
#include "recfuse/ranking_metrics.hpp"

namespace recfuse {

class Cascade final : public FusionStrategy {
 public:
  explicit Cascade(const ParamSet& p)
      : FusionStrategy("cascade"), candidates_(static_cast<int>(p.get_int("candidates"))) {}

  static std::vector<ParamSpec> params() {
    return {ParamSpec::integer("candidates", 100, 1, 1e9, "items child 0 retrieves for child 1 to re-rank")};
  }

  void fit(const TrainData& data, const FitContext& ctx);

  void recommend(std::span<const UserId> users, int k, SparseRowsView exclude,
                 std::span<ItemId> out_items, std::span<float> out_scores) override {
    using clock = std::chrono::steady_clock;
    const int nc = std::min(std::max(candidates_, k), n_items());
    const auto ncs = static_cast<std::size_t>(nc), kk = static_cast<std::size_t>(k);
    const auto t0 = clock::now();
    cand_items_.resize(users.size() * ncs);
    cand_scores_.resize(cand_items_.size());
    children_[0].model->recommend(users, nc, exclude, cand_items_, cand_scores_);
    const auto t1 = clock::now();
    start_pairs(users.size());
    for (std::size_t r = 0; r < users.size(); ++r) add_pairs(r, users[r], cand_items_.data() + r * ncs, ncs);
    rerank();
    for (std::size_t r = 0; r < users.size(); ++r) {
      const std::size_t a = offsets_[r], b = offsets_[r + 1];
      topk_candidates(pair_scores_.data() + a, std::span<const ItemId>(pair_items_.data() + a, b - a), k,
                      out_items.data() + r * kk, out_scores.data() + r * kk);
    }
    const auto t2 = clock::now();
    retrieval_ms_ += std::chrono::duration<double, std::milli>(t1 - t0).count();
    rerank_ms_ += std::chrono::duration<double, std::milli>(t2 - t1).count();
    served_ += static_cast<std::int64_t>(users.size());
  }

  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    const int nc = std::min(candidates_, n_items());
    children_[0].model->score_all(users, out);
    top_.resize(static_cast<std::size_t>(nc));
    top_scores_.resize(top_.size());
    start_pairs(users.size());
    for (std::size_t r = 0; r < users.size(); ++r) {
      const int got = topk_exclude(out.data() + r * n, n_items(), train_.view().row(users[r]), nc, top_.data(),
                                   top_scores_.data());
      add_pairs(r, users[r], top_.data(), static_cast<std::size_t>(got));
    }
    rerank();
    for (std::size_t r = 0; r < users.size(); ++r) layer(r, out.data() + r * n);
  }

  std::size_t model_bytes() const override { return children_bytes(children_); }

  /// Where (u, i) stands: rank = its rank in child 0's top `candidates` of
  /// u's candidates (score_all's retrieval; 0 when not retrieved), score =
  /// child 1's score of the pair when retrieved, depth = the list's length.
  /// rank -1 when u or i is out of range.
  struct Parts {
    int rank = -1, depth = 0;
    float score = 0.0f;
  };
  Parts parts(UserId u, ItemId i) {
    Parts p;
    const auto depth = static_cast<std::size_t>(std::min(candidates_, n_items()));
    const auto retriever = std::span<const Child>(children_).first(1);
    const auto* e = explained_.get(retriever, u, i, n_users(), n_items(), [&](UserId v, float* rows, Explained& x) {
      x.top.resize(depth);
      x.top_scores.resize(depth);
      topk_exclude(rows, n_items(), train_.view().row(v), static_cast<int>(depth), x.top.data(), x.top_scores.data());
    });
    if (!e) return p;
    p.depth = static_cast<int>(depth);
    const auto at = std::find(e->state.top.begin(), e->state.top.end(), i);
    p.rank = at == e->state.top.end() ? 0 : static_cast<int>(at - e->state.top.begin()) + 1;
    if (p.rank > 0) {
      const UserId users[] = {u};
      const ItemId items[] = {i};
      children_[1].model->score(users, items, std::span<float>(&p.score, 1));
    }
    return p;
  }

  /// "retrieved by knn (rank 3 of its top 100), scored 0.83 by fm; fm:
  /// <fm's reason>", or "not retrieved by knn (not in its top 100): ranked
  /// below the re-ranked items in knn's order; knn: <knn's reason>".
  std::string explain(UserId u, ItemId i) override {
    const Parts p = parts(u, i);
    if (p.rank < 0) return {};
    const std::string& first = children_[0].name;
    const std::string top = "its top " + std::to_string(p.depth);
    if (p.rank == 0)
      return "not retrieved by " + first + " (not in " + top + "): ranked below the re-ranked items in " + first +
             "'s order" + child_reason(children_, 0, u, i);
    return "retrieved by " + first + " (rank " + std::to_string(p.rank) + " of " + top + "), scored " +
           fusion_number(p.score) + " by " + children_[1].name + child_reason(children_, 1, u, i);
  }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    const double per = served_ > 0 ? 1.0 / static_cast<double>(served_) : 0.0;
    std::vector<std::pair<std::string, double>> d;
    if (std::isfinite(retrieval_recall_)) d.emplace_back("retrieval_recall", retrieval_recall_);
    const std::vector<std::pair<std::string, double>> rest{
            {"retrieval_ms_per_user", retrieval_ms_ * per},
            {"rerank_ms_per_user", rerank_ms_ * per},
            {"full_rerank_ms_per_user", full_ms_per_user_},
            {"cascade_ms_per_user", cascade_ms_per_user_},
            {"speedup_vs_full_rerank", cascade_ms_per_user_ > 0 ? full_ms_per_user_ / cascade_ms_per_user_ : 0.0}};
    d.insert(d.end(), rest.begin(), rest.end());
    return d;
  }

 protected:
  /// kCapSaveLoad: the training rows (score_all's exclusions) and the
  /// figures measured in fit; the serving times start again from zero.
  void save_state(ModelWriter& w) const override {
    train_.save(w);
    w.value(retrieval_recall_);
    w.value(full_ms_per_user_);
    w.value(cascade_ms_per_user_);
  }
  void load_state(ModelReader& r, std::int32_t n_users, std::int32_t n_items) override {
    require_children(children_, 2, 2, "cascade");
    train_.load(r, n_users, n_items);
    retrieval_recall_ = r.value<double>("retrieval recall");
    full_ms_per_user_ = r.value<double>("full re-rank time");
    cascade_ms_per_user_ = r.value<double>("cascade time");
    retrieval_ms_ = rerank_ms_ = 0;
    served_ = 0;
  }
  void forget_explained() override { explained_.clear(); }

  /// Acting: child 0 retrieves each row's top min(candidates, c) of the
  /// step's candidates (all of them offered, training items included), child
  /// 1 re-ranks those, and the rest lie below in child 0's order, as in
  /// score_all. The catalogue's top `candidates` would leave most of a step's
  /// candidates to child 0 alone.
  void score_candidates(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                        std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items()), c = static_cast<std::size_t>(n_candidates);
    const int nc = std::min(candidates_, n_candidates);
    act_rows_.resize(users.size() * n);
    children_[0].model->score_all(users, act_rows_);  // the step's rows together (see the file comment)
    top_.resize(static_cast<std::size_t>(nc));
    top_scores_.resize(top_.size());
    child_.resize(c);
    start_pairs(users.size());
    for (std::size_t r = 0; r < users.size(); ++r) {
      const auto cands = candidates.subspan(r * c, c);
      for (std::size_t j = 0; j < c; ++j) child_[j] = act_rows_[r * n + static_cast<std::size_t>(cands[j])];
      const int got = topk_candidates(child_.data(), cands, nc, top_.data(), top_scores_.data());
      add_pairs(r, users[r], top_.data(), static_cast<std::size_t>(got));
    }
    rerank();
    for (std::size_t r = 0; r < users.size(); ++r) {
      float* row = act_rows_.data() + r * n;
      layer(r, row);
      for (std::size_t j = 0; j < c; ++j) out[r * c + j] = row[static_cast<std::size_t>(candidates[r * c + j])];
    }
  }

 private:
  /// The (user, retrieved item) pairs child 1 re-ranks, row r's at
  /// [offsets_[r], offsets_[r + 1]).
  void start_pairs(std::size_t rows) {
    pair_users_.clear();
    pair_items_.clear();
    offsets_.assign(rows + 1, 0);
  }
  /// Row r's retrieved items: top[0..m) up to the first padding.
  void add_pairs(std::size_t r, UserId u, const ItemId* top, std::size_t m) {
    for (std::size_t j = 0; j < m && top[j] != kNoItem; ++j) {
      pair_users_.push_back(u);
      pair_items_.push_back(top[j]);
    }
    offsets_[r + 1] = pair_items_.size();
  }
  /// Child 1's scores of every pair, into pair_scores_.
  void rerank() {
    pair_scores_.resize(pair_items_.size());
    children_[1].model->score(pair_users_, pair_items_, pair_scores_);
  }
  /// Row r of the cascade's scores over all items, in place of child 0's
  /// (`row`): its retrieved items take child 1's scores, every other item
  /// m − 2 + ŝ_0(i) (see the file comment).
  void layer(std::size_t r, float* row) {
    const std::size_t a = offsets_[r], b = offsets_[r + 1];
    normalize_row(row, n_items(), {}, Normalization::kMinMax, order_);
    float lowest = 0;
    for (std::size_t j = a; j < b; ++j) lowest = j == a ? pair_scores_[j] : std::min(lowest, pair_scores_[j]);
    for (ItemId i = 0; i < n_items(); ++i) row[i] = lowest - 2.0f + row[i];
    for (std::size_t j = a; j < b; ++j) row[static_cast<std::size_t>(pair_items_[j])] = pair_scores_[j];
  }

  /// What parts() keeps of the last user: child 0's top `candidates` (kNoItem-padded).
  struct Explained {
    std::vector<ItemId> top;
    std::vector<float> top_scores;  // scratch
  };

  int candidates_;
  TrainingRows train_;
  double retrieval_recall_ = std::numeric_limits<double>::quiet_NaN();
  double retrieval_ms_ = 0, rerank_ms_ = 0, full_ms_per_user_ = 0, cascade_ms_per_user_ = 0;
  std::int64_t served_ = 0;
  std::vector<ItemId> cand_items_, pair_items_, top_, order_;
  std::vector<float> cand_scores_, pair_scores_, top_scores_, act_rows_, child_;
  std::vector<UserId> pair_users_;
  std::vector<std::size_t> offsets_;
  ExplainCache<Explained> explained_;
};

inline void Cascade::fit(const TrainData& data, const FitContext& ctx) {
  using clock = std::chrono::steady_clock;
  forget_explained();
  set_shape(data.n_users, data.n_items);
  require_children(children_, 2, 2, "cascade");
  train_.assign(data.by_user);
  const CsrMatrix& val = data.validation;
  std::vector<UserId> users;
  for (UserId u = 0; u < val.rows && u < data.n_users; ++u)
    if (val.row_size(u) > 0) users.push_back(u);
  const int nc = std::min(candidates_, n_items());
  if (!users.empty()) {  // recall of the retrieval stage on the validation items
    std::vector<ItemId> items(users.size() * static_cast<std::size_t>(nc));
    std::vector<float> scores(items.size());
    children_[0].model->recommend(users, nc, train_.view(), items, scores);
    double recall = 0;
    for (std::size_t r = 0; r < users.size(); ++r)
      recall += ranking_metrics(std::span<const ItemId>(items).subspan(r * static_cast<std::size_t>(nc), static_cast<std::size_t>(nc)),
                                val.row(users[r]), nc).recall;
    retrieval_recall_ = recall / static_cast<double>(users.size());
  }
  // Speed-up over the re-ranker alone, on a sample of users (k = 10).
  std::vector<UserId> sample;
  for (UserId u = 0; u < data.n_users && sample.size() < 256; ++u) sample.push_back(u);
  constexpr int kTop = 10;
  std::vector<ItemId> items(sample.size() * kTop);
  std::vector<float> scores(items.size());
  const auto t0 = clock::now();
  children_[1].model->recommend(sample, kTop, train_.view(), items, scores);
  const auto t1 = clock::now();
  recommend(sample, kTop, train_.view(), items, scores);
  const auto t2 = clock::now();
  const double per = 1.0 / static_cast<double>(std::max<std::size_t>(1, sample.size()));
  full_ms_per_user_ = std::chrono::duration<double, std::milli>(t1 - t0).count() * per;
  cascade_ms_per_user_ = std::chrono::duration<double, std::milli>(t2 - t1).count() * per;
  retrieval_ms_ = rerank_ms_ = 0;
  served_ = 0;
  ctx.log("cascade: retrieval recall@" + std::to_string(nc) + " = " + std::to_string(retrieval_recall_) +
          ", full re-rank " + std::to_string(full_ms_per_user_) + " ms/user vs cascade " +
          std::to_string(cascade_ms_per_user_) + " ms/user");
}

}  // namespace recfuse
