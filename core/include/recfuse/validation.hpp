// Early stopping support: the ranking quality of a model on the split's
// validation interactions (TrainData::validation), never on test. Uses the
// model's own batched recommend with training items excluded.
//
//   double v = recfuse::validation_ndcg(*this, data, 10);  // NaN if no validation data
#pragma once

#include <limits>
#include <vector>

#include "recfuse/ranking_metrics.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

struct ValidationScore {
  double ndcg = std::numeric_limits<double>::quiet_NaN();  // NDCG@k, binary relevance
  double hr = std::numeric_limits<double>::quiet_NaN();    // HR@k
  std::int64_t users = 0;
};

/// NDCG@k and HR@k over users with validation items (full ranking over items
/// not in the user's training row). `max_users` > 0 evaluates the first users only.
inline ValidationScore validation_score(Recommender& model, const TrainData& data, int k,
                                        std::int32_t max_users = 0) {
  ValidationScore out;
  const CsrMatrix& v = data.validation;
  if (v.nnz() == 0) return out;
  std::vector<UserId> users;
  for (std::int32_t u = 0; u < v.rows; ++u)
    if (v.row_size(u) > 0) users.push_back(u);
  if (max_users > 0 && static_cast<std::int32_t>(users.size()) > max_users) users.resize(max_users);
  std::vector<ItemId> items(users.size() * static_cast<std::size_t>(k));
  std::vector<float> scores(items.size());
  model.recommend(users, k, SparseRowsView::of(data.by_user), items, scores);
  double ndcg = 0, hr = 0;
  for (std::size_t r = 0; r < users.size(); ++r) {
    const RankingMetrics m = ranking_metrics(
        std::span<const ItemId>(items).subspan(r * static_cast<std::size_t>(k), static_cast<std::size_t>(k)),
        v.row(users[r]), k);
    ndcg += m.ndcg;
    hr += m.hr;
  }
  out.users = static_cast<std::int64_t>(users.size());
  out.ndcg = ndcg / static_cast<double>(users.size());
  out.hr = hr / static_cast<double>(users.size());
  return out;
}

}  // namespace recfuse
