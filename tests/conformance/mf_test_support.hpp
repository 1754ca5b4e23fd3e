// Helpers shared by the matrix-factorisation tests (mf_implicit, fed_mf):
// a header-defined recommender's declared defaults, seeded factors, and
// every user's scores.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::test {

/// Declared defaults of `T::params()` overridden by `values`.
template <typename T>
ParamSet defaults_of(const std::map<std::string, ParamValue>& values = {}) {
  ParamSet p;
  for (const ParamSpec& s : T::params()) p.set(s.name, s.default_value);
  for (const auto& [k, v] : values) p.set(k, v);
  return p;
}

/// rows x f factors drawn N(0, sd²) from `seed`.
inline RowMatrixF random_factors(Eigen::Index rows, Eigen::Index f, std::uint64_t seed, double sd) {
  Rng rng(seed);
  RowMatrixF m(rows, f);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < f; ++c) m(r, c) = static_cast<float>(rng.normal(0.0, sd));
  return m;
}

/// score_all of every user of `r`, row-major.
inline std::vector<float> all_scores(Recommender& r) {
  std::vector<UserId> users(static_cast<std::size_t>(r.n_users()));
  for (UserId u = 0; u < r.n_users(); ++u) users[static_cast<std::size_t>(u)] = u;
  std::vector<float> out(users.size() * static_cast<std::size_t>(r.n_items()));
  r.score_all(users, out);
  return out;
}

}  // namespace recfuse::test
