// Kernels of the mf_implicit plugins at MovieLens sizes, each with its
// arithmetic rate (GFLOP/s counter, counted as below) next to a plain Eigen
// float GEMM of comparable shape:
//   ials CG half-step (users, f = 64, 3 steps), BPR epoch, EASE fit, block
//   scoring + top-k (256 users, score_factors + topk_exclude).
// Data are synthetic with the shape of ml-100k (943 x 1682, 100k pairs) and
// ml-1m (6040 x 3706, 1M pairs), item popularity Zipf-like. Threads: OpenMP
// default (OMP_NUM_THREADS). Run with --benchmark_min_time=0.05.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "plugins/mf_implicit/bpr.hpp"
#include "plugins/mf_implicit/ease.hpp"
#include "plugins/mf_implicit/ials_solver.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/topk.hpp"

namespace {

using namespace recfuse;

struct Shape {
  std::int32_t users, items;
  std::int64_t nnz;
};
const Shape kShapes[] = {{943, 1682, 100000}, {6040, 3706, 1000209}};

CsrMatrix transpose(const CsrMatrix& m) {
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(static_cast<std::size_t>(m.cols) + 1, 0);
  for (std::int32_t c : m.indices) ++t.indptr[static_cast<std::size_t>(c) + 1];
  for (std::size_t k = 1; k < t.indptr.size(); ++k) t.indptr[k] += t.indptr[k - 1];
  t.indices.resize(m.indices.size());
  std::vector<std::int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (std::int32_t r = 0; r < m.rows; ++r)
    for (std::int32_t c : m.row(r)) t.indices[static_cast<std::size_t>(next[static_cast<std::size_t>(c)]++)] = r;
  t.values.assign(t.indices.size(), 1.0f);
  return t;
}

/// Distinct (user, item) pairs: users uniform, items Zipf(0.8)-like.
const TrainData& synthetic(int shape_index) {
  static TrainData cache[2];
  TrainData& d = cache[shape_index];
  if (d.n_users > 0) return d;
  const Shape s = kShapes[shape_index];
  Rng rng(derive_seed(1, "bench_mf_implicit", static_cast<std::uint64_t>(shape_index)));
  std::vector<std::vector<std::int32_t>> rows(static_cast<std::size_t>(s.users));
  for (std::int64_t k = 0; k < s.nnz * 11 / 10; ++k) {
    const auto u = rng.below(static_cast<std::uint64_t>(s.users));
    const auto i = static_cast<std::int32_t>(std::pow(rng.uniform(), 2.5) * s.items);
    rows[u].push_back(std::min(i, s.items - 1));
  }
  d.n_users = s.users;
  d.n_items = s.items;
  d.by_user.rows = s.users;
  d.by_user.cols = s.items;
  for (auto& r : rows) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    d.by_user.indices.insert(d.by_user.indices.end(), r.begin(), r.end());
    d.by_user.indptr.push_back(static_cast<std::int64_t>(d.by_user.indices.size()));
  }
  d.by_user.values.assign(d.by_user.indices.size(), 1.0f);
  d.by_item = transpose(d.by_user);
  return d;
}

RowMatrixF random_factors(Eigen::Index rows, Eigen::Index f) {
  Rng rng(7);
  RowMatrixF m(rows, f);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < f; ++c) m(r, c) = static_cast<float>(rng.normal(0.0, 0.1));
  return m;
}

void set_rate(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9 * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}

// FLOPs: YᵀY 2·items·f², then per user (steps + 1)·(2f² + 4·|I_u|·f).
void BM_ials_cg_half_step_users(benchmark::State& state) {
  const TrainData& d = synthetic(static_cast<int>(state.range(0)));
  const Eigen::Index f = 64;
  const int steps = 3;
  ConfidenceOptions o;
  o.alpha = 10.0;
  const IalsRows conf = make_confidence_rows(d.by_user, o);
  const RowMatrixF y = random_factors(d.n_items, f);
  RowMatrixF x = random_factors(d.n_users, f);
  for (auto _ : state) {
    ials_half_step(conf, y, 0.01, IalsSolver::kCg, steps, x);
    benchmark::DoNotOptimize(x.data());
  }
  const double ff = static_cast<double>(f);
  set_rate(state, 2.0 * d.n_items * ff * ff +
                      (steps + 1) * (2.0 * d.n_users * ff * ff + 4.0 * static_cast<double>(d.by_user.nnz()) * ff));
  state.counters["nnz"] = static_cast<double>(d.by_user.nnz());
}

// One epoch = nnz LearnBPR steps; ~19·f FLOPs per step (score 3f, updates 16f).
void BM_bpr_epoch(benchmark::State& state) {
  const TrainData& d = synthetic(static_cast<int>(state.range(0)));
  ParamSet p;
  for (const ParamSpec& s : BprRecommender::params()) p.set(s.name, s.default_value);
  p.set("epochs", std::int64_t{1});
  p.set("hogwild", state.range(1) != 0);
  BprRecommender r(p);
  for (auto _ : state) r.fit(d, FitContext{});
  set_rate(state, 19.0 * 64.0 * static_cast<double>(d.by_user.nnz()));
  state.SetItemsProcessed(state.iterations() * d.by_user.nnz());
}

// Gram (Σ|I_u|² adds) + LLT n³/3 + solve against I 2n³.
void BM_ease_fit(benchmark::State& state) {
  const TrainData& d = synthetic(static_cast<int>(state.range(0)));
  ParamSet p;
  for (const ParamSpec& s : EaseRecommender::params()) p.set(s.name, s.default_value);
  EaseRecommender r(p);
  for (auto _ : state) r.fit(d, FitContext{});
  const double n = d.n_items;
  set_rate(state, 7.0 / 3.0 * n * n * n);
}

// 256 users: one GEMM (2·256·items·f) then the shared top-10 per row.
void BM_score_topk_256(benchmark::State& state) {
  const TrainData& d = synthetic(static_cast<int>(state.range(0)));
  const Eigen::Index f = 64;
  const RowMatrixF p = random_factors(d.n_users, f), q = random_factors(d.n_items, f);
  std::vector<UserId> users(256);
  for (std::size_t k = 0; k < users.size(); ++k) users[k] = static_cast<UserId>(k * 3 % static_cast<std::size_t>(d.n_users));
  std::vector<float> block(users.size() * static_cast<std::size_t>(d.n_items));
  std::vector<ItemId> items(users.size() * 10);
  std::vector<float> top(items.size());
  RowMatrixF gather;
  const SparseRowsView seen = SparseRowsView::of(d.by_user);
  for (auto _ : state) {
    score_factors(p, q, {}, users, block, gather);
#pragma omp parallel for schedule(static)
    for (std::size_t k = 0; k < users.size(); ++k)
      topk_exclude(block.data() + k * static_cast<std::size_t>(d.n_items), d.n_items, seen.row(users[k]), 10,
                   items.data() + k * 10, top.data() + k * 10);
    benchmark::DoNotOptimize(items.data());
  }
  set_rate(state, 2.0 * 256.0 * static_cast<double>(d.n_items) * static_cast<double>(f));
}

// The reference: C (m x n) = A (m x k) · B (k x n), float, Eigen.
void BM_eigen_gemm(benchmark::State& state) {
  const Eigen::Index m = state.range(0), k = state.range(1), n = state.range(2);
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k), b = Eigen::MatrixXf::Random(k, n);
  Eigen::MatrixXf c(m, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  set_rate(state, 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n));
}

}  // namespace

BENCHMARK(BM_ials_cg_half_step_users)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_bpr_epoch)->ArgNames({"ml1m", "hogwild"})->Args({0, 0})->Args({0, 1})->Args({1, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ease_fit)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_score_topk_256)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_eigen_gemm)->ArgNames({"m", "k", "n"})
    ->Args({256, 64, 1682})->Args({256, 64, 3706})->Args({1682, 1682, 1682})->Args({3706, 3706, 3706})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
