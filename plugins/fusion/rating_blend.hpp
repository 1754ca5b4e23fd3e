// A rating blend, the Netflix Prize way: feature-weighted linear stacking
// (Sill, Takács, Mackey & Lin 2009, "Feature-Weighted Linear Stacking", eq. 4)
// of children that predict ratings, fitted by ridge regression on the
// split's validation ratings (TrainData::validation, which the children
// never trained on), then, with `refit`, every child retrained on
// train ∪ validation (merged_train.hpp) under the fixed weights.
//
//   [[algorithms]]
//   name = "blend"
//   plugin = "rating_blend"
//   params = { l2 = 10.0, interactions = true }
//   [[algorithms.children]]        # each one declares predict_rating
//   plugin = "sgd_mf"  ...
//
// Features of (u, i), with r̂_c child c's predicted rating, h(u) =
// standardised log(1 + |u's training ratings|), g(i) = the same for i:
//   x = [r̂_1..r̂_C, h, g] and, with interactions = true,
//       [r̂_1 h..r̂_C h, r̂_1 g..r̂_C g]
// so each child's weight w_c + v_c h(u) + t_c g(i) is linear in the
// meta-features (Sill et al.'s f_j(x) g_i(x) products with f = 1, h, g).
// Blend b(u, i) = β₀ + βᵀx minimises Σ (r − b)² + l2 ‖β‖² over the
// validation ratings (β₀ unpenalised; closed form after centring).
// predict_rating clips b to the training rating range; score_all and score
// give b unclipped (as the mf_explicit models do), so the blend can rank.
// The meta-features keep their training counts after a refit: every count
// grows by about the same factor, which the standardisation of the logs
// removes.
//
// Nested blends (a rating_blend child of a rating_blend): the host fits the
// inner blend first, on the training part, so the outer one fits its weights
// on the inner's honest validation predictions; the outer's refit then asks
// the inner for the same refit (its weights kept, its own children fitted on
// train + validation; its fit cannot serve: train + validation has no
// validation ratings left to fit weights on, and fit is always a fresh fit).
// An inner blend with refit = true has already trained on the validation
// ratings, so every strategy that fits on them refuses it (diagnostics
// `trained_on_validation`, fusion_common.hpp).
//
// Choosing l2 and interactions on the same validation ratings the weights
// are fitted on would reward the smallest penalty, so the fit also reports
// `cv_rmse`, the RMSE of the blend on each of `cv_folds` parts of the
// validation ratings when fitted on the others: the honest figure to tune
// by (diagnostics; next to `validation_rmse`, the in-sample one, and each
// child's `rmse:<child>` on the same ratings).
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "fusion_common.hpp"
#include "merged_train.hpp"
#include "recfuse/params.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

struct RidgeFit {
  Eigen::VectorXd weights;  // d
  double intercept = 0;
};

/// Minimises Σ_n (y_n − b − x_nᵀw)² + l2 ‖w‖² exactly: centring X and y
/// removes b, w solves (X̃ᵀX̃ + l2 I) w = X̃ᵀỹ, then b = ȳ − x̄ᵀw.
/// X: n x d (n >= 1), y: n; l2 > 0.
inline RidgeFit fit_ridge(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double l2) {
  const Eigen::RowVectorXd x_mean = X.colwise().mean();
  const double y_mean = y.mean();
  const Eigen::MatrixXd Xc = X.rowwise() - x_mean;
  Eigen::MatrixXd A = Xc.transpose() * Xc;
  A.diagonal().array() += l2;
  RidgeFit f;
  f.weights = A.ldlt().solve(Xc.transpose() * (y.array() - y_mean).matrix());
  f.intercept = y_mean - x_mean.dot(f.weights);
  return f;
}

class RatingBlend final : public FusionStrategy {
 public:
  explicit RatingBlend(const ParamSet& p)
      : FusionStrategy("rating_blend"),
        l2_(p.get_float("l2")), interactions_(p.get_bool("interactions")), refit_(p.get_bool("refit")),
        cv_folds_(static_cast<int>(p.get_int("cv_folds"))) {
    if (cv_folds_ == 1) throw Error("[rating_blend] parameter 'cv_folds': 1 is not a cross-validation; use 0 (off) or >= 2");
  }

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::real("l2", 10.0, 1e-9, 1e9, "ridge penalty on the weights, against the sum of squared errors (intercept unpenalised)"),
        ParamSpec::boolean("interactions", true, "add child rating x meta-feature products (feature-weighted linear stacking)"),
        ParamSpec::boolean("refit", true, "refit every child on train + validation once the weights are fitted"),
        ParamSpec::integer("cv_folds", 5, 0, 1000, "folds of the cross-validated blend RMSE in diagnostics (0 = none)"),
    };
  }

  /// Refuses, by name, a child that cannot predict ratings.
  void set_children(std::vector<Child> children) override {
    for (const auto& c : children)
      if (!(c.capabilities & kCapPredictRating))
        throw Error("[rating_blend] child '" + c.name + "' (" + c.plugin +
                    ") does not predict ratings (no predict_rating capability); a rating blend takes "
                    "rating predictors such as sgd_mf, svdpp, als_explicit or baseline_only");
    children_ = std::move(children);
  }

  void fit(const TrainData& data, const FitContext& ctx) override;

  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    pair_users_.resize(users.size() * n);
    pair_items_.resize(users.size() * n);
    for (std::size_t r = 0; r < users.size(); ++r)
      for (std::size_t i = 0; i < n; ++i) {
        pair_users_[r * n + i] = users[r];
        pair_items_[r * n + i] = static_cast<ItemId>(i);
      }
    blend(pair_users_, pair_items_, out);
  }

  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    blend(users, items, out);
  }

  void predict_rating(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    blend(users, items, out);
    for (float& v : out) v = std::clamp(v, lo_, hi_);
  }

  std::size_t model_bytes() const override {
    return children_bytes(children_) + (coef_.size() + 1) * sizeof(double) +
           (user_h_.size() + item_g_.size()) * sizeof(float);
  }

  bool trained_on_validation() const override {
    return refit_ || refitted_ || FusionStrategy::trained_on_validation();
  }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    std::vector<std::pair<std::string, double>> d;
    for (std::size_t j = 0; j < coef_.size(); ++j) d.emplace_back("w:" + feature_names_[j], coef_[j]);
    d.emplace_back("intercept", intercept_);
    d.emplace_back("validation_ratings", static_cast<double>(n_validation_));
    d.emplace_back("validation_rmse", validation_rmse_);
    d.emplace_back("cv_rmse", cv_rmse_);
    d.emplace_back(kTrainedOnValidation, trained_on_validation() ? 1.0 : 0.0);
    for (std::size_t c = 0; c < children_.size(); ++c) d.emplace_back("rmse:" + children_[c].name, child_rmse_[c]);
    return d;
  }

  /// Fitted weights, named as in diagnostics(): [children.., h, g, children*h.., children*g..].
  const std::vector<double>& coefficients() const { return coef_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  double intercept() const { return intercept_; }
  double cv_rmse() const { return cv_rmse_; }
  double validation_rmse() const { return validation_rmse_; }
  const std::vector<double>& child_rmse() const { return child_rmse_; }

 protected:
  /// kCapSaveLoad: the rating range, the meta-features, the weights, the
  /// fit's figures (diagnostics) and whether its children were refitted on
  /// train + validation (by its refit or a parent blend's); the feature
  /// names follow from the children's names. The children saved are the
  /// refitted ones.
  void save_state(ModelWriter& w) const override {
    w.value(lo_);
    w.value(hi_);
    w.values(user_h_);
    w.values(item_g_);
    w.values(coef_);
    w.value(intercept_);
    w.value(validation_rmse_);
    w.value(cv_rmse_);
    w.values(child_rmse_);
    w.value(n_validation_);
    w.value<std::uint8_t>(refitted_ ? 1 : 0);
  }
  void load_state(ModelReader& r, std::int32_t n_users, std::int32_t n_items) override {
    require_children(children_, 1, kAnyNumber, "rating_blend");
    name_features();
    lo_ = r.value<float>("rating range");
    hi_ = r.value<float>("rating range");
    r.expect_range("rating range", lo_, hi_);
    user_h_ = r.values<float>("user count features");
    r.expect("the number of user count features", static_cast<std::int64_t>(user_h_.size()), n_users);
    item_g_ = r.values<float>("item count features");
    r.expect("the number of item count features", static_cast<std::int64_t>(item_g_.size()), n_items);
    coef_ = r.values<double>("weights");
    r.expect("the number of weights", static_cast<std::int64_t>(coef_.size()),
             static_cast<std::int64_t>(feature_names_.size()));
    intercept_ = r.value<double>("intercept");
    validation_rmse_ = r.value<double>("validation RMSE");
    cv_rmse_ = r.value<double>("cross-validated RMSE");
    child_rmse_ = r.values<double>("the children's RMSE");
    r.expect("the number of the children's RMSE", static_cast<std::int64_t>(child_rmse_.size()),
             static_cast<std::int64_t>(children_.size()));
    n_validation_ = r.value<std::int64_t>("validation ratings");
    const auto refitted = r.value<std::uint8_t>("the refitted flag");
    if (refitted > 1) r.fail("the refitted flag", std::to_string(refitted) + " is neither 0 nor 1");
    refitted_ = refitted == 1;
  }

 private:
  /// feature_names_ for children_ (diagnostics name the weights by them).
  void name_features() {
    feature_names_.clear();
    for (const auto& c : children_) feature_names_.push_back(c.name);
    feature_names_.push_back("log_user_count");
    feature_names_.push_back("log_item_count");
    if (interactions_) {
      for (const auto& c : children_) feature_names_.push_back(c.name + "*log_user_count");
      for (const auto& c : children_) feature_names_.push_back(c.name + "*log_item_count");
    }
  }

  /// Writes the d features of a pair: `r` = the C children's ratings.
  void features(const float* r, std::size_t stride, double h, double g, double* x) const {
    const std::size_t C = children_.size();
    for (std::size_t c = 0; c < C; ++c) x[c] = r[c * stride];
    x[C] = h;
    x[C + 1] = g;
    if (!interactions_) return;
    for (std::size_t c = 0; c < C; ++c) {
      x[C + 2 + c] = r[c * stride] * h;
      x[2 * C + 2 + c] = r[c * stride] * g;
    }
  }

  /// Fits every child again on `all` (train + validation) under the fixed
  /// weights; a child rating_blend (the same type from this library) keeps
  /// its weights too and refits its own children.
  void refit_children(const TrainData& all, const FitContext& ctx) {
    refitted_ = true;
    for (const auto& c : children_) {
      if (ctx.cancelled()) throw Error("rating_blend: cancelled");
      ctx.log("rating_blend: refitting child '" + c.name + "' on train + validation (" +
              std::to_string(all.by_user.nnz()) + " ratings)");
      if (auto* blend = dynamic_cast<RatingBlend*>(c.model.get()))
        blend->refit_children(all, ctx);
      else
        c.model->fit(all, ctx);
    }
  }

  /// Every child's predict_rating of the pairs, child-major into ratings_.
  void child_ratings(std::span<const UserId> users, std::span<const ItemId> items) {
    const std::size_t n = users.size();
    ratings_.resize(children_.size() * n);
    for (std::size_t c = 0; c < children_.size(); ++c)
      children_[c].model->predict_rating(users, items, std::span<float>(ratings_.data() + c * n, n));
  }

  /// The unclipped blend of (users[j], items[j]).
  void blend(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) {
    child_ratings(users, items);
    const std::size_t n = users.size();
    std::vector<double> x(coef_.size());
    for (std::size_t j = 0; j < n; ++j) {
      features(ratings_.data() + j, n, user_h_[static_cast<std::size_t>(users[j])],
               item_g_[static_cast<std::size_t>(items[j])], x.data());
      double b = intercept_;
      for (std::size_t k = 0; k < x.size(); ++k) b += coef_[k] * x[k];
      out[j] = static_cast<float>(b);
    }
  }

  double l2_;
  bool interactions_;
  bool refit_;
  // Its children were refitted on train + validation, by its own refit or a
  // parent blend's (kept in the model file since fusion 1.8.0).
  bool refitted_ = false;
  int cv_folds_;
  float lo_ = 0, hi_ = 0;                 // training rating range
  std::vector<float> user_h_, item_g_;    // standardised log counts
  std::vector<double> coef_;
  std::vector<std::string> feature_names_;
  double intercept_ = 0, validation_rmse_ = 0, cv_rmse_ = 0;
  std::vector<double> child_rmse_;
  std::int64_t n_validation_ = 0;
  std::vector<float> ratings_;            // children x pairs, reused
  std::vector<UserId> pair_users_;
  std::vector<ItemId> pair_items_;
};

/// RMSE of the clipped blend over `folds` parts of the rows when fitted on
/// the rest; parts drawn from `seed` (rows shuffled, then dealt round-robin).
inline double cross_validated_rmse(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double l2, int folds,
                                   float lo, float hi, std::uint64_t seed) {
  const Eigen::Index n = X.rows();
  if (folds < 2 || n < folds) return std::numeric_limits<double>::quiet_NaN();
  std::vector<Eigen::Index> part(static_cast<std::size_t>(n));
  for (Eigen::Index k = 0; k < n; ++k) part[static_cast<std::size_t>(k)] = k % folds;
  Rng rng(seed);
  for (std::size_t k = part.size(); k > 1; --k) std::swap(part[k - 1], part[rng.below(k)]);
  double se = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<Eigen::Index> in, out;
    for (Eigen::Index k = 0; k < n; ++k) (part[static_cast<std::size_t>(k)] == f ? out : in).push_back(k);
    const RidgeFit fit = fit_ridge(X(in, Eigen::all), y(in), l2);
    for (const Eigen::Index k : out) {
      const double b = std::clamp(fit.intercept + X.row(k).dot(fit.weights), double{lo}, double{hi});
      se += (y(k) - b) * (y(k) - b);
    }
  }
  return std::sqrt(se / static_cast<double>(n));
}

inline void RatingBlend::fit(const TrainData& data, const FitContext& ctx) {
  refitted_ = false;
  set_shape(data.n_users, data.n_items);
  require_children(children_, 1, kAnyNumber, "rating_blend");
  refuse_children_trained_on_validation(children_, "rating_blend");
  const CsrMatrix& val = data.validation;
  if (val.nnz() == 0 || val.values.empty())
    throw Error("[rating_blend] needs validation ratings to fit its weights; set [split] validation_ratio > 0");
  if (data.by_user.nnz() == 0 || data.by_user.values.empty())
    throw Error("[rating_blend] needs explicit training ratings");
  const auto [lo, hi] = std::minmax_element(data.by_user.values.begin(), data.by_user.values.end());
  lo_ = std::min(*lo, *std::min_element(val.values.begin(), val.values.end()));
  hi_ = std::max(*hi, *std::max_element(val.values.begin(), val.values.end()));
  std::vector<double> counts(static_cast<std::size_t>(data.n_users));
  for (UserId u = 0; u < data.n_users; ++u) counts[static_cast<std::size_t>(u)] = static_cast<double>(data.by_user.row_size(u));
  user_h_ = standardized_log(counts);
  counts.assign(static_cast<std::size_t>(data.n_items), 0.0);
  for (ItemId i = 0; i < data.n_items; ++i) counts[static_cast<std::size_t>(i)] = static_cast<double>(data.by_item.row_size(i));
  item_g_ = standardized_log(counts);

  const std::size_t C = children_.size();
  name_features();
  const std::size_t d = feature_names_.size();
  coef_.assign(d, 0.0);

  // The validation pairs, their ratings and every child's prediction.
  const auto n = static_cast<std::size_t>(val.nnz());
  std::vector<UserId> users(n);
  for (UserId u = 0; u < val.rows; ++u)
    std::fill(users.begin() + val.indptr[u], users.begin() + val.indptr[u + 1], u);
  const std::span<const ItemId> items(val.indices);
  child_ratings(users, items);
  Eigen::MatrixXd X(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  Eigen::VectorXd y(static_cast<Eigen::Index>(n));
  std::vector<double> x(d);
  child_rmse_.assign(C, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    features(ratings_.data() + j, n, user_h_[static_cast<std::size_t>(users[j])],
             item_g_[static_cast<std::size_t>(items[j])], x.data());
    const auto row = static_cast<Eigen::Index>(j);
    for (std::size_t k = 0; k < d; ++k) X(row, static_cast<Eigen::Index>(k)) = x[k];
    y(row) = val.values[j];
    for (std::size_t c = 0; c < C; ++c) child_rmse_[c] += (y(row) - x[c]) * (y(row) - x[c]);
  }
  for (double& e : child_rmse_) e = std::sqrt(e / static_cast<double>(n));

  const RidgeFit f = fit_ridge(X, y, l2_);
  coef_.assign(f.weights.data(), f.weights.data() + d);
  intercept_ = f.intercept;
  n_validation_ = static_cast<std::int64_t>(n);
  const Eigen::VectorXd fitted = ((X * f.weights).array() + f.intercept).cwiseMax(lo_).cwiseMin(hi_);
  validation_rmse_ = std::sqrt((y - fitted).squaredNorm() / static_cast<double>(n));
  cv_rmse_ = cross_validated_rmse(X, y, l2_, cv_folds_, lo_, hi_, derive_seed(ctx.seed, "rating_blend_cv"));

  std::string line = "rating_blend: " + std::to_string(n) + " validation ratings; intercept=" + std::to_string(intercept_);
  for (std::size_t k = 0; k < d; ++k) line += " " + feature_names_[k] + "=" + std::to_string(coef_[k]);
  line += "; validation RMSE " + std::to_string(validation_rmse_) + " (in-sample), cv RMSE " + std::to_string(cv_rmse_);
  for (std::size_t c = 0; c < C; ++c) line += ", " + children_[c].name + " " + std::to_string(child_rmse_[c]);
  ctx.log(line);
  if (refit_) refit_children(merge_validation(data), ctx);
}

}  // namespace recfuse
