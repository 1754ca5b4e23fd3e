// One round of Federated Collaborative Filtering (Ammad-ud-din et al.,
// "Federated Collaborative Filtering for Privacy-Preserving Personalized
// Recommendation System", arXiv:1901.09888, 2019) with user-level
// differential privacy on the server's sum (DP-FedAvg's clip-and-noise,
// McMahan et al., ICLR 2018).
//
//   FedState s{...};                                   // x: clients' factors, y: item factors
//   const RoundStats st = fed_round(data, opts, derive_seed(seed, "fed_mf_round", t), s);
//   // s.sum = Σ_{u∈S} κ_u G_u + N(0, σ²C²): what the server releases; server_step applies it
//
// The objective is implicit ALS's (Hu, Koren & Volinsky 2008, eq. 3):
//   J(X, Y) = Σ_u L_u(x_u, Y) + λ‖Y‖²,   L_u = Σ_i c_ui (p_ui − x_uᵀy_i)² + λ‖x_u‖²,
// c_ui = 1 + α·r_ui. A round:
//  1. clients S: each user independently with probability q (Poisson
//     sampling, seeded per round; dp_accounting.hpp says why Poisson).
//  2. each u ∈ S solves x_u = argmin L_u(·, Y) on its device: iALS's user
//     step, mf_implicit's ials_half_step over the rows of S.
//  3. each u ∈ S computes G_u = ∂L_u/∂Y, row i: 2c_ui(x_uᵀy_i − p_ui)·x_uᵀ
//     (−2 times the paper's f(u, i) = c_ui(p_ui − x_uᵀy_i)·x_u). G_u = v_u x_uᵀ
//     is rank one,
//       v_u = 2·Y·x_u + d_u,   d_ui = 2[(c_ui − 1)·s_ui − c_ui] on u's items
//     (s_ui = x_uᵀy_i; 0 elsewhere), so ‖G_u‖_F = ‖v_u‖·‖x_u‖ with
//       ‖v_u‖² = 4·x_uᵀYᵀYx_u + Σ_{i∈I_u} 4[c_ui²(s_ui − 1)² − s_ui²],
//     and sends κ_u·G_u, κ_u = min(1, C/‖G_u‖_F) (C = clip; κ = 1 when 0).
//  4. the server sums, Σ_{u∈S} κ_u G_u = 2·Y·(Σ κ_u x_u x_uᵀ) + D,
//     D_i = Σ_{u∈S, i∈I_u} κ_u d_ui x_u, and adds N(0, σ²C²) to every entry.
// A real client would send its dense n_items x f matrix; the simulation
// forms the same sum through this identity (O(n_items·f² + nnz·f) a round
// instead of O(|S|·n_items·f)), each output row by one thread in a fixed
// order: the round's result does not depend on the thread count.
// With the exact (Cholesky) user step, ∂L_u/∂x_u = 0, so by the envelope
// theorem Σ_u G_u + 2λY is the gradient of min_X J(X, Y) in Y: with q = 1
// and no clipping or noise a round is full-batch gradient descent on it.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "recfuse/ials_solver.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

/// The training pairs' confidences, client-major and item-major.
struct FedData {
  IalsRows by_user;  // row u: client u's own data, never leaves the device
  IalsRows by_item;  // the same pairs by item (the server's sum is formed item by item)
};

struct FedOptions {
  double sampling = 1.0;          // q in (0, 1]
  double reg = 0.01;              // λ of the user step
  double clip = 0.0;              // C, the bound on ‖κ_u G_u‖_F; 0 = no clipping
  double noise_multiplier = 0.0;  // σ: noise std σ·C on the sum; needs clip > 0
  IalsSolver solver = IalsSolver::kCholesky;
  int cg_steps = 3;
  int threads = 1;                // OpenMP threads of this file's loops
};

/// What persists between rounds, and the round's reused buffers.
struct FedState {
  RowMatrixF x;    // n_users x f: row u lives on client u and is never sent
  RowMatrixF y;    // n_items x f: the server's item factors
  RowMatrixF sum;  // n_items x f: the last round's noisy Σ κ_u G_u
  std::vector<std::int32_t> clients;  // S of the last round, ascending
  std::vector<float> weight;          // n_users: κ_u for u ∈ S, else 0
  IalsRows local;                     // the rows of S (user step input)
  RowMatrixF local_x;                 // |S| x f
};

struct RoundStats {
  std::int64_t clients = 0;  // |S|
  std::int64_t clipped = 0;  // clients whose ‖G_u‖_F exceeded C
};

namespace fed_detail {

/// Aᵀ diag(w) A (f x f, double), w = 1 when `w` is empty (rows of weight 0
/// skipped): one column per thread, each a sum in row order, so the result
/// does not depend on the thread count.
inline Eigen::MatrixXd weighted_gram(const RowMatrixF& a, const std::vector<float>& w, int threads) {
  const Eigen::Index f = a.cols();
  Eigen::MatrixXd g(f, f);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index j = 0; j < f; ++j) {
    Eigen::VectorXd col = Eigen::VectorXd::Zero(f);
    for (Eigen::Index r = 0; r < a.rows(); ++r) {
      const double wr = w.empty() ? 1.0 : w[static_cast<std::size_t>(r)];
      if (wr != 0.0) col += (wr * a(r, j)) * a.row(r).transpose().cast<double>();
    }
    g.col(j) = col;
  }
  return g;
}

/// S: every user independently with probability q, from the round's stream.
inline void sample_clients(std::int32_t n_users, double q, std::uint64_t seed, std::vector<std::int32_t>& out) {
  Rng rng(derive_seed(seed, "fed_mf_clients"));
  out.clear();
  for (std::int32_t u = 0; u < n_users; ++u)
    if (q >= 1.0 || rng.uniform() < q) out.push_back(u);
}

/// Step 2: x_u ← argmin L_u(·, Y) for u ∈ S (the rest keep theirs).
inline void solve_clients(const FedData& data, const FedOptions& o, FedState& s) {
  IalsRows& l = s.local;
  l.rows = static_cast<std::int32_t>(s.clients.size());
  l.indptr.assign(1, 0);
  l.indices.clear();
  l.conf.clear();
  l.max_row = 0;
  s.local_x.resize(l.rows, s.x.cols());
  for (std::int32_t k = 0; k < l.rows; ++k) {
    const std::int32_t u = s.clients[static_cast<std::size_t>(k)];
    const auto b = data.by_user.indices.begin() + data.by_user.indptr[u];
    const auto e = data.by_user.indices.begin() + data.by_user.indptr[u + 1];
    l.indices.insert(l.indices.end(), b, e);
    l.conf.insert(l.conf.end(), data.by_user.conf.begin() + data.by_user.indptr[u],
                  data.by_user.conf.begin() + data.by_user.indptr[u + 1]);
    l.indptr.push_back(static_cast<std::int64_t>(l.indices.size()));
    l.max_row = std::max<std::int64_t>(l.max_row, e - b);
    s.local_x.row(k) = s.x.row(u);
  }
  ials_half_step(l, s.y, o.reg, o.solver, o.cg_steps, s.local_x);
  for (std::int32_t k = 0; k < l.rows; ++k) s.x.row(s.clients[static_cast<std::size_t>(k)]) = s.local_x.row(k);
}

}  // namespace fed_detail

/// ‖G_u‖_F of client u's gradient at its x_u (step 3's formula, in double).
/// yty: YᵀY. Exposed for tests.
inline double client_gradient_norm(const IalsRows& by_user, std::int32_t u, const RowMatrixF& x,
                                   const RowMatrixF& y, const Eigen::MatrixXd& yty) {
  const Eigen::VectorXd xu = x.row(u).transpose().cast<double>();
  double v2 = 4.0 * xu.dot(yty * xu);
  for (std::int64_t k = by_user.indptr[u]; k < by_user.indptr[u + 1]; ++k) {
    const double c = by_user.conf[static_cast<std::size_t>(k)];
    const double su = xu.dot(y.row(by_user.indices[static_cast<std::size_t>(k)]).transpose().cast<double>());
    v2 += 4.0 * (c * c * (su - 1.0) * (su - 1.0) - su * su);
  }
  return std::sqrt(std::max(v2, 0.0)) * xu.norm();
}

/// Step 3's clipping: weight[u] = κ_u for u ∈ S (0 for the rest). Returns
/// how many were clipped.
inline std::int64_t clip_weights(const FedData& data, const FedOptions& o, FedState& s) {
  s.weight.assign(static_cast<std::size_t>(s.x.rows()), 0.0f);
  for (const std::int32_t u : s.clients) s.weight[static_cast<std::size_t>(u)] = 1.0f;
  if (!(o.clip > 0.0)) return 0;
  const Eigen::MatrixXd yty = fed_detail::weighted_gram(s.y, {}, o.threads);
  const auto m = static_cast<std::int64_t>(s.clients.size());
  std::int64_t clipped = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : clipped) num_threads(o.threads)
  for (std::int64_t k = 0; k < m; ++k) {
    const std::int32_t u = s.clients[static_cast<std::size_t>(k)];
    const double norm = client_gradient_norm(data.by_user, u, s.x, s.y, yty);
    if (norm > o.clip) {
      s.weight[static_cast<std::size_t>(u)] = static_cast<float>(o.clip / norm);
      ++clipped;
    }
  }
  return clipped;
}

/// Step 4 without noise: s.sum = Σ_{u∈S} weight[u]·G_u, G_u at s.x and s.y.
inline void sum_client_gradients(const FedData& data, const FedOptions& o, FedState& s) {
  const Eigen::MatrixXf twice_m = (2.0 * fed_detail::weighted_gram(s.x, s.weight, o.threads)).cast<float>();
  const Eigen::Index f = s.y.cols();
  s.sum.resize(s.y.rows(), f);
#pragma omp parallel num_threads(o.threads)
  {
    Eigen::RowVectorXf acc(f);  // per-thread row buffer
#pragma omp for schedule(dynamic, 32)
    for (std::int32_t i = 0; i < data.by_item.rows; ++i) {
      acc.noalias() = s.y.row(i) * twice_m;
      for (std::int64_t k = data.by_item.indptr[i]; k < data.by_item.indptr[i + 1]; ++k) {
        const std::int32_t u = data.by_item.indices[static_cast<std::size_t>(k)];
        const float w = s.weight[static_cast<std::size_t>(u)];
        if (w == 0.0f) continue;
        const float c = data.by_item.conf[static_cast<std::size_t>(k)];
        const float su = s.x.row(u).dot(s.y.row(i));
        acc += (w * 2.0f * ((c - 1.0f) * su - c)) * s.x.row(u);
      }
      s.sum.row(i) = acc;
    }
  }
}

/// s.sum += N(0, std²) in every entry, row-major from the round's stream.
inline void add_gaussian_noise(double std, std::uint64_t seed, RowMatrixF& sum) {
  Rng rng(derive_seed(seed, "fed_mf_noise"));
  float* d = sum.data();
  for (Eigen::Index k = 0; k < sum.size(); ++k) d[k] += static_cast<float>(std * rng.normal());
}

/// Steps 1-4 of one round; leaves the released (noisy) sum in s.sum and the
/// participants' new factors in s.x. `seed`: this round's seed (sampling and
/// noise streams derive from it). s.x, s.y must be sized n_users x f and
/// n_items x f.
inline RoundStats fed_round(const FedData& data, const FedOptions& o, std::uint64_t seed, FedState& s) {
  fed_detail::sample_clients(data.by_user.rows, o.sampling, seed, s.clients);
  fed_detail::solve_clients(data, o, s);
  RoundStats st;
  st.clients = static_cast<std::int64_t>(s.clients.size());
  st.clipped = clip_weights(data, o, s);
  sum_client_gradients(data, o, s);
  if (o.noise_multiplier > 0.0) add_gaussian_noise(o.noise_multiplier * o.clip, seed, s.sum);
  return st;
}

}  // namespace recfuse
