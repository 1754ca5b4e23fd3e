// Shared scoring for latent-factor models: a block of users is scored
// against every item with one GEMM into a caller-owned buffer (Faiss-style
// tiles), so every MF-family plugin reuses the same kernel and the shared
// top-k in Recommender::recommend.
//
//   // in score_all(users, out):
//   recfuse::score_factors(user_factors_, item_factors_, item_bias_, users, out, gather_);
#pragma once

#include <Eigen/Core>
#include <span>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// out (users.size() x n_items, row-major) = P[users] * Q^T (+ item_bias).
/// P: n_users x f, Q: n_items x f (row-major). `item_bias` may be empty.
/// `gather` is a reused buffer for the selected user rows (no allocation once
/// it has grown to the largest block).
inline void score_factors(const RowMatrixF& P, const RowMatrixF& Q, std::span<const float> item_bias,
                          std::span<const UserId> users, std::span<float> out, RowMatrixF& gather) {
  const Eigen::Index n = static_cast<Eigen::Index>(users.size());
  const Eigen::Index f = P.cols();
  if (gather.rows() < n || gather.cols() != f) gather.resize(n, f);
  for (Eigen::Index r = 0; r < n; ++r) gather.row(r) = P.row(users[static_cast<std::size_t>(r)]);
  Eigen::Map<RowMatrixF> result(out.data(), n, Q.rows());
  result.noalias() = gather.topRows(n) * Q.transpose();
  if (!item_bias.empty()) {
    Eigen::Map<const Eigen::RowVectorXf> b(item_bias.data(), static_cast<Eigen::Index>(item_bias.size()));
    result.rowwise() += b;
  }
}

}  // namespace recfuse
