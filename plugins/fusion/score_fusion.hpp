// Score fusion: a weighted sum of the children's per-user normalised scores,
// with the CombSUM and CombMNZ rules of Fox & Shaw ("Combination of multiple
// searches", TREC-2, 1994).
//
//   [[algorithms]]
//   name = "fused"
//   plugin = "score_fusion"
//   params = { normalization = "zscore", method = "weighted", weights = "0.7,0.3" }
//   [[algorithms.children]]
//   plugin = "item_knn"
//   [[algorithms.children]]
//   plugin = "popularity"
//
// For user u and candidate item i (not in u's training row), with ŝ_c the
// child c's scores normalised over u's candidates (none | minmax | zscore |
// rank, see normalize_row):
//   weighted: s(u,i) = Σ_c w_c ŝ_c(u,i)          (w_c = 1 when weights = "")
//   combsum:  s(u,i) = Σ_c ŝ_c(u,i)              (weights ignored)
//   combmnz:  s(u,i) = m(u,i) Σ_c w_c ŝ_c(u,i), m = number of children that
//             rank i in their top `depth` candidates (the shared top-k order:
//             score, then item id), so an item no child ranks high scores 0.
// With minmax or rank normalisation the candidates' summands are >= 0, which
// CombMNZ assumes (an excluded item, e.g. a training item a simulated session
// offers, can fall outside [0, 1]); with zscore or none, negative sums are
// multiplied as they are.
// Acting as a policy, CombMNZ's lists are each child's top depth of the
// step's candidates (FusionStrategy::score_candidates).
#pragma once

#include <omp.h>

#include "fusion_common.hpp"
#include "recfuse/params.hpp"

namespace recfuse {

class ScoreFusion final : public FusionStrategy {
 public:
  explicit ScoreFusion(const ParamSet& p)
      : FusionStrategy("score_fusion"),
        normalization_(parse_normalization(p.get_string("normalization"))),
        method_(p.get_string("method")),
        depth_(static_cast<int>(p.get_int("depth"))),
        weights_param_(parse_weight_list(p.get_string("weights"), "score_fusion", "weights")) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::choice("normalization", "zscore", {"none", "minmax", "zscore", "rank"},
                          "per-user normalisation of each child's scores over the candidate items"),
        ParamSpec::choice("method", "weighted", {"weighted", "combsum", "combmnz"},
                          "weighted sum, CombSUM (unweighted) or CombMNZ (Fox & Shaw 1994)"),
        ParamSpec::string("weights", "", "comma-separated weight per child, e.g. \"0.7,0.3\" (empty = all 1)"),
        ParamSpec::integer("depth", 100, 1, 1e9, "CombMNZ: a child votes for the items in its top depth"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    set_weights();
    train_.assign(data.by_user);
    ctx.log("score_fusion: " + std::to_string(children_.size()) + " children, method " + method_);
  }

  /// out: users.size() x n_items. Children are scored once per call.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    const std::size_t stride = users.size() * n;
    score_children(children_, users, n, buf_);
    const bool mnz = method_ == "combmnz";
    const int depth = std::min(depth_, n_items());
#pragma omp parallel if (users.size() > 8)
    {
      std::vector<ItemId> order, top_items(mnz ? static_cast<std::size_t>(depth) : 0);
      std::vector<float> top_scores(top_items.size());
      std::vector<std::uint8_t> hits(mnz ? n : 0);
#pragma omp for schedule(dynamic, 4)
      for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(users.size()); ++r) {
        const auto ex = train_.view().row(users[static_cast<std::size_t>(r)]);
        float* dst = out.data() + static_cast<std::size_t>(r) * n;
        std::fill(dst, dst + n, 0.0f);
        if (mnz) std::fill(hits.begin(), hits.end(), 0);
        for (std::size_t c = 0; c < children_.size(); ++c) {
          float* row = buf_.data() + c * stride + static_cast<std::size_t>(r) * n;
          if (mnz) {
            topk_exclude(row, n_items(), ex, depth, top_items.data(), top_scores.data());
            for (ItemId i : top_items) if (i != kNoItem) ++hits[static_cast<std::size_t>(i)];
          }
          normalize_row(row, n_items(), ex, normalization_, order);
          const auto w = static_cast<float>(weights_[c]);
          for (std::size_t i = 0; i < n; ++i) dst[i] += w * row[i];
        }
        if (mnz)
          for (std::size_t i = 0; i < n; ++i) dst[i] *= static_cast<float>(hits[i]);
      }
    }
  }

  std::size_t model_bytes() const override {
    return children_bytes(children_) + weights_.size() * sizeof(double);
  }

 protected:
  /// kCapSaveLoad: the training rows (the candidates of each user); the
  /// weights follow from the parameters and the children.
  void save_state(ModelWriter& w) const override { train_.save(w); }
  void load_state(ModelReader& r, std::int32_t n_users, std::int32_t n_items) override {
    set_weights();
    train_.load(r, n_users, n_items);
  }

  /// Acting: the normalisation is score_all's (over the user's catalogue
  /// candidates, the same map for the rest), but CombMNZ's hits count each
  /// child's top min(depth, c) of the step's candidates.
  void score_candidates(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                        std::span<float> out) override {
    if (method_ != "combmnz") {
      FusionStrategy::score_candidates(users, candidates, n_candidates, out);
      return;
    }
    const auto n = static_cast<std::size_t>(n_items()), c = static_cast<std::size_t>(n_candidates);
    const std::size_t stride = users.size() * n;
    score_children(children_, users, n, buf_);
    const int depth = std::min(depth_, n_candidates);
#pragma omp parallel if (users.size() > 8)
    {
      std::vector<ItemId> order, top(static_cast<std::size_t>(depth));
      std::vector<float> top_scores(top.size()), child(c);
      std::vector<std::uint8_t> hits(n);  // by item id, reset at a row's candidates
#pragma omp for schedule(dynamic, 16)
      for (std::ptrdiff_t rr = 0; rr < static_cast<std::ptrdiff_t>(users.size()); ++rr) {
        const auto r = static_cast<std::size_t>(rr);
        const auto cands = candidates.subspan(r * c, c);
        for (ItemId i : cands) hits[static_cast<std::size_t>(i)] = 0;
        float* dst = out.data() + r * c;
        std::fill(dst, dst + c, 0.0f);
        for (std::size_t ch = 0; ch < children_.size(); ++ch) {
          float* row = buf_.data() + ch * stride + r * n;
          for (std::size_t j = 0; j < c; ++j) child[j] = row[static_cast<std::size_t>(cands[j])];
          topk_candidates(child.data(), cands, depth, top.data(), top_scores.data());
          for (ItemId i : top) if (i != kNoItem) ++hits[static_cast<std::size_t>(i)];
          normalize_row(row, n_items(), train_.view().row(users[r]), normalization_, order);
          const auto w = static_cast<float>(weights_[ch]);
          for (std::size_t j = 0; j < c; ++j) dst[j] += w * row[static_cast<std::size_t>(cands[j])];
        }
        for (std::size_t j = 0; j < c; ++j) dst[j] *= static_cast<float>(hits[static_cast<std::size_t>(cands[j])]);
      }
    }
  }

 private:
  void set_weights() {
    require_children(children_, 1, kAnyNumber, "score_fusion");
    weights_ = weights_for(weights_param_, children_.size(), "score_fusion");
    if (method_ == "combsum") std::fill(weights_.begin(), weights_.end(), 1.0);
  }

  Normalization normalization_;
  std::string method_;
  int depth_;
  std::vector<double> weights_param_, weights_;
  TrainingRows train_;
  std::vector<float> buf_;  // children x users x n_items
};

}  // namespace recfuse
