// The evaluation blocks of an offline trial record (runner/record.hpp):
// "metrics", "segments", "segment_definition" and the item-segment and
// rating-error vectors of "per_user", built from the evaluator's output
// with the scenario's bootstrap.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "eval/evaluator.hpp"
#include "scenario/specs.hpp"

namespace recfuse::eval_json {

/// Metrics block: bootstrap CI for per-user metrics, means for catalogue
/// measures, RMSE/MAE with CIs from rating errors resampled by user.
nlohmann::json metrics(const EvalOutput& ev, const EvaluationSpec& spec, std::uint64_t seed);

/// "segments": {"users:cold": {"n": 12, "ndcg@10": {mean, low, high, n}, ...}, ...}.
nlohmann::json segments(const EvalOutput& ev, const EvaluationSpec& spec, std::uint64_t seed);

/// The segment definition the evaluator used.
nlohmann::json segment_definition(const SegmentDefinition& d);

/// Item-segment vectors in the per-user block, aligned with "users".
void add_item_segment_vectors(nlohmann::json& per_user, const EvalOutput& ev);

/// The rating errors in the per-user block, for the rating metrics the
/// evaluator computed: "rating_users" (every user with a test rating,
/// ascending; not "users", the users with a relevant item), "rating_n" (the
/// user's test ratings), "rating_sse" (rmse) and "rating_sae" (mae), the sums
/// of the user's squared and absolute errors (null when one is not finite).
/// The reports pair rmse and mae per user on them (reports/comparisons.cpp).
void add_rating_vectors(nlohmann::json& per_user, const EvalOutput& ev);

}  // namespace recfuse::eval_json
