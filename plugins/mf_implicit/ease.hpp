// EASE^R: Embarrassingly Shallow Autoencoder (Steck, "Embarrassingly shallow
// autoencoders for sparse data", WWW 2019), the closed form of eq. (8).
//
//   [algorithms.ease]
//   plugin = "ease"
//   params = { reg = 250.0 }
//
// min_B ‖X − XB‖²_F + λ‖B‖²_F  s.t. diag(B) = 0 has the solution
//   P = (XᵀX + λI)⁻¹,   B = I − P · diag(1/diag(P))   (B_ij = −P_ij / P_jj, B_jj = 0),
// with X the binary users x items training matrix. The Gram matrix XᵀX is
// accumulated exactly from the sparse rows; P comes from a blocked Cholesky
// factorisation and triangular solves (spd_inverse.hpp, n³ flops in all,
// over the trial's OpenMP threads) in `precision` (float by default: λ
// keeps XᵀX + λI well conditioned, and float halves the time and memory;
// on ml-100k u1.base at λ = 200 float B is within 5e-7 of double B, 3e-6 of
// its largest entry, and ranks the same). Score:
// s_u = x_u B, i.e. the sum of the rows of B of u's training items.
// explain names the terms of that sum, s_ui = Σ_{j∈I_u} B_ji: how many of
// u's training items raise the score and the two largest (explain_terms.hpp).
// The dense n x n matrices are the limit: fit refuses catalogues whose peak
// exceeds max_memory_mb, naming the size. Float holds two n x n floats (the
// Gram/factor and P/B, n²·8 bytes); double three matrices (the double
// Gram/factor and P, the float B: n²·20 bytes).
//
// `quantize = "int8"` (model compression, recfuse/quantized_factors.hpp):
// after fit (and load) B is kept, scored and saved as per-row int8 with a
// float scale per row, n² + 4n bytes instead of 4n². Row j is history item
// j's row, so s_ui = Σ_{j∈I_u} s_j q_ji: the score sums the user's
// dequantized rows (sum_dequantized_rows), the float score over the
// dequantized B, and explain names the same dequantized terms.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "explain_terms.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/factor_scoring.hpp"
#include "recfuse/params.hpp"
#include "recfuse/quantized_factors.hpp"
#include "recfuse/recommender.hpp"
#include "spd_inverse.hpp"

namespace recfuse {

/// XᵀX (n_items x n_items) of the binary matrix whose rows are `by_item`
/// (items x users) and columns `by_user`. Exact while every count fits the
/// mantissa (float: fewer than 2²⁴ users). Row i is written by one thread
/// only: identical for any thread count.
template <typename Scalar = double>
ColMatrix<Scalar> binary_gram(const CsrMatrix& by_item, const CsrMatrix& by_user) {
  const std::int32_t n = by_item.rows;
  ColMatrix<Scalar> g = ColMatrix<Scalar>::Zero(n, n);
  touch_pages(g);
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int32_t i = 0; i < n; ++i) {
    Scalar* column = g.col(i).data();  // symmetric: column i = row i, contiguous
    for (std::int32_t u : by_item.row(i))
      for (std::int32_t j : by_user.row(u)) column[j] += Scalar(1);
  }
  return g;
}

/// b ← B of eq. (8) from P (lower part read; p may be b):
/// B_ij = −P_ij / P_jj, B_jj = 0. Mirrors P while it scales, in tiles so that
/// both triangles stream through the cache; each lower P_ji is read once,
/// before its two writes.
template <typename Scalar>
void ease_scale(const RowMatrix<Scalar>& p, RowMatrixF& b) {
  const Eigen::Index n = p.rows();
  const Eigen::Matrix<Scalar, Eigen::Dynamic, 1> neg_inv_diag = -p.diagonal().cwiseInverse();
  constexpr Eigen::Index kTile = 64;
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index jt = 0; jt < n; jt += kTile)
    for (Eigen::Index it = 0; it <= jt; it += kTile)
      for (Eigen::Index j = jt; j < std::min(jt + kTile, n); ++j)
        for (Eigen::Index i = it; i < std::min({it + kTile, n, j}); ++i) {
          const Scalar pji = p(j, i);
          b(j, i) = static_cast<float>(pji * neg_inv_diag(i));
          b(i, j) = static_cast<float>(pji * neg_inv_diag(j));
        }
  b.diagonal().setZero();
}

/// B of eq. (8), n x n row-major, from a = XᵀX (lower part read, then
/// overwritten by L): P = (XᵀX + λI)⁻¹ by the Cholesky-based inverse of
/// spd_inverse.hpp in Scalar arithmetic, then scaled by ease_scale.
template <typename Scalar>
RowMatrixF ease_weights(ColMatrix<Scalar>& a, double reg) {
  a.diagonal().array() += static_cast<Scalar>(reg);
  if (!cholesky_lower(a))
    throw Error("ease: XᵀX + λI is not positive definite; raise reg (now " + std::to_string(reg) + ")");
  RowMatrix<Scalar> p;
  inverse_from_cholesky(a, p);
  if constexpr (std::is_same_v<Scalar, float>) {
    ease_scale(p, p);
    return p;
  } else {
    RowMatrixF b(p.rows(), p.cols());
    ease_scale(p, b);
    return b;
  }
}

class EaseRecommender final : public Recommender {
 public:
  explicit EaseRecommender(const ParamSet& p)
      : reg_(p.get_float("reg")),
        max_memory_mb_(p.get_int("max_memory_mb")),
        double_precision_(p.get_string("precision") == "double"),
        quantize_(p.get_string("quantize") == "int8") {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::real("reg", 250.0, 1e-9, 1e12, "L2 weight λ (Steck 2019 uses 200–500 on MovieLens)"),
        ParamSpec::integer("max_memory_mb", 4096, 1, 1e9,
                           "refuse catalogues whose dense matrices (n_items² x 8 bytes in float, "
                           "x 20 in double) exceed this"),
        ParamSpec::choice("precision", "float", {"float", "double"},
                          "arithmetic of the LLT inversion"),
        quantize_param("B"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_item.rows != data.n_items || data.by_user.rows != data.n_users)
      throw Error("ease: training matrices do not match n_users x n_items");
    check_memory(data.n_items);
    set_shape(data.n_users, data.n_items);
    if (double_precision_) {
      ColMatrix<double> gram = binary_gram<double>(data.by_item, data.by_user);
      weights_ = ease_weights(gram, reg_);
    } else {
      // Counts reach n_users: accumulated in float only while that is exact.
      ColMatrix<float> gram = data.n_users < (1 << 24)
                                  ? binary_gram<float>(data.by_item, data.by_user)
                                  : binary_gram<double>(data.by_item, data.by_user).cast<float>();
      weights_ = ease_weights(gram, reg_);
    }
    if (quantize_) {
      quant_ = QuantizedRows(weights_);
      weights_ = RowMatrixF();
    }
    history_indptr_ = data.by_user.indptr;
    titles_ = item_labels(data);
    history_ = data.by_user.indices;
    ctx.log("ease: inverted the " + std::to_string(data.n_items) + " x " +
            std::to_string(data.n_items) + " Gram matrix (λ = " + std::to_string(reg_) + ")");
  }

  /// out: users.size() x n_items, row r = Σ_{j∈I_u} B.row(j) (sparse x
  /// dense), over the dequantized rows when quantized.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const Eigen::Index n = n_items();
#pragma omp parallel for schedule(dynamic, 8) if (users.size() > 8)
    for (std::size_t r = 0; r < users.size(); ++r) {
      const UserId u = users[r];
      const std::span<const std::int32_t> hist(history_.data() + history_indptr_[u],
                                               static_cast<std::size_t>(history_indptr_[u + 1] - history_indptr_[u]));
      if (quantize_) {
        sum_dequantized_rows(quant_, hist, out.subspan(r * static_cast<std::size_t>(n), static_cast<std::size_t>(n)));
        continue;
      }
      Eigen::Map<Eigen::RowVectorXf> row(out.data() + r * static_cast<std::size_t>(n), n);
      row.setZero();
      for (const std::int32_t j : hist) row += weights_.row(j);
    }
  }

  /// B: 4n² bytes, or n² int8 values and n float scales when quantized.
  std::size_t model_bytes() const override {
    return quantize_ ? quant_.bytes() : static_cast<std::size_t>(weights_.size()) * sizeof(float);
  }

  /// kCapSaveLoad: B (its int8 form when quantized), the users' training
  /// rows (x_u, which scoring reads) and the titles.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    if (quantize_)
      quant_.write(w);
    else
      w.matrix(weights_);
    w.values(history_indptr_);
    w.values(history_);
    w.titles(titles_);
  }
  /// An int8 file is refused without quantize = "int8", a float one with it.
  void load(std::istream& in) override {
    ModelReader r(in, "ease");
    if (quantize_)
      quant_ = QuantizedRows::read(r, "B", -1);
    else
      weights_ = r.matrix<RowMatrixF>("B");
    const Eigen::Index n = quantize_ ? quant_.rows() : weights_.rows();
    history_indptr_ = r.values<std::int64_t>("history offsets");
    history_ = r.values<std::int32_t>("history items");
    std::vector<std::string> titles = r.titles(n);
    r.finish();
    r.expect("B's width", quantize_ ? quant_.cols() : weights_.cols(), n);
    r.expect_csr(history_indptr_, history_, n, "the history offsets", "the history items",
                 "a history item", "is outside the catalogue");
    set_shape(static_cast<std::int32_t>(history_indptr_.size() - 1), static_cast<std::int32_t>(n));
    titles_ = std::move(titles);
  }

  /// The terms X_uj·B_ji = B_ji of s_ui, one per j ∈ I_u in I_u's order:
  /// score_all's summands, so their float sum in that order is the score.
  std::vector<ItemTerm> contributions(UserId u, ItemId i) const {
    std::vector<ItemTerm> out;
    if (u < 0 || u >= n_users() || i < 0 || i >= n_items()) return out;
    for (std::int64_t k = history_indptr_[u]; k < history_indptr_[u + 1]; ++k) {
      const std::int32_t j = history_[static_cast<std::size_t>(k)];
      out.push_back({j, quantize_ ? quant_.value(j, i) : weights_(j, i)});
    }
    return out;
  }

  /// "31 of your 40 training items raise its score: Fargo (1996) (+0.052, 8%), ...".
  std::string explain(UserId u, ItemId i) override { return explain_item_terms(contributions(u, i), titles_); }

  /// B; empty when quantized (then quantized_weights() holds it).
  const RowMatrixF& weights() const { return weights_; }
  const QuantizedRows& quantized_weights() const { return quant_; }

 private:
  std::vector<std::string> titles_;  // item_labels (title, else dataset id), for explain
  void check_memory(std::int32_t n) const {
    const double bytes = static_cast<double>(n) * static_cast<double>(n) * (double_precision_ ? 20.0 : 8.0);
    if (bytes <= static_cast<double>(max_memory_mb_) * 1048576.0) return;
    char msg[320];
    std::snprintf(msg, sizeof msg,
                  "ease: EASE needs %s %d×%d dense matrices (%.2f GiB, precision %s) for %d items; "
                  "max_memory_mb = %lld (raise it, or shrink the catalogue with a k-core filter)",
                  double_precision_ ? "three" : "two", n, n, bytes / 1073741824.0,
                  double_precision_ ? "double" : "float", n, static_cast<long long>(max_memory_mb_));
    throw Error(msg);
  }

  double reg_;
  std::int64_t max_memory_mb_;
  bool double_precision_;
  bool quantize_;
  RowMatrixF weights_;                     // B: n_items x n_items, row-major (empty when quantized)
  QuantizedRows quant_;                    // B as int8 rows when quantized
  std::vector<std::int64_t> history_indptr_;  // by_user copy: I_u
  std::vector<std::int32_t> history_;
};

}  // namespace recfuse
