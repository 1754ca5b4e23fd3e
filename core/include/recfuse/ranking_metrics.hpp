// Top-k accuracy of one user's ranked list: the one definition, shared by
// the host's evaluator and by plugins that validate while training (early
// stopping). Binary relevance, following RecBole's evaluator (Zhao et al.
// 2021) so that numbers are comparable with theirs.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

#include "recfuse/types.hpp"

namespace recfuse {

/// `ranked` is best-first and may be padded with kNoItem; `relevant` is
/// sorted ascending and non-empty. Definitions:
///   precision = hits/k (k fixed, even when fewer items were returned)
///   recall    = hits/|rel|          f1 = 2PR/(P+R) (0 when P+R = 0)
///   hr        = [hits > 0]          mrr = 1/rank of the first hit (0 if none)
///   ndcg      = sum_{hit at rank r} 1/log2(r+1) / sum_{r=1..min(|rel|,k)} 1/log2(r+1)
///   map       = sum_{hit at rank r} precision@r / min(|rel|, k)
struct RankingMetrics {
  double precision = 0, recall = 0, f1 = 0, hr = 0, ndcg = 0, map = 0, mrr = 0;
};

/// Ideal DCG of min(n_relevant, k) hits in the first ranks.
inline double ideal_dcg(std::size_t n_relevant, int k) {
  const std::size_t n = std::min(n_relevant, static_cast<std::size_t>(k));
  double idcg = 0;
  for (std::size_t r = 1; r <= n; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 1.0);
  return idcg;
}

inline RankingMetrics ranking_metrics(std::span<const ItemId> ranked,
                                      std::span<const ItemId> relevant, int k) {
  if (k < 1) throw Error("ranking_metrics: cutoff k must be >= 1, got " + std::to_string(k));
  RankingMetrics m;
  if (relevant.empty()) return m;  // callers evaluate users with >= 1 relevant item only
  const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(k));
  int hits = 0;
  double dcg = 0, precision_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const ItemId item = ranked[i];
    if (item == kNoItem || !std::binary_search(relevant.begin(), relevant.end(), item)) continue;
    const double rank = static_cast<double>(i + 1);
    ++hits;
    dcg += 1.0 / std::log2(rank + 1.0);
    precision_sum += hits / rank;  // precision@rank at this hit
    if (hits == 1) m.mrr = 1.0 / rank;
  }
  const double n_rel = static_cast<double>(relevant.size());
  m.precision = hits / static_cast<double>(k);
  m.recall = hits / n_rel;
  m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  m.hr = hits > 0 ? 1.0 : 0.0;
  m.ndcg = dcg / ideal_dcg(relevant.size(), k);
  m.map = precision_sum / std::min(n_rel, static_cast<double>(k));
  return m;
}

}  // namespace recfuse
