// Runs a fitted recommender over the test users of a split and measures
// accuracy (per user), beyond-accuracy, rating error and request latency.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recfuse/recommender.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// Milliseconds per single-user recommend() call. Percentiles are
/// nearest-rank (sorted[ceil(q n) - 1]): always an observed latency.
struct LatencySummary {
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  std::int64_t n = 0;
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
  /// Per-rating squared / absolute errors for rating CIs ("rmse" uses sqrt of mean).
  std::vector<double> rating_sq_errors, rating_abs_errors;
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
/// Sampled negatives for user u come from derive_seed(seed, "sampled", u).
/// Throws Error on an unknown protocol or metric name, a bad cutoff, or a
/// recommender that returns excluded or out-of-range items.
EvalOutput evaluate(Recommender& rec, const TrainData& train, const CsrMatrix& test,
                    const EvaluationSpec& spec, bool predicts_ratings, std::uint64_t seed);

}  // namespace recfuse
