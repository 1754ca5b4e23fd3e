// Per-user AUC over a full catalogue row and the bootstrap CI of a mean over
// ml-1m-sized user counts: the two costliest metric steps of an evaluation.
#include <benchmark/benchmark.h>

#include <vector>

#include "eval/metrics.hpp"
#include "eval/stats.hpp"
#include "recfuse/rng.hpp"

namespace {

void BM_auc(benchmark::State& state) {
  const auto n_items = static_cast<recfuse::ItemId>(state.range(0));
  recfuse::Rng rng(1);
  std::vector<float> scores(static_cast<std::size_t>(n_items));
  for (auto& s : scores) s = static_cast<float>(rng.normal());
  std::vector<recfuse::ItemId> relevant, excluded;
  for (recfuse::ItemId i = 0; i < n_items; ++i) {
    if (i % 97 == 0) relevant.push_back(i);
    else if (i % 31 == 0) excluded.push_back(i);
  }
  for (auto _ : state) benchmark::DoNotOptimize(recfuse::auc(scores, relevant, excluded));
  state.SetItemsProcessed(state.iterations() * n_items);
}

void BM_bootstrap(benchmark::State& state) {
  recfuse::Rng rng(2);
  std::vector<double> values(static_cast<std::size_t>(state.range(0)));
  for (auto& v : values) v = rng.uniform();
  for (auto _ : state)
    benchmark::DoNotOptimize(recfuse::bootstrap_mean_ci(values, 1000, 42).low);
}

}  // namespace

BENCHMARK(BM_auc)->ArgName("items")->Arg(1682)->Arg(23715);
BENCHMARK(BM_bootstrap)->ArgName("users")->Arg(943)->Arg(6040)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
