// Metric definitions: pure functions over one user's ranked list (or scores)
// and the sorted set of that user's relevant test items. Each is defined
// once here and reused by the evaluator, the tests and later protocols.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

/// Top-k accuracy of one user. `ranked` is best-first and may be padded with
/// kNoItem; `relevant` is sorted ascending and non-empty. Definitions (binary
/// relevance, as RecBole/Elliot):
///   precision = hits/k (k fixed, even when fewer items were returned)
///   recall    = hits/|rel|          f1 = 2PR/(P+R) (0 when P+R = 0)
///   hr        = [hits > 0]          mrr = 1/rank of the first hit (0 if none)
///   ndcg      = sum_{hit at rank r} 1/log2(r+1) / sum_{r=1..min(|rel|,k)} 1/log2(r+1)
///   map       = sum_{hit at rank r} precision@r / min(|rel|, k)
struct RankingMetrics {
  double precision = 0, recall = 0, f1 = 0, hr = 0, ndcg = 0, map = 0, mrr = 0;
};
RankingMetrics ranking_metrics(std::span<const ItemId> ranked, std::span<const ItemId> relevant,
                               int k);

/// AUC of one user over all candidates: items in [0, n_items) not in
/// `excluded` (sorted). Positives = `relevant` (sorted, disjoint from
/// excluded); negatives = the other candidates. Ties count 1/2. Returns NaN
/// when there is no positive or no negative.
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
