// Aggregation of trial records into one summary row per algorithm label,
// and the comparison of every algorithm with the best one. Internal to the
// reports library; report.hpp is the interface.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

/// Rows comparing each algorithm with the best one on `metric` (best = the
/// highest summary mean, lowest for rmse/mae), paired per user over the same
/// (fold, seed) when both trials kept per-user vectors, else paired over
/// trials; p-values Holm-adjusted over the rows of this metric.
nlohmann::json build_comparisons(const std::vector<nlohmann::json>& records,
                                 const nlohmann::json& summary, const std::string& metric);

}  // namespace recfuse::report_detail
