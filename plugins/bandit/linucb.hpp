// LinUCB (Li, Chu, Langford & Schapire, "A Contextual-Bandit Approach to
// Personalized News Article Recommendation", WWW 2010, Algorithm 1, the
// disjoint model), with the per-user parameters of linear_bandit.hpp.
//
//   [[algorithms]]
//   name = "linucb"
//   plugin = "linucb"
//   params = { alpha = 1.0, lambda = 1.0, scope = "user" }
//
// Acting (Algorithm 1, lines 9-11): for user u and each candidate item a,
//   p_a = θ̂_uᵀx_a + α · sqrt(x_aᵀ A_u⁻¹ x_a)     (scope user; global alike)
//   p_a = θ̂_aᵀz_u + α · sqrt(z_uᵀ A_a⁻¹ z_u)     (scope item, the paper's form),
// and the slate is the top slate_size candidates by p_a, ties by smaller
// item id. Learning (lines 12-13): every shown item is an observation
// (x_a, r_a) of u's model (scope item: (z_u, r_a) of a's model), A⁻¹ updated by Sherman–Morrison (ridge_models.hpp).
// Acting is deterministic, so the propensity of a slate is 1 for the slate
// `act` would choose now and 0 for any other.
#pragma once

#include <algorithm>
#include <cmath>

#include "linear_bandit.hpp"

namespace recfuse {

class LinUcb final : public LinearBandit {
 public:
  explicit LinUcb(const ParamSet& p) : LinearBandit(p, "linucb"), alpha_(p.get_float("alpha")) {}

  static std::vector<ParamSpec> params() {
    std::vector<ParamSpec> out = {ParamSpec::real(
        "alpha", 1.0, 0.0, 1e6, "width of the confidence bonus alpha * sqrt(x' A^-1 x) (Li et al. 2010)")};
    for (auto& s : common_params()) out.push_back(std::move(s));
    return out;
  }

  void propensity(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                  int slate_size, std::span<const ItemId> slates, std::span<double> out) override {
    deterministic_propensity(*this, users, candidates, n_candidates, slate_size, slates, out, mine_);
  }

 protected:
  void candidate_scores(std::span<const std::int32_t> slots, const RowMatrix& xc, std::span<float> out) override {
    for (Eigen::Index j = 0; j < xc.rows(); ++j) {
      const std::int32_t s = slots[static_cast<std::size_t>(j)];
      const auto x = xc.row(j).transpose();
      spread_.noalias() = models().a_inv(s) * x;
      const double var = spread_.dot(x);
      out[static_cast<std::size_t>(j)] =
          static_cast<float>(models().theta(s).dot(x) + alpha_ * std::sqrt(std::max(var, 0.0)));
    }
  }

 private:
  double alpha_;
  Eigen::VectorXd spread_;  // act scratch: A⁻¹ x
  std::vector<ItemId> mine_;  // propensity scratch: the slates act would choose
};

}  // namespace recfuse
