// One half-step of implicit ALS (Hu, Koren & Volinsky, "Collaborative
// filtering for implicit feedback datasets", ICDM 2008): with the other side's
// factors Y fixed, every row x_u solves eq. (4)
//
//   (YᵀC_uY + λI) x_u = YᵀC_u p_u,   C_u = diag(c_ui),  p_ui = [r_ui > 0],
//
// written as A_u = YᵀY + λI + Σ_{i∈I_u} (c_ui − 1) y_i y_iᵀ and
// b_u = Σ_{i∈I_u} c_ui y_i, because c_ui = 1 off I_u (the paper's §4 trick:
// YᵀY is computed once per half-step).
//
//   IalsRows conf = make_confidence_rows(data.by_user, opts);
//   ials_half_step(conf, item_factors, reg, IalsSolver::kCg, 3, user_factors);
//
// kCg: a few conjugate-gradient steps per row, warm-started from the previous
// x_u, with A_u applied implicitly (never formed): Takács, Pilászy & Tikk,
// "Applications of the conjugate gradient method for implicit feedback
// collaborative filtering", RecSys 2011, Algorithm 2; the same scheme as
// benfred/implicit `implicit/cpu/_als.pyx::_least_squares_cg`. Cost per row:
// cg_steps · (f² + 2·|I_u|·f) instead of |I_u|·f² + f³/3.
// kCholesky: A_u formed and factored (Eigen LLT): the exact solution.
//
// Frequency-scaled regularization (Rendle, Krichene, Zhang & Koren,
// "Revisiting the performance of iALS on item recommendation benchmarks",
// RecSys 2022, eq. 4): row r's λ becomes λ_r = λ·(w_r)^ν, where w_r =
// Σ_j c_rj over EVERY column j of the other side (c = 1 for an unobserved
// pair), i.e. n_other + Σ_{j∈row r} (c_rj − 1), the total weight of row r's
// squared errors. That is their |I_u| + α₀|I| up to the factor 1/α₀ (HKV's
// c = 1 + α·r against their observed weight 1 + α₀ and unobserved α₀, with
// α₀ = 1/α). ν = 0 is HKV's single λ; ν = 1 tends to Zhou et al.'s
// weighted-λ (λ·|I_u|) as α → ∞. ials_half_step takes the λ_r as `row_reg`
// (frequency_scaled_reg below); empty means λ for every row.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/sparse.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

/// Confidence of each observed pair, CSR like the interactions it came from.
struct IalsRows {
  std::int32_t rows = 0;
  std::vector<std::int64_t> indptr{0};  // size rows + 1
  std::vector<std::int32_t> indices;    // columns (the other side's ids)
  std::vector<float> conf;              // c_ui ≥ 1, one per index
  std::int64_t max_row = 0;             // longest row (scratch sizing)
};

struct ConfidenceOptions {
  double alpha = 1.0;
  bool log_scaling = false;  // c = 1 + α·log(1 + r/ε) (HKV eq. 6) instead of 1 + α·r
  double epsilon = 1.0;
  bool use_values = false;   // false: every training pair counts as r_ui = 1
};

/// c = 1 + α·r (HKV eq. 5) or 1 + α·log(1 + r/ε) (eq. 6) of a value r > 0.
inline double ials_confidence(double r, const ConfidenceOptions& o) {
  return o.log_scaling ? 1.0 + o.alpha * std::log1p(r / o.epsilon) : 1.0 + o.alpha * r;
}

/// The rows of `m` with their confidences. With use_values, a stored value
/// r_ui <= 0 is no preference: p_ui = [r_ui > 0] = 0 and c_ui = 1, which is
/// exactly an unobserved pair (it adds nothing to A_u or b_u), so the pair is
/// left out; kept, it would count as p_ui = 1 (benfred/implicit also reads a
/// non-positive entry as p = 0).
inline IalsRows make_confidence_rows(const CsrMatrix& m, const ConfidenceOptions& o) {
  const bool values = o.use_values && !m.values.empty();
  IalsRows out;
  out.rows = m.rows;
  out.indptr.assign(static_cast<std::size_t>(m.rows) + 1, 0);
  out.indices.reserve(m.indices.size());
  out.conf.reserve(m.indices.size());
  for (std::int32_t u = 0; u < m.rows; ++u) {
    for (std::int64_t k = m.indptr[u]; k < m.indptr[u + 1]; ++k) {
      const double r = values ? static_cast<double>(m.values[static_cast<std::size_t>(k)]) : 1.0;
      if (!(r > 0.0)) continue;
      out.indices.push_back(m.indices[static_cast<std::size_t>(k)]);
      out.conf.push_back(static_cast<float>(ials_confidence(r, o)));
    }
    out.indptr[static_cast<std::size_t>(u) + 1] = static_cast<std::int64_t>(out.indices.size());
    out.max_row = std::max(out.max_row, out.indptr[static_cast<std::size_t>(u) + 1] - out.indptr[static_cast<std::size_t>(u)]);
  }
  return out;
}

enum class IalsSolver { kCg, kCholesky };

namespace ials_detail {

using VecF = Eigen::VectorXf;
using MapVec = Eigen::Map<VecF>;

/// Per-thread scratch, sized once per half-step (no allocation per row).
struct Scratch {
  RowMatrixF yu;        // |I_u| x f: the rows y_i, i ∈ I_u, gathered
  VecF c, t, x, r, p, ap;
  Eigen::MatrixXf a;    // kCholesky: A_u
  RowMatrixF wy;        // kCholesky: (c_ui − 1) y_i rows
  Scratch(std::int64_t max_row, Eigen::Index f, bool cholesky)
      : yu(max_row, f), c(max_row), t(max_row), x(f), r(f), p(f), ap(f) {
    if (cholesky) { a.resize(f, f); wy.resize(max_row, f); }
  }
};

/// x ← a few CG steps on A_u x = b_u from the current x (TPT 2011, Alg. 2).
/// A_u's regularizer is the one in `yty` plus `row_reg`·I (0: none added).
inline void solve_cg(const Eigen::MatrixXf& yty, float row_reg, Eigen::Index n, int steps, Scratch& s) {
  auto yu = s.yu.topRows(n);
  auto c = s.c.head(n);
  auto t = s.t.head(n);
  // r = b − A x = Yuᵀ(c − (c − 1)∘(Yu x)) − (YᵀY + λI) x
  t.noalias() = yu * s.x;
  t = c.array() - (c.array() - 1.0f) * t.array();
  s.r.noalias() = yu.transpose() * t;
  s.r.noalias() -= yty * s.x;
  if (row_reg != 0.0f) s.r -= row_reg * s.x;
  s.p = s.r;
  float rs_old = s.r.squaredNorm();
  for (int it = 0; it < steps && rs_old > 1e-20f; ++it) {
    t.noalias() = yu * s.p;  // A p = (YᵀY + λI) p + Yuᵀ((c − 1)∘(Yu p))
    t.array() *= c.array() - 1.0f;
    s.ap.noalias() = yty * s.p;
    if (row_reg != 0.0f) s.ap += row_reg * s.p;
    s.ap.noalias() += yu.transpose() * t;
    const float alpha = rs_old / s.p.dot(s.ap);
    s.x += alpha * s.p;
    s.r -= alpha * s.ap;
    const float rs_new = s.r.squaredNorm();
    if (rs_new < 1e-20f) break;
    s.p = s.r + (rs_new / rs_old) * s.p;
    rs_old = rs_new;
  }
}

/// x ← A_u⁻¹ b_u exactly (A_u formed, LLT); false when A_u is not
/// (numerically) positive definite. Runs inside the half-step's parallel
/// region, where an exception would be std::terminate: the caller throws.
inline bool solve_cholesky(const Eigen::MatrixXf& yty, float row_reg, Eigen::Index n, Scratch& s) {
  auto yu = s.yu.topRows(n);
  auto wy = s.wy.topRows(n);
  wy = (s.c.head(n).array() - 1.0f).matrix().asDiagonal() * yu;
  s.a = yty;
  if (row_reg != 0.0f) s.a.diagonal().array() += row_reg;
  s.a.noalias() += yu.transpose() * wy;
  s.r.noalias() = yu.transpose() * s.c.head(n);
  Eigen::LLT<Eigen::Ref<Eigen::MatrixXf>> llt(s.a);
  if (llt.info() != Eigen::Success) return false;
  s.x = llt.solve(s.r);
  return true;
}

}  // namespace ials_detail

/// YᵀY + λI (f x f) in T (float for the half-steps, double for the exact
/// row solves below), the part of A_u shared by every row; the same for any
/// thread count: a rank update (Eigen's SYRK runs on one thread), not the
/// product YᵀY, whose blocking, and so its sums, Eigen sizes by the number
/// of OpenMP threads.
template <typename T = float>
inline Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> gramian_plus_reg(const RowMatrixF& y, double reg) {
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> g =
      Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>::Zero(y.cols(), y.cols());
  g.template selfadjointView<Eigen::Lower>().rankUpdate(y.template cast<T>().transpose());
  g.template triangularView<Eigen::StrictlyUpper>() = g.transpose();
  g.diagonal().array() += static_cast<T>(reg);
  return g;
}

/// w_r = n_other + Σ_{j∈row r} (c_rj − 1): the total weight Σ_j c_rj of row
/// r's squared errors over all n_other columns (see the top of this file).
inline double ials_row_weight(const IalsRows& conf, std::int32_t r, std::int32_t n_other) {
  double w = static_cast<double>(n_other);
  for (std::int64_t k = conf.indptr[r]; k < conf.indptr[r + 1]; ++k)
    w += static_cast<double>(conf.conf[static_cast<std::size_t>(k)]) - 1.0;
  return w;
}

/// λ_r = λ·(w_r)^ν of one row (λ itself when ν = 0).
inline double ials_row_reg(const IalsRows& conf, std::int32_t r, std::int32_t n_other, double reg,
                           double exponent) {
  return exponent == 0.0 ? reg : reg * std::pow(ials_row_weight(conf, r, n_other), exponent);
}

/// The λ_r of every row, for ials_half_step's `row_reg`; empty when ν = 0
/// (the single λ, HKV eq. 3). An Error when some λ_r is beyond a float.
inline std::vector<float> frequency_scaled_reg(const IalsRows& conf, std::int32_t n_other, double reg,
                                               double exponent) {
  std::vector<float> out;
  if (exponent == 0.0) return out;
  out.resize(static_cast<std::size_t>(conf.rows));
  for (std::int32_t r = 0; r < conf.rows; ++r) {
    const double lambda = ials_row_reg(conf, r, n_other, reg, exponent);
    if (!(lambda <= static_cast<double>(std::numeric_limits<float>::max())))
      throw Error("ials: row " + std::to_string(r) + "'s λ = reg·(Σ_j c_rj)^reg_exponent is " +
                  std::to_string(lambda) + ", beyond a float; lower reg_exponent, alpha or reg");
    out[static_cast<std::size_t>(r)] = static_cast<float>(lambda);
  }
  return out;
}

/// Solves every row of `x` (conf.rows x f) against fixed `y` (conf cols x f).
/// Rows with no interactions become zero (their optimum: b = 0). Parallel
/// over rows; each row's result depends on nothing else, so the output is
/// identical for any thread count. kCholesky throws Error, after the
/// parallel region, when some row's A_u is not positive definite (λ = 0).
/// `row_reg` (conf.rows values, frequency_scaled_reg) replaces λ row by row;
/// empty: λ = `reg` for every row.
inline void ials_half_step(const IalsRows& conf, const RowMatrixF& y, double reg, IalsSolver solver,
                           int cg_steps, RowMatrixF& x, std::span<const float> row_reg = {}) {
  using namespace ials_detail;
  if (!row_reg.empty() && row_reg.size() != static_cast<std::size_t>(conf.rows))
    throw Error("ials: " + std::to_string(row_reg.size()) + " row regularizers for " + std::to_string(conf.rows) +
                " rows");
  const Eigen::MatrixXf yty = gramian_plus_reg(y, row_reg.empty() ? reg : 0.0);
  const Eigen::Index f = y.cols();
  std::int32_t failed = -1;  // the smallest row whose A_u was not positive definite
#pragma omp parallel
  {
    Scratch s(std::max<std::int64_t>(conf.max_row, 1), f, solver == IalsSolver::kCholesky);
#pragma omp for schedule(dynamic, 16)
    for (std::int32_t u = 0; u < conf.rows; ++u) {
      const std::int64_t begin = conf.indptr[u];
      const Eigen::Index n = static_cast<Eigen::Index>(conf.indptr[u + 1] - begin);
      if (n == 0) { x.row(u).setZero(); continue; }
      for (Eigen::Index k = 0; k < n; ++k) {
        s.yu.row(k) = y.row(conf.indices[static_cast<std::size_t>(begin + k)]);
        s.c[k] = conf.conf[static_cast<std::size_t>(begin + k)];
      }
      const float lambda_u = row_reg.empty() ? 0.0f : row_reg[static_cast<std::size_t>(u)];
      if (solver == IalsSolver::kCg) {
        s.x = x.row(u).transpose();
        solve_cg(yty, lambda_u, n, cg_steps, s);
      } else if (!solve_cholesky(yty, lambda_u, n, s)) {
#pragma omp critical(ials_failed_row)
        if (failed < 0 || u < failed) failed = u;
        continue;
      }
      x.row(u) = s.x.transpose();
    }
  }
  if (failed >= 0)
    throw Error("ials: the normal equations of row " + std::to_string(failed) +
                " are not positive definite (reg = " + std::to_string(reg) + "); raise reg");
}

// One row solved exactly, in double, against fixed factors of the other
// side: the W^u that explain reads (plugins/mf_implicit/ials.hpp) and the
// fold-in of a click during the online protocol, HKV eq. (4) for one row
// (the user and item updates of Rendle & Schmidt-Thieme, "Online-updating
// regularized kernel matrix factorization models", RecSys 2008, here for
// the implicit loss). Cost per row: |row|·f² + f³/3 with G = YᵀY + λI given
// (gramian_plus_reg<double>), or G = YᵀY and the row's own λ_r as row_reg.

/// llt ← Cholesky of A_r = G + row_reg·I + Σ_{j∈row r} (c_rj − 1) y_j y_jᵀ
/// (the lower part of G is read; row_reg: λ_r when G holds no λ, else 0);
/// false when A_r is not positive definite (λ = 0).
inline bool factor_row_normal_equations(const Eigen::MatrixXd& g, const IalsRows& conf, std::int32_t r,
                                        const RowMatrixF& y, Eigen::LLT<Eigen::MatrixXd>& llt,
                                        double row_reg = 0.0) {
  Eigen::MatrixXd a = g;
  if (row_reg != 0.0) a.diagonal().array() += row_reg;
  for (std::int64_t k = conf.indptr[r]; k < conf.indptr[r + 1]; ++k)
    a.selfadjointView<Eigen::Lower>().rankUpdate(y.row(conf.indices[static_cast<std::size_t>(k)]).transpose().cast<double>(),
                                                 static_cast<double>(conf.conf[static_cast<std::size_t>(k)]) - 1.0);
  llt.compute(a);
  return llt.info() == Eigen::Success;
}

/// x ← A_r⁻¹ b_r with b_r = Σ_{j∈row r} c_rj y_j (zero for an empty row):
/// the exact minimiser of row r's part of HKV eq. (3) for fixed y.
inline bool solve_row_exact(const Eigen::MatrixXd& g, const IalsRows& conf, std::int32_t r, const RowMatrixF& y,
                            Eigen::VectorXd& x, double row_reg = 0.0) {
  Eigen::LLT<Eigen::MatrixXd> llt;
  if (!factor_row_normal_equations(g, conf, r, y, llt, row_reg)) return false;
  Eigen::VectorXd b = Eigen::VectorXd::Zero(y.cols());
  for (std::int64_t k = conf.indptr[r]; k < conf.indptr[r + 1]; ++k)
    b += static_cast<double>(conf.conf[static_cast<std::size_t>(k)]) *
         y.row(conf.indices[static_cast<std::size_t>(k)]).transpose().cast<double>();
  x = llt.solve(b);
  return true;
}

/// Adds the pair (r, col) with confidence c to `conf`, at its place in an
/// ascending row; false, with nothing changed, when row r has col already.
/// O(nnz): the arrays after it shift.
inline bool insert_confidence(IalsRows& conf, std::int32_t r, std::int32_t col, float c) {
  const auto b = conf.indices.begin() + conf.indptr[r], e = conf.indices.begin() + conf.indptr[r + 1];
  if (std::find(b, e, col) != e) return false;
  const auto at = std::lower_bound(b, e, col);
  conf.conf.insert(conf.conf.begin() + (at - conf.indices.begin()), c);
  conf.indices.insert(at, col);
  for (std::size_t q = static_cast<std::size_t>(r) + 1; q < conf.indptr.size(); ++q) ++conf.indptr[q];
  conf.max_row = std::max(conf.max_row, conf.indptr[r + 1] - conf.indptr[r]);
  return true;
}

/// The same pairs and confidences by column: `cols` rows, each ascending.
inline IalsRows transpose_confidence_rows(const IalsRows& conf, std::int32_t cols) {
  IalsRows t;
  t.rows = cols;
  t.indptr.assign(static_cast<std::size_t>(cols) + 1, 0);
  for (const std::int32_t c : conf.indices) ++t.indptr[static_cast<std::size_t>(c) + 1];
  for (std::size_t c = 0; c < static_cast<std::size_t>(cols); ++c) {
    t.max_row = std::max(t.max_row, t.indptr[c + 1]);
    t.indptr[c + 1] += t.indptr[c];
  }
  t.indices.resize(conf.indices.size());
  t.conf.resize(conf.conf.size());
  std::vector<std::int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (std::int32_t r = 0; r < conf.rows; ++r)
    for (std::int64_t k = conf.indptr[r]; k < conf.indptr[r + 1]; ++k) {
      const auto at = static_cast<std::size_t>(next[static_cast<std::size_t>(conf.indices[static_cast<std::size_t>(k)])]++);
      t.indices[at] = r;
      t.conf[at] = conf.conf[static_cast<std::size_t>(k)];
    }
  return t;
}

/// HKV eq. (3): Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) over
/// all user–item pairs, in double, computed without touching the zeros:
/// Σ_u [x_uᵀYᵀY x_u + Σ_{i∈I_u} ((c−1)(x_uᵀy_i)² − 2c·x_uᵀy_i + c)].
/// With per-row λ (x_reg for the rows of x, y_reg for those of y, both
/// given, frequency_scaled_reg) the penalty is Σ_u λ_u‖x_u‖² + Σ_i λ_i‖y_i‖²
/// instead; one of them alone, or either of the wrong size, is an Error.
inline double ials_loss(const IalsRows& conf, const RowMatrixF& x, const RowMatrixF& y, double reg,
                        std::span<const float> x_reg = {}, std::span<const float> y_reg = {}) {
  const Eigen::MatrixXd yty = gramian_plus_reg<double>(y, 0.0);
  double loss = 0.0;
#pragma omp parallel for reduction(+ : loss) schedule(static)
  for (std::int32_t u = 0; u < conf.rows; ++u) {
    const Eigen::VectorXd xu = x.row(u).transpose().cast<double>();
    double part = xu.dot(yty * xu);
    for (std::int64_t k = conf.indptr[u]; k < conf.indptr[u + 1]; ++k) {
      const double c = conf.conf[static_cast<std::size_t>(k)];
      const double s = xu.dot(y.row(conf.indices[static_cast<std::size_t>(k)]).transpose().cast<double>());
      part += (c - 1.0) * s * s - 2.0 * c * s + c;
    }
    loss += part;
  }
  if (x_reg.empty() && y_reg.empty())
    return loss + reg * (x.cast<double>().squaredNorm() + y.cast<double>().squaredNorm());
  if (x_reg.size() != static_cast<std::size_t>(x.rows()) || y_reg.size() != static_cast<std::size_t>(y.rows()))
    throw Error("ials: " + std::to_string(x_reg.size()) + " and " + std::to_string(y_reg.size()) +
                " row regularizers for " + std::to_string(x.rows()) + " and " + std::to_string(y.rows()) + " rows");
  for (Eigen::Index u = 0; u < x.rows(); ++u)
    loss += static_cast<double>(x_reg[static_cast<std::size_t>(u)]) * x.row(u).cast<double>().squaredNorm();
  for (Eigen::Index i = 0; i < y.rows(); ++i)
    loss += static_cast<double>(y_reg[static_cast<std::size_t>(i)]) * y.row(i).cast<double>().squaredNorm();
  return loss;
}

}  // namespace recfuse
