// Ridge-regression state of linear bandits, as in Li, Chu, Langford &
// Schapire, "A Contextual-Bandit Approach to Personalized News Article
// Recommendation", WWW 2010, Algorithm 1 (lines 5-6, 8, 12-13):
//
//   A = λI_d + Σ x xᵀ,   b = Σ r x,   θ̂ = A⁻¹ b.
//
// A⁻¹ is kept instead of A and updated in O(d²) per observation by the
// Sherman–Morrison formula (Sherman & Morrison 1950):
//
//   (A + x xᵀ)⁻¹ = A⁻¹ − u uᵀ / (1 + xᵀu),   u = A⁻¹ x,
//
// applied to the upper triangle and mirrored, so A⁻¹ stays exactly
// symmetric in floating point. Many models (one per user, or one shared)
// live in one flat buffer of slots, each d² + 2d doubles (A⁻¹, b, θ̂).
//
//   RidgeModels m;
//   m.reset(d, 1.0);                  // slot 0: the prior, θ̂ = 0, A⁻¹ = I/λ
//   const std::int32_t s = m.add();
//   m.update(s, x, 1.0);              // x: d features, reward 1
//   double mean = m.theta(s).dot(x);
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recfuse/model_io.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

class RidgeModels {
 public:
  using MatrixMap = Eigen::Map<Eigen::MatrixXd>;
  using VectorMap = Eigen::Map<Eigen::VectorXd>;
  using ConstMatrixMap = Eigen::Map<const Eigen::MatrixXd>;
  using ConstVectorMap = Eigen::Map<const Eigen::VectorXd>;

  /// Forgets every slot and makes slot 0, the prior shared by whoever has
  /// no data yet.
  void reset(int dim, double lambda) {
    if (dim <= 0 || !(lambda > 0)) throw Error("ridge model: need dim > 0 and lambda > 0");
    dim_ = dim;
    lambda_ = lambda;
    data_.clear();
    add();
  }

  /// A new slot holding the prior; returns its index.
  std::int32_t add() {
    const std::size_t s = data_.size() / stride();
    data_.resize(data_.size() + stride(), 0.0);
    a_inv(static_cast<std::int32_t>(s)).diagonal().setConstant(1.0 / lambda_);
    return static_cast<std::int32_t>(s);
  }

  /// Replaces slot s by A = λI + gram and b = b_sum, A⁻¹ by a Cholesky
  /// solve (used to start from logs in one pass, O(d³)). Only the lower
  /// triangle of `gram` (Σ x xᵀ, d x d) is read.
  void set(std::int32_t s, const Eigen::Ref<const Eigen::MatrixXd>& gram,
           const Eigen::Ref<const Eigen::VectorXd>& b_sum) {
    Eigen::MatrixXd a = gram.selfadjointView<Eigen::Lower>();
    a.diagonal().array() += lambda_;
    const Eigen::LLT<Eigen::MatrixXd> llt(a);
    if (llt.info() != Eigen::Success) throw Error("ridge model: A is not positive definite");
    a_inv(s) = llt.solve(Eigen::MatrixXd::Identity(dim_, dim_));
    a_inv(s) = 0.5 * (a_inv(s) + a_inv(s).transpose()).eval();
    b(s) = b_sum;
    theta(s).noalias() = a_inv(s) * b(s);
  }

  /// Adds one observation (x, r) to slot s: Sherman–Morrison on A⁻¹,
  /// b += r x, θ̂ = A⁻¹ b. O(d²), no allocation after the first call.
  void update(std::int32_t s, const Eigen::Ref<const Eigen::VectorXd>& x, double r) {
    u_.resize(dim_);
    MatrixMap ai = a_inv(s);
    u_.noalias() = ai * x;
    const double c = 1.0 / (1.0 + x.dot(u_));
    for (int j = 0; j < dim_; ++j)
      for (int i = 0; i <= j; ++i) ai(j, i) = ai(i, j) = ai(i, j) - c * (u_[i] * u_[j]);
    b(s) += r * x;
    theta(s).noalias() = ai * b(s);
  }

  /// kCapSaveLoad: d, λ and every slot as it is (A⁻¹, b, θ̂), so that a
  /// loaded model scores and updates bit for bit as the saved one.
  void save(ModelWriter& w) const {
    w.value<std::int32_t>(dim_);
    w.value(lambda_);
    w.values(data_);
  }
  /// Replaces every slot by what save wrote; refuses another d than `dim`,
  /// another λ than `lambda` (the prior of every slot not yet written), or
  /// values that are not whole slots.
  void load(ModelReader& r, std::int64_t dim, double lambda) {
    const auto d = r.value<std::int32_t>("the ridge dimension");
    const auto l = r.value<double>("the ridge lambda");
    std::vector<double> data = r.values<double>("the ridge models");
    r.expect("the ridge dimension", d, dim);
    if (d < 1) r.fail("the ridge dimension", "is " + std::to_string(d) + ", not a feature dimension");
    if (l != lambda) r.fail("the ridge lambda", "is " + std::to_string(l) + ", expected " + std::to_string(lambda));
    const auto stride = static_cast<std::size_t>(d) * static_cast<std::size_t>(d + 2);
    if (data.empty() || data.size() % stride != 0)
      r.fail("the ridge models", "hold " + std::to_string(data.size()) + " values, not whole slots of " +
                                     std::to_string(stride));
    dim_ = d;
    lambda_ = l;
    data_ = std::move(data);
  }

  int dim() const { return dim_; }
  double lambda() const { return lambda_; }
  std::int32_t size() const { return dim_ == 0 ? 0 : static_cast<std::int32_t>(data_.size() / stride()); }
  std::size_t bytes() const { return data_.size() * sizeof(double); }

  MatrixMap a_inv(std::int32_t s) { return {slot(s), dim_, dim_}; }
  ConstMatrixMap a_inv(std::int32_t s) const { return {slot(s), dim_, dim_}; }
  VectorMap b(std::int32_t s) { return {slot(s) + dim_ * dim_, dim_}; }
  ConstVectorMap b(std::int32_t s) const { return {slot(s) + dim_ * dim_, dim_}; }
  VectorMap theta(std::int32_t s) { return {slot(s) + dim_ * dim_ + dim_, dim_}; }
  ConstVectorMap theta(std::int32_t s) const { return {slot(s) + dim_ * dim_ + dim_, dim_}; }

 private:
  std::size_t stride() const { return static_cast<std::size_t>(dim_) * static_cast<std::size_t>(dim_ + 2); }
  double* slot(std::int32_t s) { return data_.data() + static_cast<std::size_t>(s) * stride(); }
  const double* slot(std::int32_t s) const { return data_.data() + static_cast<std::size_t>(s) * stride(); }

  int dim_ = 0;
  double lambda_ = 1.0;
  std::vector<double> data_;  // slots x (A⁻¹ column-major d x d, b d, θ̂ d)
  Eigen::VectorXd u_;         // update scratch: A⁻¹ x
};

}  // namespace recfuse
