// Helpers of the ials tests (online updates, frequency-scaled λ): an
// independent dense least-squares solve of one row of HKV eq. (4) in double,
// a step of clicks as Feedback, a fitted ials, and small row utilities.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../../plugins/mf_implicit/ials.hpp"
#include "mf_test_support.hpp"
#include "recfuse/factor_scoring.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/sparse.hpp"
#include "recfuse/train_data.hpp"

namespace recfuse::test {

/// argmin_x Σ_j c_j (p_j − xᵀo_j)² + λ‖x‖² over every row j of `other`:
/// p_j = 1 and c_j = c on `pairs`, p_j = 0 and c_j = 1 elsewhere.
inline Eigen::VectorXd dense_solve(const std::set<std::int32_t>& pairs, const RowMatrixF& other, double c, double reg) {
  const Eigen::MatrixXd o = other.cast<double>();
  Eigen::VectorXd w = Eigen::VectorXd::Ones(o.rows()), p = Eigen::VectorXd::Zero(o.rows());
  for (const std::int32_t j : pairs) w(j) = c, p(j) = 1.0;
  const Eigen::MatrixXd a = o.transpose() * w.asDiagonal() * o + reg * Eigen::MatrixXd::Identity(o.cols(), o.cols());
  return a.ldlt().solve(o.transpose() * w.cwiseProduct(p));
}

/// Largest |a_k − b_k| / (1 + |b_k|).
inline double gap(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return ((a - b).array().abs() / (1.0 + b.array().abs())).maxCoeff();
}
inline Eigen::VectorXd row_of(const RowMatrixF& m, Eigen::Index r) { return m.row(r).transpose().cast<double>(); }

struct Clicks {  // one step of feedback, slates of 2: each user's click on its slate's first item, or none
  std::vector<UserId> users;
  std::vector<ItemId> slates;
  std::vector<std::int32_t> choice;
  std::vector<float> reward;
  std::vector<std::uint8_t> done;
  void add(UserId u, ItemId clicked, ItemId other, bool click = true) {
    users.push_back(u);
    slates.insert(slates.end(), {clicked, other});
    choice.push_back(click ? 0 : -1);
    reward.push_back(click ? 1.0f : 0.0f);
    done.push_back(0);
  }
  Feedback view() const { return {users, 2, slates, choice, reward, done}; }
};

inline std::set<std::int32_t> row_set(const CsrMatrix& m, std::int32_t r) {
  const auto row = m.row(r);
  return {row.begin(), row.end()};
}

/// The first item not in u's training row.
inline ItemId unseen(const TrainData& d, UserId u) {
  const std::set<std::int32_t> row = row_set(d.by_user, u);
  ItemId i = 0;
  while (row.count(i)) ++i;
  return i;
}

/// An ials with its declared defaults overridden by `values`, fitted on `d` from `seed`.
inline IalsRecommender fit_ials(const TrainData& d, const std::map<std::string, ParamValue>& values,
                                std::uint64_t seed) {
  IalsRecommender r(defaults_of<IalsRecommender>(values));
  FitContext ctx;
  ctx.seed = seed;
  r.fit(d, ctx);
  return r;
}

}  // namespace recfuse::test
