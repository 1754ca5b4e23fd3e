// Metric definitions: pure functions over one user's ranked list (or scores)
// and the sorted set of that user's relevant test items. Each is defined
// once here and reused by the evaluator, the tests and later protocols.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "recfuse/ranking_metrics.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

/// Top-k accuracy (RankingMetrics, ranking_metrics) is defined once in the
/// SDK header recfuse/ranking_metrics.hpp so plugins can validate with it.

/// AUC of one user over all candidates: items in [0, n_items) not in
/// `excluded` (sorted). Positives = `relevant` (sorted, disjoint from
/// excluded); negatives = the other candidates. Ties count 1/2; a NaN score
/// ranks as -inf (as in recfuse/topk.hpp). Returns NaN when there is no
/// positive or no negative (the CIs drop NaN users, stats.hpp).
double auc(std::span<const float> scores, std::span<const ItemId> relevant,
           std::span<const ItemId> excluded);

/// Catalogue-level beyond-accuracy measures of a set of top-k lists.
/// `lists` is n_users x k row-major (kNoItem padding ignored).
/// coverage = distinct recommended / n_items;
/// gini = Gini index of per-item recommendation counts over all n_items
///        (0 = perfectly even, -> 1 = concentrated).
double catalogue_coverage(std::span<const ItemId> lists, int k, ItemId n_items);
double gini_index(std::span<const ItemId> lists, int k, ItemId n_items);

/// Per-user: mean self-information -log2(pop(i)/n_users) of the list, where
/// pop(i) = training users of i (pop 0 counts as 1). Zhou et al. 2010.
double novelty(std::span<const ItemId> list, std::span<const std::int32_t> item_popularity,
               std::int32_t n_users);
/// Per-user: mean training popularity (user count) of the recommended items (ARP).
double average_popularity(std::span<const ItemId> list,
                          std::span<const std::int32_t> item_popularity);
/// Per-user intra-list diversity: mean over pairs of 1 - cosine similarity of
/// the items' feature rows (genres). Items without features are skipped;
/// NaN when fewer than two items have features.
/// `indptr`/`indices` is the item x feature CSR (binary).
double intra_list_diversity(std::span<const ItemId> list, std::span<const std::int64_t> indptr,
                            std::span<const std::int32_t> indices);

/// Rating error accumulators for RMSE / MAE.
struct RatingErrors {
  double sum_sq = 0, sum_abs = 0;
  std::int64_t n = 0;
  double rmse() const;
  double mae() const;
};

}  // namespace recfuse
