// Rank fusion: Reciprocal Rank Fusion (Cormack, Clarke & Büttcher, SIGIR
// 2009, eq. 1 with k = 60), Borda count (Aslam & Montague, SIGIR 2001) and
// weighted voting over each child's top `depth` candidates.
//
//   [[algorithms]]
//   name = "rrf"
//   plugin = "rank_fusion"
//   params = { method = "rrf", k = 60, depth = 100 }
//   [[algorithms.children]] ...
//
// Each child ranks u's candidates (items not in u's training row) with the
// shared top-k: by score, ties by smaller item id, so ranks r_c(i) are
// 1..depth and distinct. An item missing from child c's top `depth` gets
// nothing from c. With w_c the child weights (1 when weights = ""):
//   rrf:   s(u,i) = Σ_c w_c / (k + r_c(i))
//   borda: s(u,i) = Σ_c w_c (depth + 1 − r_c(i))       (truncated Borda)
//   vote:  s(u,i) = Σ_c w_c [r_c(i) <= depth] + τ · rrf(u,i),
//          τ = 0.5 min_{c: w_c > 0} w_c / Σ_c (w_c / (k + 1))
// The vote's second term breaks ties between equal vote totals by the RRF
// mass; it stays below half the smallest positive weight, so with equal
// positive weights (children of weight 0 aside: integer vote counts) it never
// overturns a vote; with unequal weights, totals closer than that may be
// reordered by it. Items no child ranks score 0 in every method and are then
// ordered by item id.
// Acting as a policy, the candidates are the step's: each child ranks those
// (training items included), and depth is at most their number.
// explain names each child's rank r_c(i) and its term of the sum above
// (fusion_explain.hpp); `parts` gives them.
#pragma once

#include "fusion_common.hpp"
#include "fusion_explain.hpp"
#include "recfuse/params.hpp"

namespace recfuse {

class RankFusion final : public FusionStrategy {
 public:
  explicit RankFusion(const ParamSet& p)
      : FusionStrategy("rank_fusion"),
        method_(p.get_string("method")),
        k_(p.get_float("k")),
        depth_(static_cast<int>(p.get_int("depth"))),
        weights_param_(parse_weight_list(p.get_string("weights"), "rank_fusion", "weights")) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::choice("method", "rrf", {"rrf", "borda", "vote"},
                          "reciprocal rank fusion, Borda count or weighted voting"),
        ParamSpec::real("k", 60.0, 0.0, 1e9, "RRF constant k (Cormack et al. 2009 use 60)"),
        ParamSpec::integer("depth", 100, 1, 1e9, "how many top candidates of each child take part"),
        ParamSpec::string("weights", "", "comma-separated weight per child (empty = all 1)"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    forget_explained();
    set_shape(data.n_users, data.n_items);
    set_weights();
    train_.assign(data.by_user);
    ctx.log("rank_fusion: " + std::to_string(children_.size()) + " children, method " + method_);
  }

  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    const std::size_t stride = users.size() * n;
    score_children(children_, users, n, buf_);
    const int depth = std::min(depth_, n_items());
    const double tiebreak = vote_tiebreak();
#pragma omp parallel if (users.size() > 8)
    {
      std::vector<ItemId> top(static_cast<std::size_t>(depth));
      std::vector<float> top_scores(top.size());
      std::vector<double> acc(n), rrf(n);
#pragma omp for schedule(dynamic, 4)
      for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(users.size()); ++r) {
        const auto ex = train_.view().row(users[static_cast<std::size_t>(r)]);
        std::fill(acc.begin(), acc.end(), 0.0);
        std::fill(rrf.begin(), rrf.end(), 0.0);
        for (std::size_t c = 0; c < children_.size(); ++c) {
          const float* row = buf_.data() + c * stride + static_cast<std::size_t>(r) * n;
          topk_exclude(row, n_items(), ex, depth, top.data(), top_scores.data());
          add_list(top.data(), depth, weights_[c], rrf.data(), acc.data());
        }
        float* dst = out.data() + static_cast<std::size_t>(r) * n;
        for (std::size_t i = 0; i < n; ++i) dst[i] = fused(rrf[i], acc[i], tiebreak);
      }
    }
  }

  std::size_t model_bytes() const override {
    return children_bytes(children_) + weights_.size() * sizeof(double);
  }

  /// The parts of s(u, i): ranks[c] = r_c(i) (0 when i is not in child c's
  /// top depth), terms[c] its term of the fused sum (rrf: w_c / (k + r_c);
  /// borda: w_c (depth + 1 − r_c); vote: w_c + τ w_c / (k + r_c); 0 without
  /// a rank), and score, score_all's value (the same sums in the same
  /// order). Empty ranks when u or i is out of range.
  struct Parts {
    std::vector<int> ranks;
    std::vector<double> terms;
    float score = 0.0f;
    int depth = 0;
  };
  Parts parts(UserId u, ItemId i) {
    Parts p;
    const auto n = static_cast<std::size_t>(n_items());
    const auto depth = static_cast<std::size_t>(std::min(depth_, n_items()));
    const auto* e = explained_.get(children_, u, i, n_users(), n_items(), [&](UserId v, float* rows, Explained& x) {
      x.tops.resize(children_.size() * depth);
      x.top_scores.resize(depth);
      for (std::size_t c = 0; c < children_.size(); ++c)
        topk_exclude(rows + c * n, n_items(), train_.view().row(v), static_cast<int>(depth), x.tops.data() + c * depth,
                     x.top_scores.data());
    });
    if (!e) return p;
    p.depth = static_cast<int>(depth);
    const double tiebreak = vote_tiebreak();
    double rrf = 0, acc = 0;
    for (std::size_t c = 0; c < children_.size(); ++c) {
      const auto top = e->state.tops.begin() + static_cast<std::ptrdiff_t>(c * depth);
      const auto at = std::find(top, top + static_cast<std::ptrdiff_t>(depth), i);
      const int rank = at == top + static_cast<std::ptrdiff_t>(depth) ? 0 : static_cast<int>(at - top) + 1;
      double rrf_c = 0, acc_c = 0;
      if (rank > 0) add_term(weights_[c], rank, p.depth, rrf_c, acc_c);
      rrf += rrf_c;  // 0 + x is x: score_all's sums, term by term
      acc += acc_c;
      p.ranks.push_back(rank);
      p.terms.push_back(fused_value(rrf_c, acc_c, tiebreak));
    }
    p.score = fused(rrf, acc, tiebreak);
    return p;
  }

  /// "fused score 0.0298: knn +0.0159 (rank 3), pop +0.0139 (rank 12), ease
  /// (not in its top 100); knn: <knn's reason>".
  std::string explain(UserId u, ItemId i) override {
    const Parts p = parts(u, i);
    if (p.ranks.empty()) return {};
    std::vector<ChildTerm> terms;
    for (std::size_t c = 0; c < p.ranks.size(); ++c)
      terms.push_back(p.ranks[c] > 0 ? ChildTerm{p.terms[c], true, "rank " + std::to_string(p.ranks[c])}
                                     : ChildTerm{0.0, false, "not in its top " + std::to_string(p.depth)});
    return explain_child_terms(children_, "fused score " + fusion_number(p.score), terms, u, i);
  }

 protected:
  /// kCapSaveLoad: the training rows (the candidates of each user); the
  /// weights follow from the parameters and the children.
  void save_state(ModelWriter& w) const override { train_.save(w); }
  void load_state(ModelReader& r, std::int32_t n_users, std::int32_t n_items) override {
    set_weights();
    train_.load(r, n_users, n_items);
  }
  void forget_explained() override { explained_.clear(); }

  /// Acting: each child's list is its ranking of the step's candidates (all
  /// of them offered, training items included), the top min(depth, c) of it.
  void score_candidates(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                        std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items()), c = static_cast<std::size_t>(n_candidates);
    const std::size_t stride = users.size() * n;
    score_children(children_, users, n, buf_);
    const int depth = std::min(depth_, n_candidates);
    const double tiebreak = vote_tiebreak();
#pragma omp parallel if (users.size() > 8)
    {
      // Per thread; the accumulators are indexed by item id and reset only
      // at a row's candidates, the only entries add_list touches.
      std::vector<ItemId> top(static_cast<std::size_t>(depth));
      std::vector<float> top_scores(top.size()), child(c);
      std::vector<double> acc(n), rrf(n);
#pragma omp for schedule(dynamic, 16)
      for (std::ptrdiff_t rr = 0; rr < static_cast<std::ptrdiff_t>(users.size()); ++rr) {
        const auto r = static_cast<std::size_t>(rr);
        const auto cands = candidates.subspan(r * c, c);
        for (ItemId i : cands) acc[static_cast<std::size_t>(i)] = rrf[static_cast<std::size_t>(i)] = 0;
        for (std::size_t ch = 0; ch < children_.size(); ++ch) {
          const float* row = buf_.data() + ch * stride + r * n;
          for (std::size_t j = 0; j < c; ++j) child[j] = row[static_cast<std::size_t>(cands[j])];
          topk_candidates(child.data(), cands, depth, top.data(), top_scores.data());
          add_list(top.data(), depth, weights_[ch], rrf.data(), acc.data());
        }
        for (std::size_t j = 0; j < c; ++j) {
          const auto i = static_cast<std::size_t>(cands[j]);
          out[r * c + j] = fused(rrf[i], acc[i], tiebreak);
        }
      }
    }
  }

 private:
  /// What parts() keeps of the last user: each child's top depth (children x depth, kNoItem-padded).
  struct Explained {
    std::vector<ItemId> tops;
    std::vector<float> top_scores;  // scratch
  };

  void set_weights() {
    require_children(children_, 1, kAnyNumber, "rank_fusion");
    weights_ = weights_for(weights_param_, children_.size(), "rank_fusion");
  }
  /// Adds one child's list top[0..depth) (rank j + 1 at j, −1 padding ends
  /// it) with weight w to rrf and acc, indexed by item id.
  void add_list(const ItemId* top, int depth, double w, double* rrf, double* acc) const {
    for (int j = 0; j < depth && top[j] != kNoItem; ++j) {
      const auto i = static_cast<std::size_t>(top[j]);
      add_term(w, j + 1, depth, rrf[i], acc[i]);
    }
  }
  /// Adds one list's terms for an item at `rank` (1-based) of a list of
  /// `depth` with weight w: rrf the reciprocal rank, acc Borda's or the vote's.
  void add_term(double w, double rank, int depth, double& rrf, double& acc) const {
    rrf += w / (k_ + rank);
    if (method_ == "borda") acc += w * (depth + 1 - rank);
    if (method_ == "vote") acc += w;
  }
  /// τ of the vote (see the file comment): the smallest weight is that of
  /// the children that vote (w_c > 0); a child of weight 0 adds no vote to
  /// separate, and taking its 0 would switch the tie-break off.
  double vote_tiebreak() const {
    double max_rrf = 0, min_w = std::numeric_limits<double>::infinity();
    for (double w : weights_) {
      max_rrf += w / (k_ + 1);
      if (w > 0) min_w = std::min(min_w, w);
    }
    return max_rrf > 0 ? 0.5 * min_w / max_rrf : 0.0;
  }
  double fused_value(double rrf, double acc, double tiebreak) const {
    return method_ == "rrf" ? rrf : method_ == "vote" ? acc + tiebreak * rrf : acc;
  }
  float fused(double rrf, double acc, double tiebreak) const { return static_cast<float>(fused_value(rrf, acc, tiebreak)); }

  std::string method_;
  double k_;
  int depth_;
  std::vector<double> weights_param_, weights_;
  TrainingRows train_;
  std::vector<float> buf_;
  ExplainCache<Explained> explained_;
};

}  // namespace recfuse
