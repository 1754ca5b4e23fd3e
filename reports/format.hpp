// Locale-independent number formatting and field escaping shared by the
// writers. Everything goes through std::to_chars, which never consults the
// C or C++ locale (unlike printf and iostreams).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace recfuse::report_format {

/// `v` with `precision` digits after the point; "n/a" for NaN/Inf;
/// "-0.00" becomes "0.00".
std::string fixed(double v, int precision);
/// Shortest representation that reads back to `v`; "" for NaN/Inf.
std::string shortest(double v);
/// "0.0412 [0.0351, 0.0470]", or just the mean when the bounds are missing.
std::string mean_ci(double mean, double low, double high, int precision);
/// p-value: "<0.0001" below 1e-4, else 4 decimals.
std::string p_value(double p);
/// Significance marker of a (Holm-adjusted) p: "***", "**", "*", "ns".
std::string significance(double p);
/// A table cell: '|' escaped, line breaks and tabs as spaces.
std::string md_cell(std::string_view text);
/// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view text);

/// j[key] as a double: NaN when absent, null or not a number.
double number(const nlohmann::json& j, std::string_view key);
/// j[key], or a null value when j is not an object or has no such key.
const nlohmann::json& child(const nlohmann::json& j, const char* key);
/// j[key] as a string: "" when absent; numbers in shortest form.
std::string text(const nlohmann::json& j, std::string_view key);
/// Bytes to MiB.
inline double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

/// Sort rank of a metric for display: headline families first
/// (ndcg, recall, hr, mrr, map, precision, f1, auc), then rating errors,
/// then beyond-accuracy; ties by cutoff, then name.
bool metric_display_less(const std::string& a, const std::string& b);
/// True for metrics where smaller is better (rmse, mae).
bool lower_is_better(std::string_view metric);

/// How the comparison tables pair their tests (report.md and report.html).
inline constexpr const char* kPairingNote =
    "Paired over trials of the same (dataset, fold, seed): per user when per-user values were kept "
    "(paired_users; a user's values averaged over the matched folds and seeds, so each user "
    "counts once; rmse and mae as paired_user_errors: each user's squared or absolute errors summed "
    "over the matched trials, the test on the per-user differences of those sums, the row showing "
    "rmse and mae over the paired ratings), else per trial (paired_trials). Markers: Holm-adjusted "
    "paired t-test, *** p < 0.001, ** p < 0.01, * p < 0.05, ns otherwise.";

}  // namespace recfuse::report_format
