// Costs of the fusion strategies' per-user work: normalising one child row
// over the catalogue (each mode), and a cascade's re-ranking of `candidates`
// pairs against a re-ranker scoring the full catalogue (a factor model with
// a real score() override), for catalogue sizes of ml-100k and ml-latest-small.
//   build-x/bin/bench_fusion --benchmark_filter=Cascade
#include <benchmark/benchmark.h>

#include <vector>

#include "plugins/fusion/cascade.hpp"
#include "plugins/fusion/fusion_common.hpp"
#include "recfuse/factor_scoring.hpp"
#include "recfuse/rng.hpp"

namespace {
using namespace recfuse;

std::vector<float> random_row(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> row(n);
  for (auto& v : row) v = static_cast<float>(rng.normal());
  return row;
}

void BM_NormalizeRow(benchmark::State& state) {
  const auto n = static_cast<ItemId>(state.range(0));
  const auto mode = static_cast<Normalization>(state.range(1));
  const std::vector<float> base = random_row(static_cast<std::size_t>(n), 1);
  std::vector<float> row;
  std::vector<ItemId> order;
  const std::vector<ItemId> exclude{1, 5, 9, 100};
  for (auto _ : state) {
    row = base;  // normalize_row works in place: the copy (n floats) is timed with it
    normalize_row(row.data(), n, exclude, mode, order);
    benchmark::DoNotOptimize(row.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_NormalizeRow)->ArgsProduct({{1682, 9724}, {1, 2, 3}});  // minmax, zscore, rank

/// A latent-factor model: score_all by GEMM, score() by one dot per pair.
class Factors final : public Recommender {
 public:
  Factors(std::int32_t users, std::int32_t items, int f, std::uint64_t seed) {
    Rng rng(seed);
    P_.resize(users, f);
    Q_.resize(items, f);
    for (Eigen::Index i = 0; i < P_.size(); ++i) P_.data()[i] = static_cast<float>(rng.normal());
    for (Eigen::Index i = 0; i < Q_.size(); ++i) Q_.data()[i] = static_cast<float>(rng.normal());
    TrainData d;
    d.n_users = users;
    d.n_items = items;
    fit(d, FitContext{});
  }
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    score_factors(P_, Q_, {}, users, out, gather_);
  }
  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    for (std::size_t j = 0; j < items.size(); ++j) out[j] = P_.row(users[j]).dot(Q_.row(items[j]));
  }
  std::size_t model_bytes() const override { return static_cast<std::size_t>(P_.size() + Q_.size()) * 4; }

 private:
  RowMatrixF P_, Q_, gather_;
};

/// One user per call, as the evaluator's latency measurement does.
/// range(0) = catalogue size, range(1) = 1: cascade (retrieval 16 factors,
/// re-rank 128 factors over 100 candidates), 0: the 128-factor re-ranker alone.
void BM_CascadeVsFullRerank(benchmark::State& state) {
  const auto n = static_cast<std::int32_t>(state.range(0));
  constexpr std::int32_t kUsers = 64;
  auto retrieval = std::make_shared<Factors>(kUsers, n, 16, 1);
  auto reranker = std::make_shared<Factors>(kUsers, n, 128, 2);
  TrainData d;
  d.n_users = kUsers;
  d.n_items = n;
  d.by_user.rows = kUsers;
  d.by_user.cols = n;
  d.by_user.indptr.assign(kUsers + 1, 0);
  ParamSet p;
  p.set("candidates", std::int64_t{100});
  Cascade cascade(p);
  cascade.set_children({Child{"retrieval", "factors", 0, retrieval}, Child{"rerank", "factors", 0, reranker}});
  cascade.fit(d, FitContext{});
  Recommender& model = state.range(1) ? static_cast<Recommender&>(cascade) : *reranker;
  std::vector<ItemId> items(10);
  std::vector<float> scores(10);
  UserId u = 0;
  for (auto _ : state) {
    const UserId one[] = {u};
    model.recommend(one, 10, SparseRowsView::of(d.by_user), items, scores);
    u = (u + 1) % kUsers;
    benchmark::DoNotOptimize(items.data());
  }
}
BENCHMARK(BM_CascadeVsFullRerank)->ArgsProduct({{1682, 9724, 100000}, {0, 1}})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
