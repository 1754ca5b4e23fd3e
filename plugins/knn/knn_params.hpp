// Parameters shared by item_knn and user_knn, declared once.
#pragma once

#include <span>
#include <vector>

#include "fallback.hpp"
#include "neighbours.hpp"
#include "recfuse/params.hpp"
#include "recfuse/sparse.hpp"

namespace recfuse {

inline std::vector<ParamSpec> knn_params() {
  return {
      ParamSpec::integer("neighbors", 50, 1, 1e6, "neighbours kept per item (item_knn) or user"),
      ParamSpec::choice("similarity", "cosine", {"cosine", "jaccard", "dot"},
                        "cosine of weighted vectors, Jaccard of sets, or raw dot product"),
      ParamSpec::choice("weighting", "none", {"none", "bm25", "tfidf"},
                        "weighting of the interaction matrix (implicit's bm25_weight/tfidf_weight)"),
      ParamSpec::real("bm25_k1", 1.2, 0.0, 1e6, "BM25 term-frequency saturation K1"),
      ParamSpec::real("bm25_b", 0.75, 0.0, 1.0, "BM25 length normalisation B"),
      ParamSpec::real("shrinkage", 0.0, 0.0, 1e9,
                      "shrink sim by n_common / (n_common + shrinkage) (Koren 2008)"),
      ParamSpec::boolean("implicit", true, "treat every training interaction as 1"),
      ParamSpec::choice("fallback", "none", {"none", "popularity"},
                        "items without neighbour evidence: score 0 (none), or rank after every evidenced "
                        "item by training popularity (popularity; LensKit's Fallback)"),
  };
}

inline NeighbourOptions knn_options(const ParamSet& p) {
  NeighbourOptions o;
  o.neighbors = static_cast<int>(p.get_int("neighbors"));
  o.similarity = parse_similarity(p.get_string("similarity"));
  o.weighting = parse_weighting(p.get_string("weighting"));
  o.bm25_k1 = p.get_float("bm25_k1");
  o.bm25_b = p.get_float("bm25_b");
  o.shrinkage = p.get_float("shrinkage");
  o.implicit = p.get_bool("implicit");
  return o;
}

inline Fallback knn_fallback(const ParamSet& p) { return parse_fallback(p.get_string("fallback")); }

/// The training rows a kNN model scores from (copied at fit, since TrainData
/// does not outlive it): row u = u's items with r_ui (1 when implicit).
struct RatedRows {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> ids;
  std::vector<float> values;

  std::span<const std::int32_t> row(std::int32_t u) const {
    return {ids.data() + indptr[u], static_cast<std::size_t>(indptr[u + 1] - indptr[u])};
  }
  std::span<const float> row_values(std::int32_t u) const {
    return {values.data() + indptr[u], static_cast<std::size_t>(indptr[u + 1] - indptr[u])};
  }

  void assign(const CsrMatrix& m, bool implicit) {
    indptr = m.indptr;
    ids = m.indices;
    values.resize(ids.size());
    for (std::int64_t k = 0; k < m.nnz(); ++k)
      values[static_cast<std::size_t>(k)] = interaction_value(m, k, implicit);
  }
};

}  // namespace recfuse
