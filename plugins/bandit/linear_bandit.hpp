// What LinUCB and linear Thompson sampling share: feature vectors, ridge
// models (one per user, one for everyone, or one per item), learning from
// the logs and from feedback, mean scoring for offline evaluation, and the
// act loop. Subclasses say only how a session's candidates are scored for
// acting, given each candidate's (model, feature vector) pair.
//
// Item features: x_i = (row i of TrainData::item_features, 1), d =
// attributes + 1; the trailing 1 is the bias feature. Three scopes:
//
//   scope "user" (default): user u's expected reward for item i is θ_uᵀx_i.
//     This is Li et al.'s (WWW 2010) Algorithm 1 with the roles of its
//     indices swapped: the paper keeps one (A_a, b_a) per article a over
//     user context features; here the parameters belong to the user and the
//     context is the item's feature vector.
//   scope "global": one θ for everyone over x_i (not personalised).
//   scope "item": the paper's orientation. Each item (arm) a has its own
//     θ_a over the user's context z_u, the mean of x_i over the items u has
//     clicked so far (logs and online; bias entry 1), or (0, …, 0, 1) before
//     any click: expected reward θ_aᵀz_u. The per-item bias learns each
//     item's own click rate, which item features alone cannot express.
//
// warm_start: before deployment each logged (u, i) is one observation with
// reward ρ = 1 (target click) or the logged value (target reward): (x_i, ρ)
// for u's model, once per pair (TrainData::by_user keeps one entry per
// pair), or (z_u, ρ) for i's model, once per logged click (the sequences
// keep repeats), with z_u the
// context before that click (u's logged clicks replayed in time order, so
// the warm start equals observing them online one at a time; a context
// never contains the item it teaches about, as online). Logs hold no impressions, hence
// no zeros: this prior is optimistic about what users chose before, and
// online feedback corrects it; warm_negatives = N adds, per warm-start
// observation, N reward-0 observations of items u never interacted with
// (UnclickedSampler, bandit_features.hpp) under the same context. The context z_u always includes the logged
// clicks (it describes the user, not the model). score_all/score return the
// mean θ̂ᵀx (or θ̂_aᵀz_u), with no exploration bonus.
//
// save/load (kCapSaveLoad) keep the whole state a deployment continues
// from: the item features, every ridge model (A⁻¹, b, θ̂ as they are, not
// recomputed), which model each user has, the user contexts, and the
// policy's random stream (policy_rng: lin_ts's posterior draws). A loaded
// policy scores, acts and, after the same feedback, learns bit for bit as
// the saved one.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bandit_common.hpp"
#include "bandit_features.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/rng.hpp"
#include "ridge_models.hpp"

namespace recfuse {

class LinearBandit : public Recommender {
 public:
  using RowMatrix = BanditRowMatrix;
  enum class Scope { kUser, kGlobal, kItem };

  LinearBandit(const ParamSet& p, const char* name)
      : name_(name),
        lambda_(p.get_float("lambda")),
        scope_(parse_scope(p.get_string("scope"))),
        warm_start_(p.get_bool("warm_start")),
        negatives_(static_cast<int>(p.get_int("warm_negatives"))),
        target_(parse_bandit_target(p)) {}

  /// Parameters every linear bandit declares (after its own).
  static std::vector<ParamSpec> common_params() {
    return {
        ParamSpec::real("lambda", 1.0, 1e-9, 1e9, "ridge prior: A starts as lambda * I"),
        ParamSpec::choice("scope", "user", {"user", "global", "item"},
                          "user: one model per user over item features; global: one shared model; "
                          "item: one model per item over the user's context (mean features of the "
                          "items the user clicked), Li et al.'s orientation"),
        ParamSpec::boolean("warm_start", true,
                           "count each logged interaction as a rewarded observation before deployment"),
        warm_negatives_param(),
        bandit_target_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override;

  /// out: users.size() x n_items, out[r, i] = the mean estimate of (users[r], i).
  void score_all(std::span<const UserId> users, std::span<float> out) override;

  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    for (std::size_t j = 0; j < items.size(); ++j) {
      if (scope_ == Scope::kItem) {
        context(users[j], z_);
        out[j] = static_cast<float>(models_.theta(item_slot(items[j])).dot(z_));
      } else {
        out[j] = static_cast<float>(models_.theta(slot(users[j])).dot(feature(items[j])));
      }
    }
  }

  /// For each session, the top slate_size candidates by candidate_scores
  /// (rounded to float; ties by smaller item id).
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
           int slate_size, std::span<ItemId> slates) override;

  /// Every shown item is an observation of the model that decided it; with
  /// scope "item" the contexts are those the step was decided with, and the
  /// step's clicks join the users' contexts afterwards.
  void observe(const Feedback& fb) override;

  void save(std::ostream& out) const override;
  /// Refuses a file of another algorithm, scope or λ, or one whose parts
  /// disagree in shape (ModelReader's errors, naming the part).
  void load(std::istream& in) override;

  std::size_t model_bytes() const override {
    return models_.bytes() + static_cast<std::size_t>(x_.size()) * sizeof(double) +
           slot_of_user_.size() * sizeof(std::int32_t) + contexts_.bytes();
  }

  Scope scope() const { return scope_; }
  /// The ridge model that decides for user u (scope user or global; slot 0,
  /// the prior, when u has no data yet).
  std::int32_t slot(UserId u) const {
    check_user(u);
    if (scope_ == Scope::kItem) throw Error(std::string(name_) + ": scope \"item\" keeps models per item");
    return scope_ == Scope::kGlobal ? 1 : slot_of_user_[static_cast<std::size_t>(u)];
  }
  /// The ridge model of item i (scope item: every item has its own slot).
  std::int32_t item_slot(ItemId i) const {
    if (scope_ != Scope::kItem) throw Error(std::string(name_) + ": only scope \"item\" keeps models per item");
    if (i < 0 || i >= n_items())
      throw Error(std::string(name_) + ": item " + std::to_string(i) + " outside [0, " +
                  std::to_string(n_items()) + ")");
    return item_slot_base_ + i;
  }
  const RidgeModels& models() const { return models_; }
  /// x_i (d values, the bias last).
  RidgeModels::ConstVectorMap feature(ItemId i) const {
    return {x_.data() + static_cast<std::ptrdiff_t>(i) * x_.cols(), x_.cols()};
  }
  /// z_u, user u's context under scope item (d values, the bias last;
  /// bandit_features.hpp).
  void context(UserId u, Eigen::VectorXd& out) const {
    check_user(u);
    if (scope_ != Scope::kItem) throw Error(std::string(name_) + ": only scope \"item\" keeps user contexts");
    contexts_.get(u, out);
  }

 protected:
  /// out[j] = the acting score of candidate j: feature row j of `xc` (c x d)
  /// under the model in slots[j].
  virtual void candidate_scores(std::span<const std::int32_t> slots, const RowMatrix& xc, std::span<float> out) = 0;
  /// The policy's random stream, from the trial seed's stream named after
  /// the algorithm (saved and loaded with the model).
  Rng& policy_rng() { return rng_; }

 private:
  static Scope parse_scope(const std::string& s) {
    return s == "global" ? Scope::kGlobal : s == "item" ? Scope::kItem : Scope::kUser;
  }
  void check_user(UserId u) const {
    if (u < 0 || u >= n_users())
      throw Error(std::string(name_) + ": user " + std::to_string(u) + " outside [0, " +
                  std::to_string(n_users()) + ")");
  }
  std::int32_t writable_slot(UserId u) {
    const std::int32_t s = slot(u);
    if (s != 0) return s;
    return slot_of_user_[static_cast<std::size_t>(u)] = models_.add();
  }
  void warm_start(const TrainData& data, UnclickedSampler& negatives);

  const char* name_;
  double lambda_;
  Scope scope_;
  bool warm_start_;
  int negatives_;  // warm_negatives
  BanditTarget target_;
  RowMatrix x_;                             // n_items x d item features, bias last
  RidgeModels models_;                      // slot 0 prior; global: slot 1; item i: item_slot_base_ + i
  std::vector<std::int32_t> slot_of_user_;  // n_users; 0 = no data yet (scope user)
  std::int32_t item_slot_base_ = 0;
  UserContexts contexts_;                   // scope item only
  Rng rng_;                                 // policy_rng()
  RowMatrix theta_block_, score_block_;     // score_all scratch
  RowMatrix xc_;                            // act scratch: candidate feature rows
  std::vector<std::int32_t> slots_;         // act scratch: candidate models
  Eigen::VectorXd z_;                       // context scratch
  std::vector<float> cand_scores_, top_scores_;
};

inline void LinearBandit::fit(const TrainData& data, const FitContext& ctx) {
  set_shape(data.n_users, data.n_items);
  x_ = item_feature_matrix(data, name_);
  const int d = static_cast<int>(x_.cols());
  models_.reset(d, lambda_);
  if (scope_ == Scope::kGlobal) models_.add();
  slot_of_user_.assign(scope_ == Scope::kUser ? static_cast<std::size_t>(data.n_users) : 0, 0);
  contexts_.clear();
  UnclickedSampler negatives(data, negatives_, ctx.seed, name_);
  if (scope_ == Scope::kItem) {
    item_slot_base_ = models_.size();
    for (std::int32_t i = 0; i < data.n_items; ++i) models_.add();
    // The logs in time order: each click an observation of its item's model
    // under the user's context before it (warm start), then part of it.
    contexts_.replay(x_, data, [&](UserId u, ItemId i, double value, const Eigen::VectorXd& z) {
      if (!warm_start_) return;
      models_.update(item_slot(i), z, target_ == BanditTarget::kReward ? value : 1.0);
      negatives.each(u, [&](ItemId o) { models_.update(item_slot(o), z, 0.0); });
    });
  } else if (warm_start_) {
    warm_start(data, negatives);
  }
  rng_.reseed(derive_seed(ctx.seed, name_));
  const auto n_models = models_.size() - 1;
  ctx.log(std::string(name_) + ": d = " + std::to_string(d) + ", " + std::to_string(n_models) + " model(s)" +
          (scope_ == Scope::kItem ? " (one per item)" : " after the logs"));
}

inline void LinearBandit::warm_start(const TrainData& data, UnclickedSampler& negatives) {  // scope user or global
  const CsrMatrix& m = data.by_user;
  const int d = static_cast<int>(x_.cols());
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
  auto flush = [&](std::int32_t s) {
    models_.set(s, gram, b);
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
      negatives.each(u, [&](ItemId o) { gram.selfadjointView<Eigen::Lower>().rankUpdate(feature(o)); });
    }
    if (scope_ == Scope::kUser && m.row_size(u) > 0) flush(writable_slot(u));
    seen += m.row_size(u);
  }
  if (scope_ == Scope::kGlobal && seen > 0) flush(1);
}

inline void LinearBandit::save(std::ostream& out) const {
  ModelWriter w(out);
  write_model_name(w, name_);
  w.value<std::int32_t>(n_users());
  w.value(static_cast<std::int32_t>(scope_));
  w.matrix(x_);
  models_.save(w);
  w.values(slot_of_user_);
  w.value(item_slot_base_);
  contexts_.save(w);
  w.value(rng_);
}

inline void LinearBandit::load(std::istream& in) {
  ModelReader r(in, name_);
  read_model_name(r, name_);
  const auto users = r.value<std::int32_t>("the number of users");
  const auto scope = r.value<std::int32_t>("the scope");
  r.expect("the scope (0 = user, 1 = global, 2 = item)", scope, static_cast<std::int32_t>(scope_));
  RowMatrix x = r.matrix<RowMatrix>("the item features");
  RidgeModels models;
  models.load(r, x.cols(), lambda_);
  std::vector<std::int32_t> slots = r.values<std::int32_t>("the model of each user");
  const auto base = r.value<std::int32_t>("the first item model");
  const bool item = scope_ == Scope::kItem;
  UserContexts contexts;
  contexts.load(r, item ? users : 0, item ? x.cols() : 0);
  const Rng rng = read_rng(r, "the policy's random stream");
  r.finish();
  if (users < 0) r.fail("the number of users", "is negative");
  const auto n_items = static_cast<std::int32_t>(x.rows());
  r.expect("the number of models of users", static_cast<std::int64_t>(slots.size()),
           scope_ == Scope::kUser ? users : 0);
  for (const std::int32_t s : slots)
    if (s < 0 || s >= models.size()) r.fail("a user's model", std::to_string(s) + " is not one of the models");
  if (scope_ == Scope::kGlobal) r.expect("the number of models", models.size(), 2);
  if (item) {
    r.expect("the first item model", base, 1);
    r.expect("the number of models", models.size(), std::int64_t{1} + n_items);
  }
  set_shape(users, n_items);
  x_ = std::move(x);
  models_ = std::move(models);
  slot_of_user_ = std::move(slots);
  item_slot_base_ = base;
  contexts_ = std::move(contexts);
  rng_ = rng;
}

inline void LinearBandit::observe(const Feedback& fb) {
  if (scope_ != Scope::kItem) {
    for_each_shown(name_, fb, target_, n_users(), n_items(), [&](std::size_t, UserId u, ItemId i, double r, bool) {
      models_.update(writable_slot(u), feature(i), r);
    });
    return;
  }
  contexts_.observe_step(name_, x_, fb, target_, n_items(), [&](UserId, ItemId i, double r, const Eigen::VectorXd& z) {
    models_.update(item_slot(i), z, r);
  });
}

inline void LinearBandit::score_all(std::span<const UserId> users, std::span<float> out) {
  const auto n = static_cast<Eigen::Index>(n_items());
  const auto d = x_.cols();
  // Scope item: the users' contexts against every item's θ̂ (n x d);
  // otherwise the users' θ̂ against every item's features.
  const bool item = scope_ == Scope::kItem;
  if (item) {
    xc_.resize(n, d);
    for (Eigen::Index i = 0; i < n; ++i) xc_.row(i) = models_.theta(item_slot(static_cast<ItemId>(i))).transpose();
  }
  const RowMatrix& right = item ? xc_ : x_;
  for (std::size_t b = 0; b < users.size(); b += kScoreBlock) {
    const auto nb = static_cast<Eigen::Index>(std::min(kScoreBlock, users.size() - b));
    theta_block_.resize(nb, d);
    for (Eigen::Index r = 0; r < nb; ++r) {
      const UserId u = users[b + static_cast<std::size_t>(r)];
      if (item) {
        context(u, z_);
        theta_block_.row(r) = z_.transpose();
      } else {
        theta_block_.row(r) = models_.theta(slot(u)).transpose();
      }
    }
    score_block_.resize(nb, n);
    score_block_.noalias() = theta_block_ * right.transpose();
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        out.data() + b * static_cast<std::size_t>(n), nb, n) = score_block_.cast<float>();
  }
}

inline void LinearBandit::act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                              int slate_size, std::span<ItemId> slates) {
  check_policy_args(name_, users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  xc_.resize(n_candidates, x_.cols());
  slots_.resize(c);
  cand_scores_.resize(c);
  top_scores_.resize(k);
  for (std::size_t r = 0; r < users.size(); ++r) {
    const auto row = candidates.subspan(r * c, c);
    if (scope_ == Scope::kItem) {
      context(users[r], z_);
      for (std::size_t j = 0; j < c; ++j) {
        xc_.row(static_cast<Eigen::Index>(j)) = z_.transpose();
        slots_[j] = item_slot(row[j]);
      }
    } else {
      const std::int32_t s = slot(users[r]);
      for (std::size_t j = 0; j < c; ++j) {
        xc_.row(static_cast<Eigen::Index>(j)) = x_.row(row[j]);
        slots_[j] = s;
      }
    }
    candidate_scores(slots_, xc_, cand_scores_);
    topk_candidates(cand_scores_.data(), row, slate_size, slates.data() + r * k, top_scores_.data());
  }
}

}  // namespace recfuse
