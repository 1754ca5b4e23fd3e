// What LinUCB and linear Thompson sampling share: item feature vectors, one
// ridge model per user (or one for everyone), learning from the logs and
// from feedback, mean scoring for offline evaluation, and the act loop.
// Subclasses say only how a session's candidates are scored for acting.
//
// Features: x_i = (row i of TrainData::item_features, 1), d = attributes + 1;
// the trailing 1 is the bias feature. A user's expected reward for item i is
// modelled as θ_uᵀx_i. This is Li et al.'s (WWW 2010) Algorithm 1 with the
// roles of its indices swapped: the paper keeps one (A_a, b_a) per article a
// over user context features; here the slate is chosen among items for a
// known user, so the parameters are indexed by the user (scope "user",
// personalised) or shared (scope "global") and the context is the item's
// feature vector.
//
// warm_start: before deployment each logged interaction (u, i) is one
// observation (x_i, ρ) of u's model, ρ = 1 (target click) or the logged
// value (target reward). Logs hold no impressions, hence no zeros: this
// prior is optimistic about what the user chose before, and online feedback
// corrects it. score_all/score return θ̂_uᵀx_i, with no exploration bonus.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bandit_common.hpp"
#include "ridge_models.hpp"

namespace recfuse {

class LinearBandit : public Recommender {
 public:
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  LinearBandit(const ParamSet& p, const char* name)
      : name_(name),
        lambda_(p.get_float("lambda")),
        global_(p.get_string("scope") == "global"),
        warm_start_(p.get_bool("warm_start")),
        target_(parse_bandit_target(p)) {}

  /// Parameters every linear bandit declares (after its own).
  static std::vector<ParamSpec> common_params() {
    return {
        ParamSpec::real("lambda", 1.0, 1e-9, 1e9, "ridge prior: A starts as lambda * I"),
        ParamSpec::choice("scope", "user", {"user", "global"},
                          "one model per user (personalised) or one shared by all users"),
        ParamSpec::boolean("warm_start", true,
                           "count each logged interaction as a rewarded observation before deployment"),
        bandit_target_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override;

  /// out: users.size() x n_items, out[r, i] = θ̂_{users[r]}ᵀ x_i.
  void score_all(std::span<const UserId> users, std::span<float> out) override;

  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    for (std::size_t j = 0; j < items.size(); ++j)
      out[j] = static_cast<float>(models_.theta(slot(users[j])).dot(feature(items[j])));
  }

  /// For each session, the top slate_size candidates by candidate_scores
  /// (rounded to float; ties by smaller item id).
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
           int slate_size, std::span<ItemId> slates) override;

  void observe(const Feedback& fb) override {
    for_each_shown(name_, fb, target_, n_users(), n_items(), [&](std::size_t, UserId u, ItemId i, double r) {
      models_.update(writable_slot(u), feature(i), r);
    });
  }

  std::size_t model_bytes() const override {
    return models_.bytes() + static_cast<std::size_t>(x_.size()) * sizeof(double) +
           slot_of_user_.size() * sizeof(std::int32_t);
  }

  /// The ridge model that decides for user u (slot 0, the prior, when u has no data yet).
  std::int32_t slot(UserId u) const {
    if (u < 0 || u >= n_users())
      throw Error(std::string(name_) + ": user " + std::to_string(u) + " outside [0, " +
                  std::to_string(n_users()) + ")");
    return global_ ? 1 : slot_of_user_[static_cast<std::size_t>(u)];
  }
  const RidgeModels& models() const { return models_; }
  /// x_i (d values, the bias last).
  RidgeModels::ConstVectorMap feature(ItemId i) const {
    return {x_.data() + static_cast<std::ptrdiff_t>(i) * x_.cols(), x_.cols()};
  }

 protected:
  /// out[j] = the acting score of candidate row j of `xc` (c x d) under slot s.
  virtual void candidate_scores(std::int32_t s, const RowMatrix& xc, std::span<float> out) = 0;
  /// Called at the end of fit with the trial seed (for stochastic policies).
  virtual void seed(std::uint64_t) {}

 private:
  std::int32_t writable_slot(UserId u) {
    const std::int32_t s = slot(u);
    if (s != 0) return s;
    return slot_of_user_[static_cast<std::size_t>(u)] = models_.add();
  }
  void warm_start(const TrainData& data);

  const char* name_;
  double lambda_;
  bool global_, warm_start_;
  BanditTarget target_;
  RowMatrix x_;                             // n_items x d item features, bias last
  RidgeModels models_;                      // slot 0 prior; scope global: slot 1
  std::vector<std::int32_t> slot_of_user_;  // n_users; 0 = no data yet (scope user)
  RowMatrix theta_block_, score_block_;     // score_all scratch
  RowMatrix xc_;                            // act scratch: candidate features
  std::vector<float> cand_scores_, top_scores_;
};

inline void LinearBandit::fit(const TrainData& data, const FitContext& ctx) {
  set_shape(data.n_users, data.n_items);
  const CsrMatrix& f = data.item_features.matrix;
  if (f.rows != data.n_items || f.cols == 0)
    throw Error(std::string(name_) + ": needs item features (TrainData::item_features with one row per item, "
                "e.g. an environment's topics); got " + std::to_string(f.rows) + " rows x " +
                std::to_string(f.cols) + " columns for " + std::to_string(data.n_items) + " items");
  const int d = f.cols + 1;
  x_.setZero(data.n_items, d);
  for (std::int32_t i = 0; i < data.n_items; ++i) {
    for (std::int64_t q = f.indptr[static_cast<std::size_t>(i)]; q < f.indptr[static_cast<std::size_t>(i) + 1]; ++q)
      x_(i, f.indices[static_cast<std::size_t>(q)]) = f.values.empty() ? 1.0 : f.values[static_cast<std::size_t>(q)];
    x_(i, d - 1) = 1.0;
  }
  models_.reset(d, lambda_);
  if (global_) models_.add();
  slot_of_user_.assign(global_ ? 0 : static_cast<std::size_t>(data.n_users), 0);
  if (warm_start_) warm_start(data);
  seed(ctx.seed);
  ctx.log(std::string(name_) + ": d = " + std::to_string(d) + ", " + std::to_string(models_.size() - 1) +
          " model(s) after the logs");
}

inline void LinearBandit::warm_start(const TrainData& data) {
  const CsrMatrix& m = data.by_user;
  const int d = static_cast<int>(x_.cols());
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
  auto flush = [&](UserId u) {
    models_.set(global_ ? 1 : writable_slot(u), gram, b);
    gram.setZero();
    b.setZero();
  };
  std::int64_t seen = 0;
  for (UserId u = 0; u < m.rows && u < data.n_users; ++u) {
    for (std::int64_t k = m.indptr[static_cast<std::size_t>(u)]; k < m.indptr[static_cast<std::size_t>(u) + 1]; ++k) {
      const auto x = feature(m.indices[static_cast<std::size_t>(k)]);
      const double rho = target_ == BanditTarget::kReward && !m.values.empty() ? m.values[static_cast<std::size_t>(k)] : 1.0;
      gram.selfadjointView<Eigen::Lower>().rankUpdate(x);
      b += rho * x;
    }
    if (!global_ && m.row_size(u) > 0) flush(u);
    seen += m.row_size(u);
  }
  if (global_ && seen > 0) flush(0);
}

inline void LinearBandit::score_all(std::span<const UserId> users, std::span<float> out) {
  const auto n = static_cast<Eigen::Index>(n_items());
  const auto d = x_.cols();
  for (std::size_t b = 0; b < users.size(); b += kScoreBlock) {
    const auto nb = static_cast<Eigen::Index>(std::min(kScoreBlock, users.size() - b));
    theta_block_.resize(nb, d);
    for (Eigen::Index r = 0; r < nb; ++r)
      theta_block_.row(r) = models_.theta(slot(users[b + static_cast<std::size_t>(r)])).transpose();
    score_block_.resize(nb, n);
    score_block_.noalias() = theta_block_ * x_.transpose();
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        out.data() + b * static_cast<std::size_t>(n), nb, n) = score_block_.cast<float>();
  }
}

inline void LinearBandit::act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                              int slate_size, std::span<ItemId> slates) {
  check_policy_args(name_, users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  xc_.resize(n_candidates, x_.cols());
  cand_scores_.resize(c);
  top_scores_.resize(k);
  for (std::size_t r = 0; r < users.size(); ++r) {
    const auto row = candidates.subspan(r * c, c);
    for (std::size_t j = 0; j < c; ++j) xc_.row(static_cast<Eigen::Index>(j)) = x_.row(row[j]);
    candidate_scores(slot(users[r]), xc_, cand_scores_);
    topk_candidates(cand_scores_.data(), row, slate_size, slates.data() + r * k, top_scores_.data());
  }
}

}  // namespace recfuse
