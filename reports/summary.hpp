// Aggregation of trial records into one summary row per algorithm label,
// the comparison of every algorithm with the best one, and the planned
// comparisons a scenario declares. Internal to the reports library;
// report.hpp is the interface.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/specs.hpp"

namespace recfuse::report_detail {

/// status == "ok".
bool is_ok(const nlohmann::json& record);
/// Algorithm labels in order of first appearance among the records.
std::vector<std::string> algorithm_labels(const std::vector<nlohmann::json>& records);
/// Every metric name reported by an ok record, in display order.
std::vector<std::string> metric_names(const std::vector<nlohmann::json>& records);
/// First of "ndcg@10", "ndcg@<smallest cutoff>", "rmse" reported by an ok
/// record with a finite mean; "" when none is.
std::string headline_metric(const std::vector<nlohmann::json>& records);

/// One row per algorithm label (see build_report in report.hpp).
nlohmann::json build_summary(const std::vector<nlohmann::json>& records);

/// "Models read from saved files (--load-models), not fitted, so their fit
/// time is n/a: bpr (2 of 2 trials), ..." for the rows with "loaded_models",
/// and "Fits read from the fit cache (--fit-cache) ...: fused (3 of 3
/// trials)" for the rows with "cached_fits"; "" when neither.
std::string loaded_models_note(const nlohmann::json& summary);

/// One user's rating errors in one trial: the sum of the squared (rmse) or
/// absolute (mae) errors over the user's test ratings, and how many there are.
struct UserErrorSum {
  double sum = 0;
  std::int64_t n = 0;
};

/// How one metric is read from a trial record: its per-user values (user id
/// -> value; empty when the record kept none) and its trial mean (NaN when
/// absent). The comparison code pairs whatever a view returns.
struct MetricView {
  std::function<std::map<std::int64_t, double>(const nlohmann::json&)> per_user;
  std::function<double(const nlohmann::json&)> trial_mean;
  /// rmse and mae only (an empty function for every other metric): the
  /// users' error sums (user id -> sum, n); empty when the record kept none
  /// (records written before them). The metric over a set of users is
  /// Σ sum / Σ n, its square root when `sqrt_of_mean` (rmse).
  std::function<std::map<std::int64_t, UserErrorSum>(const nlohmann::json&)> rating_errors;
  bool sqrt_of_mean = false;
};
/// record["per_user"][metric] keyed by record["per_user"]["users"]; non-numbers
/// (null) skipped; empty when absent or misaligned.
std::map<std::int64_t, double> per_user_values(const nlohmann::json& record,
                                               const std::string& metric);
/// record["per_user"][sums] ("rating_sse" or "rating_sae") with "rating_n",
/// keyed by record["per_user"]["rating_users"]; a null sum or a count < 1
/// skipped; empty when absent or misaligned.
std::map<std::int64_t, UserErrorSum> rating_error_sums(const nlohmann::json& record,
                                                       const std::string& sums);
/// record["metrics"][metric]; for rmse and mae also the rating error sums
/// ("rating_sse", "rating_sae").
MetricView metric_view(const std::string& metric);
/// record["segments"][segment][metric]; per user: item segments read
/// per_user["<segment>/<metric>"], user segments select the users of
/// per_user[metric] whose per_user["history"] falls in the segment under
/// record["segment_definition"] (eval/segments.hpp decides).
MetricView segment_view(const std::string& segment, const std::string& metric);

/// The summary row label with the best mean of `metric` ("" when none).
std::string best_algorithm(const nlohmann::json& summary, const std::string& metric);
/// One paired comparison row of `label` against `baseline` on `metric`:
/// mean diff = label - baseline, paired as described at build_comparisons;
/// "p_holm" and "significant" still null (holm_over_rows fills them).
nlohmann::json compare_pair(const std::vector<nlohmann::json>& records, const std::string& label,
                            const std::string& baseline, const std::string& metric,
                            const MetricView& view);
/// The same with the two sides' trials taken from two record vectors (two
/// runs, as `recfuse compare` reads them): `label`'s ok trials from
/// `label_records`, `baseline`'s from `baseline_records`.
nlohmann::json compare_pair(const std::vector<nlohmann::json>& label_records,
                            const std::string& label,
                            const std::vector<nlohmann::json>& baseline_records,
                            const std::string& baseline, const std::string& metric,
                            const MetricView& view);
/// Fills "p_holm" / "significant" of every row with a finite "t_p", Holm
/// adjusting over all of `rows` (one family).
void holm_over_rows(nlohmann::json& rows);

/// Per algorithm, per segment: {"n": mean users per trial, metric: summary
/// as for the main metrics}; an empty object when no record has segments.
nlohmann::json summarize_segments(const std::vector<const nlohmann::json*>& ok_trials);
/// The headline metric in every segment, each algorithm against the best
/// overall (same baseline as the main comparison), Holm-adjusted over the
/// whole table. Rows as build_comparisons plus "segment".
nlohmann::json build_segment_comparisons(const std::vector<nlohmann::json>& records,
                                         const nlohmann::json& summary,
                                         const std::string& metric);
/// The planned pairs in every segment: for each pair and each segment whose
/// summary block carries `metric` for both sides, compare_pair(treatment,
/// baseline, segment_view(segment, metric)), rows as build_planned_comparisons
/// plus "segment", pairs in declared order, segments in display order;
/// Holm-adjusted over every row of this table (one family).
nlohmann::json build_planned_segment_comparisons(const std::vector<nlohmann::json>& records,
                                                 const nlohmann::json& summary,
                                                 const std::vector<PlannedComparison>& planned,
                                                 const std::string& metric);
/// report.md's "Segments" sections (nothing when no trial has segments),
/// ending with "Planned comparisons by segment" when the report has
/// "planned_segment_comparisons".
void write_segment_markdown(std::ostream& out, const nlohmann::json& report);
/// The online and off-policy sections (reports/simulation.cpp); nothing
/// when the report has no simulated trials.
void write_simulation_markdown(std::ostream& out, const nlohmann::json& report);

/// Rows comparing each algorithm with the best one on `metric` (best = the
/// highest summary mean, lowest for rmse/mae), paired per user (the user's
/// mean over the matched (fold, seed) trials; for rmse and mae the user's
/// error sums over them, comparisons.cpp) when both trials kept per-user
/// vectors, else paired over (fold, seed) trials; p-values Holm-adjusted over
/// the rows of this metric.
nlohmann::json build_comparisons(const std::vector<nlohmann::json>& records,
                                 const nlohmann::json& summary, const std::string& metric);

/// Rows of the planned comparisons (`[evaluation] compare`, as the context
/// block lists them) on `metric`, treatment against baseline, paired as
/// build_comparisons pairs; Holm-adjusted over exactly this family: the
/// planned pairs of which at least one side reports `metric` (a side without
/// it gets a row with a note and no p-value, so a planned claim that could
/// not be tested stays visible).
nlohmann::json build_planned_comparisons(const std::vector<nlohmann::json>& records,
                                         const nlohmann::json& summary,
                                         const std::vector<PlannedComparison>& planned,
                                         const std::string& metric);
/// The planned pairs of a context block (context.scenario.compare).
std::vector<PlannedComparison> planned_comparisons_of(const nlohmann::json& context);

/// Every metric name of any summary row of `report`.
std::set<std::string> summary_metric_names(const nlohmann::json& report);
/// The main table's metrics, shared by report.md and report.html: the
/// headline and its cutoff's recall/hr/mrr; for simulated protocols return,
/// regret, ctr, true_value; else the first four by display order; then
/// rmse and mae when present (markdown.cpp).
std::vector<std::string> main_metrics(const nlohmann::json& report);

/// report.html's "Charts" section, and for simulated protocols its
/// "Simulated online" one (html_charts.cpp).
void write_html_charts(std::ostream& out, const nlohmann::json& report);

}  // namespace recfuse::report_detail
