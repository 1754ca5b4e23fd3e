// Reports: the canonical JSON report built from trial records, and the
// formats derived from it (Markdown for people, self-contained HTML with SVG
// charts for a browser, CSV for spreadsheets).
// As Google Benchmark's reporters (include/benchmark/reporter.h), every
// writer is a pure formatter of plain data into an injected stream; a failed
// trial is a record with its error, never an abort; numbers are written
// locale-independently (std::to_chars), whatever the global C/C++ locale.
//
//   auto report = build_report(collect_context(inputs), records);
//   write_report_files(out_dir, report);   // report.json, .md, .csv, .html
#pragma once

#include <filesystem>
#include <iosfwd>
#include <vector>

#include <nlohmann/json.hpp>

namespace recfuse {

inline constexpr int kReportSchemaVersion = 1;

/// The canonical report object:
/// {"schema_version": 1, "context": {...}, "headline_metric": "ndcg@10" | null,
///  "summary": [one row per algorithm label], "comparisons": [...],
///  "planned_comparisons": [...] (only when context.scenario.compare lists
///  pairs), "segment_comparisons": [...] (only when trials carry segments),
///  "planned_segment_comparisons": [...] (only when both: the planned pairs
///  per segment), "trials": [the records, without their "per_user" vectors]}.
/// `records` have the shape documented in core/src/runner/record.hpp; any
/// status other than "ok" counts as failed. Never throws on missing fields
/// of a record: absent numbers become null.
/// Summary row: trials / ok / failed counts; per metric the mean over ok
/// trials of the per-trial mean, with a 95% interval: over >= 2 test sets
/// (dataset.test_sha256; a record without one is its own), the t-interval
/// over test sets, seeds of one set averaged first ("ci": "t"); over >= 2
/// seeds of one test set, the seeds' spread plus the users' bootstrap SE
/// ("t+bootstrap"), or the mean only ("none") when none of them has an
/// interval; the mean over test sets is the row's mean; rows of >= 2 trials
/// carry "test_sets", "sd", "se" and "df" (null: infinite) (summary.cpp says why). One trial keeps its own
/// CI: "bootstrap", or "normal" for an off-policy estimate (value +- 1.96
/// SE, eval/ope.hpp);
/// median latency p50/p99 and throughput, mean fit time, max
/// peak RSS and model bytes.
/// Segments (eval/segments.hpp): a summary row gets "segments": {segment:
/// {"n": mean users, metric: summary as above}} from the records'
/// "segments"; "segment_comparisons" compares the headline metric in every
/// segment against the overall best, Holm-adjusted over that whole table;
/// "planned_segment_comparisons" tests each planned pair on the headline
/// metric in every segment both sides report, paired the same way, rows as
/// "planned_comparisons" plus "segment", Holm-adjusted over every (pair x
/// segment) row of that table (one family of its own).
/// Comparisons: for the headline metric (first of ndcg@10, ndcg@<smallest
/// cutoff>, rmse) and also rmse and mae when present, each algorithm against the best
/// one, paired on the same (fold, seed) — see reports/comparisons.cpp.
/// Planned comparisons: the pairs of context.scenario.compare (the
/// scenario's [evaluation] compare) on the same metrics, treatment minus
/// baseline, Holm-adjusted per metric over those pairs only.
nlohmann::json build_report(const nlohmann::json& context,
                            const std::vector<nlohmann::json>& records);

/// Pretty JSON (2 spaces, trailing newline), NaN/Inf as null, keys in a
/// fixed canonical order (report.cpp: kKeyOrders), invalid UTF-8 replaced.
void write_json(std::ostream& out, const nlohmann::json& report);
/// A Markdown page: context paragraph, main table, comparisons with
/// significance markers, per-fold tables, failed trials, all metrics.
void write_markdown(std::ostream& out, const nlohmann::json& report);
/// One self-contained HTML5 page (inline CSS and SVG, no script, no external
/// reference): context, the main table with report.md's figures ("—" for a
/// missing value), charts (headline metric with 95% CIs best first, latency
/// p50/p99; for online reports return, regret and learning curves), the
/// comparison tables and the failed trials. All report text is escaped.
void write_html(std::ostream& out, const nlohmann::json& report);
/// One row per trial (RFC 4180: CRLF line ends, fields quoted when needed).
void write_csv(std::ostream& out, const nlohmann::json& report);
/// One row per planned comparison ("planned_comparisons" of the report, the
/// JSON's keys as columns), as write_csv writes; report.csv keeps its one
/// row per trial.
void write_planned_csv(std::ostream& out, const nlohmann::json& report);
/// One row per (planned pair, segment) ("planned_segment_comparisons"), the
/// columns of write_planned_csv with "segment" after "metric". A file of its
/// own so that planned_comparisons.csv keeps its columns and one row per
/// (metric, pair).
void write_planned_segment_csv(std::ostream& out, const nlohmann::json& report);

struct ReportFiles {
  std::filesystem::path json, markdown, csv;
  std::filesystem::path html;
  std::filesystem::path planned_csv;  // empty when the scenario planned no comparison
  std::filesystem::path planned_segment_csv;  // empty without planned pairs per segment
};
/// Writes dir/report.json, report.md, report.csv and report.html,
/// planned_comparisons.csv when the report has "planned_comparisons" and
/// planned_segment_comparisons.csv when it has "planned_segment_comparisons"
/// (else removes a stale one), each atomically (temporary file in `dir`,
/// then rename). Creates `dir`. Throws recfuse::Error naming the file when
/// one cannot be written.
ReportFiles write_report_files(const std::filesystem::path& dir, const nlohmann::json& report);

}  // namespace recfuse
