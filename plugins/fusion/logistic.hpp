// L2-regularised logistic regression by Newton's method (IRLS; Hastie,
// Tibshirani & Friedman, ESL §4.4.1, eq. 4.26 with a ridge term), the small
// learner behind `stacking`. The problems it sees are tiny (a few dozen
// features, tens of thousands of rows), so the exact solver is cheaper and
// more reproducible than SGD: no learning rate, no shuffling.
//
//   LogisticFit f = fit_logistic(X, y, 1.0, true);   // X: n x d row-major, y in {0,1}
//   double z = f.intercept + X.row(0).dot(f.weights);
//
// Minimises  Σ_n [log(1 + e^{z_n}) − y_n z_n] + (λ/2) ‖w‖²,  z_n = b + x_nᵀw
// (the intercept b is not penalised). The pairwise (BPR) ranker is the same
// problem with rows x_pos − x_neg, every y = 1 and no intercept: its loss
// −ln σ(x̂_uij) is Rendle et al. 2009's BPR-Opt (eq. 7).
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <vector>

namespace recfuse {

struct LogisticFit {
  Eigen::VectorXd weights;  // d
  double intercept = 0;
  int iterations = 0;
  double loss = 0;          // final objective / n
};

namespace logistic_detail {
inline double log1p_exp(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
inline double sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }
}  // namespace logistic_detail

/// X: n x d, y: n labels in {0, 1}. `l2` >= 0. Deterministic.
inline LogisticFit fit_logistic(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double l2,
                                bool intercept, int max_iter = 50, double tol = 1e-8) {
  using namespace logistic_detail;
  const Eigen::Index n = X.rows(), d = X.cols(), p = d + (intercept ? 1 : 0);
  Eigen::MatrixXd A(n, p);  // design with the intercept column last
  A.leftCols(d) = X;
  if (intercept) A.col(d).setOnes();
  Eigen::VectorXd ridge = Eigen::VectorXd::Constant(p, l2);
  if (intercept) ridge(d) = 1e-9;  // keeps the system definite on separable data
  auto objective = [&](const Eigen::VectorXd& beta) {
    const Eigen::VectorXd z = A * beta;
    double f = 0;
    for (Eigen::Index i = 0; i < n; ++i) f += log1p_exp(z(i)) - y(i) * z(i);
    return f + 0.5 * beta.cwiseProduct(ridge).dot(beta);
  };
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  double f = objective(beta);
  LogisticFit out;
  for (int it = 0; it < max_iter; ++it) {
    const Eigen::VectorXd z = A * beta;
    Eigen::VectorXd prob(n), w(n);
    for (Eigen::Index i = 0; i < n; ++i) { prob(i) = sigmoid(z(i)); w(i) = prob(i) * (1 - prob(i)); }
    const Eigen::VectorXd grad = A.transpose() * (prob - y) + ridge.cwiseProduct(beta);
    Eigen::MatrixXd H = A.transpose() * w.asDiagonal() * A;
    H.diagonal() += ridge;
    const Eigen::VectorXd step = H.ldlt().solve(grad);
    double t = 1, f_new = objective(beta - step);
    while (f_new > f && t > 1e-6) { t *= 0.5; f_new = objective(beta - t * step); }  // backtracking
    beta -= t * step;
    out.iterations = it + 1;
    const double drop = f - f_new;
    f = f_new;
    if (drop <= tol * std::max(1.0, std::abs(f))) break;
  }
  out.weights = beta.head(d);
  out.intercept = intercept ? beta(d) : 0.0;
  out.loss = n > 0 ? f / static_cast<double>(n) : 0.0;
  return out;
}

}  // namespace recfuse
