// Runs a fitted recommender over the test users of a split and measures
// accuracy (per user), beyond-accuracy, rating error and request latency.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eval/segments.hpp"
#include "recfuse/recommender.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// Milliseconds per single-user recommend() call. Percentiles are
/// nearest-rank (sorted[ceil(q n) - 1]): always an observed latency.
struct LatencySummary {
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  std::int64_t n = 0;
};

/// One segment of the evaluated users (segments.hpp defines them).
struct EvalSegment {
  std::vector<std::size_t> members;  // indices into EvalOutput::users, ascending
  /// Item segments only: "ndcg@10", ... (precision, recall, f1, hr, ndcg,
  /// map, mrr at every cutoff, as filtered) against the user's relevant
  /// items of the segment, aligned with `members`. User segments reuse
  /// EvalOutput::per_user at `members`.
  std::map<std::string, std::vector<double>> per_user;
};

struct EvalOutput {
  std::vector<UserId> users;  // evaluated test users (ascending)
  /// "ndcg@10", "auc", "novelty@10", ... -> one value per entry of `users`
  /// (NaN where undefined for that user). Sampled-protocol metrics carry the
  /// prefix "sampled_".
  std::map<std::string, std::vector<double>> per_user;
  /// Catalogue-level measures ("coverage@10", "gini@10") and rating errors
  /// ("rmse", "mae") that are not per-user means.
  std::map<std::string, double> aggregate;
  /// Per-rating squared / absolute errors for rating CIs ("rmse" uses sqrt of mean),
  /// grouped by user: the errors of the k-th user with test ratings,
  /// rating_users[k], are [rating_user_offsets[k], rating_user_offsets[k + 1])
  /// (the CIs resample users and the reports pair them: one user's ratings are
  /// not independent of each other). rating_users (ascending) are every user
  /// with a test rating, which can differ from `users` (those with a relevant one).
  std::vector<double> rating_sq_errors, rating_abs_errors;
  std::vector<std::size_t> rating_user_offsets;
  std::vector<UserId> rating_users;
  /// Training interactions (train.by_user row size) per entry of `users`.
  std::vector<std::int64_t> history;
  SegmentDefinition segment_definition;
  /// segment_names() -> members and values; every name present when at
  /// least one user is evaluated (a segment may be empty).
  std::map<std::string, EvalSegment> segments;
  LatencySummary latency;          // single-user recommend() calls
  double batch_seconds = 0;        // all test users, batched
  double throughput_users_per_s = 0;
};

/// `test` is users x items (values = ratings or 1). A user is evaluated when
/// it has at least one test item with value >= spec.relevance_threshold.
/// Candidates are all items not in `train.by_user.row(u)` (full ranking).
/// Rating metrics are computed when `predicts_ratings` and the data is explicit,
/// over every test (user, item) pair. Latency is measured sequentially on the
/// first spec.max_latency_users test users (all when 0) after one untimed
/// warm-up call; the batch pass times one recommend() over all test users.
/// Segments (segments.hpp) use spec.cold_user_max and spec.head_fraction.
/// Sampled negatives for user u (spec.sampled_negatives per relevant item)
/// come from derive_seed(seed, "sampled", u); a relevant item tied with one
/// ranks below it (sampled.cpp).
/// Throws Error on an unknown protocol or metric name, a bad cutoff, or a
/// recommender that returns excluded or out-of-range items.
EvalOutput evaluate(Recommender& rec, const TrainData& train, const CsrMatrix& test,
                    const EvaluationSpec& spec, bool predicts_ratings, std::uint64_t seed);

/// As above, with the rows of `excluded` (n_users x n_items, sorted rows)
/// as each user's never-ranked items instead of train.by_user. The runner
/// passes train ∪ validation when it evaluates on test: by then the
/// held-out validation item is known history, so it is neither a candidate
/// nor a sampled negative, for every algorithm (SASRec's reference
/// evaluation, pmixer/SASRec.pytorch, does the same).
EvalOutput evaluate(Recommender& rec, const TrainData& train, const CsrMatrix& test,
                    const CsrMatrix& excluded, const EvaluationSpec& spec, bool predicts_ratings,
                    std::uint64_t seed);

/// The length of the lists the evaluator asks for: the largest cutoff,
/// capped at the catalogue (metrics@k still divide by k), so a cutoff
/// beyond it does not allocate users x k. `cutoffs` must not be empty.
inline int ranked_list_length(const std::vector<int>& cutoffs, std::int32_t n_items) {
  return std::min(*std::max_element(cutoffs.begin(), cutoffs.end()), std::max<int>(1, n_items));
}

}  // namespace recfuse
