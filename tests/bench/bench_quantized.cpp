// Scoring a block of 256 users (and one user: a single request) against
// every item: the float GEMM of factor_scoring.hpp (score_factors, Eigen)
// against the int8 kernel of
// quantized_factors.hpp (score_quantized: int16-widened tiles, int32 sums),
// at MovieLens sizes (ml-100k: 1682 items, ml-1m: 3706 items) and f = 64,
// 128. Factors are N(0, 0.1²) draws (the kernels' time does not depend on
// the data); users every third row of a 943-row matrix. Rate: users·items·f
// multiply-adds per call, as "GMAC/s" and as "GFLOP/s" (2 per MAC, as the
// other bench files count a GEMM). threads = 1 or OpenMP's default (0);
// times are wall-clock (UseRealTime). Quantization itself is not timed.
// BM_score_int8_no_bias: the same kernel without an item bias (ials).
// Google Benchmark 1.7: run with --benchmark_min_time=0.05 (no unit).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench_support.hpp"
#include "recfuse/factor_scoring.hpp"
#include "recfuse/quantized_factors.hpp"
#include "recfuse/rng.hpp"

namespace {

using namespace recfuse;


RowMatrixF random_factors(Eigen::Index rows, Eigen::Index f, std::uint64_t seed) {
  Rng rng(seed);
  RowMatrixF m(rows, f);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < f; ++c) m(r, c) = static_cast<float>(rng.normal(0.0, 0.1));
  return m;
}

std::vector<UserId> block_users(std::int64_t n) {
  std::vector<UserId> users(static_cast<std::size_t>(n));
  for (std::size_t k = 0; k < users.size(); ++k) users[k] = static_cast<UserId>(k * 3 % 943);
  return users;
}

void set_rates(benchmark::State& state, std::size_t users, Eigen::Index items, Eigen::Index f) {
  const double macs = static_cast<double>(users) * static_cast<double>(items) * static_cast<double>(f) *
                      static_cast<double>(state.iterations());
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * macs * 1e-9, benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(users) + " users x " + std::to_string(items) + " items, f = " + std::to_string(f));
}

// range: items, f, threads (0 = OpenMP's default), users in the block.
void BM_score_float(benchmark::State& state) {
  const Eigen::Index items = state.range(0), f = state.range(1);
  const bench::OmpThreads threads(state, static_cast<int>(state.range(2)));
  const RowMatrixF p = random_factors(943, f, 1), q = random_factors(items, f, 2);
  const std::vector<UserId> users = block_users(state.range(3));
  std::vector<float> out(users.size() * static_cast<std::size_t>(items), 1.0f);
  std::vector<float> bias(static_cast<std::size_t>(items), 0.5f);
  RowMatrixF gather;
  for (auto _ : state) {
    score_factors(p, q, bias, users, out, gather);
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, users.size(), items, f);
}

// with_bias: + b_i per score (bpr, the rating models) or none (ials).
void score_int8(benchmark::State& state, bool with_bias) {
  const Eigen::Index items = state.range(0), f = state.range(1);
  const bench::OmpThreads threads(state, static_cast<int>(state.range(2)));
  QuantizedFactors qf(random_factors(943, f, 1), random_factors(items, f, 2));
  const std::vector<UserId> users = block_users(state.range(3));
  std::vector<float> out(users.size() * static_cast<std::size_t>(items), 1.0f);
  std::vector<float> bias(with_bias ? static_cast<std::size_t>(items) : 0, 0.5f);
  for (auto _ : state) {
    qf.score_all(bias, users, out);
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, users.size(), items, f);
}
void BM_score_int8(benchmark::State& state) { score_int8(state, true); }
void BM_score_int8_no_bias(benchmark::State& state) { score_int8(state, false); }

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"items", "f", "threads", "users"});
  for (const int threads : {1, 0})
    for (const int items : {1682, 3706})
      for (const int f : {64, 128}) b->Args({items, f, threads, 256});
  for (const int items : {1682, 3706}) b->Args({items, 64, 1, 1});  // one request
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_score_float)->Apply(shapes);
BENCHMARK(BM_score_int8)->Apply(shapes);
BENCHMARK(BM_score_int8_no_bias)->Apply(shapes);
BENCHMARK_MAIN();
