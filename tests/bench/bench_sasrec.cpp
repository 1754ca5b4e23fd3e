// SASRec kernels at MovieLens-100K shapes (1,682 items, d = 50, 2 blocks, 1 head,
// maxlen 50, batch 128; most ml-100k users have more than 50 training items, so a batch is
// about 128 x 50 positions):
//   BM_ForwardBackward  one micro-batch of 20 full sequences, one thread: forward, BCE, backward
//   BM_TrainBatch       one Adam step on 128 users
//   BM_ScoreBlock       score_all for a block of 256 users (forward + one GEMM H Eᵀ)
//   BM_RecommendOne     top-10 of one user through the Recommender interface
// Threads: BM_ForwardBackward on one, as each training thread runs its micro-batches
// (outside a parallel region Eigen would spread its products over OpenMP's threads);
// the others on OpenMP's default (OMP_NUM_THREADS). Each result reports its count
// ("threads"). Each benchmark runs its step once before timing, so the buffers a first
// call allocates are not timed (a run of a few iterations would otherwise be mostly that).
#include <benchmark/benchmark.h>

#include <numeric>

#include "bench_support.hpp"
#include "plugins/sasrec/sasrec.hpp"

using namespace recfuse;
using namespace recfuse::sasrec;

namespace {

constexpr std::int32_t kUsers = 943, kItems = 1682, kLen = 80;

/// ml-100k-shaped synthetic data: every user has kLen distinct items.
const TrainData& data() {
  static const TrainData d = [] {
    TrainData t;
    t.n_users = kUsers;
    t.n_items = kItems;
    Rng rng(1);
    for (CsrMatrix* m : {&t.sequences, &t.by_user}) { m->rows = kUsers; m->cols = kItems; }
    for (std::int32_t u = 0; u < kUsers; ++u) {
      std::vector<std::int32_t> seq;
      while (static_cast<std::int32_t>(seq.size()) < kLen) {
        const auto i = static_cast<std::int32_t>(rng.below(kItems));
        if (std::find(seq.begin(), seq.end(), i) == seq.end()) seq.push_back(i);
      }
      t.sequences.indices.insert(t.sequences.indices.end(), seq.begin(), seq.end());
      t.sequences.indptr.push_back(static_cast<std::int64_t>(t.sequences.indices.size()));
      std::sort(seq.begin(), seq.end());
      t.by_user.indices.insert(t.by_user.indices.end(), seq.begin(), seq.end());
      t.by_user.indptr.push_back(static_cast<std::int64_t>(t.by_user.indices.size()));
    }
    return t;
  }();
  return d;
}

ParamSet reference_params(std::int64_t epochs) {
  ParamSet p;
  for (const ParamSpec& s : sasrec_params()) p.set(s.name, s.default_value);
  p.set("epochs", epochs);
  return p;
}

SasrecRecommender& fitted() {
  static SasrecRecommender r = [] {
    SasrecRecommender m(reference_params(1));
    m.fit(data(), FitContext{});
    return m;
  }();
  return r;
}

void BM_ForwardBackward(benchmark::State& state) {
  Config c;
  c.n_items = kItems;
  const ParamLayout L(c);
  std::vector<float> w, g(static_cast<std::size_t>(L.total));
  init_params(w, L, c, 1);
  Batch b;
  for (std::int32_t u = 0; u < 20; ++u)
    add_training_example(b, data().sequences.row(u), data().by_user.row(u), kItems, c.maxlen,
                         Loss::kBce, 0, 1, static_cast<std::uint64_t>(u));
  Activations<float> a;
  const float norm = 1.0f / static_cast<float>(b.tokens());
  const bench::OmpThreads threads(state, 1);
  const auto step = [&] {
    model_forward(a, w.data(), L, c, b, true);
    std::fill(a.dF.begin(), a.dF.end(), 0.0f);
    benchmark::DoNotOptimize(bce_loss(a.dF.data(), g.data() + L.item_emb, a.F.data(), b.targets.data(),
                                      b.negatives.data(), w.data() + L.item_emb, b.tokens(), c.d, norm));
    model_backward(g.data(), a, w.data(), L, c, b);
  };
  step();  // sizes the activations
  for (auto _ : state) step();
  state.counters["positions/s"] = benchmark::Counter(static_cast<double>(b.tokens()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ForwardBackward)->Unit(benchmark::kMillisecond);

void BM_TrainBatch(benchmark::State& state) {
  SasrecRecommender& r = fitted();
  std::vector<std::int32_t> users(128);
  std::iota(users.begin(), users.end(), 0);
  std::uint64_t epoch = 100;
  const bench::OmpThreads threads(state, 0);
  benchmark::DoNotOptimize(r.train_batch(users, epoch));
  for (auto _ : state) benchmark::DoNotOptimize(r.train_batch(users, ++epoch));
}
BENCHMARK(BM_TrainBatch)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ScoreBlock(benchmark::State& state) {
  SasrecRecommender& r = fitted();
  std::vector<UserId> users(256);
  std::iota(users.begin(), users.end(), 0);
  std::vector<float> out(users.size() * kItems);
  const bench::OmpThreads threads(state, 0);
  r.score_all(users, out);
  for (auto _ : state) {
    r.score_all(users, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["users/s"] = benchmark::Counter(256, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ScoreBlock)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RecommendOne(benchmark::State& state) {
  SasrecRecommender& r = fitted();
  std::vector<ItemId> items(10);
  std::vector<float> scores(10);
  UserId u = 0;
  const bench::OmpThreads threads(state, 0);
  r.recommend(std::vector<UserId>{u}, 10, SparseRowsView::of(data().by_user), items, scores);
  for (auto _ : state) {
    r.recommend(std::vector<UserId>{u}, 10, SparseRowsView::of(data().by_user), items, scores);
    u = (u + 1) % kUsers;
  }
}
BENCHMARK(BM_RecommendOne)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
