// Algorithm-specific checks of the `mf_explicit` library's als_explicit
// (ALS-WR), on the class from the plugin header directly: each half-step
// solves its normal equations, and training RMSE falls with iterations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "conformance_support.hpp"
#include "mf_explicit_support.hpp"
#include "plugins/mf_explicit/als_explicit.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::mf;

namespace {

/// Largest |∂J/∂x| over every row of one side of ALS-WR's objective
///   J = Σ (r − μ − b_u − b_i − p_u·q_i)² + λ Σ_u w_u (‖p_u‖² + b_u²) + (items alike),
/// (halved), relative to the largest data term, for rows = users (by_user) or items.
double als_gradient(const AlsExplicitRecommender& m, const TrainData& d, bool users, double reg,
                    bool weighted) {
  const CsrMatrix& R = users ? d.by_user : d.by_item;
  const RowMatrixF& X = users ? m.user_factors() : m.item_factors();
  const RowMatrixF& F = users ? m.item_factors() : m.user_factors();
  const std::vector<float>& xb = users ? m.user_bias() : m.item_bias();
  const std::vector<float>& fb = users ? m.item_bias() : m.user_bias();
  const int f = static_cast<int>(X.cols());
  double worst = 0.0, scale = 0.0;
  for (std::int32_t r = 0; r < R.rows; ++r) {
    Eigen::VectorXd g = Eigen::VectorXd::Zero(f + 1), data_term = g;
    for (std::int64_t k = R.indptr[r]; k < R.indptr[r + 1]; ++k) {
      const std::int32_t j = R.indices[static_cast<std::size_t>(k)];
      const double e = R.values[static_cast<std::size_t>(k)] - m.global_offset() -
                       xb[static_cast<std::size_t>(r)] - fb[static_cast<std::size_t>(j)] -
                       X.row(r).cast<double>().dot(F.row(j).cast<double>());
      data_term.head(f) -= e * F.row(j).cast<double>().transpose();
      data_term(f) -= e;
    }
    const double w = reg * (weighted ? static_cast<double>(R.row_size(r)) : 1.0);
    g = data_term;
    g.head(f) += w * X.row(r).cast<double>().transpose();
    g(f) += w * xb[static_cast<std::size_t>(r)];
    worst = std::max(worst, g.cwiseAbs().maxCoeff());
    scale = std::max(scale, data_term.cwiseAbs().maxCoeff());
  }
  return worst / std::max(scale, 1e-12);
}

}  // namespace

TEST_CASE("als_explicit: each half-step solves its normal equations", "[mf_explicit]") {
  const TrainData d = synthetic_train_data();
  for (bool weighted : {true, false}) {
    const double reg = 0.3;
    auto m = fitted<AlsExplicitRecommender>(d, {{"factors", std::int64_t{5}},
                                                {"iterations", std::int64_t{1}},
                                                {"reg", reg}, {"weighted_reg", weighted}});
    // fit ended on an item step: the items' gradient is zero, the users' not.
    CHECK(als_gradient(m, d, false, reg, weighted) < 1e-4);
    CHECK(als_gradient(m, d, true, reg, weighted) > 1e-2);
    m.solve_users(d);
    CHECK(als_gradient(m, d, true, reg, weighted) < 1e-4);
    m.solve_items(d);
    CHECK(als_gradient(m, d, false, reg, weighted) < 1e-4);
  }
}

TEST_CASE("als_explicit: training RMSE falls with iterations on a low-rank matrix", "[mf_explicit]") {
  const TrainData d = low_rank(80, 60, 0.5, 0.1, 4);
  auto one = fitted<AlsExplicitRecommender>(d, {{"factors", std::int64_t{3}}, {"iterations", std::int64_t{1}},
                                                {"reg", 0.001}});
  auto many = fitted<AlsExplicitRecommender>(d, {{"factors", std::int64_t{3}}, {"iterations", std::int64_t{30}},
                                                 {"reg", 0.001}});
  CHECK(train_rmse(many, d) < train_rmse(one, d));
  CHECK(train_rmse(many, d) < 0.13);
}
