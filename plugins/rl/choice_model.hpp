// The user choice model SlateQ assumes (Ie et al., IJCAI 2019: the
// conditional choice model, here the conditional logit / multinomial logit
// of Louviere et al. with a no-click option), learned from the slates and
// choices seen through observe.
//
//   v(s, i) = exp(u(s, i)),  u(s, i) = x̃_iᵀ C φ(s) + a_i,  v(s, ⊥) = 1 (u⊥ = 0)
//   P(i | s, A) = v(s, i) / (v(s, ⊥) + Σ_{j∈A} v(s, j)),  i ∈ A ∪ {⊥}
//
// C is (F + 1) x D (item features with bias x state), a the per-item bias
// of ItemScore (rl_common.hpp; absent when off), fitted by maximum
// likelihood: with d_j = P(j) − [j = c],
//   ∂(−log P(c | s, A))/∂C = Σ_{j∈A} d_j x̃_j φᵀ,  ∂/∂a_j = d_j.
// Utilities are clamped to ±kMaxUtility so exp never overflows.
#pragma once

#include <algorithm>
#include <cmath>

#include "rl_common.hpp"

namespace recfuse::rl {

class ChoiceModel {
 public:
  static constexpr double kMaxUtility = 30.0;

  void reset(const ItemFeatures* items, int state_dim, double learning_rate, bool item_bias) {
    score_.reset(items, item_bias);
    e_ = score_.dim();
    d_ = state_dim;
    c_.setZero(off_a() + score_.bias_size());
    grad_.setZero(c_.size());
    adam_ = Adam(learning_rate);
    adam_.reset(c_.size());
    rows_ = 0;
  }

  /// Sets the per-item biases a to b (n values; no-op when they are off).
  void set_item_bias(const Eigen::VectorXd& b) {
    if (score_.bias_size() > 0) c_.segment(off_a(), b.size()) = b;
  }
  /// g = C φ (F + 1 values): u(s, i) = x̃_iᵀ g.
  void project(const double* phi, double* g) const {
    Eigen::Map<Eigen::VectorXd>(g, e_).noalias() =
        Eigen::Map<const RowMatrix>(c_.data(), e_, d_) * Eigen::Map<const Eigen::VectorXd>(phi, d_);
  }
  /// v(s, i) from g = C φ(s).
  double attraction(ItemId i, const double* g) const {
    return std::exp(std::clamp(score_(i, g, c_.data() + off_a()), -kMaxUtility, kMaxUtility));
  }

  /// Adds the gradient of −log P(choice | s, slate) (choice −1 = ⊥).
  void accumulate(const double* phi, const ItemId* slate, int k, int choice) {
    g_.resize(e_);
    project(phi, g_.data());
    v_.resize(static_cast<std::size_t>(k));
    double total = 1.0;
    for (int j = 0; j < k; ++j) total += v_[static_cast<std::size_t>(j)] = attraction(slate[j], g_.data());
    dg_.setZero(e_);
    for (int j = 0; j < k; ++j)
      score_.backward(slate[j], v_[static_cast<std::size_t>(j)] / total - (j == choice ? 1.0 : 0.0), dg_.data(),
                      grad_.data() + off_a());
    Eigen::Map<RowMatrix>(grad_.data(), e_, d_).noalias() += dg_ * Eigen::Map<const Eigen::RowVectorXd>(phi, d_);
    ++rows_;
  }
  /// One Adam step on the mean of the accumulated gradients.
  void apply() {
    if (rows_ == 0) return;
    grad_ /= static_cast<double>(rows_);
    adam_.step(c_, grad_);
    grad_.setZero();
    rows_ = 0;
  }

  std::size_t bytes() const { return static_cast<std::size_t>(c_.size()) * sizeof(double); }

 private:
  Eigen::Index off_a() const { return static_cast<Eigen::Index>(e_) * d_; }

  ItemScore score_;
  int e_ = 0, d_ = 0;
  Eigen::VectorXd c_, grad_;  // [C, (F + 1) x D row-major | a], and its gradient
  Adam adam_;
  std::int64_t rows_ = 0;
  std::vector<double> g_, v_;  // scratch
  Eigen::VectorXd dg_;
};

}  // namespace recfuse::rl
