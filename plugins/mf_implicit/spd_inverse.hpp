// Inverse of a symmetric positive definite matrix through its Cholesky
// factor, A = LLᵀ, A⁻¹ = L⁻ᵀL⁻¹ (LAPACK's xPOTRF + xPOTRI: Anderson et al.,
// LAPACK Users' Guide, 3rd ed., 1999), n³ flops in all, blocked so that the
// OpenMP threads share nearly all of them:
//
//   cholesky_lower          A = LLᵀ, right-looking (xPOTRF), n³/3 flops:
//                           per 128-wide step, the trailing update
//                           A₂₂ −= L₂₁L₂₁ᵀ delayed into the next step's
//                           panel solve, split by block rows
//   inverse_from_cholesky   A⁻¹ by block columns, each two triangular solves
//                           against the identity's columns on the trailing
//                           triangle only, 2(n − c)²·128 flops, 2n³/3 in all
//                           (as xTRTRI + xLAUUM), the columns independent
//
//   Eigen::MatrixXf a = ...;                          // SPD, lower part read
//   if (!cholesky_lower(a)) throw ...;                 // a = L, upper zeroed
//   RowMatrix<float> p;
//   inverse_from_cholesky(a, p);                       // p's lower part = A⁻¹
//
// Each Eigen product or solve runs sequentially inside its thread (Eigen does
// not nest OpenMP). Every output block is written by one thread, in one
// order: the result does not depend on the thread count. Few synchronisation
// points matter on a shared machine: a thread descheduled at a barrier holds
// up the others for a time slice, and a spinning idle one steals the CPU from
// serial work; so the factorisation has one barrier per step and no serial
// work between steps, and A⁻¹ is one parallel loop (xTRTRI + xLAUUM would
// need one per step).
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>

namespace recfuse {

template <typename Scalar>
using ColMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Writes a zero into every 4 KiB page of a freshly allocated dense matrix,
/// from one thread, before parallel loops write it. A large allocation comes
/// as untouched pages (GCC turns malloc + zero fill into calloc); when the
/// OpenMP threads then fault those pages concurrently they serialise on the
/// kernel's page locks. On the 2-vCPU bench machine that made the ml-100k
/// Gram of EASE take 55-70 ms instead of 7 (6-7 ms of which is this touch).
/// Only for matrices whose contents are zero or about to be overwritten.
template <typename Derived>
void touch_pages(Eigen::PlainObjectBase<Derived>& m) {
  using Scalar = typename Derived::Scalar;
  constexpr std::size_t kStep = 4096 / sizeof(Scalar);
  volatile Scalar* d = m.data();
  const std::size_t size = static_cast<std::size_t>(m.size());
  for (std::size_t k = 0; k < size; k += kStep) d[k] = Scalar(0);
}

namespace spd_detail {

constexpr Eigen::Index kBlock = 128;  // Eigen's float GEMM at depth 128 ≈ its square rate

/// Block rows [r0, n) in blocks of kBlock: how many.
inline Eigen::Index block_rows(Eigen::Index r0, Eigen::Index n) { return (n - r0 + kBlock - 1) / kBlock; }

/// a(k:k+size, k:k+size) ← its Cholesky factor (lower part, Eigen's LLT in
/// place); false when it is not positive definite.
template <typename Scalar>
bool factor_diagonal_block(ColMatrix<Scalar>& a, Eigen::Index k, Eigen::Index size) {
  Eigen::Ref<ColMatrix<Scalar>> block = a.block(k, k, size, size);
  return Eigen::LLT<Eigen::Ref<ColMatrix<Scalar>>>(block).info() == Eigen::Success;
}

}  // namespace spd_detail

/// a (n x n, lower part read) ← L with A = LLᵀ, strict upper part zeroed.
/// Returns false when A is not (numerically) positive definite.
template <typename Scalar>
bool cholesky_lower(ColMatrix<Scalar>& a) {
  using Eigen::Index;
  const Index n = a.rows(), nb = spd_detail::kBlock;
  if (!spd_detail::factor_diagonal_block(a, 0, std::min(nb, n))) return false;
  bool ok = true;
  // Step k (L_kk factored; the block rows below carry every update of the
  // steps before k − 1): each block row r takes step k − 1's share of
  // A₂₂ −= L₂₁L₂₁ᵀ, then solves L_rk = A_rk L_kk⁻ᵀ; the first of them goes on
  // to update and factor the next diagonal block. One parallel loop a step,
  // and nothing serial between them for idle threads to wait on.
  for (Index k = 0; k + nb < n && ok; k += nb) {
    const Index r0 = k + nb, blocks = spd_detail::block_rows(r0, n), width = k > 0 ? nb : 0;
    const auto panel = a.middleCols(k - width, width);  // L(:, k − 1 block)
    const auto lkk = a.block(k, k, nb, nb).template triangularView<Eigen::Lower>();
#pragma omp parallel for schedule(dynamic, 1)
    for (Index b = 0; b < blocks; ++b) {  // r0 first (the next step waits on it), then longest first
      const Index r = b == 0 ? r0 : r0 + (blocks - b) * nb, rb = std::min(nb, n - r);
      if (width > 0)
        a.block(r, k, rb, r + rb - k).noalias() -=
            panel.middleRows(r, rb) * panel.middleRows(k, r + rb - k).transpose();
      lkk.transpose().template solveInPlace<Eigen::OnTheRight>(a.block(r, k, rb, nb));
      if (r != r0) continue;
      a.block(r0, r0, rb, rb).noalias() -= a.block(r0, k, rb, nb) * a.block(r0, k, rb, nb).transpose();
      ok = spd_detail::factor_diagonal_block(a, r0, rb);  // one writer, read after the loop
    }
  }
  if (!ok) return false;
  a.template triangularView<Eigen::StrictlyUpper>().setZero();
  return true;
}

/// p (n x n, row-major; resized) ← A⁻¹ on and below the diagonal, from
/// l = L of A = LLᵀ (lower part read). Block column c of A⁻¹ below the
/// diagonal is X = L₂₂⁻ᵀ L₂₂⁻¹ E (L₂₂ = l(c:n, c:n), E the first columns of
/// the identity): the identity's zero rows above c and the symmetry of A⁻¹
/// confine both triangular solves to the trailing triangle. Above the
/// diagonal p is unset.
template <typename Scalar>
void inverse_from_cholesky(const ColMatrix<Scalar>& l, RowMatrix<Scalar>& p) {
  using Eigen::Index;
  const Index n = l.rows(), nb = spd_detail::kBlock, blocks = spd_detail::block_rows(0, n);
  p.resize(n, n);
  touch_pages(p);
#pragma omp parallel
  {
    ColMatrix<Scalar> x;  // (n − c) x cb
#pragma omp for schedule(dynamic, 1)
    for (Index b = 0; b < blocks; ++b) {  // costliest first
      const Index c = b * nb, cb = std::min(nb, n - c);
      const auto l22 = l.bottomRightCorner(n - c, n - c).template triangularView<Eigen::Lower>();
      x = ColMatrix<Scalar>::Identity(n - c, cb);
      l22.solveInPlace(x);
      l22.transpose().solveInPlace(x);
      p.block(c, c, n - c, cb) = x;
    }
  }
}

}  // namespace recfuse
