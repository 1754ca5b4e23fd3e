// Pieces of the evaluator shared by its translation units and its tests.
// Internal to recfuse_eval.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eval/evaluator.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::eval_detail {

/// Which base metric names ("ndcg", "auc", ...) a scenario asked for; empty =
/// all. Unknown names throw an Error listing the known ones.
class MetricFilter {
 public:
  explicit MetricFilter(const std::vector<std::string>& wanted);
  bool has(std::string_view base) const;
  /// Whether any metric beyond rmse and mae is wanted (all are when none is listed).
  bool wants_ranking() const;

 private:
  std::vector<std::string> wanted_;
};

/// Evaluated users (ascending) and, per user, the sorted relevant test items.
struct RelevantSets {
  std::vector<UserId> users;
  std::vector<std::int64_t> indptr;  // size users.size() + 1
  std::vector<ItemId> items;
  std::size_t size() const { return users.size(); }
  std::span<const ItemId> row(std::size_t i) const {
    return {items.data() + indptr[i], static_cast<std::size_t>(indptr[i + 1] - indptr[i])};
  }
};
RelevantSets relevant_sets(const CsrMatrix& test, double threshold);

/// Nearest-rank percentile (q in (0, 1]) of ascending data; 0 when empty.
double nearest_rank(const std::vector<double>& sorted, double q);

/// A fresh per-user column `name` of n zeros in out.per_user.
double* column(EvalOutput& out, const std::string& name, std::size_t n);

/// Throws when a returned list holds an out-of-range or excluded item.
void check_lists(std::span<const ItemId> lists, std::span<const UserId> users, int k,
                 ItemId n_items, SparseRowsView exclude);

/// precision/recall/f1/hr/ndcg/map/mrr at every cutoff, named prefix+"ndcg@k".
/// `lists` is rel.size() x stride, best first.
void accuracy_metrics(EvalOutput& out, const std::string& prefix, const ItemId* lists, int stride,
                      const RelevantSets& rel, const std::vector<std::int32_t>& cutoffs,
                      const MetricFilter& filter);

/// Fills out.history, out.segment_definition and out.segments (segments.hpp)
/// from the full-ranking `lists` (rel.size() x stride, best first).
void segment_metrics(EvalOutput& out, const ItemId* lists, int stride, const TrainData& train,
                     const RelevantSets& rel, const EvaluationSpec& spec,
                     const MetricFilter& filter);

/// novelty/arp/ild per user and coverage/gini per cutoff (full ranking only).
void beyond_accuracy_metrics(EvalOutput& out, const ItemId* lists, int stride,
                             const TrainData& train, const std::vector<std::int32_t>& cutoffs,
                             const MetricFilter& filter);

/// Draws min(count, available) distinct items of [0, n_items) that are in
/// neither sorted list into out[0..); returns how many. Deterministic in rng.
std::size_t sample_negatives(Rng& rng, ItemId n_items, std::span<const ItemId> seen,
                             std::span<const ItemId> relevant, std::size_t count, ItemId* out);

/// The sampled protocol: each user's relevant items ranked together among
/// `negatives` sampled items per relevant item, outside `seen` (the
/// evaluation's exclusion rows) and the relevant items; a relevant item tied
/// with a negative ranks below it. Metrics prefixed "sampled_".
void sampled_metrics(EvalOutput& out, Recommender& rec, const TrainData& train,
                     SparseRowsView seen, const RelevantSets& rel, const std::vector<std::int32_t>& cutoffs,
                     std::int32_t negatives, std::uint64_t seed, const MetricFilter& filter);

}  // namespace recfuse::eval_detail
