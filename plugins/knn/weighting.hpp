// Term weighting of an interaction matrix before neighbour similarities,
// after the `implicit` library (benfred/implicit, nearest_neighbours.py:
// bm25_weight and tfidf_weight).
//
//   RowWeighting w(rows, opts);            // rows = entities compared x features
//   float x = w(entity, feature, value);   // weighted value of one element
//
// The rows of the matrix are the "documents" (the entities being compared:
// items for item_knn, users for user_knn) and its columns the "terms". With
// N rows, df_f the number of rows containing feature f, s_e the row sum of
// entity e and s̄ the mean row sum over all N rows:
//   idf_f = ln N − ln(1 + df_f)
//   bm25:  w_ef = x (K1 + 1) / (K1 ((1 − B) + B s_e / s̄) + x) · idf_f
//          (Robertson & Zaragoza 2009, eq. 3.16 with implicit's idf)
//   tfidf: w_ef = √x · idf_f
//   none:  w_ef = x
// Like implicit, idf may go negative for a feature present in nearly every
// row; such weights are kept, not clipped.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "recfuse/sparse.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

enum class Weighting { kNone, kBm25, kTfidf };

inline Weighting parse_weighting(const std::string& s) {
  if (s == "none") return Weighting::kNone;
  if (s == "bm25") return Weighting::kBm25;
  if (s == "tfidf") return Weighting::kTfidf;
  throw Error("unknown weighting '" + s + "'; known: none, bm25, tfidf");
}

/// Base value of stored element k: 1 for implicit feedback (or when the
/// matrix carries no values), else the rating.
inline float interaction_value(const CsrMatrix& m, std::int64_t k, bool implicit) {
  return implicit || m.values.empty() ? 1.0f : m.values[static_cast<std::size_t>(k)];
}

class RowWeighting {
 public:
  /// `rows`: entities x features. Keeps only per-row and per-column statistics.
  RowWeighting(const CsrMatrix& rows, Weighting kind, bool implicit, double k1, double b)
      : kind_(kind), k1_(k1) {
    if (kind_ == Weighting::kNone) return;
    const double n = static_cast<double>(rows.rows);
    std::vector<std::int64_t> df(static_cast<std::size_t>(rows.cols), 0);
    for (std::int32_t f : rows.indices) ++df[static_cast<std::size_t>(f)];
    idf_.resize(df.size());
    for (std::size_t f = 0; f < df.size(); ++f)
      idf_[f] = std::log(n) - std::log1p(static_cast<double>(df[f]));
    if (kind_ != Weighting::kBm25) return;
    std::vector<double> sums(static_cast<std::size_t>(rows.rows), 0.0);
    double total = 0.0;
    for (std::int32_t e = 0; e < rows.rows; ++e) {
      for (std::int64_t k = rows.indptr[e]; k < rows.indptr[e + 1]; ++k)
        sums[static_cast<std::size_t>(e)] += interaction_value(rows, k, implicit);
      total += sums[static_cast<std::size_t>(e)];
    }
    const double mean = rows.rows > 0 ? total / n : 0.0;
    length_norm_.resize(sums.size());
    for (std::size_t e = 0; e < sums.size(); ++e)
      length_norm_[e] = (1.0 - b) + (mean > 0.0 ? b * sums[e] / mean : 0.0);
  }

  /// Weight of value `x` at (entity, feature).
  float operator()(std::int32_t entity, std::int32_t feature, float x) const {
    switch (kind_) {
      case Weighting::kNone: return x;
      case Weighting::kTfidf:
        return static_cast<float>(std::sqrt(static_cast<double>(x)) *
                                  idf_[static_cast<std::size_t>(feature)]);
      case Weighting::kBm25: {
        const double v = x;
        return static_cast<float>(v * (k1_ + 1.0) /
                                  (k1_ * length_norm_[static_cast<std::size_t>(entity)] + v) *
                                  idf_[static_cast<std::size_t>(feature)]);
      }
    }
    return x;
  }

  /// Weighted values of `rows` (entity-major) and of `cols`, its transpose
  /// (feature-major), each in its own element order.
  std::vector<float> weigh_rows(const CsrMatrix& rows, bool implicit) const {
    std::vector<float> w(static_cast<std::size_t>(rows.nnz()));
    for (std::int32_t e = 0; e < rows.rows; ++e)
      for (std::int64_t k = rows.indptr[e]; k < rows.indptr[e + 1]; ++k)
        w[static_cast<std::size_t>(k)] = (*this)(e, rows.indices[k], interaction_value(rows, k, implicit));
    return w;
  }
  std::vector<float> weigh_cols(const CsrMatrix& cols, bool implicit) const {
    std::vector<float> w(static_cast<std::size_t>(cols.nnz()));
    for (std::int32_t f = 0; f < cols.rows; ++f)
      for (std::int64_t k = cols.indptr[f]; k < cols.indptr[f + 1]; ++k)
        w[static_cast<std::size_t>(k)] = (*this)(cols.indices[k], f, interaction_value(cols, k, implicit));
    return w;
  }

 private:
  Weighting kind_;
  double k1_;
  std::vector<double> idf_;          // per feature
  std::vector<double> length_norm_;  // per entity (bm25 only)
};

}  // namespace recfuse
