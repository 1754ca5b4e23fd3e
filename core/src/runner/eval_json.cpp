#include "runner/eval_json.hpp"

#include <cmath>
#include <numeric>

#include "eval/stats.hpp"
#include "recfuse/rng.hpp"
#include "runner/record_json.hpp"

namespace recfuse::eval_json {
namespace {

using json = nlohmann::json;
using record_json::finite_or_null;
using record_json::mean_ci;

/// Mean of the per-rating `errors` with its CI: a bootstrap over the users
/// who have test ratings (their finite errors summed per user; a user's
/// ratings are not independent of each other), or the plain mean with no CI
/// when bootstrap = 0. n = the ratings with a finite error.
Interval rating_error_ci(const EvalOutput& ev, const std::vector<double>& errors, int resamples,
                         std::uint64_t seed) {
  const auto& at = ev.rating_user_offsets;
  if (resamples <= 0 || at.size() < 2) return mean_ci(errors, resamples, seed);
  std::vector<double> sums(at.size() - 1, 0.0), counts(at.size() - 1, 0.0);
  for (std::size_t u = 0; u + 1 < at.size(); ++u)
    for (std::size_t j = at[u]; j < at[u + 1]; ++j)
      if (std::isfinite(errors[j])) sums[u] += errors[j], counts[u] += 1;
  Interval ci = bootstrap_ratio_ci(sums, counts, resamples, seed);
  ci.n = static_cast<std::int64_t>(std::accumulate(counts.begin(), counts.end(), 0.0));
  return ci;
}

/// The accuracy metrics a segment block reports (the per-user ranking
/// metrics of the full protocol; beyond-accuracy and sampled_ ones stay in
/// the per-user vectors, from which reports can re-segment anything).
bool segment_metric(const std::string& name) {
  for (const char* base : {"precision@", "recall@", "f1@", "hr@", "ndcg@", "map@", "mrr@"})
    if (name.rfind(base, 0) == 0) return true;
  return false;
}

}  // namespace

/// Metrics block: bootstrap CI for per-user metrics, means for catalogue
/// measures, RMSE/MAE with CIs from rating errors resampled by user.
json metrics(const EvalOutput& ev, const EvaluationSpec& spec, std::uint64_t seed) {
  json m = json::object();
  const std::uint64_t boot = derive_seed(seed, "bootstrap");
  for (const auto& [name, values] : ev.per_user)
    m[name] = record_json::interval(mean_ci(values, spec.bootstrap, boot));
  for (const auto& [name, value] : ev.aggregate) {
    if (name == "rmse" || name == "mae") continue;
    m[name] = json{{"mean", finite_or_null(value)}};
  }
  // Each rating metric only when the evaluator computed it (a metrics filter may ask for one).
  if (!ev.rating_sq_errors.empty() && ev.aggregate.count("rmse")) {
    Interval mse = rating_error_ci(ev, ev.rating_sq_errors, spec.bootstrap, boot);
    m["rmse"] = record_json::interval({std::sqrt(mse.mean), std::sqrt(mse.low), std::sqrt(mse.high), mse.n});
  }
  if (!ev.rating_abs_errors.empty() && ev.aggregate.count("mae"))
    m["mae"] = record_json::interval(rating_error_ci(ev, ev.rating_abs_errors, spec.bootstrap, boot));
  return m;
}

/// "segments": {"users:cold": {"n": 12, "ndcg@10": {mean, low, high, n}, ...}, ...}
/// with the same bootstrap as metrics; user segments take the per-user
/// values of their members, item segments their own restricted values.
json segments(const EvalOutput& ev, const EvaluationSpec& spec, std::uint64_t seed) {
  json out = json::object();
  const std::uint64_t boot = derive_seed(seed, "bootstrap");
  for (const auto& [name, seg] : ev.segments) {
    json block = json::object();
    block["n"] = seg.members.size();
    if (is_item_segment(name)) {
      for (const auto& [metric, values] : seg.per_user)
        block[metric] = record_json::interval(mean_ci(values, spec.bootstrap, boot));
    } else {
      std::vector<double> values(seg.members.size());
      for (const auto& [metric, all] : ev.per_user) {
        if (!segment_metric(metric)) continue;
        for (std::size_t r = 0; r < seg.members.size(); ++r) values[r] = all[seg.members[r]];
        block[metric] = record_json::interval(mean_ci(values, spec.bootstrap, boot));
      }
    }
    out[name] = std::move(block);
  }
  return out;
}

json segment_definition(const SegmentDefinition& d) {
  return {{"cold_user_max", d.cold_user_max},
          {"history_quartile_edges", d.history_edges},
          {"head_fraction", d.head_fraction},
          {"head_min_popularity", d.head_min_popularity},
          {"head_items", d.head_items}};
}

/// Item-segment vectors in the per-user block, aligned with "users" (null
/// outside the segment), for the headline families only: paired per-segment
/// tests need them and user segments are re-derived from "history".
void add_item_segment_vectors(json& per_user, const EvalOutput& ev) {
  for (const auto& [name, seg] : ev.segments) {
    if (!is_item_segment(name)) continue;
    for (const auto& [metric, values] : seg.per_user) {
      if (metric.rfind("ndcg@", 0) != 0 && metric.rfind("recall@", 0) != 0 &&
          metric.rfind("hr@", 0) != 0)
        continue;
      json arr(ev.users.size(), nullptr);
      for (std::size_t r = 0; r < seg.members.size(); ++r)
        arr[seg.members[r]] = finite_or_null(values[r]);
      per_user[name + "/" + metric] = std::move(arr);
    }
  }
}

void add_rating_vectors(json& per_user, const EvalOutput& ev) {
  const auto& at = ev.rating_user_offsets;
  if (ev.rating_users.empty() || at.size() != ev.rating_users.size() + 1) return;
  const bool sse = ev.aggregate.count("rmse") > 0, sae = ev.aggregate.count("mae") > 0;
  if (!sse && !sae) return;
  json n = json::array(), sq = json::array(), abs = json::array();
  for (std::size_t k = 0; k < ev.rating_users.size(); ++k) {
    double s = 0, a = 0;  // a non-finite error makes the sum one: written null
    for (std::size_t j = at[k]; j < at[k + 1]; ++j) s += ev.rating_sq_errors[j], a += ev.rating_abs_errors[j];
    n.push_back(at[k + 1] - at[k]);
    sq.push_back(finite_or_null(s));
    abs.push_back(finite_or_null(a));
  }
  per_user["rating_users"] = ev.rating_users;
  per_user["rating_n"] = std::move(n);
  if (sse) per_user["rating_sse"] = std::move(sq);
  if (sae) per_user["rating_sae"] = std::move(abs);
}

}  // namespace recfuse::eval_json
