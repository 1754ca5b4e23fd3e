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
// explain names each child's term w_c ŝ_c(u,i) and, for CombMNZ, m(u,i)
// (fusion_explain.hpp); `parts` gives them as score_all adds them.
#pragma once

#include <omp.h>

#include "fusion_common.hpp"
#include "fusion_explain.hpp"
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
    forget_explained();
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
#pragma omp parallel if (users.size() > 8)
    {
      RowScratch s = scratch();
#pragma omp for schedule(dynamic, 4)
      for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(users.size()); ++r) {
        const auto at = static_cast<std::size_t>(r) * n;
        fuse_row(users[static_cast<std::size_t>(r)], buf_.data() + at, stride, out.data() + at, s);
      }
    }
  }

  /// The parts of s(u, i): terms[c] = w_c ŝ_c(u,i) as score_all adds them
  /// (float, in child order), lists = m(u,i) for CombMNZ (1 otherwise), and
  /// score = lists × Σ_c terms[c], score_all's value. Empty terms when u or
  /// i is out of range.
  struct Parts {
    std::vector<float> terms;
    int lists = 1;
    float score = 0.0f;
  };
  Parts parts(UserId u, ItemId i) {
    Parts p;
    const auto n = static_cast<std::size_t>(n_items());
    const auto* e = explained_.get(children_, u, i, n_users(), n_items(), [&](UserId v, float* rows, Explained& x) {
      x.fused.resize(n);
      x.scratch = scratch();
      fuse_row(v, rows, n, x.fused.data(), x.scratch);  // leaves the children's rows normalised
    });
    if (!e) return p;
    const auto at = static_cast<std::size_t>(i);
    for (std::size_t c = 0; c < children_.size(); ++c)
      p.terms.push_back(static_cast<float>(weights_[c]) * e->rows[c * n + at]);
    if (!e->state.scratch.hits.empty()) p.lists = e->state.scratch.hits[at];
    p.score = e->state.fused[at];
    return p;
  }

  /// "fused score 1.09: knn +0.62, pop +0.47; knn: <knn's reason>"; CombMNZ
  /// "fused score 2.18 = 2 x 1.09 (2 children rank it in the top 100): ...".
  std::string explain(UserId u, ItemId i) override {
    const Parts p = parts(u, i);
    if (p.terms.empty()) return {};
    std::vector<ChildTerm> terms;
    float sum = 0.0f;
    for (const float t : p.terms) {
      terms.push_back({t, true, ""});
      sum += t;
    }
    std::string lead = "fused score " + fusion_number(p.score);
    if (method_ == "combmnz")
      lead += " = " + std::to_string(p.lists) + " x " + fusion_number(sum) + " (" +
              (p.lists == 0 ? std::string("no child ranks")
                            : std::to_string(p.lists) + (p.lists == 1 ? " child ranks" : " children rank")) +
              " it in the top " + std::to_string(std::min(depth_, n_items())) + ")";
    return explain_child_terms(children_, lead, terms, u, i);
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
  void forget_explained() override { explained_.clear(); }

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
  /// Per-thread scratch of fuse_row; top and hits are CombMNZ's.
  struct RowScratch {
    std::vector<ItemId> order, top;
    std::vector<float> top_scores;
    std::vector<std::uint8_t> hits;
  };
  RowScratch scratch() const {
    const bool mnz = method_ == "combmnz";
    const auto depth = static_cast<std::size_t>(std::min(depth_, n_items()));
    return {{}, std::vector<ItemId>(mnz ? depth : 0), std::vector<float>(mnz ? depth : 0),
            std::vector<std::uint8_t>(mnz ? static_cast<std::size_t>(n_items()) : 0)};
  }
  /// dst (n_items) = user u's fused row from the children's raw rows (child
  /// c's at rows + c * stride), which are left normalised; CombMNZ's m(u, i)
  /// is left in s.hits.
  void fuse_row(UserId u, float* rows, std::size_t stride, float* dst, RowScratch& s) const {
    const auto n = static_cast<std::size_t>(n_items());
    const bool mnz = method_ == "combmnz";
    const auto ex = train_.view().row(u);
    std::fill(dst, dst + n, 0.0f);
    if (mnz) std::fill(s.hits.begin(), s.hits.end(), 0);
    for (std::size_t c = 0; c < children_.size(); ++c) {
      float* row = rows + c * stride;
      if (mnz) {
        topk_exclude(row, n_items(), ex, static_cast<int>(s.top.size()), s.top.data(), s.top_scores.data());
        for (ItemId i : s.top) if (i != kNoItem) ++s.hits[static_cast<std::size_t>(i)];
      }
      normalize_row(row, n_items(), ex, normalization_, s.order);
      const auto w = static_cast<float>(weights_[c]);
      for (std::size_t i = 0; i < n; ++i) dst[i] += w * row[i];
    }
    if (mnz)
      for (std::size_t i = 0; i < n; ++i) dst[i] *= static_cast<float>(s.hits[i]);
  }

  /// What parts() keeps of the last user: the fused row and fuse_row's scratch (CombMNZ's m(u, i) in hits).
  struct Explained {
    std::vector<float> fused;
    RowScratch scratch;
  };

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
  ExplainCache<Explained> explained_;
};

}  // namespace recfuse
