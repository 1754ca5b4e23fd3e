// Top-k neighbour lists from sparse co-occurrence, shared by item_knn and
// user_knn (all-pairs kNN as in implicit's all_pairs_knn: one sparse row
// times the transpose per entity, never a dense n² matrix).
//
//   NeighbourLists nb = build_neighbours(by_item, by_user, opts);  // items
//   for (auto [j, s] : nb.row(i)) ...                              // i's top-k
//
// For entities a, b with weighted vectors w_a, w_b over the features they
// share (n_ab of them):
//   cosine:  sim = w_a·w_b / (‖w_a‖ ‖w_b‖)
//   jaccard: sim = n_ab / (n_a + n_b − n_ab)   (on sets: weights ignored)
//   dot:     sim = w_a·w_b                     (implicit's BM25Recommender)
// then Koren's shrinkage towards zero for pairs with few co-raters
// (Koren, "Factorization meets the neighborhood", KDD 2008, §2.2 eq. 2):
//   sim ← sim · n_ab / (n_ab + λ)
// We shrink by the co-occurrence count rather than adding λ to the cosine
// denominator (implicit/LensKit) so that one rule serves every similarity.
// An entity is never its own neighbour; pairs sharing no feature or with
// zero similarity are dropped. Ties in the top-k go to the smaller id.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "recfuse/sparse.hpp"
#include "recfuse/topk.hpp"
#include "weighting.hpp"

namespace recfuse {

enum class Similarity { kCosine, kJaccard, kDot };

inline Similarity parse_similarity(const std::string& s) {
  if (s == "cosine") return Similarity::kCosine;
  if (s == "jaccard") return Similarity::kJaccard;
  if (s == "dot") return Similarity::kDot;
  throw Error("unknown similarity '" + s + "'; known: cosine, jaccard, dot");
}

struct NeighbourOptions {
  int neighbors = 50;
  Similarity similarity = Similarity::kCosine;
  Weighting weighting = Weighting::kNone;
  double bm25_k1 = 1.2;
  double bm25_b = 0.75;
  double shrinkage = 0.0;
  bool implicit = true;
};

/// CSR of neighbour lists: row e holds e's kept neighbours sorted by id.
struct NeighbourLists {
  std::vector<std::int64_t> indptr{0};  // n_entities + 1
  std::vector<std::int32_t> ids;        // neighbour ids
  std::vector<float> sims;              // similarity of each kept pair

  std::int32_t size() const { return static_cast<std::int32_t>(indptr.size()) - 1; }
  std::span<const std::int32_t> row(std::int32_t e) const {
    return {ids.data() + indptr[e], static_cast<std::size_t>(indptr[e + 1] - indptr[e])};
  }
  std::span<const float> row_sims(std::int32_t e) const {
    return {sims.data() + indptr[e], static_cast<std::size_t>(indptr[e + 1] - indptr[e])};
  }
  /// Similarity of (e, other) if `other` is among e's neighbours, else nothing.
  std::optional<float> lookup(std::int32_t e, std::int32_t other) const {
    const auto r = row(e);
    const auto it = std::lower_bound(r.begin(), r.end(), other);
    if (it == r.end() || *it != other) return std::nullopt;
    return row_sims(e)[static_cast<std::size_t>(it - r.begin())];
  }
  /// Similarity of (e, other) if `other` is among e's neighbours, else 0.
  float find(std::int32_t e, std::int32_t other) const { return lookup(e, other).value_or(0.0f); }
  std::size_t bytes() const {
    return indptr.size() * sizeof(std::int64_t) + ids.size() * sizeof(std::int32_t) +
           sims.size() * sizeof(float);
  }
};

/// `rows`: entities x features (the vectors compared); `cols`: its transpose.
/// Parallel over entities; each entity's list depends only on the data, so
/// the result is the same for any thread count.
inline NeighbourLists build_neighbours(const CsrMatrix& rows, const CsrMatrix& cols,
                                       const NeighbourOptions& o) {
  const std::int32_t n = rows.rows;
  const RowWeighting weigh(rows, o.weighting, o.implicit, o.bm25_k1, o.bm25_b);
  const std::vector<float> wr = weigh.weigh_rows(rows, o.implicit);
  const std::vector<float> wc = weigh.weigh_cols(cols, o.implicit);
  std::vector<double> norm(static_cast<std::size_t>(n), 0.0);
  for (std::int32_t e = 0; e < n; ++e) {
    double s = 0.0;
    for (std::int64_t k = rows.indptr[e]; k < rows.indptr[e + 1]; ++k)
      s += static_cast<double>(wr[static_cast<std::size_t>(k)]) * wr[static_cast<std::size_t>(k)];
    norm[static_cast<std::size_t>(e)] = std::sqrt(s);
  }

  const int k = std::max(1, std::min(o.neighbors, std::max(1, n - 1)));
  std::vector<std::int32_t> slot_ids(static_cast<std::size_t>(n) * k);
  std::vector<float> slot_sims(static_cast<std::size_t>(n) * k);
  std::vector<int> kept(static_cast<std::size_t>(n), 0);

#pragma omp parallel
  {
    std::vector<double> acc(static_cast<std::size_t>(n), 0.0);  // per-thread scratch
    std::vector<std::int32_t> common(static_cast<std::size_t>(n), 0);
    std::vector<std::int32_t> touched;
    touched.reserve(static_cast<std::size_t>(n));
    std::vector<std::pair<std::int32_t, float>> pairs;
    pairs.reserve(static_cast<std::size_t>(k));
#pragma omp for schedule(dynamic, 16)
    for (std::int32_t e = 0; e < n; ++e) {
      touched.clear();
      for (std::int64_t a = rows.indptr[e]; a < rows.indptr[e + 1]; ++a) {
        const std::int32_t f = rows.indices[a];
        const double wa = wr[static_cast<std::size_t>(a)];
        for (std::int64_t b = cols.indptr[f]; b < cols.indptr[f + 1]; ++b) {
          const std::int32_t other = cols.indices[b];
          if (other == e) continue;
          if (common[static_cast<std::size_t>(other)]++ == 0) touched.push_back(other);
          acc[static_cast<std::size_t>(other)] += wa * wc[static_cast<std::size_t>(b)];
        }
      }
      const std::size_t base = static_cast<std::size_t>(e) * k;
      TopKHeap heap(k, slot_ids.data() + base, slot_sims.data() + base);
      const double size_e = static_cast<double>(rows.row_size(e));
      for (std::int32_t other : touched) {
        const auto oi = static_cast<std::size_t>(other);
        const double c = common[oi];
        double sim = acc[oi];
        if (o.similarity == Similarity::kCosine) {
          const double d = norm[static_cast<std::size_t>(e)] * norm[oi];
          sim = d > 0.0 ? sim / d : 0.0;
        } else if (o.similarity == Similarity::kJaccard) {
          sim = c / (size_e + static_cast<double>(rows.row_size(other)) - c);
        }
        if (o.shrinkage > 0.0) sim *= c / (c + o.shrinkage);
        if (sim != 0.0) heap.push(static_cast<float>(sim), other);
        acc[oi] = 0.0;
        common[oi] = 0;
      }
      const int got = heap.finish();
      kept[static_cast<std::size_t>(e)] = got;
      // Sorted by id so lookups (explain) can binary-search.
      pairs.clear();
      for (int j = 0; j < got; ++j)
        pairs.emplace_back(slot_ids[base + static_cast<std::size_t>(j)],
                           slot_sims[base + static_cast<std::size_t>(j)]);
      std::sort(pairs.begin(), pairs.end());
      for (int j = 0; j < got; ++j) {
        slot_ids[base + static_cast<std::size_t>(j)] = pairs[static_cast<std::size_t>(j)].first;
        slot_sims[base + static_cast<std::size_t>(j)] = pairs[static_cast<std::size_t>(j)].second;
      }
    }
  }

  NeighbourLists out;
  out.indptr.resize(static_cast<std::size_t>(n) + 1, 0);
  for (std::int32_t e = 0; e < n; ++e)
    out.indptr[static_cast<std::size_t>(e) + 1] = out.indptr[e] + kept[static_cast<std::size_t>(e)];
  out.ids.resize(static_cast<std::size_t>(out.indptr.back()));
  out.sims.resize(out.ids.size());
  for (std::int32_t e = 0; e < n; ++e) {
    const std::size_t base = static_cast<std::size_t>(e) * k;
    std::copy_n(slot_ids.data() + base, kept[e], out.ids.data() + out.indptr[e]);
    std::copy_n(slot_sims.data() + base, kept[e], out.sims.data() + out.indptr[e]);
  }
  return out;
}

}  // namespace recfuse
