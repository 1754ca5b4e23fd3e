// Learned fusion (stacking; Wolpert 1992, as in the Netflix Prize blends of
// Sill et al. 2009 "feature-weighted linear stacking"): a linear model over
// the children's normalised scores and user/item meta-features, fitted on the
// split's validation interactions (TrainData::validation, carved from the
// training data; the children never saw it), never on test.
//
//   [[algorithms]]
//   name = "stack"
//   plugin = "stacking"
//   params = { objective = "pairwise", negatives = 20, l2 = 1.0 }
//   [[algorithms.children]] ...
//
// Features of (u, i), with ŝ_c the child scores normalised over u's
// candidates, h(u) = standardised log(1 + |train row of u|) and
// p(i) = standardised log(1 + training count of i):
//   x = [ŝ_1..ŝ_C, p, h] and, with interactions = true, [ŝ_1 h..ŝ_C h, p h]
// so the weight of each child can change with the length of the history
// (the "feature-weighted" part of Sill et al.). Score = wᵀx (+ b).
// Training pairs: every validation item i of u is a positive; `negatives`
// items per positive are drawn uniformly from the items in neither u's
// training nor validation row (stream derive_seed(seed, "stacking")).
//   pointwise: logistic regression, positives y = 1 vs negatives y = 0;
//   pairwise:  BPR-style: logistic on x_pos − x_neg with y = 1, no intercept.
// Both are solved exactly by fit_logistic (Newton, L2 = l2). Under a softmax
// choice model over the candidates, uniform negatives make the pairwise fit
// a consistent estimate of the choice weights (case-control sampling), which
// the tests check on a synthetic task.
// explain names each child's term (w_c + g_c h) ŝ_c of the score, and the
// rest (popularity, history, intercept) together (fusion_explain.hpp);
// `parts` gives them as score_all adds them.
#pragma once

#include <cmath>

#include "fusion_common.hpp"
#include "fusion_explain.hpp"
#include "logistic.hpp"
#include "recfuse/params.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class Stacking final : public FusionStrategy {
 public:
  explicit Stacking(const ParamSet& p)
      : FusionStrategy("stacking"),
        normalization_(parse_normalization(p.get_string("normalization"))),
        pairwise_(p.get_string("objective") == "pairwise"),
        negatives_(static_cast<int>(p.get_int("negatives"))),
        l2_(p.get_float("l2")),
        interactions_(p.get_bool("interactions")),
        max_users_(static_cast<std::int32_t>(p.get_int("max_users"))) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::choice("normalization", "zscore", {"none", "minmax", "zscore", "rank"},
                          "per-user normalisation of each child's scores over the candidate items"),
        ParamSpec::choice("objective", "pairwise", {"pointwise", "pairwise"},
                          "logistic regression on positives vs negatives, or BPR-style pairs"),
        ParamSpec::integer("negatives", 20, 1, 10000, "sampled negatives per validation positive"),
        ParamSpec::real("l2", 1.0, 1e-9, 1e9, "L2 penalty of the weights (intercept unpenalised)"),
        ParamSpec::boolean("interactions", true, "add child score x history-length features"),
        ParamSpec::integer("max_users", 0, 0, 1e9, "fit on the first N validation users (0 = all)"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override;

  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    const std::size_t stride = users.size() * n;
    const std::size_t C = children_.size();
    score_children(children_, users, n, buf_);
#pragma omp parallel if (users.size() > 8)
    {
      std::vector<ItemId> order;
      UserWeights w;
#pragma omp for schedule(dynamic, 4)
      for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(users.size()); ++r) {
        const UserId u = users[static_cast<std::size_t>(r)];
        const auto ex = train_.view().row(u);
        user_weights(u, w);
        float* dst = out.data() + static_cast<std::size_t>(r) * n;
        for (std::size_t i = 0; i < n; ++i) dst[i] = rest_of(w, i);
        for (std::size_t c = 0; c < C; ++c) {
          float* row = buf_.data() + c * stride + static_cast<std::size_t>(r) * n;
          normalize_row(row, n_items(), ex, normalization_, order);
          const auto wc = static_cast<float>(w.child[c]);
          for (std::size_t i = 0; i < n; ++i) dst[i] += wc * row[i];
        }
      }
    }
  }

  /// The parts of the score of (u, i): terms[c] = (w_c + g_c h) ŝ_c(u, i),
  /// rest = the popularity, history and intercept part, score = rest +
  /// Σ_c terms[c], score_all's value (floats added in score_all's order).
  /// Empty terms when u or i is out of range.
  struct Parts {
    std::vector<float> terms;
    float rest = 0.0f, score = 0.0f;
  };
  Parts parts(UserId u, ItemId i) {
    Parts p;
    const auto n = static_cast<std::size_t>(n_items());
    const auto* e = explained_.get(children_, u, i, n_users(), n_items(), [&](UserId v, float* rows, Explained& x) {
      for (std::size_t c = 0; c < children_.size(); ++c)
        normalize_row(rows + c * n, n_items(), train_.view().row(v), normalization_, x.order);
      user_weights(v, x.weights);
    });
    if (!e) return p;
    const auto at = static_cast<std::size_t>(i);
    p.rest = p.score = rest_of(e->state.weights, at);
    for (std::size_t c = 0; c < children_.size(); ++c) {
      p.terms.push_back(static_cast<float>(e->state.weights.child[c]) * e->rows[c * n + at]);
      p.score += p.terms.back();
    }
    return p;
  }

  /// "stacked score 0.91 (popularity, history, intercept -0.12): knn +0.62,
  /// pop +0.41; knn: <knn's reason>".
  std::string explain(UserId u, ItemId i) override {
    const Parts p = parts(u, i);
    if (p.terms.empty()) return {};
    std::vector<ChildTerm> terms;
    for (const float t : p.terms) terms.push_back({t, true, ""});
    return explain_child_terms(children_,
                               "stacked score " + fusion_number(p.score) + " (popularity, history, intercept " +
                                   signed_number(p.rest) + ")",
                               terms, u, i);
  }

  std::size_t model_bytes() const override {
    return children_bytes(children_) + (coef_.size() + 1) * sizeof(double) +
           (item_p_.size() + user_h_.size()) * sizeof(float);
  }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    std::vector<std::pair<std::string, double>> d;
    for (std::size_t j = 0; j < coef_.size(); ++j) d.emplace_back("w:" + feature_names_[j], coef_[j]);
    d.emplace_back("intercept", intercept_);
    d.emplace_back("training_rows", static_cast<double>(training_rows_));
    d.emplace_back("fit_loss", fit_loss_);
    return d;
  }

  /// Learned weights, named as in diagnostics(): [children.., pop, hist, interactions..].
  const std::vector<double>& coefficients() const { return coef_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }

 protected:
  /// kCapSaveLoad: the training rows, the meta-features, the weights and
  /// the fit's figures (diagnostics); the feature names follow from the
  /// children's names.
  void save_state(ModelWriter& w) const override {
    train_.save(w);
    w.values(item_p_);
    w.values(user_h_);
    w.values(coef_);
    w.value(intercept_);
    w.value(fit_loss_);
    w.value(training_rows_);
  }
  void load_state(ModelReader& r, std::int32_t n_users, std::int32_t n_items) override {
    require_children(children_, 1, kAnyNumber, "stacking");
    name_features();
    train_.load(r, n_users, n_items);
    item_p_ = r.values<float>("item popularity features");
    r.expect("the number of item popularity features", static_cast<std::int64_t>(item_p_.size()), n_items);
    user_h_ = r.values<float>("user history features");
    r.expect("the number of user history features", static_cast<std::int64_t>(user_h_.size()), n_users);
    coef_ = r.values<double>("weights");
    r.expect("the number of weights", static_cast<std::int64_t>(coef_.size()),
             static_cast<std::int64_t>(feature_names_.size()));
    intercept_ = r.value<double>("intercept");
    fit_loss_ = r.value<double>("fit loss");
    training_rows_ = r.value<std::int64_t>("training rows");
  }
  void forget_explained() override { explained_.clear(); }

 private:
  /// feature_names_ for children_ (diagnostics name the weights by them).
  void name_features() {
    feature_names_.clear();
    for (const auto& c : children_) feature_names_.push_back(c.name);
    feature_names_.push_back("log_popularity");
    feature_names_.push_back("log_history");
    if (interactions_) {
      for (const auto& c : children_) feature_names_.push_back(c.name + "*log_history");
      feature_names_.push_back("log_popularity*log_history");
    }
  }

  /// A user's effective weights (interactions folded in): child[c] =
  /// w_c + g_c h, pop = w_p + w_ph h, base = b + w_h h.
  struct UserWeights {
    std::vector<double> child;
    double pop = 0, base = 0;
  };
  void user_weights(UserId u, UserWeights& w) const {
    const std::size_t C = children_.size();
    const double h = user_h_[static_cast<std::size_t>(u)];
    w.child.resize(C);
    for (std::size_t c = 0; c < C; ++c) w.child[c] = coef_[c] + (interactions_ ? coef_[C + 2 + c] * h : 0.0);
    w.pop = coef_[C] + (interactions_ ? coef_[2 * C + 2] * h : 0.0);
    w.base = intercept_ + coef_[C + 1] * h;
  }
  /// The score of item i before the children's terms.
  float rest_of(const UserWeights& w, std::size_t i) const { return static_cast<float>(w.base + w.pop * item_p_[i]); }

  /// What parts() keeps of the last user (the children's rows, kept
  /// normalised, are ExplainCache's).
  struct Explained {
    UserWeights weights;
    std::vector<ItemId> order;  // normalize_row's scratch
  };

  /// Feature vector of item i for a user with standardised history h; `s[c]`
  /// is child c's normalised score. Writes d = coef_.size() entries.
  void features(const std::vector<float>& s, std::size_t i, double h, double* x) const {
    const std::size_t C = children_.size();
    for (std::size_t c = 0; c < C; ++c) x[c] = s[c];
    x[C] = item_p_[i];
    x[C + 1] = h;
    if (!interactions_) return;
    for (std::size_t c = 0; c < C; ++c) x[C + 2 + c] = s[c] * h;
    x[2 * C + 2] = item_p_[i] * h;
  }

  Normalization normalization_;
  bool pairwise_;
  int negatives_;
  double l2_;
  bool interactions_;
  std::int32_t max_users_;
  TrainingRows train_;
  std::vector<float> item_p_, user_h_;  // standardised log popularity / log history
  std::vector<double> coef_;
  std::vector<std::string> feature_names_;
  double intercept_ = 0, fit_loss_ = 0;
  std::int64_t training_rows_ = 0;
  std::vector<float> buf_;
  ExplainCache<Explained> explained_;
};

inline void Stacking::fit(const TrainData& data, const FitContext& ctx) {
  forget_explained();
  set_shape(data.n_users, data.n_items);
  require_children(children_, 1, kAnyNumber, "stacking");
  refuse_children_trained_on_validation(children_, "stacking");
  const CsrMatrix& val = data.validation;
  if (val.nnz() == 0)
    throw Error("[stacking] needs validation interactions to fit its weights; set [split] validation = true "
                "(leave_last_one_out) or validation_ratio > 0 (the other methods)");
  train_.assign(data.by_user);
  require_validation_scored(children_, val, data.by_user, static_cast<std::size_t>(data.n_items), "stacking");
  std::vector<double> counts(static_cast<std::size_t>(data.n_items));
  for (ItemId i = 0; i < data.n_items; ++i) counts[static_cast<std::size_t>(i)] = static_cast<double>(data.by_item.row_size(i));
  item_p_ = standardized_log(counts);
  counts.assign(static_cast<std::size_t>(data.n_users), 0.0);
  for (UserId u = 0; u < data.n_users; ++u) counts[static_cast<std::size_t>(u)] = static_cast<double>(train_.count(u));
  user_h_ = standardized_log(counts);

  const std::size_t C = children_.size();
  name_features();
  const std::size_t d = feature_names_.size();
  std::vector<UserId> users;
  for (UserId u = 0; u < val.rows && u < data.n_users; ++u)
    if (val.row_size(u) > 0) users.push_back(u);
  if (max_users_ > 0 && static_cast<std::int32_t>(users.size()) > max_users_) users.resize(static_cast<std::size_t>(max_users_));

  const auto n = static_cast<std::size_t>(data.n_items);
  Rng rng(derive_seed(ctx.seed, "stacking"));
  std::vector<double> rows, labels;
  std::vector<float> s_pos(C), s_neg(C);
  std::vector<double> x_pos(d), x_neg(d);
  std::vector<ItemId> order;
  for (std::size_t b = 0; b < users.size(); b += kScoreBlock) {
    const std::size_t nb = std::min(kScoreBlock, users.size() - b);
    const std::span<const UserId> block(users.data() + b, nb);
    score_children(children_, block, n, buf_);
    for (std::size_t r = 0; r < nb; ++r)
      for (std::size_t c = 0; c < C; ++c)
        normalize_row(buf_.data() + (c * nb + r) * n, data.n_items, train_.view().row(block[r]),
                      normalization_, order);
    for (std::size_t r = 0; r < nb; ++r) {
      const UserId u = block[r];
      const auto tr = train_.view().row(u);
      const auto vr = val.row(u);
      auto seen = [&](ItemId j) {
        return std::binary_search(tr.begin(), tr.end(), j) || std::binary_search(vr.begin(), vr.end(), j);
      };
      const double h = user_h_[static_cast<std::size_t>(u)];
      auto child_scores = [&](ItemId i, std::vector<float>& s) {
        for (std::size_t c = 0; c < C; ++c) s[c] = buf_[(c * nb + r) * n + static_cast<std::size_t>(i)];
      };
      for (ItemId pos : vr) {
        if (std::binary_search(tr.begin(), tr.end(), pos)) continue;
        child_scores(pos, s_pos);
        features(s_pos, static_cast<std::size_t>(pos), h, x_pos.data());
        if (!pairwise_) { rows.insert(rows.end(), x_pos.begin(), x_pos.end()); labels.push_back(1); }
        for (int q = 0; q < negatives_; ++q) {
          ItemId neg = kNoItem;
          for (int attempt = 0; attempt < 100 && neg == kNoItem; ++attempt) {
            const auto j = static_cast<ItemId>(rng.below(n));
            if (!seen(j)) neg = j;
          }
          if (neg == kNoItem) break;  // the user has seen (almost) everything
          child_scores(neg, s_neg);
          features(s_neg, static_cast<std::size_t>(neg), h, x_neg.data());
          if (pairwise_)
            for (std::size_t j = 0; j < d; ++j) rows.push_back(x_pos[j] - x_neg[j]);
          else
            rows.insert(rows.end(), x_neg.begin(), x_neg.end());
          labels.push_back(pairwise_ ? 1 : 0);
        }
      }
    }
    if (ctx.cancelled()) throw Error("stacking: cancelled");
  }
  if (labels.empty()) throw Error("[stacking] found no usable validation pairs");
  const auto m = static_cast<Eigen::Index>(labels.size());
  const Eigen::MatrixXd X = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      rows.data(), m, static_cast<Eigen::Index>(d));
  const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(labels.data(), m);
  const LogisticFit f = fit_logistic(X, y, l2_, !pairwise_);
  coef_.assign(f.weights.data(), f.weights.data() + f.weights.size());
  intercept_ = f.intercept;
  fit_loss_ = f.loss;
  training_rows_ = m;
  std::string line = "stacking: " + std::to_string(m) + " rows, " + std::to_string(f.iterations) + " Newton steps;";
  for (std::size_t j = 0; j < d; ++j) line += " " + feature_names_[j] + "=" + std::to_string(coef_[j]);
  ctx.log(line);
}

}  // namespace recfuse
