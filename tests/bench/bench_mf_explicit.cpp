// One SGD epoch of biased MF (plugins/mf_explicit/sgd_kernel.hpp) on
// MovieLens-100K u1.base (80 000 ratings, 943 x 1682) and on a synthetic
// matrix of MovieLens-1M's size (1 000 000 ratings, 6040 x 3706), at 64 and
// 100 factors, next to a plain Eigen float GEMM with the same inner size f.
// Google Benchmark 1.7: run with --benchmark_min_time=0.05 (no unit).
//
// Flop count per rating update (stated so the GFLOP/s can be checked):
//   dot q_i·p_u                           2f
//   p_u ← (1 − γλ) p_u + γe q_i           3f
//   q_i ← (1 − γλ) q_i + γe p_u           3f
// i.e. 8f flops per rating; the O(1) bias work is not counted, nor the
// kernel's arithmetic on the zero padding of each row (rows are padded to a
// multiple of 16 floats: at f = 100 it runs over 112, 8·112 flops, of which
// the counter takes the 8·100 useful ones). The GEMM counts 2·M·N·f for an
// (M x f)·(f x N) product: one block of 256 users scored against every item,
// as recommend() does, and every user at once.
// Threads: the plain epochs run on one thread, the blocked one on `threads`;
// the GEMM on 1 thread (the plain epochs' peer) and on OpenMP's default
// (Eigen's parallel GEMM); each result reports its count ("threads").
// The label of each epoch gives the shape it ran on.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <array>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "plugins/mf_explicit/rating_model.hpp"
#include "plugins/mf_explicit/sgd_kernel.hpp"

namespace {

using recfuse::Rating;

struct RatingSet {
  std::int32_t n_users = 0, n_items = 0;
  float mean = 0.0f;
  std::vector<Rating> ratings;  // in one fixed shuffled order
};

void shuffle(RatingSet& s) {
  std::vector<std::uint32_t> order;
  recfuse::shuffled_order(order, s.ratings.size(), 17);
  std::vector<Rating> out(s.ratings.size());
  for (std::size_t k = 0; k < order.size(); ++k) out[k] = s.ratings[order[k]];
  s.ratings = std::move(out);
}

const RatingSet& ml100k_u1() {
  static const RatingSet set = [] {
    const recfuse::TrainData train = recfuse::bench::ml100k_u1_train();
    RatingSet s;
    s.n_users = train.n_users;
    s.n_items = train.n_items;
    recfuse::RatingStats stats;
    s.ratings = recfuse::collect_ratings(train.by_user, stats);
    s.mean = static_cast<float>(stats.mean);
    shuffle(s);
    return s;
  }();
  return set;
}

const RatingSet& synthetic_1m() {
  static const RatingSet set = [] {
    RatingSet s;
    s.n_users = 6040;
    s.n_items = 3706;
    recfuse::Rng rng(5);
    s.ratings.resize(1000000);
    double sum = 0.0;
    for (auto& r : s.ratings) {
      r = {static_cast<std::int32_t>(rng.below(6040)), static_cast<std::int32_t>(rng.below(3706)),
           static_cast<float>(1 + rng.below(5))};
      sum += r.r;
    }
    s.mean = static_cast<float>(sum / 1e6);
    return s;
  }();
  return set;
}

/// What an epoch needs: N(0, 0.1²) factors in sgd_mf's padded rows, zero
/// biases, Surprise's step sizes.
struct EpochState {
  EpochState(const RatingSet& set, int f) {
    recfuse::RowMatrixF p(set.n_users, f), q(set.n_items, f);
    recfuse::normal_init(p, 0.0, 0.1, 1);
    recfuse::normal_init(q, 0.0, 0.1, 2);
    P = recfuse::PaddedRows(p);
    Q = recfuse::PaddedRows(q);
    bu.assign(static_cast<std::size_t>(set.n_users), 0.0f);
    bi.assign(static_cast<std::size_t>(set.n_items), 0.0f);
    step.factors = f;
    step.stride = P.stride();
    step.mu = set.mean;
  }
  recfuse::PaddedRows P, Q;
  std::vector<float> bu, bi;
  recfuse::SgdStep step;
};

void set_epoch_counters(benchmark::State& state, const RatingSet& set, int f) {
  const double n = static_cast<double>(set.ratings.size());
  state.counters["ratings/s"] = benchmark::Counter(n * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      8.0 * f * n * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  recfuse::bench::label_shape(state, set.n_users, set.n_items, static_cast<std::int64_t>(set.ratings.size()));
}

void run_epochs(benchmark::State& state, const RatingSet& set) {
  const int f = static_cast<int>(state.range(0));
  const recfuse::bench::OmpThreads threads(state, 1);  // sgd_epoch is serial
  EpochState e(set, f);
  for (auto _ : state) {
    const double se = recfuse::sgd_epoch(e.step, set.ratings.data(), set.ratings.size(), e.P.data(),
                                         e.Q.data(), e.bu.data(), e.bi.data());
    benchmark::DoNotOptimize(se);
  }
  set_epoch_counters(state, set, f);
}

void BM_sgd_epoch_ml100k_u1(benchmark::State& state) { run_epochs(state, ml100k_u1()); }

/// One stratified epoch (sgd_mf parallel = true): 8 x 8 blocks, each
/// reshuffled in place, the blocks of a stratum on `threads` threads.
void BM_sgd_epoch_blocked_ml100k_u1(benchmark::State& state) {
  const RatingSet& set = ml100k_u1();
  const int f = static_cast<int>(state.range(0)), threads = static_cast<int>(state.range(1));
  EpochState e(set, f);
  recfuse::SgdGrid grid = recfuse::make_sgd_grid(set.ratings, set.n_users, set.n_items, 8);
  std::vector<double> block_se;
  std::uint64_t epoch = 0;
  for (auto _ : state) {
    const double se = recfuse::sgd_epoch_blocked(e.step, grid, epoch++, threads, e.P.data(),
                                                 e.Q.data(), e.bu.data(), e.bi.data(), block_se);
    benchmark::DoNotOptimize(se);
  }
  set_epoch_counters(state, set, f);
}

void BM_sgd_epoch_synthetic_1m(benchmark::State& state) { run_epochs(state, synthetic_1m()); }

/// (users x f) · (f x items): a recommend() scoring block (256 users) or
/// every user, for the machine's GEMM rate at the same inner size, on
/// `threads` threads.
void BM_eigen_gemm(benchmark::State& state) {
  const Eigen::Index f = state.range(0), items = state.range(1), users = state.range(2);
  const recfuse::bench::OmpThreads threads(state, static_cast<int>(state.range(3)));
  recfuse::RowMatrixF A(users, f), B(items, f), C(users, items);
  recfuse::normal_init(A, 0.0, 0.1, 3);
  recfuse::normal_init(B, 0.0, 0.1, 4);
  // C's pages faulted in untimed, as in recommend()'s reused scoring buffer (a
  // nonzero fill: GCC may turn allocation + zero fill into calloc, whose pages
  // are mapped only when the product first writes them).
  C.setOnes();
  for (auto _ : state) {
    C.noalias() = A * B.transpose();
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(users * items * f) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

/// Each GEMM shape on 1 thread and on OpenMP's default count (once when that is 1).
void gemm_shapes(benchmark::internal::Benchmark* b) {
  const int threads = omp_get_max_threads();
  for (const auto& [f, items, users] : {std::array<int, 3>{64, 1682, 256}, {100, 1682, 256}, {64, 3706, 256},
                                         {100, 3706, 256}, {64, 1682, 943}, {100, 1682, 943},
                                         {64, 3706, 6040}, {100, 3706, 6040}}) {
    b->Args({f, items, users, 1});
    if (threads > 1) b->Args({f, items, users, threads});
  }
}

}  // namespace

BENCHMARK(BM_sgd_epoch_ml100k_u1)->ArgName("factors")->Arg(64)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sgd_epoch_blocked_ml100k_u1)
    ->ArgNames({"factors", "threads"})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({100, 1})
    ->Args({100, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_sgd_epoch_synthetic_1m)->ArgName("factors")->Arg(64)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_gemm)
    ->ArgNames({"factors", "items", "users", "threads"})
    ->Apply(gemm_shapes)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();  // OpenMP threads: CPU time of the main thread alone would flatter the rate

BENCHMARK_MAIN();
