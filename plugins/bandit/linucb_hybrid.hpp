// LinUCB with hybrid linear models (Li, Chu, Langford & Schapire, "A
// Contextual-Bandit Approach to Personalized News Article Recommendation",
// WWW 2010, §3.2 and Algorithm 2). Arms are items. The expected reward of
// item a for user u is
//   E[r | u, a] = h_{u,a}ᵀβ + s_uᵀθ_a,
// β shared by all items, θ_a item a's own:
//   s_u    = z_u, the user's context (bandit_features.hpp: the mean features
//            of the items u clicked, bias last; d values), as scope "item"
//            of linucb;
//   h_{u,a} = (x_a, z_u ⊙ x_a) without the bias entries (k = 2g values for g
//            item attributes): the item's attributes and their match with
//            the user's, the counterpart of the paper's user ⊗ article
//            features at k = 2g instead of g², so that the per-item B_a
//            (d × k) stay small for thousands of items.
// The shared part lets what one item teaches (users click genres they
// liked) serve every item; the per-item part learns each item's own rate.
//
//   [[algorithms]]
//   plugin = "linucb_hybrid"
//   params = { alpha = 0.1, lambda = 10.0 }
//
// State and updates are Algorithm 2's (lines 1-2, 5-7, 17-22), with λI in
// place of the paper's identity priors: A_0 = λI_k, b_0 = 0, and per item
// A_a = λI_d, B_a = 0 (d x k), b_a = 0. An observation (u, a, r):
//   A_0 += B_aᵀA_a⁻¹B_a,  b_0 += B_aᵀA_a⁻¹b_a,
//   A_a += s sᵀ,  B_a += s hᵀ,  b_a += r s,
//   A_0 += h hᵀ − B_aᵀA_a⁻¹B_a,  b_0 += r h − B_aᵀA_a⁻¹b_a,
// with A_a⁻¹ kept by Sherman–Morrison (ridge_models.hpp's form). These make
// β̂ = A_0⁻¹b_0 and θ̂_a = A_a⁻¹(b_a − B_aβ̂) the joint ridge solution of
// all observations (a test checks it against a direct solve). Acting (lines
// 8-12): per candidate a,
//   σ² = hᵀA_0⁻¹h − 2hᵀA_0⁻¹B_aᵀA_a⁻¹s + sᵀA_a⁻¹s + sᵀA_a⁻¹B_aA_0⁻¹B_aᵀA_a⁻¹s,
//   p_a = hᵀβ̂ + sᵀθ̂_a + α σ,
// and the slate is the top slate_size candidates by p_a (ties by smaller
// item id). A_0⁻¹ and β̂ are refreshed (Cholesky, k x k) once per act after
// new observations: within an observe batch nothing reads them.
// warm_start: each logged (u, a) is an observation with reward 1 (target
// click) or the logged value, with z_u the context before that click (the
// logs replayed in time order, as linucb's scope "item"), and
// warm_negatives reward-0 observations per click of items u never
// interacted with (UnclickedSampler). Without them every target is 1 and
// the offline ranking is degenerate: much-clicked items are held at 1 by
// their own θ̂_a while a rarely clicked item keeps its shared hᵀβ̂, above 1
// for items of several attributes, so every user's list starts with the
// same rarely clicked items (scenarios/ml100k-bandits-offline.toml: 19
// items fill all 943 users' top 10, NDCG@10 0.0000; 0.0346 with
// warm_negatives = 1, 0.0415 with 4). Online, contexts
// advance after each step's updates, so a step is learned with the contexts
// it was decided with.
// save/load (kCapSaveLoad) keep x, every item's A_a⁻¹, B_a, b_a, the shared
// A_0 and b_0, and the user contexts; A_0⁻¹ and β̂ are refreshed from A_0
// and b_0 by the same Cholesky solve as after fit, so a loaded policy
// scores, acts and learns bit for bit as the saved one.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "bandit_common.hpp"
#include "bandit_features.hpp"

namespace recfuse {

class LinUcbHybrid final : public Recommender {
 public:
  explicit LinUcbHybrid(const ParamSet& p)
      : alpha_(p.get_float("alpha")),
        lambda_(p.get_float("lambda")),
        warm_start_(p.get_bool("warm_start")),
        negatives_(static_cast<int>(p.get_int("warm_negatives"))),
        target_(parse_bandit_target(p)) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::real("alpha", 1.0, 0.0, 1e6, "width of the confidence bonus alpha * sigma (Li et al. 2010, Alg. 2)"),
        ParamSpec::real("lambda", 1.0, 1e-9, 1e9, "ridge prior of the shared and the per-item models: A starts as lambda * I"),
        ParamSpec::boolean("warm_start", true,
                           "count each logged interaction as a rewarded observation before deployment"),
        warm_negatives_param(),
        bandit_target_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override;

  /// out[r, i] = ĥᵀβ̂ + s_uᵀθ̂_i, the mean estimate without the bonus.
  void score_all(std::span<const UserId> users, std::span<float> out) override;

  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override;

  void propensity(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                  int slate_size, std::span<const ItemId> slates, std::span<double> out) override {
    deterministic_propensity(*this, users, candidates, n_candidates, slate_size, slates, out, mine_);
  }

  void observe(const Feedback& fb) override;

  void save(std::ostream& out) const override;
  void load(std::istream& in) override;

  std::size_t model_bytes() const override {
    return (arm_.size() + a0_.size() + b0_.size() + x_.size()) * sizeof(double) + contexts_.bytes();
  }

  // For tests: the current estimates and the features they use.
  const Eigen::VectorXd& beta() {
    refresh();
    return beta_;
  }
  Eigen::VectorXd theta(ItemId a) {
    refresh();
    return ainv(a) * (b(a) - bmat(a) * beta_);
  }
  /// h_{u,a} into `h` (k values) given s = z_u.
  void shared_features(ItemId a, const Eigen::VectorXd& s, Eigen::VectorXd& h) const;
  void context(UserId u, Eigen::VectorXd& s) const { contexts_.get(u, s); }
  int arm_dim() const { return d_; }
  int shared_dim() const { return k_; }
  /// p_a, the acting score of item a for context s (d values).
  double acting_score(ItemId a, const Eigen::VectorXd& s) {
    refresh();
    return ucb(a, s);
  }
  /// Adds one observation: context s (d values), item a, reward r.
  void update(const Eigen::VectorXd& s, ItemId a, double r);

 private:
  using MatrixMap = Eigen::Map<Eigen::MatrixXd>;
  using VectorMap = Eigen::Map<Eigen::VectorXd>;
  // Per item a flat block: A_a⁻¹ (d x d), B_a (d x k), b_a (d), column-major.
  std::size_t stride() const { return static_cast<std::size_t>(d_) * static_cast<std::size_t>(d_ + k_ + 1); }
  double* arm(ItemId a) { return arm_.data() + static_cast<std::size_t>(a) * stride(); }
  MatrixMap ainv(ItemId a) { return {arm(a), d_, d_}; }
  MatrixMap bmat(ItemId a) { return {arm(a) + d_ * d_, d_, k_}; }
  VectorMap b(ItemId a) { return {arm(a) + d_ * d_ + d_ * k_, d_}; }
  /// A_0⁻¹ and β̂ after new observations.
  void refresh();
  /// p_a once refresh() has run.
  double ucb(ItemId a, const Eigen::VectorXd& s);
  void check_user(UserId u) const {
    if (u < 0 || u >= n_users())
      throw Error("linucb_hybrid: user " + std::to_string(u) + " outside [0, " + std::to_string(n_users()) + ")");
  }

  double alpha_, lambda_;
  bool warm_start_;
  int negatives_;  // warm_negatives
  BanditTarget target_;
  int d_ = 0, k_ = 0, g_ = 0;  // arm (context) dim, shared dim, item attributes
  BanditRowMatrix x_;          // n_items x (g + 1) item features, bias last
  UserContexts contexts_;
  std::vector<double> arm_;    // n_items blocks (stride())
  Eigen::MatrixXd a0_, a0inv_;
  Eigen::VectorXd b0_, beta_;
  bool dirty_ = true;
  // Scratch.
  Eigen::MatrixXd m_;                     // A_a⁻¹ B_a
  Eigen::VectorXd h_, u_, v_, w_, q_, theta_;
  std::vector<float> cand_scores_, top_scores_;
  std::vector<ItemId> mine_;
};

inline void LinUcbHybrid::shared_features(ItemId a, const Eigen::VectorXd& s, Eigen::VectorXd& h) const {
  h.resize(k_);
  for (int j = 0; j < g_; ++j) {
    h[j] = x_(a, j);
    h[g_ + j] = s[j] * x_(a, j);
  }
}

inline void LinUcbHybrid::fit(const TrainData& data, const FitContext& ctx) {
  set_shape(data.n_users, data.n_items);
  x_ = item_feature_matrix(data, "linucb_hybrid");
  g_ = static_cast<int>(x_.cols()) - 1;
  d_ = g_ + 1;
  k_ = 2 * g_;
  arm_.assign(static_cast<std::size_t>(data.n_items) * stride(), 0.0);
  for (ItemId a = 0; a < data.n_items; ++a) ainv(a).diagonal().setConstant(1.0 / lambda_);
  a0_ = lambda_ * Eigen::MatrixXd::Identity(k_, k_);
  b0_ = Eigen::VectorXd::Zero(k_);
  dirty_ = true;
  UnclickedSampler negatives(data, negatives_, ctx.seed, "linucb_hybrid");
  contexts_.replay(x_, data, [&](UserId u, ItemId a, double value, const Eigen::VectorXd& s) {
    if (!warm_start_) return;
    update(s, a, target_ == BanditTarget::kReward ? value : 1.0);
    negatives.each(u, [&](ItemId o) { update(s, o, 0.0); });
  });
  ctx.log("linucb_hybrid: d = " + std::to_string(d_) + " per item, k = " + std::to_string(k_) + " shared");
}

inline void LinUcbHybrid::save(std::ostream& out) const {
  ModelWriter w(out);
  write_model_name(w, "linucb_hybrid");
  w.value<std::int32_t>(n_users());
  w.matrix(x_);
  w.values(arm_);
  w.matrix(a0_);
  w.matrix(b0_);
  contexts_.save(w);
}

inline void LinUcbHybrid::load(std::istream& in) {
  ModelReader r(in, "linucb_hybrid");
  read_model_name(r, "linucb_hybrid");
  const auto users = r.value<std::int32_t>("the number of users");
  BanditRowMatrix x = r.matrix<BanditRowMatrix>("the item features");
  std::vector<double> arms = r.values<double>("the item models");
  Eigen::MatrixXd a0 = r.matrix<Eigen::MatrixXd>("the shared A_0");
  Eigen::VectorXd b0 = r.matrix<Eigen::VectorXd>("the shared b_0");
  UserContexts contexts;
  contexts.load(r, users, x.cols());
  r.finish();
  if (users < 0) r.fail("the number of users", "is negative");
  if (x.cols() < 2) r.fail("the item features", "have no attribute besides the bias");
  const int g = static_cast<int>(x.cols()) - 1;
  const int d = g + 1, k = 2 * g;
  r.expect("the size of the item models", static_cast<std::int64_t>(arms.size()),
           x.rows() * d * (d + k + 1));
  r.expect("the rows of A_0", a0.rows(), k);
  r.expect("the columns of A_0", a0.cols(), k);
  r.expect("the size of b_0", b0.size(), k);
  set_shape(users, static_cast<std::int32_t>(x.rows()));
  x_ = std::move(x);
  g_ = g, d_ = d, k_ = k;
  arm_ = std::move(arms);
  a0_ = std::move(a0);
  b0_ = std::move(b0);
  contexts_ = std::move(contexts);
  dirty_ = true;
}

inline void LinUcbHybrid::update(const Eigen::VectorXd& s, ItemId a, double r) {
  shared_features(a, s, h_);
  MatrixMap ai = ainv(a);
  MatrixMap bm = bmat(a);
  VectorMap bv = b(a);
  m_.noalias() = ai * bm;  // A_a⁻¹ B_a
  a0_.noalias() += bm.transpose() * m_;
  b0_.noalias() += m_.transpose() * bv;
  u_.noalias() = ai * s;  // Sherman–Morrison, as RidgeModels::update
  const double c = 1.0 / (1.0 + s.dot(u_));
  for (int j = 0; j < d_; ++j)
    for (int i = 0; i <= j; ++i) ai(j, i) = ai(i, j) = ai(i, j) - c * (u_[i] * u_[j]);
  bm.noalias() += s * h_.transpose();
  bv += r * s;
  m_.noalias() = ai * bm;
  a0_.noalias() += h_ * h_.transpose();
  a0_.noalias() -= bm.transpose() * m_;
  b0_ += r * h_;
  b0_.noalias() -= m_.transpose() * bv;
  dirty_ = true;
}

inline void LinUcbHybrid::refresh() {
  if (!dirty_) return;
  const Eigen::MatrixXd sym = 0.5 * (a0_ + a0_.transpose());
  const Eigen::LLT<Eigen::MatrixXd> llt(sym);
  if (llt.info() != Eigen::Success) throw Error("linucb_hybrid: the shared A_0 is not positive definite");
  a0inv_ = llt.solve(Eigen::MatrixXd::Identity(k_, k_));
  beta_ = a0inv_ * b0_;
  dirty_ = false;
}

inline double LinUcbHybrid::ucb(ItemId a, const Eigen::VectorXd& s) {
  shared_features(a, s, h_);
  const MatrixMap ai = ainv(a);
  const MatrixMap bm = bmat(a);
  theta_.noalias() = ai * (b(a) - bm * beta_);
  u_.noalias() = ai * s;
  v_.noalias() = bm.transpose() * u_;
  w_.noalias() = a0inv_ * h_;
  q_.noalias() = a0inv_ * v_;
  const double var = h_.dot(w_) - 2.0 * w_.dot(v_) + s.dot(u_) + v_.dot(q_);
  return h_.dot(beta_) + s.dot(theta_) + alpha_ * std::sqrt(std::max(var, 0.0));
}

inline void LinUcbHybrid::act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                              int slate_size, std::span<ItemId> slates) {
  check_policy_args("linucb_hybrid", users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  refresh();
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  cand_scores_.resize(c);
  top_scores_.resize(k);
  Eigen::VectorXd s;
  for (std::size_t r = 0; r < users.size(); ++r) {
    check_user(users[r]);
    contexts_.get(users[r], s);
    const auto row = candidates.subspan(r * c, c);
    for (std::size_t j = 0; j < c; ++j) cand_scores_[j] = static_cast<float>(ucb(row[j], s));
    topk_candidates(cand_scores_.data(), row, slate_size, slates.data() + r * k, top_scores_.data());
  }
}

inline void LinUcbHybrid::observe(const Feedback& fb) {
  contexts_.observe_step("linucb_hybrid", x_, fb, target_, n_items(),
                         [&](UserId, ItemId a, double r, const Eigen::VectorXd& s) { update(s, a, r); });
}

inline void LinUcbHybrid::score_all(std::span<const UserId> users, std::span<float> out) {
  refresh();
  const auto n = static_cast<std::size_t>(n_items());
  // θ̂ of every item once per call, then the mean per (user, item).
  Eigen::MatrixXd thetas(d_, static_cast<Eigen::Index>(n));
  for (ItemId a = 0; a < n_items(); ++a) thetas.col(a) = ainv(a) * (b(a) - bmat(a) * beta_);
  Eigen::VectorXd s;
  for (std::size_t r = 0; r < users.size(); ++r) {
    check_user(users[r]);
    contexts_.get(users[r], s);
    for (ItemId a = 0; a < n_items(); ++a) {
      shared_features(a, s, h_);
      out[r * n + static_cast<std::size_t>(a)] = static_cast<float>(h_.dot(beta_) + s.dot(thetas.col(a)));
    }
  }
}

}  // namespace recfuse
