// Model compression for latent-factor models: per-row symmetric int8
// quantization of a factor matrix, its model-file form, and block scoring
// of users against every item on the quantized rows (the int8 counterpart
// of factor_scoring.hpp's score_factors).
//
// Row r of X (n x f) becomes s_r = max_k |x_rk| / 127 and q_rk =
// round(x_rk / s_r) in [-127, 127] (a zero row: s_r = 0, q = 0), so
// |x_rk − s_r q_rk| ≤ s_r / 2 and storage is n·f bytes + n floats instead
// of 4·n·f bytes. A score is s_u · t_i · Σ_k q_uk q_ik with the sum exact
// in int32 (f ≤ 133 000), plus the float biases the model has.
//
//   // a plugin with `quantize = "int8"`:
//   quantize_param()                                 // in params()
//   quant_ = QuantizedFactors(user_factors_, item_factors_);  // after fit
//   quant_.score_all(item_bias_, users, out);         // in score_all
//   quant_.write(w);  /  quant_ = QuantizedFactors::read(r, factors_);
//
// A dense item-item model (EASE's B) keeps a QuantizedRows and scores a user
// by sum_dequantized_rows over the rows of the user's history.
//
// The kernel widens a tile of items and the block's users to int16 and
// sums q_uk q_ik with a plain int32 loop, which GCC -O3 turns into pmaddwd
// (SSE2, the x86-64 baseline; vpmaddwd with AVX2) without -march=native.
// The kernel alone against the float GEMM (tests/bench/bench_quantized.cpp,
// one thread, SSE2 build, on a shared 2-core machine): 256 users x 1682 /
// 3706 items at f = 64 and 128, 25-32 GMAC/s int8 against 10-19 float,
// 1.3-1.7x by CPU time; one user alone, 9.7 against 16.9: the float GEMV
// is faster there. A whole request adds the top-k over every item, which
// is the same for both: the scenarios' end-to-end batch rates
// (ml100k-compression*.toml, 2 threads, busy cores) came out within noise
// of float, slightly below it, so compression here buys memory, not speed.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

/// The `quantize` parameter every quantizable model declares identically;
/// `what` names the matrices it compresses.
inline ParamSpec quantize_param(const std::string& what = "the factors") {
  return ParamSpec::choice("quantize", "none", {"none", "int8"},
                           "after fit (and after load) keep and score " + what +
                               " as per-row symmetric int8 with a float scale per row (model compression)");
}

/// x̃ = s·q, the one formula of a dequantized entry, so that dequantize, the
/// terms of add_dequantized_row and a plugin's explanations round alike.
inline float dequantized(std::int8_t q, float s) { return s * static_cast<float>(q); }

/// out[k] += s·q_k for k < n: one row of a dequantized matrix added to a
/// float accumulator (GCC -O3 vectorises the widening and the multiply-add).
inline void add_dequantized_row(const std::int8_t* __restrict q, float s, float* __restrict out, Eigen::Index n) {
  for (Eigen::Index k = 0; k < n; ++k) out[k] += dequantized(q[k], s);
}

/// Σ_k a_k b_k over int16 vectors, exact in int32 (GCC vectorises it as a
/// widening multiply-add, pmaddwd, at -O3).
inline std::int32_t dot_i16(const std::int16_t* __restrict a, const std::int16_t* __restrict b, int f) {
  std::int32_t s = 0;
  for (int k = 0; k < f; ++k) s += static_cast<std::int32_t>(a[k]) * static_cast<std::int32_t>(b[k]);
  return s;
}

/// Σ_k a_k b_k over int8 vectors, exact in int32: one pair, or a block too
/// small to repay widening the item rows.
inline std::int32_t dot_i8(const std::int8_t* __restrict a, const std::int8_t* __restrict b, int f) {
  std::int32_t s = 0;
  for (int k = 0; k < f; ++k) s += static_cast<std::int32_t>(a[k]) * static_cast<std::int32_t>(b[k]);
  return s;
}

/// dot_i8 of one user row a against four item rows b + c·f at once, into
/// acc[c] (the user row loaded once per k).
inline void dot_i8_1x4(const std::int8_t* __restrict a, const std::int8_t* __restrict b, int f,
                       std::int32_t* __restrict acc) {
  const std::int8_t *b0 = b, *b1 = b + f, *b2 = b + 2 * f, *b3 = b + 3 * f;
  std::int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int k = 0; k < f; ++k) {
    const std::int32_t x = a[k];
    s0 += x * b0[k];
    s1 += x * b1[k];
    s2 += x * b2[k];
    s3 += x * b3[k];
  }
  acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3;
}

/// The same sums for two user rows a0, a1 and four item rows b + c·f at once,
/// into acc[4·j + c]: each row is loaded once per k for eight products, so
/// GCC keeps eight vector accumulators (pmaddwd) and the loads stop bounding it.
inline void dot_i16_2x4(const std::int16_t* __restrict a0, const std::int16_t* __restrict a1,
                        const std::int16_t* __restrict b, int f, std::int32_t* __restrict acc) {
  const std::int16_t *b0 = b, *b1 = b + f, *b2 = b + 2 * f, *b3 = b + 3 * f;
  std::int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (int k = 0; k < f; ++k) {
    const std::int32_t x0 = a0[k], x1 = a1[k], y0 = b0[k], y1 = b1[k], y2 = b2[k], y3 = b3[k];
    s0 += x0 * y0;
    s1 += x0 * y1;
    s2 += x0 * y2;
    s3 += x0 * y3;
    s4 += x1 * y0;
    s5 += x1 * y1;
    s6 += x1 * y2;
    s7 += x1 * y3;
  }
  acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3, acc[4] = s4, acc[5] = s5, acc[6] = s6, acc[7] = s7;
}

/// The score of an exact integer dot product: one formula for score_all and
/// a single pair, so both round alike.
inline float dequantized_dot(std::int32_t acc, float s_u, float t_i) {
  return static_cast<float>(acc) * (s_u * t_i);
}

/// An n x f factor matrix as int8 rows and one float scale per row.
class QuantizedRows {
 public:
  using Int8Rows = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  QuantizedRows() = default;
  /// Quantizes every row of `m`; throws on a non-finite entry.
  explicit QuantizedRows(const RowMatrixF& m) : q_(m.rows(), m.cols()), scale_(static_cast<std::size_t>(m.rows())) {
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      float amax = 0.0f;
      for (Eigen::Index k = 0; k < m.cols(); ++k) {
        if (!std::isfinite(m(r, k))) throw Error("quantize: a factor is not finite");
        amax = std::max(amax, std::abs(m(r, k)));
      }
      const float s = amax / 127.0f;
      scale_[static_cast<std::size_t>(r)] = s;
      for (Eigen::Index k = 0; k < m.cols(); ++k)
        q_(r, k) = s > 0.0f ? static_cast<std::int8_t>(std::clamp(
                                  std::nearbyint(static_cast<double>(m(r, k)) / static_cast<double>(s)), -127.0, 127.0))
                            : std::int8_t{0};
    }
  }

  Eigen::Index rows() const { return q_.rows(); }
  Eigen::Index cols() const { return q_.cols(); }
  const std::int8_t* row(Eigen::Index r) const { return q_.data() + r * q_.cols(); }
  float scale(Eigen::Index r) const { return scale_[static_cast<std::size_t>(r)]; }
  const Int8Rows& values() const { return q_; }
  const std::vector<float>& scales() const { return scale_; }

  /// x̃_rk = s_r q_rk, as float.
  float value(Eigen::Index r, Eigen::Index k) const { return dequantized(q_(r, k), scale(r)); }
  RowMatrixF dequantize() const {
    RowMatrixF m(q_.rows(), q_.cols());
    for (Eigen::Index r = 0; r < q_.rows(); ++r)
      for (Eigen::Index k = 0; k < q_.cols(); ++k) m(r, k) = value(r, k);
    return m;
  }
  /// Stored bytes: n·f int8 values and n float scales.
  std::size_t bytes() const {
    return static_cast<std::size_t>(q_.size()) + scale_.size() * sizeof(float);
  }

  /// A tag (so a float model file is refused, and this read as a float
  /// matrix fails), the int8 matrix, then the scales.
  void write(ModelWriter& w) const {
    w.value<std::uint64_t>(kTag);
    w.matrix(q_);
    w.values(scale_);
  }
  /// What write wrote, `width` columns (any when negative); refuses another
  /// tag, width, scale count, a negative or non-finite scale, or −128.
  static QuantizedRows read(ModelReader& r, const char* what, std::int64_t width) {
    if (r.value<std::uint64_t>(what) != kTag) r.fail(what, "are not int8-quantized rows (a float model?)");
    QuantizedRows out;
    out.q_ = width < 0 ? r.matrix<Int8Rows>(what) : r.rows_of_width<Int8Rows>(what, width);
    out.scale_ = r.values<float>(what);
    r.expect("the number of scales", static_cast<std::int64_t>(out.scale_.size()), out.q_.rows());
    for (const float s : out.scale_)
      if (!(std::isfinite(s) && s >= 0.0f)) r.fail(what, "have a scale that is negative or not finite");
    for (Eigen::Index k = 0; k < out.q_.size(); ++k)
      if (out.q_.data()[k] == -128) r.fail(what, "hold -128, outside the symmetric range");
    return out;
  }

  /// Exact Σ_k q_uk q'_ik of row u here and row i of `items`.
  std::int32_t dot(Eigen::Index u, const QuantizedRows& items, Eigen::Index i) const {
    return dot_i8(row(u), items.row(i), static_cast<int>(q_.cols()));
  }

 private:
  static constexpr std::uint64_t kTag = 0x31386d726f663871ull;  // "q8form81" little-endian
  Int8Rows q_;
  std::vector<float> scale_;
};

/// Reused buffers of score_quantized: the block's users widened to int16
/// and their scales (no allocation once grown; each thread's item tile, f x
/// 32 int16, is still allocated per call).
struct QuantizedScratch {
  std::vector<std::int16_t> users;
  std::vector<float> user_scale;
};

/// out (users.size() x Q.rows(), row-major) = s_u t_i Σ_k q_uk q_ik
/// (+ item_bias_i); `item_bias` may be empty. Item tiles of kTile rows are
/// widened to int16 once and scored against every user of the block (one
/// OpenMP thread per tile), two users by four items at a time; the users of
/// the block are widened once. A block of fewer than kWidenFrom users (a
/// single request) takes int8 dot products directly.
inline void score_quantized(const QuantizedRows& P, const QuantizedRows& Q, std::span<const float> item_bias,
                            std::span<const UserId> users, std::span<float> out, QuantizedScratch& scratch) {
  constexpr Eigen::Index kTile = 32;
  constexpr std::size_t kWidenFrom = 4;  // smaller blocks: int8 dot products, no widening
  const std::size_t n = users.size(), f = static_cast<std::size_t>(P.cols());
  const Eigen::Index m = Q.rows();
  const auto put = [&](std::size_t r, Eigen::Index i, std::int32_t acc, float s_u) {
    const float s = dequantized_dot(acc, s_u, Q.scale(i));
    out[r * static_cast<std::size_t>(m) + static_cast<std::size_t>(i)] =
        item_bias.empty() ? s : s + item_bias[static_cast<std::size_t>(i)];
  };
  if (n < kWidenFrom) {
    for (std::size_t r = 0; r < n; ++r) {
      const std::int8_t* a = P.row(users[r]);
      const float s_u = P.scale(users[r]);
      Eigen::Index i = 0;
      for (std::int32_t acc[4]; i + 4 <= m; i += 4) {  // Q's rows are contiguous
        dot_i8_1x4(a, Q.row(i), static_cast<int>(f), acc);
        for (int c = 0; c < 4; ++c) put(r, i + c, acc[c], s_u);
      }
      for (; i < m; ++i) put(r, i, dot_i8(a, Q.row(i), static_cast<int>(f)), s_u);
    }
    return;
  }
  scratch.users.resize(n * f);
  scratch.user_scale.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    const std::int8_t* src = P.row(users[r]);
    std::int16_t* dst = scratch.users.data() + r * f;
    for (std::size_t k = 0; k < f; ++k) dst[k] = src[k];
    scratch.user_scale[r] = P.scale(users[r]);
  }
  const std::int16_t* U = scratch.users.data();
  const float* su = scratch.user_scale.data();
  const Eigen::Index tiles = (m + kTile - 1) / kTile;
#pragma omp parallel if (n * static_cast<std::size_t>(m) * f > 4'000'000)
  {
    std::vector<std::int16_t> tile(static_cast<std::size_t>(kTile) * f);
#pragma omp for schedule(static)
    for (Eigen::Index t = 0; t < tiles; ++t) {
      const Eigen::Index i0 = t * kTile, i1 = std::min(m, i0 + kTile);
      for (Eigen::Index i = i0; i < i1; ++i) {
        const std::int8_t* src = Q.row(i);
        std::int16_t* dst = tile.data() + static_cast<std::size_t>(i - i0) * f;
        for (std::size_t k = 0; k < f; ++k) dst[k] = src[k];
      }
      const auto item_row = [&](Eigen::Index i) { return tile.data() + static_cast<std::size_t>(i - i0) * f; };
      const Eigen::Index i4 = i0 + (i1 - i0) / 4 * 4;
      std::size_t r = 0;
      for (; r + 2 <= n; r += 2) {  // 2 users x 4 items, then the tile's last items one by one
        std::int32_t acc[8];
        for (Eigen::Index i = i0; i < i4; i += 4) {
          dot_i16_2x4(U + r * f, U + (r + 1) * f, item_row(i), static_cast<int>(f), acc);
          for (int c = 0; c < 4; ++c) put(r, i + c, acc[c], su[r]), put(r + 1, i + c, acc[4 + c], su[r + 1]);
        }
        for (Eigen::Index i = i4; i < i1; ++i)
          for (std::size_t j = r; j < r + 2; ++j) put(j, i, dot_i16(U + j * f, item_row(i), static_cast<int>(f)), su[j]);
      }
      for (; r < n; ++r)  // an odd block's last user
        for (Eigen::Index i = i0; i < i1; ++i) put(r, i, dot_i16(U + r * f, item_row(i), static_cast<int>(f)), su[r]);
    }
  }
}

/// out[0, B.cols()) = Σ_{j ∈ rows} x̃_j, the sum of the dequantized rows
/// `rows` of B in their order (a sparse 0/1 vector times B, EASE's x_u B):
/// each term rounded as dequantize rounds it and added in that order, so
/// the sum is the float one over B.dequantize()'s rows (bit for bit unless
/// the compiler fuses the multiply and the add).
inline void sum_dequantized_rows(const QuantizedRows& B, std::span<const std::int32_t> rows, std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  for (const std::int32_t j : rows) add_dequantized_row(B.row(j), B.scale(j), out.data(), B.cols());
}

/// A factor model's quantized pair (users, items) with its scoring scratch:
/// what a plugin keeps instead of its float matrices when quantize = "int8".
struct QuantizedFactors {
  QuantizedRows users, items;
  QuantizedScratch scratch;

  QuantizedFactors() = default;
  QuantizedFactors(const RowMatrixF& P, const RowMatrixF& Q) : users(P), items(Q) {}

  std::size_t bytes() const { return users.bytes() + items.bytes(); }
  /// score_quantized of the block `ids` (+ item_bias when not empty).
  void score_all(std::span<const float> item_bias, std::span<const UserId> ids, std::span<float> out) {
    score_quantized(users, items, item_bias, ids, out, scratch);
  }
  /// s_u t_i Σ_k q_uk q_ik of one pair, rounded as score_all rounds it.
  float score(UserId u, ItemId i) const {
    return dequantized_dot(users.dot(u, items, i), users.scale(u), items.scale(i));
  }
  void write(ModelWriter& w) const {
    users.write(w);
    items.write(w);
  }
  static QuantizedFactors read(ModelReader& r, std::int64_t width) {
    QuantizedFactors out;
    out.users = QuantizedRows::read(r, "quantized user factors", width);
    out.items = QuantizedRows::read(r, "quantized item factors", width);
    return out;
  }
};

/// The int8 form of P and Q, which are freed: a model that scores on the
/// int8 rows keeps no float copy.
inline QuantizedFactors quantize_and_free(RowMatrixF& P, RowMatrixF& Q) {
  QuantizedFactors q(P, Q);
  P = RowMatrixF();
  Q = RowMatrixF();
  return q;
}

/// A factor model's pair in its model file: the int8 form when `quantized`,
/// else P and Q as float matrices.
inline void write_factor_pair(ModelWriter& w, bool quantized, const QuantizedFactors& q, const RowMatrixF& P,
                              const RowMatrixF& Q) {
  if (quantized) {
    q.write(w);
  } else {
    w.matrix(P);
    w.matrix(Q);
  }
}

/// Reads what write_factor_pair wrote, `width` columns: into q when
/// `quantized` (P and Q left empty; a float file is refused), else into P
/// and Q (an int8 file is refused). Returns the numbers of user and item rows.
inline std::pair<Eigen::Index, Eigen::Index> read_factor_pair(ModelReader& r, std::int64_t width, bool quantized,
                                                              QuantizedFactors& q, RowMatrixF& P, RowMatrixF& Q) {
  if (quantized) {
    q = QuantizedFactors::read(r, width);
    P = RowMatrixF();
    Q = RowMatrixF();
    return {q.users.rows(), q.items.rows()};
  }
  P = r.rows_of_width<RowMatrixF>("user factors", width);
  Q = r.rows_of_width<RowMatrixF>("item factors", width);
  return {P.rows(), Q.rows()};
}

}  // namespace recfuse
