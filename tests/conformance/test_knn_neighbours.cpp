// The knn plugins' neighbour lists (plugins/knn/neighbours.hpp) against the
// definitions computed densely, pair by pair, on small random matrices:
// every similarity, weighting, shrinkage and neighbourhood size; an entity
// is never its own neighbour; pairs sharing nothing are dropped; ties in
// the top-k go to the smaller id; any thread count gives the same lists.
// (The hand-worked values are in test_knn_plugins.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <omp.h>
#include <random>

#include "plugins/knn/neighbours.hpp"

using namespace recfuse;

namespace {

CsrMatrix csr(std::int32_t rows, std::int32_t cols, const std::map<std::pair<int, int>, float>& cells) {
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  for (const auto& [rc, v] : cells) {  // map order: by row, then column
    m.indices.push_back(rc.second);
    m.values.push_back(v);
    ++m.indptr[static_cast<std::size_t>(rc.first) + 1];
  }
  for (std::int32_t r = 0; r < rows; ++r) m.indptr[r + 1] += m.indptr[r];
  return m;
}

/// (sim, id) of every other entity sharing a feature with `e`, best first
/// (higher sim, then smaller id), from the definitions in neighbours.hpp.
std::vector<std::pair<double, int>> ranked(const std::vector<std::vector<double>>& w,
                                           const std::vector<std::vector<int>>& has, int e,
                                           const NeighbourOptions& o) {
  std::vector<std::pair<double, int>> out;
  const std::size_t features = w[0].size();
  for (int f = 0; f < static_cast<int>(w.size()); ++f) {
    if (f == e) continue;
    double dot = 0, ne = 0, nf = 0;
    int common = 0, size_e = 0, size_f = 0;
    for (std::size_t j = 0; j < features; ++j) {
      dot += w[e][j] * w[f][j];
      ne += w[e][j] * w[e][j];
      nf += w[f][j] * w[f][j];
      common += has[e][j] && has[f][j];
      size_e += has[e][j];
      size_f += has[f][j];
    }
    if (common == 0) continue;
    double sim = dot;
    if (o.similarity == Similarity::kCosine) sim = ne * nf > 0 ? dot / std::sqrt(ne * nf) : 0.0;
    if (o.similarity == Similarity::kJaccard) sim = common / static_cast<double>(size_e + size_f - common);
    if (o.shrinkage > 0) sim *= common / (common + o.shrinkage);
    if (sim != 0.0) out.emplace_back(sim, f);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  return out;
}

}  // namespace

TEST_CASE("knn neighbour lists equal the similarity definitions on random matrices", "[knn]") {
  std::mt19937 g(11);
  const int saved = omp_get_max_threads();
  for (int round = 0; round < 60; ++round) {
    const int rows = 3 + static_cast<int>(g() % 25), cols = 3 + static_cast<int>(g() % 25);
    std::map<std::pair<int, int>, float> cells, transposed;
    const int n = static_cast<int>(g() % static_cast<unsigned>(rows * cols / 2 + 1));
    for (int k = 0; k < n; ++k)
      cells[{static_cast<int>(g() % rows), static_cast<int>(g() % cols)}] = static_cast<float>(1 + g() % 5);
    for (const auto& [rc, v] : cells) transposed[{rc.second, rc.first}] = v;
    const CsrMatrix by_row = csr(rows, cols, cells), by_col = csr(cols, rows, transposed);
    for (const Similarity sim : {Similarity::kCosine, Similarity::kJaccard, Similarity::kDot})
      for (const Weighting weighting : {Weighting::kNone, Weighting::kBm25, Weighting::kTfidf})
        for (const bool implicit : {true, false}) {
          NeighbourOptions o;
          o.similarity = sim;
          o.weighting = weighting;
          o.implicit = implicit;
          o.neighbors = 1 + static_cast<int>(g() % 6);
          o.shrinkage = g() % 2 ? 3.0 : 0.0;
          INFO("round " << round << " similarity " << static_cast<int>(sim) << " weighting "
                        << static_cast<int>(weighting) << " implicit " << implicit << " k "
                        << o.neighbors << " shrinkage " << o.shrinkage);
          omp_set_num_threads(1);
          const NeighbourLists one = build_neighbours(by_row, by_col, o);
          omp_set_num_threads(3);
          const NeighbourLists three = build_neighbours(by_row, by_col, o);
          CHECK(one.ids == three.ids);
          CHECK(one.sims == three.sims);

          const RowWeighting weigh(by_row, weighting, implicit, o.bm25_k1, o.bm25_b);
          std::vector<std::vector<double>> w(rows, std::vector<double>(cols, 0.0));
          std::vector<std::vector<int>> has(rows, std::vector<int>(cols, 0));
          for (const auto& [rc, v] : cells) {
            w[rc.first][rc.second] = weigh(rc.first, rc.second, implicit ? 1.0f : v);
            has[rc.first][rc.second] = 1;
          }
          // Unweighted dot and Jaccard are exact in double (small integers
          // and one division, as neighbours.hpp computes them), so their
          // ties are real ties: the kept ids must be exactly the best k by
          // (sim, smaller id).
          const bool exact = weighting == Weighting::kNone && implicit && sim != Similarity::kCosine;
          for (int e = 0; e < rows; ++e) {
            const auto want = ranked(w, has, e, o);
            const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(o.neighbors), want.size());
            const auto got = one.row(e);
            REQUIRE(got.size() == k);
            CHECK(std::is_sorted(got.begin(), got.end()));
            CHECK(std::find(got.begin(), got.end(), e) == got.end());
            for (std::size_t q = 0; q < k; ++q) {
              // An entity clearly inside the top k (not tied with the first
              // one left out, up to float rounding) must be kept, with its sim.
              const bool clear = exact || k == want.size() ||
                                 want[q].first - want[k].first > 1e-5 * (1.0 + std::abs(want[q].first));
              if (!clear) continue;
              CHECK(one.find(e, want[q].second) == Approx(want[q].first).epsilon(1e-5).margin(1e-7));
              CHECK(std::binary_search(got.begin(), got.end(), want[q].second));
            }
          }
        }
  }
  omp_set_num_threads(saved);
}
