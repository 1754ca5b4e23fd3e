// What the benchmark programs share: where the datasets are, the MovieLens
// split the kernels are timed on, the data shape in each result's label, and
// the OpenMP thread count each result ran on.
#pragma once

#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/src/data/readers.hpp"
#include "core/src/data/splits.hpp"
#include "core/src/data/train_data_builder.hpp"

namespace recfuse::bench {

/// Root of the real datasets: $RECFUSE_DATA, else ../shared/data beside the
/// repository (as the tests find them).
inline std::string data_root() {
  if (const char* env = std::getenv("RECFUSE_DATA"); env && *env) return env;
  return RECFUSE_BENCH_SHARED_DATA;
}

/// MovieLens-100K's fixed split u1, training part (u1.base: 80 000 ratings,
/// 943 users x 1682 items).
inline TrainData ml100k_u1_train() {
  DatasetSpec spec;
  spec.format = "ml-100k";
  spec.path = data_root() + "/ml-100k";
  spec.cache = false;
  const Dataset data = load_dataset(spec, {});
  SplitSpec split;
  split.method = "fixed";
  return build_train_data(data, make_split(data, split, "u1", 1));
}

/// "users x items, n pairs": the shape a result was measured on, as its label.
inline void label_shape(benchmark::State& state, std::int64_t users, std::int64_t items, std::int64_t pairs) {
  state.SetLabel(std::to_string(users) + "x" + std::to_string(items) + ", " + std::to_string(pairs) + " pairs");
}

/// OpenMP regions and Eigen's products started from the benchmark's thread
/// run on `threads` threads while this lives (threads <= 0: OpenMP's default,
/// OMP_NUM_THREADS or the cores); the count is reported as the counter
/// "threads". Eigen parallelises a product outside a parallel region over
/// omp_get_max_threads() threads, so code meant to be timed on one thread
/// needs this even when it has no OpenMP pragma of its own.
class OmpThreads {
 public:
  OmpThreads(benchmark::State& state, int threads) : saved_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
    state.counters["threads"] = static_cast<double>(omp_get_max_threads());
  }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

}  // namespace recfuse::bench
