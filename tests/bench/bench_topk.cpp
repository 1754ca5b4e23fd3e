// Shared top-k over one score row: the inner step of every recommend() call.
// Catalogue sizes of MovieLens-100k (1682 items) and SASRec's Amazon Video
// Games (23715 items); k = 10 and 100; 1% of the items excluded.
#include <benchmark/benchmark.h>

#include <vector>

#include "recfuse/rng.hpp"
#include "recfuse/topk.hpp"

namespace {

void BM_topk_exclude(benchmark::State& state) {
  const auto n_items = static_cast<recfuse::ItemId>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  recfuse::Rng rng(42);
  std::vector<float> scores(static_cast<std::size_t>(n_items));
  for (auto& s : scores) s = static_cast<float>(rng.normal());
  std::vector<recfuse::ItemId> exclude;
  for (recfuse::ItemId i = 0; i < n_items; i += 100) exclude.push_back(i);
  std::vector<recfuse::ItemId> items(static_cast<std::size_t>(k));
  std::vector<float> top(static_cast<std::size_t>(k));
  for (auto _ : state) {
    const int n = recfuse::topk_exclude(scores.data(), n_items, exclude, k, items.data(), top.data());
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(items.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n_items);
}

}  // namespace

BENCHMARK(BM_topk_exclude)
    ->ArgNames({"items", "k"})
    ->Args({1682, 10})
    ->Args({1682, 100})
    ->Args({23715, 10})
    ->Args({23715, 100});

BENCHMARK_MAIN();
