// The calibrated world's hidden truth: latent user and item factors fitted
// to a dataset by implicit ALS (Hu, Koren & Volinsky, "Collaborative
// filtering for implicit feedback datasets", ICDM 2008). Each observed pair
// has p_ui = 1 and confidence c_ui = 1 + alpha r_ui (r = the rating, 1 for
// implicit data); every other pair p = 0, c = 1. With Y fixed each user
// solves eq. (4),
//
//   (YᵀY + λI + Σ_{i∈I_u} (c_ui − 1) y_i y_iᵀ) x_u = Σ_{i∈I_u} c_ui y_i,
//
// exactly (Cholesky), then the items likewise; Y starts N(0, 0.1²).
// Preferences are the scores x_u·y_i standardised over all user-item pairs,
//
//   z_ui = (x_u·y_i − μ) / σ,   μ = x̄·ȳ,   σ² = tr(XᵀX YᵀY) / (|U||I|) − μ²,
//
// so that the choice model's temperature is in standard deviations whatever
// the dataset. The fit's quality is its training AUC: for every observed
// pair, one item the user has not interacted with drawn uniformly; the share
// of pairs the scores order correctly (ties count half).
//
// Everything here is in double and sums in a fixed order: rank-one updates
// instead of GEMM (whose blocking follows the thread count), one Rng for the
// start and one for the AUC, rows solved independently; the fit is the same
// for any thread count.
//
//   const FittedFactors f = fit_factors(data, {factors, iterations, reg, alpha}, seed, threads);
//
// Item quality, the second hidden truth (what a click leaves behind rather
// than what draws it, calibrated_model.hpp's disappointment): each item's
// mean rating shrunk toward the mean of all ratings by `prior`
// pseudo-ratings, standardised over the items,
//
//   r̃_i = (Σ_{u∈U_i} r_ui + prior r̄) / (|U_i| + prior),   q_i = (r̃_i − mean r̃) / sd r̃.
//
//   const std::vector<double> q = item_quality(data, prior);   // all 0 for implicit data
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "recfuse/rng.hpp"
#include "recfuse/sparse.hpp"
#include "recfuse/train_data.hpp"

namespace recfuse::calibrated {

using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct FitOptions {
  int factors = 32;
  int iterations = 10;
  double reg = 0.1;
  double alpha = 2.0;
};

struct FittedFactors {
  RowMatrixD users;  // n_users x factors
  RowMatrixD items;  // n_items x factors
  double score_mean = 0.0, score_sd = 1.0;  // μ, σ of x_u·y_i over all pairs
  double train_auc = 0.5;
};

namespace fit_detail {

/// Σ_r m_rᵀ m_r (f x f, lower triangle filled, then mirrored).
inline Eigen::MatrixXd gramian(const RowMatrixD& m) {
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(m.cols(), m.cols());
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    g.selfadjointView<Eigen::Lower>().rankUpdate(m.row(r).transpose());
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  return g;
}

/// Solves every row of `x` against fixed `y`; `rows` (x.rows() x y.rows())
/// holds the observed pairs and their values.
inline void half_step(const CsrMatrix& rows, const RowMatrixD& y, const FitOptions& o, int threads,
                      RowMatrixD& x) {
  Eigen::MatrixXd shared = gramian(y);
  shared.diagonal().array() += o.reg;
  const Eigen::Index f = y.cols();
  bool failed = false;  // no exception may leave an OpenMP region
#pragma omp parallel num_threads(threads)
  {
    Eigen::MatrixXd a(f, f);
    Eigen::VectorXd b(f);
    Eigen::LLT<Eigen::MatrixXd> llt(f);
#pragma omp for schedule(dynamic, 16)
    for (std::int32_t u = 0; u < rows.rows; ++u) {
      a = shared;
      b.setZero();
      const auto cols = rows.row(u);
      const auto values = rows.values.empty() ? std::span<const float>() : rows.row_values(u);
      for (std::size_t k = 0; k < cols.size(); ++k) {
        const double c = 1.0 + o.alpha * (values.empty() ? 1.0 : std::max(0.0f, values[k]));
        a.selfadjointView<Eigen::Lower>().rankUpdate(y.row(cols[k]).transpose(), c - 1.0);
        b += c * y.row(cols[k]).transpose();
      }
      llt.compute(a);
      if (llt.info() != Eigen::Success) {
#pragma omp atomic write
        failed = true;
        continue;
      }
      x.row(u) = llt.solve(b).transpose();
    }
  }
  if (failed)
    throw Error("calibrated: the ALS normal equations are not positive definite; raise als_reg");
}

/// Training AUC against one uniformly drawn unobserved item per observed pair.
inline double train_auc(const CsrMatrix& by_user, const RowMatrixD& x, const RowMatrixD& y,
                        std::uint64_t seed) {
  Rng rng(seed);
  double correct = 0.0, pairs = 0.0;
  const auto n_items = static_cast<std::uint64_t>(y.rows());
  for (std::int32_t u = 0; u < by_user.rows; ++u) {
    const auto seen = by_user.row(u);
    if (seen.empty() || seen.size() >= n_items) continue;
    for (const std::int32_t i : seen) {
      std::int32_t j;
      do j = static_cast<std::int32_t>(rng.below(n_items));
      while (std::binary_search(seen.begin(), seen.end(), j));
      const double si = x.row(u).dot(y.row(i)), sj = x.row(u).dot(y.row(j));
      correct += si > sj ? 1.0 : si == sj ? 0.5 : 0.0;
      pairs += 1.0;
    }
  }
  return pairs > 0 ? correct / pairs : 0.5;
}

}  // namespace fit_detail

/// Fits the factors of `data.by_user` (values = ratings or 1). Throws Error
/// when the fit breaks down.
inline FittedFactors fit_factors(const TrainData& data, const FitOptions& o, std::uint64_t seed,
                                 int threads) {
  using namespace fit_detail;
  FittedFactors out;
  out.users = RowMatrixD::Zero(data.n_users, o.factors);
  out.items.resize(data.n_items, o.factors);
  Rng start(derive_seed(seed, "calibrated/fit_start"));
  for (Eigen::Index i = 0; i < out.items.size(); ++i) out.items.data()[i] = start.normal(0.0, 0.1);
  for (int it = 0; it < o.iterations; ++it) {
    half_step(data.by_user, out.items, o, threads, out.users);
    half_step(data.by_item, out.users, o, threads, out.items);
  }
  const double cells = static_cast<double>(data.n_users) * static_cast<double>(data.n_items);
  const Eigen::VectorXd mean_user = out.users.colwise().sum().transpose() / data.n_users;
  const Eigen::VectorXd mean_item = out.items.colwise().sum().transpose() / data.n_items;
  out.score_mean = mean_user.dot(mean_item);
  const double second = (gramian(out.users) * gramian(out.items)).trace() / cells;
  out.score_sd = std::sqrt(std::max(0.0, second - out.score_mean * out.score_mean));
  if (!(out.score_sd > 0.0) || !std::isfinite(out.score_sd))
    throw Error("calibrated: the fitted scores do not vary (is the dataset empty?)");
  out.train_auc = train_auc(data.by_user, out.users, out.items, derive_seed(seed, "calibrated/auc"));
  return out;
}

/// q_i of every item (header). All zeros when the data are implicit or
/// every r̃_i is the same.
inline std::vector<double> item_quality(const TrainData& data, double prior) {
  std::vector<double> q(static_cast<std::size_t>(data.n_items), 0.0);
  const CsrMatrix& m = data.by_item;
  if (!data.explicit_ratings || m.nnz() == 0 || m.values.empty()) return q;
  double total = 0.0;
  for (const float r : m.values) total += r;
  const double global = total / static_cast<double>(m.nnz());
  for (std::int32_t i = 0; i < m.rows; ++i) {
    double sum = 0.0;
    for (const float r : m.row_values(i)) sum += r;
    const double n = static_cast<double>(m.row(i).size()) + prior;
    q[static_cast<std::size_t>(i)] = n > 0.0 ? (sum + prior * global) / n : global;  // unrated, prior 0
  }
  double mean = 0.0, sq = 0.0;
  for (const double v : q) mean += v;
  mean /= static_cast<double>(q.size());
  for (const double v : q) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(q.size()));
  for (double& v : q) v = sd > 0.0 ? (v - mean) / sd : 0.0;
  return q;
}

}  // namespace recfuse::calibrated
