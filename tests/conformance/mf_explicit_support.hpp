// Shared by the mf_explicit tests (test_mf_explicit.cpp, test_als_explicit.cpp):
// parameter sets from declared defaults, fitted models, low-rank rating
// matrices and training RMSE.
#pragma once

#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::test::mf {

/// Declared defaults of `specs` overridden by `values`.
inline ParamSet with(const std::vector<ParamSpec>& specs, const std::map<std::string, ParamValue>& values) {
  ParamSet p;
  for (const auto& s : specs) p.set(s.name, s.default_value);
  for (const auto& [k, v] : values) {
    REQUIRE(p.has(k));
    p.set(k, v);
  }
  return p;
}

template <class Model>
Model fitted(const TrainData& d, const std::map<std::string, ParamValue>& values, std::uint64_t seed = 42,
             int threads = 1) {
  Model m(with(Model::params(), values));
  FitContext ctx;
  ctx.seed = seed;
  ctx.threads = threads;
  m.fit(d, ctx);
  return m;
}

/// n_users x n_items with rating 3 + u_vec·i_vec (rank 3) + N(0, noise²),
/// each cell observed with probability `density`.
inline TrainData low_rank(std::int32_t n_users, std::int32_t n_items, double density, double noise,
                          std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::array<double, 3>> U(static_cast<std::size_t>(n_users)), V(static_cast<std::size_t>(n_items));
  for (auto& u : U) for (auto& x : u) x = rng.normal(0.0, 0.8);
  for (auto& v : V) for (auto& x : v) x = rng.normal(0.0, 0.8);
  std::vector<Interaction> e;
  for (std::int32_t u = 0; u < n_users; ++u)
    for (std::int32_t i = 0; i < n_items; ++i) {
      if (rng.uniform() >= density) continue;
      double r = 3.0 + rng.normal(0.0, noise);
      for (int k = 0; k < 3; ++k) r += U[static_cast<std::size_t>(u)][k] * V[static_cast<std::size_t>(i)][k];
      e.push_back({u, i, static_cast<float>(r)});
    }
  return make_train_data(n_users, n_items, e, true);
}

template <class Model>
double train_rmse(Model& m, const TrainData& d) {
  double se = 0.0;
  for (std::int32_t u = 0; u < d.n_users; ++u)
    for (std::int64_t k = d.by_user.indptr[u]; k < d.by_user.indptr[u + 1]; ++k) {
      const double e = d.by_user.values[static_cast<std::size_t>(k)] -
                       m.predict_one(u, d.by_user.indices[static_cast<std::size_t>(k)]);
      se += e * e;
    }
  return std::sqrt(se / static_cast<double>(d.by_user.nnz()));
}

}  // namespace recfuse::test::mf
