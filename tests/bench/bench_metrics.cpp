// Per-user AUC over a full catalogue row, the bootstrap CI of a mean over
// ml-1m-sized user counts, and the check of the recommended lists (range,
// exclusions, repeats) at cutoffs up to a whole catalogue: the costliest
// metric steps of an evaluation.
#include <benchmark/benchmark.h>

#include <vector>

#include "eval/evaluator_detail.hpp"
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

// 100 users' lists of k distinct items of a 23,715-item catalogue (Amazon
// Video's size), each user with 50 training items none of the lists holds.
void BM_check_lists(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  const recfuse::ItemId n_items = 23715;
  const std::size_t n_users = 100;
  std::vector<recfuse::UserId> users(n_users);
  std::vector<recfuse::ItemId> lists(n_users * static_cast<std::size_t>(k));
  std::vector<std::int64_t> indptr{0};
  std::vector<recfuse::ItemId> train;
  for (std::size_t u = 0; u < n_users; ++u) {
    users[u] = static_cast<recfuse::UserId>(u);
    for (int j = 0; j < k; ++j)
      lists[u * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)] =
          static_cast<recfuse::ItemId>((static_cast<std::size_t>(j) * 7 + u) % static_cast<std::size_t>(n_items - 50));
    for (recfuse::ItemId i = n_items - 50; i < n_items; ++i) train.push_back(i);
    indptr.push_back(static_cast<std::int64_t>(train.size()));
  }
  const recfuse::SparseRowsView exclude{indptr, train};
  for (auto _ : state) recfuse::eval_detail::check_lists(lists, users, k, n_items, exclude);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lists.size()));
}

}  // namespace

BENCHMARK(BM_check_lists)->ArgName("k")->Arg(100)->Arg(2000)->Arg(20000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_auc)->ArgName("items")->Arg(1682)->Arg(23715);
BENCHMARK(BM_bootstrap)->ArgName("users")->Arg(943)->Arg(6040)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
