// `recfuse compare`: the deltas between two runs of the same scenario (a
// baseline and a candidate), with significance, and a verdict that can gate
// CI: a regression is a change for the worse that is both larger than the
// threshold and significant after Holm's adjustment over every tested
// (algorithm, metric) row of the compare (one family, as report.json's
// comparison tables).
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace recfuse {

struct CompareOptions {
  // empty: the baseline's headline metric (ndcg@10 when the report has no such
  // key; none when it is null, as for simulated protocols), then rmse, mae,
  // return and regret; a metric neither run reports gives no row.
  std::vector<std::string> metrics;
  double threshold = 0.01;           // relative change that counts (0.01 = 1%)
  double alpha = 0.05;               // significance level
  bool allow_missing = false;        // a lost algorithm or metric does not fail the gate
};

struct CompareRow {
  std::string algorithm, metric;
  // The means the row's test compared: over the paired units (the matched
  // trials' users, or the matched trials) for a paired test, else the two
  // summary rows' means; the verdict is decided on these.
  double base = 0, candidate = 0, delta = 0, relative = 0;
  double p = 1;       // raw two-sided p-value of the row's test
  double p_holm = 1;  // Holm (1979) adjusted over the tested rows of one compare
  std::int64_t n = 0;  // paired units, or the smaller side's trials / users
  /// How the two runs were tested (report_detail::compare_pair pairs them as
  /// report.json's comparisons do, baseline trials from one run, candidate
  /// trials from the other; trials match on (dataset sha256, fold, seed), so
  /// runs on other data do not pair):
  ///   paired_users: paired t-test over users, each user's value the mean
  ///     over the (fold, seed) trials both runs kept per-user vectors for;
  ///   paired_user_errors: rmse and mae: paired t-test over users on the
  ///     sums of their squared (absolute) errors over those trials, whose
  ///     mean difference has the sign of the RMSE (MAE) delta; base and
  ///     candidate are RMSE (MAE) over the paired ratings (comparisons.cpp);
  ///   paired_trials: paired t-test over matched (fold, seed) trial means
  ///     (no per-user vectors, at least 2 matched trials);
  ///   unpaired_summary: no usable trial records; Welch's t from the two
  ///     summary rows: the row's own "se" and "df" for a t or t+bootstrap
  ///     row (reports/summary.cpp; older t rows: SE = sd / sqrt(trials),
  ///     df = trials - 1), SE = CI half-width / 1.96 with df = infinity for a
  ///     single trial's bootstrap (or off-policy "normal") row,
  ///     Welch-Satterthwaite df (normal when both sides are such rows);
  ///   none: no test possible (p and p_holm stay 1, never a verdict).
  std::string method;
  /// Decided on p_holm: significant and beyond the threshold.
  bool better = false, worse = false;
};
struct CompareResult {
  std::vector<CompareRow> rows;
  std::vector<std::string> only_in_base, only_in_candidate;  // algorithm labels
  int regressions = 0;
  // What the baseline measured and the candidate cannot answer: an algorithm
  // only in the baseline, or a metric missing in the candidate (its trials
  // failed). A gate fails on these as on a regression unless allow_missing.
  int lost = 0;
};

/// A run as `compare` reads it: report.json plus the trial records kept in
/// <dir>/trials (which hold the per-user values), when present.
struct RunForCompare {
  nlohmann::json report;
  std::vector<nlohmann::json> records;
  std::vector<std::string> unreadable;  // trial record files that are not JSON (torn), skipped
};
/// `path` is a run directory or a report.json; throws Error naming the file.
RunForCompare load_run(const std::filesystem::path& path);

CompareResult compare_runs(const RunForCompare& base, const RunForCompare& candidate,
                           const CompareOptions& options);
void write_compare_markdown(std::ostream& out, const CompareResult& result,
                            const CompareOptions& options);

}  // namespace recfuse
