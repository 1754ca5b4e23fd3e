// Linear Thompson sampling (Agrawal & Goyal, "Thompson Sampling for
// Contextual Bandits with Linear Payoffs", ICML 2013, Algorithm 1), with the
// per-user ridge models of linear_bandit.hpp.
//
//   [[algorithms]]
//   name = "lints"
//   plugin = "lin_ts"
//   params = { v = 0.5, lambda = 1.0, scope = "user" }
//
// Acting: per session, draw θ̃ ~ N(θ̂_u, v² A_u⁻¹) (the paper's B = A,
// μ̂ = θ̂), score each candidate by θ̃ᵀx_a, and show the top slate_size,
// ties by smaller item id. Under scope item each candidate a draws its own
// θ̃_a ~ N(θ̂_a, v² A_a⁻¹) and scores θ̃_aᵀz_u. The paper's v = R·sqrt(24/ε · d · ln(1/δ)) is a
// proof device; in practice v is tuned: v = σ, the reward noise, makes θ̃ a
// draw from the Bayesian posterior of ridge regression with prior
// N(0, σ²/λ I), and Bernoulli clicks have σ ≤ 1/2, hence the default 0.5.
// Sampling: A⁻¹ = Pᵀ L D Lᵀ P (Eigen's LDLT, robust to rounding that would
// make a Cholesky fail), θ̃ = θ̂ + v · Pᵀ L D^{1/2} z, z ~ N(0, I_d) from a
// stream derived from the trial seed (LinearBandit::policy_rng, saved with
// the model): the same seed and the same calls give the same slates. The
// propensity of a slate has no closed form, so the policy does not declare
// kCapPropensity.
#pragma once

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>

#include "linear_bandit.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class LinTs final : public LinearBandit {
 public:
  explicit LinTs(const ParamSet& p) : LinearBandit(p, "lin_ts"), v_(p.get_float("v")) {}

  static std::vector<ParamSpec> params() {
    std::vector<ParamSpec> out = {ParamSpec::real(
        "v", 0.5, 0.0, 1e6, "posterior scale: theta ~ N(theta_hat, v^2 A^-1) (Agrawal & Goyal 2013)")};
    for (auto& s : common_params()) out.push_back(std::move(s));
    return out;
  }

  /// One posterior draw θ̃ ~ N(θ̂_s, v² A_s⁻¹) of slot s into `out` (d).
  void draw(std::int32_t s, Eigen::VectorXd& out) {
    const int d = models().dim();
    ldlt_.compute(models().a_inv(s));
    z_.resize(d);
    for (int i = 0; i < d; ++i) z_[i] = policy_rng().normal() * std::sqrt(std::max(ldlt_.vectorD()[i], 0.0));
    lz_.noalias() = ldlt_.matrixL() * z_;
    out.noalias() = ldlt_.transpositionsP().transpose() * lz_;
    out = models().theta(s) + v_ * out;
  }

 protected:
  void candidate_scores(std::span<const std::int32_t> slots, const RowMatrix& xc, std::span<float> out) override {
    std::int32_t drawn = -1;  // one draw per model: per session (scope user), per candidate (scope item)
    for (Eigen::Index j = 0; j < xc.rows(); ++j) {
      const std::int32_t s = slots[static_cast<std::size_t>(j)];
      if (s != drawn) {
        draw(s, theta_);
        drawn = s;
      }
      out[static_cast<std::size_t>(j)] = static_cast<float>(xc.row(j).dot(theta_.transpose()));
    }
  }

 private:
  double v_;
  Eigen::LDLT<Eigen::MatrixXd> ldlt_;
  Eigen::VectorXd z_, lz_, theta_;  // act scratch
};

}  // namespace recfuse
