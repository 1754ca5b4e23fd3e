// What the three rating models of the `mf_explicit` library share: the
// training ratings as a flat triple list, the global mean and rating range,
// Gaussian factor initialisation from a named seed stream, validation RMSE,
// the scoring side (one GEMM per block of users, clipped predict_rating), and
// the model file of a biased MF (kCapSaveLoad of sgd_mf and als_explicit).
//
// Every model ends its fit by filling a LatentRatingModel's scoring form
//   r̂_ui = offset_u + item_bias_i + P_u · Q_i
// where offset_u = μ + b_u (or 0 for unbiased models) and P_u is the user's
// effective factor vector (p_u, or p_u + |N(u)|^-½ Σ y_j for SVD++), so
// score_all, score and predict_rating exist once for all of them. A model
// may replace P and Q by their int8 form (quantize_scoring_form,
// recfuse/quantized_factors.hpp): scoring then runs on the quantized rows.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <utility>
#include <vector>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/quantized_factors.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

/// One training rating; 12 bytes, so an epoch streams a flat array.
struct Rating {
  std::int32_t u;
  std::int32_t i;
  float r;
};

struct RatingStats {
  double mean = 0.0;  // μ, the mean training rating (in double, as Surprise)
  float lo = 0.0f;    // smallest training rating: predict_rating clips to [lo, hi]
  float hi = 0.0f;
};

/// Rating of the k-th stored element (1 when the matrix carries no values,
/// i.e. implicit data handed to a rating model).
inline float rating_at(const CsrMatrix& m, std::int64_t k) {
  return m.values.empty() ? 1.0f : m.values[static_cast<std::size_t>(k)];
}

/// Triples of `by_user` in storage order (user, then item id) and their stats.
inline std::vector<Rating> collect_ratings(const CsrMatrix& by_user, RatingStats& stats) {
  std::vector<Rating> out(static_cast<std::size_t>(by_user.nnz()));
  double sum = 0.0;
  stats = RatingStats{};
  for (std::int32_t u = 0; u < by_user.rows; ++u)
    for (std::int64_t k = by_user.indptr[u]; k < by_user.indptr[u + 1]; ++k) {
      const float r = rating_at(by_user, k);
      out[static_cast<std::size_t>(k)] = {u, by_user.indices[static_cast<std::size_t>(k)], r};
      sum += r;
      if (k == 0 || r < stats.lo) stats.lo = r;
      if (k == 0 || r > stats.hi) stats.hi = r;
    }
  stats.mean = out.empty() ? 0.0 : sum / static_cast<double>(out.size());
  return out;
}

/// Fills `m` with N(mean, std²) draws (Surprise draws p_u, q_i from
/// rng.normal(init_mean, init_std)). Row r has its own stream
/// derive_seed(seed, "row", r) and takes both values of each Box–Muller
/// pair, so the rows fill in parallel and the values do not depend on the
/// thread count (one value per pair, serially, took 10 ms of a 70 ms
/// ml-100k fit at f = 100).
inline void normal_init(RowMatrixF& m, double mean, double std, std::uint64_t seed) {
  const Eigen::Index cols = m.cols();
#pragma omp parallel for schedule(static) if (m.size() > 16384)
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    Rng rng(derive_seed(seed, "row", static_cast<std::uint64_t>(r)));
    for (Eigen::Index c = 0; c < cols; c += 2) {
      double u1 = rng.uniform();
      while (u1 <= 0.0) u1 = rng.uniform();
      const double radius = std * std::sqrt(-2.0 * std::log(u1)), angle = 6.283185307179586 * rng.uniform();
      m(r, c) = static_cast<float>(mean + radius * std::cos(angle));
      if (c + 1 < cols) m(r, c + 1) = static_cast<float>(mean + radius * std::sin(angle));
    }
  }
}

/// Sets to zero the rows of `users` (users x f) and of each `items` matrix
/// (items x f) that have no rating in `by_user`. SGD never touches them, so
/// they would keep their random initial values and add noise q_i·p_u to
/// every prediction and ranking score of an item nobody rated in training
/// (32 of the 20,000 test ratings of ml-100k's u1). Surprise's SVD leaves
/// q_i·p_u out for an unknown user or item, which a zero row equals. Rows
/// have their own seed streams (normal_init), so the others keep their values.
inline void zero_unrated_rows(const CsrMatrix& by_user, RowMatrixF& users,
                              std::initializer_list<RowMatrixF*> items) {
  for (std::int32_t u = 0; u < by_user.rows && u < users.rows(); ++u)
    if (by_user.row_size(u) == 0) users.row(u).setZero();
  if (items.size() == 0) return;
  std::vector<char> rated(static_cast<std::size_t>((*items.begin())->rows()), 0);
  for (const std::int32_t i : by_user.indices)
    if (i >= 0 && static_cast<std::size_t>(i) < rated.size()) rated[static_cast<std::size_t>(i)] = 1;
  for (RowMatrixF* m : items)
    for (Eigen::Index i = 0; i < m->rows() && static_cast<std::size_t>(i) < rated.size(); ++i)
      if (!rated[static_cast<std::size_t>(i)]) m->row(i).setZero();
}

/// order = a uniformly random permutation of [0, n) (Fisher–Yates), reusing
/// order's storage.
inline void shuffled_order(std::vector<std::uint32_t>& order, std::size_t n, std::uint64_t seed) {
  order.resize(n);
  for (std::size_t k = 0; k < n; ++k) order[k] = static_cast<std::uint32_t>(k);
  Rng rng(seed);
  for (std::size_t k = n; k > 1; --k) std::swap(order[k - 1], order[rng.below(k)]);
}

/// Dot product of two f-vectors; the simd reduction lets the compiler
/// vectorise it without -ffast-math.
inline float dot_f(const float* __restrict a, const float* __restrict b, int f) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int k = 0; k < f; ++k) s += a[k] * b[k];
  return s;
}

class LatentRatingModel : public Recommender {
 public:
  /// out: users.size() x n_items, row-major; the unclipped r̂_ui.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    if (quantized_)
      quant_.score_all(item_bias_, users, out);
    else
      score_factors(p_score_, q_score_, item_bias_, users, out, gather_);
    const std::size_t n = static_cast<std::size_t>(n_items());
    for (std::size_t r = 0; r < users.size(); ++r) {
      const float off = offset_[static_cast<std::size_t>(users[r])];
      float* row = out.data() + r * n;
      for (std::size_t i = 0; i < n; ++i) row[i] += off;
    }
  }

  void score(std::span<const UserId> users, std::span<const ItemId> items,
             std::span<float> out) override {
    for (std::size_t j = 0; j < users.size(); ++j) out[j] = raw(users[j], items[j]);
  }

  /// r̂_ui clipped to the training rating range (Surprise clips to the scale).
  void predict_rating(std::span<const UserId> users, std::span<const ItemId> items,
                      std::span<float> out) override {
    for (std::size_t j = 0; j < users.size(); ++j)
      out[j] = std::clamp(raw(users[j], items[j]), stats_.lo, stats_.hi);
  }

  float predict_one(UserId u, ItemId i) const {
    return std::clamp(raw(u, i), stats_.lo, stats_.hi);
  }
  const RatingStats& rating_stats() const { return stats_; }
  /// The int8 scoring form; meaningful only after quantize_scoring_form.
  const QuantizedFactors& quantized_factors() const { return quant_; }

 protected:
  /// The unclipped r̂_ui of the scoring form. Summed in the order GEMM rows
  /// are (factors first, then item bias, then offset) so score agrees with
  /// score_all to rounding.
  float raw(UserId u, ItemId i) const {
    const int f = static_cast<int>(p_score_.cols());
    return (quantized_ ? quant_.score(u, i) : dot_f(p_score_.row(u).data(), q_score_.row(i).data(), f)) +
           (item_bias_.empty() ? 0.0f : item_bias_[static_cast<std::size_t>(i)]) +
           offset_[static_cast<std::size_t>(u)];
  }

  /// The scoring form of r̂_ui = μ + b_u + b_i + p_u·q_i from its learned
  /// parameters (mu = 0 for an unbiased model).
  void set_scoring_form(float mu, const RowMatrixF& P, const RowMatrixF& Q, const std::vector<float>& bu,
                        const std::vector<float>& bi) {
    p_score_ = P;
    q_score_ = Q;
    quantized_ = false;
    item_bias_ = bi;
    offset_.resize(bu.size());
    for (std::size_t u = 0; u < bu.size(); ++u) offset_[u] = mu + bu[u];
  }

  /// Replaces P and Q of the scoring form by their int8 form (and frees them).
  void quantize_scoring_form() {
    quant_ = quantize_and_free(p_score_, q_score_);
    quantized_ = true;
  }
  /// The end of a biased MF's fit (sgd_mf, als_explicit): set_scoring_form,
  /// and with `quantize` its int8 form, P and Q freed too (the model keeps
  /// no float factors).
  void finish_biased_mf(float mu, RowMatrixF& P, RowMatrixF& Q, const std::vector<float>& bu,
                        const std::vector<float>& bi, bool quantize) {
    set_scoring_form(mu, P, Q, bu, bi);
    if (!quantize) return;
    quantize_scoring_form();
    P = RowMatrixF();
    Q = RowMatrixF();
  }
  /// Bytes of the factors that score: int8 rows and scales when quantized.
  std::size_t scoring_factor_bytes() const {
    return quantized_ ? quant_.bytes() : static_cast<std::size_t>(p_score_.size() + q_score_.size()) * sizeof(float);
  }
  /// model_bytes of a biased MF: the scoring factors, and μ, b_u, b_i when biased.
  std::size_t biased_mf_bytes(bool biased) const {
    return scoring_factor_bytes() + (biased ? (offset_.size() + item_bias_.size() + 1) * sizeof(float) : 0);
  }
  /// The scoring form's P and Q in a model file (write_factor_pair: their
  /// int8 form when quantized).
  void write_scoring_factors(ModelWriter& w) const { write_factor_pair(w, quantized_, quant_, p_score_, q_score_); }
  /// Reads what write_scoring_factors wrote into the scoring form (an int8
  /// file when `quantized`, else a float one; the other is refused); returns
  /// the numbers of user and item rows.
  std::pair<Eigen::Index, Eigen::Index> read_scoring_factors(ModelReader& r, int factors, bool quantized) {
    const auto rows = read_factor_pair(r, factors, quantized, quant_, p_score_, q_score_);
    quantized_ = quantized;
    return rows;
  }

  /// The rating mean and range (predict_rating clips to the range).
  void write_stats(ModelWriter& w) const {
    w.value(stats_.mean);
    w.value(stats_.lo);
    w.value(stats_.hi);
  }
  void read_stats(ModelReader& r) {
    stats_.mean = r.value<double>("rating mean");
    stats_.lo = r.value<float>("lowest rating");
    stats_.hi = r.value<float>("highest rating");
    r.expect_range("rating range", stats_.lo, stats_.hi);
  }

  /// kCapSaveLoad of a biased MF (sgd_mf, als_explicit): whether biased, the
  /// rating mean and range, P, Q (their int8 form when quantized), b_u, b_i.
  void save_biased_mf(std::ostream& out, bool biased, const RowMatrixF& P, const RowMatrixF& Q,
                      const std::vector<float>& bu, const std::vector<float>& bi) const {
    ModelWriter w(out);
    w.value<std::uint8_t>(biased ? 1 : 0);
    write_stats(w);
    write_factor_pair(w, quantized_, quant_, P, Q);
    w.values(bu);
    w.values(bi);
  }
  /// Reads what save_biased_mf wrote into P, Q, b_u, b_i (refusing another
  /// 'biased' or factor count, errors naming `who`), then sets the shape and
  /// the scoring form with μ = the rating mean (0 when unbiased). quantized:
  /// the file holds the int8 form (P, Q are left empty), and a float file is
  /// refused, as an int8 file is without it.
  void load_biased_mf(std::istream& in, const char* who, bool biased, int factors, RowMatrixF& P,
                      RowMatrixF& Q, std::vector<float>& bu, std::vector<float>& bi, bool quantized = false) {
    ModelReader r(in, who);
    r.expect("'biased'", r.value<std::uint8_t>("'biased'"), biased ? 1 : 0);
    read_stats(r);
    QuantizedFactors quant;
    const auto [users, items] = read_factor_pair(r, factors, quantized, quant, P, Q);
    bu = r.values<float>("user biases");
    bi = r.values<float>("item biases");
    r.finish();
    r.expect("the number of user biases", static_cast<std::int64_t>(bu.size()), users);
    r.expect("the number of item biases", static_cast<std::int64_t>(bi.size()), items);
    set_shape(static_cast<std::int32_t>(users), static_cast<std::int32_t>(items));
    set_scoring_form(biased ? static_cast<float>(stats_.mean) : 0.0f, P, Q, bu, bi);
    if (quantized) {
      quant_ = std::move(quant);
      quantized_ = true;
    }
  }

  /// RMSE of the clipped predictions on `m` (users x items with ratings);
  /// NaN when `m` is empty. Used for validation logging and early stopping.
  template <class Predict>
  static double rmse_on(const CsrMatrix& m, const RatingStats& st, Predict&& predict) {
    if (m.nnz() == 0 || m.values.empty()) return std::numeric_limits<double>::quiet_NaN();
    double se = 0.0;
    for (std::int32_t u = 0; u < m.rows; ++u)
      for (std::int64_t k = m.indptr[u]; k < m.indptr[u + 1]; ++k) {
        const float p = std::clamp(predict(u, m.indices[static_cast<std::size_t>(k)]), st.lo, st.hi);
        const double e = static_cast<double>(m.values[static_cast<std::size_t>(k)]) - p;
        se += e * e;
      }
    return std::sqrt(se / static_cast<double>(m.nnz()));
  }

  RatingStats stats_;
  RowMatrixF p_score_;             // n_users x f: effective user vectors
  RowMatrixF q_score_;             // n_items x f
  std::vector<float> item_bias_;   // n_items, or empty
  std::vector<float> offset_;      // n_users: μ + b_u (0 when unbiased)
  bool quantized_ = false;         // scoring on quant_ (p_score_, q_score_ empty)
  QuantizedFactors quant_;         // int8 form of p_score_, q_score_ when quantized_

 private:
  RowMatrixF gather_;  // reused GEMM gather buffer
};

}  // namespace recfuse
