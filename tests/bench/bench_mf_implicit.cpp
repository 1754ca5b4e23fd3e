// Kernels of the mf_implicit plugins at MovieLens sizes, each with its
// arithmetic rate (a GFLOP/s counter, flops counted as stated above each
// benchmark) next to a plain Eigen float GEMM of the same shapes:
//   ials CG half-step (users, f = 64, 3 steps), BPR epoch (f = 64), EASE fit
//   and its two parts (Gram matrix; SPD inverse), block scoring + top-k
//   (256 users, score_factors + topk_exclude).
// Data: ml-100k is MovieLens-100K u1.base (943 x 1682, 80 000 pairs, from
// the shared data folder); ml-1m is synthetic with MovieLens-1M's shape
// (6040 x 3706, about 1M distinct pairs, item popularity Zipf-like); each
// result's label gives the shape it ran on. Threads: OpenMP default
// (OMP_NUM_THREADS), reported per result ("threads"; BPR without hogwild runs
// on one); times and rates are wall-clock (UseRealTime).
// Google Benchmark 1.7: run with --benchmark_min_time=0.05 (no unit).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "plugins/mf_implicit/bpr.hpp"
#include "plugins/mf_implicit/ease.hpp"
#include "recfuse/ials_solver.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/topk.hpp"

namespace {

using namespace recfuse;

/// Distinct (user, item) pairs of ml-1m's shape: users uniform, items
/// i = ⌊u^2.5 · items⌋ for u uniform, i.e. P(i < x) = (x / items)^0.4 and a
/// popularity falling as rank^-0.6 (Zipf(0.6)-like) before duplicates are
/// merged; 1.1M draws leave about 993k distinct pairs.
TrainData synthetic_1m() {
  const std::int32_t users = 6040, items = 3706;
  const std::int64_t nnz = 1000209;
  Rng rng(derive_seed(1, "bench_mf_implicit", 1));
  std::vector<std::vector<std::int32_t>> rows(static_cast<std::size_t>(users));
  for (std::int64_t k = 0; k < nnz * 11 / 10; ++k) {
    const auto u = rng.below(static_cast<std::uint64_t>(users));
    const auto i = static_cast<std::int32_t>(std::pow(rng.uniform(), 2.5) * items);
    rows[u].push_back(std::min(i, items - 1));
  }
  TrainData d;
  d.n_users = users;
  d.n_items = items;
  d.by_user.rows = users;
  d.by_user.cols = items;
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

/// range(0) = 0: ml-100k u1.base (implicit: every rating a positive pair),
/// 1: synthetic ml-1m; each loaded once.
const TrainData& shape(std::int64_t which) {
  if (which == 0) {
    static const TrainData ml100k = bench::ml100k_u1_train();
    return ml100k;
  }
  static const TrainData ml1m = synthetic_1m();
  return ml1m;
}

/// The data of range(0); labels `state` with its shape and reports the
/// threads OpenMP regions and Eigen's products get.
const TrainData& train_data(benchmark::State& state) {
  const TrainData& d = shape(state.range(0));
  bench::label_shape(state, d.n_users, d.n_items, d.by_user.nnz());
  state.counters["threads"] = static_cast<double>(omp_get_max_threads());
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

// Flops: YᵀY 2·items·f², then per user (steps + 1)·(2f² + 4·|I_u|·f).
// Second argument 1: each user's own λ_u (reg_exponent ν = 1, Rendle et
// al. 2022), computed once before the loop as ials's fit does; it adds
// (steps + 1)·2f flops per user, not counted.
void BM_ials_cg_half_step_users(benchmark::State& state) {
  const TrainData& d = train_data(state);
  const Eigen::Index f = 64;
  const int steps = 3;
  ConfidenceOptions o;
  o.alpha = 10.0;
  const IalsRows conf = make_confidence_rows(d.by_user, o);
  const std::vector<float> row_reg =
      state.range(1) != 0 ? frequency_scaled_reg(conf, d.n_items, 1e-5, 1.0) : std::vector<float>{};
  const RowMatrixF y = random_factors(d.n_items, f);
  RowMatrixF x = random_factors(d.n_users, f);
  for (auto _ : state) {
    ials_half_step(conf, y, 0.01, IalsSolver::kCg, steps, x, row_reg);
    benchmark::DoNotOptimize(x.data());
  }
  const double ff = static_cast<double>(f);
  set_rate(state, 2.0 * d.n_items * ff * ff +
                      (steps + 1) * (2.0 * d.n_users * ff * ff + 4.0 * static_cast<double>(d.by_user.nnz()) * ff));
}

// One epoch = nnz LearnBPR steps (f = 64), the flops the kernel executes
// (bpr_kernel.hpp, lr and λ hoisted): x̂ = w·(h_i − h_j) 3f, w 4f, h_i 3f,
// h_j 3f, i.e. 13·f per step; sampling, e^x and the biases are not counted,
// nor the fit's set-up (factor init, positive index) that each iteration pays.
void BM_bpr_epoch(benchmark::State& state) {
  const TrainData& d = train_data(state);
  ParamSet p;
  for (const ParamSpec& s : BprRecommender::params()) p.set(s.name, s.default_value);
  p.set("epochs", std::int64_t{1});
  p.set("hogwild", state.range(1) != 0);
  if (state.range(1) == 0) state.counters["threads"] = 1;  // one stream, num_threads(1)
  BprRecommender r(p);
  for (auto _ : state) r.fit(d, FitContext{});
  set_rate(state, 13.0 * 64.0 * static_cast<double>(d.by_user.nnz()));
  state.SetItemsProcessed(state.iterations() * d.by_user.nnz());
}

// Gram: Σ_u |I_u|² adds (one per co-occurring pair, each counted in both
// triangles, as binary_gram does).
double gram_flops(const TrainData& d) {
  double adds = 0.0;
  for (std::int32_t u = 0; u < d.n_users; ++u) {
    const auto k = static_cast<double>(d.by_user.row_size(u));
    adds += k * k;
  }
  return adds;
}

void BM_ease_gram(benchmark::State& state) {
  const TrainData& d = train_data(state);
  for (auto _ : state) {
    const ColMatrix<float> g = binary_gram<float>(d.by_item, d.by_user);
    benchmark::DoNotOptimize(g.data());
  }
  set_rate(state, gram_flops(d));
}

// SPD inverse (spd_inverse.hpp) of XᵀX + λI, n = items: Cholesky n³/3, then
// the solves for A⁻¹'s lower part 2n³/3, i.e. n³ (lower-order terms dropped).
// Each iteration first copies A into the work matrix the factorisation
// overwrites (n² floats, timed; allocated untimed); P's buffer is allocated
// by the first iteration and reused.
void BM_spd_inverse(benchmark::State& state) {
  const TrainData& d = train_data(state);
  ColMatrix<float> a = binary_gram<float>(d.by_item, d.by_user);
  a.diagonal().array() += 200.0f;
  ColMatrix<float> work = a;
  RowMatrix<float> p;
  for (auto _ : state) {
    work = a;
    if (!cholesky_lower(work)) state.SkipWithError("not positive definite");
    inverse_from_cholesky(work, p);
    benchmark::DoNotOptimize(p.data());
  }
  const double n = d.n_items;
  set_rate(state, n * n * n);
}

// The whole fit at λ = 200, float: Gram Σ_u |I_u|² + inverse n³ + scaling n²
// (the copy of the training history kept for scoring is not counted).
void BM_ease_fit(benchmark::State& state) {
  const TrainData& d = train_data(state);
  ParamSet p;
  for (const ParamSpec& s : EaseRecommender::params()) p.set(s.name, s.default_value);
  p.set("reg", 200.0);
  EaseRecommender r(p);
  for (auto _ : state) r.fit(d, FitContext{});
  const double n = d.n_items;
  set_rate(state, gram_flops(d) + n * n * n + n * n);
}

// 256 users: one GEMM (2·256·items·f) then the shared top-10 per row (its
// comparisons not counted).
void BM_score_topk_256(benchmark::State& state) {
  const TrainData& d = train_data(state);
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

// The reference: C (m x n) = A (m x k) · B (k x n), float, Eigen, 2·m·k·n
// flops. Shapes: a scoring block and every user's scores (f = 64), EASE's
// trailing updates (depth 128, spd_inverse.hpp's block) and its n³ products.
void BM_eigen_gemm(benchmark::State& state) {
  const Eigen::Index m = state.range(0), k = state.range(1), n = state.range(2);
  const bench::OmpThreads threads(state, 0);  // the kernels' count: OpenMP's default
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k), b = Eigen::MatrixXf::Random(k, n);
  Eigen::MatrixXf c = Eigen::MatrixXf::Ones(m, n);  // faulted in untimed (not Zero: calloc maps lazily)
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  set_rate(state, 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n));
}

}  // namespace

BENCHMARK(BM_ials_cg_half_step_users)
    ->ArgNames({"ml1m", "row_reg"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_bpr_epoch)->ArgNames({"ml1m", "hogwild"})->Args({0, 0})->Args({0, 1})->Args({1, 0})->Args({1, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ease_gram)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_spd_inverse)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ease_fit)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_score_topk_256)->ArgName("ml1m")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_eigen_gemm)->ArgNames({"m", "k", "n"})
    ->Args({256, 64, 1682})->Args({256, 64, 3706})->Args({943, 64, 1682})->Args({6040, 64, 3706})
    ->Args({1682, 128, 1682})->Args({3706, 128, 3706})->Args({1682, 1682, 1682})->Args({3706, 3706, 3706})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
