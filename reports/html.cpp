// report.html: report.md's content for a browser, with charts. One
// self-contained HTML5 page (inline CSS, inline SVG from reports/svg.cpp),
// no script and no external reference, so it opens offline, can be mailed
// or archived as one file, and diffs as text. Every table figure goes
// through the same report_format helpers as report.md, so both files show
// identical numbers; a missing value reads "—" here where report.md says
// "n/a". Every piece of text taken from the report is escaped.
#include <algorithm>
#include <cmath>
#include <ostream>

#include "reports/format.hpp"
#include "reports/report.hpp"
#include "reports/summary.hpp"
#include "reports/svg.hpp"

namespace recfuse {
namespace {

using nlohmann::json;
namespace rf = report_format;
namespace svg = report_svg;
using report_format::child;
using report_svg::escape;

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
dl.context{display:grid;grid-template-columns:max-content auto;gap:.15em 1em}
dt{font-weight:600;color:#555}dd{margin:0}p.note{color:#555}
table{border-collapse:collapse;margin:.6em 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.25em .5em;vertical-align:top}th{background:#f4f4f4}
td.num{text-align:right;white-space:nowrap}td.error{white-space:pre-wrap;font-family:monospace}
.sig3,.sig2,.sig1{font-weight:700}.ns{color:#888}
svg.chart{display:block;margin:.6em 0;font-size:11px}svg .grid{stroke:#e6e6e6}svg .axis{stroke:#777}
svg .tick,svg .legend{fill:#555;stroke:none}svg .label{fill:#222}
svg .axis-title{fill:#333;font-weight:600}svg .series{stroke-width:1.8}
svg .whisker,svg .cap,svg .span{stroke:#4e79a7;stroke-width:1.5}
svg .dot,svg .p50{fill:#4e79a7}svg .p99{fill:#e15759}
)";

std::string or_unknown(std::string s) { return s.empty() ? "unknown" : s; }
std::string prefix(const std::string& hash) {
  return hash.empty() ? "unknown" : hash.substr(0, 12);
}

// A table cell from a formatted figure: report.md's "n/a" reads "—".
void cell(std::ostream& out, const std::string& text, bool numeric = true) {
  out << (numeric ? "<td class=\"num\">" : "<td>") << (text == "n/a" ? "\u2014" : escape(text))
      << "</td>";
}

void head_row(std::ostream& out, const std::vector<std::string>& columns) {
  out << "<table>\n<thead><tr>";
  for (const auto& c : columns) out << "<th>" << escape(c) << "</th>";
  out << "</tr></thead>\n<tbody>\n";
}


void write_context(std::ostream& out, const json& report) {
  const json& c = child(report, "context");
  const json& scenario = child(c, "scenario");
  const json& dataset = child(c, "dataset");
  std::string name = rf::text(scenario, "name");
  out << "<h1>recfuse report: " << escape(name.empty() ? "unnamed scenario" : name) << "</h1>\n";
  if (std::string d = rf::text(scenario, "description"); !d.empty()) {
    out << "<p class=\"description\">" << escape(d) << "</p>\n";
  }
  // Split and protocol are per trial; the distinct values, in order.
  std::vector<std::string> splits, protocols;
  const json* sizes = nullptr;
  for (const auto& t : child(report, "trials")) {
    const auto note = [](std::vector<std::string>& seen, std::string v) {
      if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    };
    note(splits, rf::text(child(t, "dataset"), "split"));
    note(protocols, rf::text(t, "protocol"));
    if (!sizes && child(t, "dataset").contains("users")) sizes = &child(t, "dataset");
  }
  const auto joined = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  std::string seeds;
  for (const auto& s : child(c, "seeds")) seeds += (seeds.empty() ? "" : ", ") + s.dump();
  std::string data = or_unknown(rf::text(dataset, "name")) + " (sha256 " +
                     prefix(rf::text(dataset, "sha256")) + ")";
  if (sizes) {
    data += ": " + rf::text(*sizes, "users") + " users, " + rf::text(*sizes, "items") +
            " items, " + rf::text(*sizes, "interactions") + " interactions";
  }
  const std::vector<std::pair<const char*, std::string>> items = {
      {"Scenario", or_unknown(rf::text(scenario, "file")) + " (sha256 " +
                       prefix(rf::text(scenario, "sha256")) + ")"},
      {"Dataset", data},
      {"Split", or_unknown(joined(splits))},
      {"Protocol", joined(protocols)},
      {"Seeds", seeds.empty() ? "unknown" : seeds},
      {"Machine", or_unknown(rf::text(c, "cpu_model")) + " (" +
                      or_unknown(rf::text(c, "logical_cores")) + " logical cores), " +
                      or_unknown(rf::text(c, "threads")) + " threads, " +
                      or_unknown(rf::text(c, "os"))},
      {"Build", "recfuse " + or_unknown(rf::text(c, "recfuse_version")) + ", commit " +
                    prefix(rf::text(c, "git_commit")) + " (" +
                    or_unknown(rf::text(c, "build_type")) + "; " +
                    or_unknown(rf::text(c, "compiler")) + " " + rf::text(c, "cxx_flags") + ")"},
      {"Generated",
       or_unknown(rf::text(c, "date")) + " on " + or_unknown(rf::text(c, "host_name"))},
      {"Command", rf::text(c, "command_line")}};
  out << "<dl class=\"context\">\n";
  for (const auto& [key, value] : items) {
    if (!value.empty()) out << "<dt>" << key << "</dt><dd>" << escape(value) << "</dd>\n";
  }
  out << "</dl>\n";
}

void write_main_table(std::ostream& out, const json& report,
                      const std::vector<std::string>& metrics) {
  const json& summary = child(report, "summary");
  std::size_t failed = 0;
  for (const auto& row : summary) {
    const double f = rf::number(row, "failed");
    if (std::isfinite(f)) failed += static_cast<std::size_t>(f);
  }
  out << "<h2 id=\"results\">Results</h2>\n<p>" << std::to_string(child(report, "trials").size())
      << " trial(s) of " << std::to_string(summary.size()) << " algorithm(s), "
      << std::to_string(failed)
      << " failed. Each metric is the mean with its 95% confidence interval: over users "
         "(bootstrap) for a single trial, over trials (t-interval) when an algorithm ran several "
         "seeds or folds. Latency is per single-user request (median over trials).</p>\n";
  if (summary.empty()) return;
  std::vector<std::string> columns = {"algorithm", "trials ok"};
  columns.insert(columns.end(), metrics.begin(), metrics.end());
  for (const char* c : {"p50 ms", "p99 ms", "users/s", "fit s", "peak RSS MiB", "model MiB"})
    columns.push_back(c);
  head_row(out, columns);
  for (const auto& row : summary) {
    out << "<tr>";
    cell(out, rf::text(row, "algorithm"), false);
    cell(out, rf::text(row, "ok") + "/" + rf::text(row, "trials"));
    for (const auto& m : metrics) {
      const json& s = child(child(row, "metrics"), m.c_str());
      cell(out, s.is_null() ? std::string("n/a")
                            : rf::mean_ci(rf::number(s, "mean"), rf::number(s, "low"),
                                          rf::number(s, "high"), 4));
    }
    const json& latency = child(row, "latency_ms");
    cell(out, rf::fixed(rf::number(latency, "p50"), 3));
    cell(out, rf::fixed(rf::number(latency, "p99"), 3));
    cell(out, rf::fixed(rf::number(row, "throughput_users_per_s"), 0));
    cell(out, rf::fixed(rf::number(row, "fit_wall_s"), 2));
    cell(out, rf::fixed(rf::mib(rf::number(row, "peak_rss_bytes")), 1));
    cell(out, rf::fixed(rf::mib(rf::number(row, "model_bytes")), 1));
    out << "</tr>\n";
  }
  out << "</tbody></table>\n";
  if (const std::string note = report_detail::loaded_models_note(summary); !note.empty())
    out << "<p>" << escape(note) << "</p>\n";
}

std::string sig_class(const std::string& sig) {
  if (sig == "ns") return "ns";
  return sig.empty() ? "" : "sig" + std::to_string(sig.size());
}

// One table per metric of `rows` (in order of first appearance). Columns as
// report.md's comparison tables, plus baseline and segment when asked.
void comparison_tables(std::ostream& out, const json& rows, const std::string& title,
                       const std::string& explanation, bool baseline, bool segment) {
  std::vector<std::string> metrics;
  for (const auto& row : rows) {
    std::string m = rf::text(row, "metric");
    if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  }
  for (const auto& metric : metrics) {
    std::string best, direction;
    for (const auto& row : rows) {
      if (rf::text(row, "metric") == metric) {
        best = rf::text(row, "baseline"), direction = rf::text(row, "direction");
      }
    }
    out << "<h3>" << escape(title) << ' ' << escape(metric)
        << (baseline ? "" : " vs the best (" + escape(best) + ")") << "</h3>\n<p class=\"note\">"
        << (direction == "lower_is_better" ? "Lower" : "Higher") << " is better. "
        << escape(explanation) << "</p>\n";
    std::vector<std::string> columns = {baseline ? "treatment" : "algorithm"};
    if (baseline) columns.push_back("baseline");
    if (segment) columns.push_back("segment");
    for (const char* c : {"method", "n", "mean diff [95% CI]", "d_z", "t-test p", "Wilcoxon p",
                          "Holm p", "sig", "note"})
      columns.push_back(c);
    head_row(out, columns);
    for (const auto& row : rows) {
      if (rf::text(row, "metric") != metric) continue;
      out << "<tr>";
      cell(out, rf::text(row, "algorithm"), false);
      if (baseline) cell(out, rf::text(row, "baseline"), false);
      if (segment) cell(out, rf::text(row, "segment"), false);
      cell(out, rf::text(row, "method"), false);
      cell(out, rf::text(row, "n"));
      cell(out, rf::mean_ci(rf::number(row, "mean_diff"), rf::number(row, "diff_low"),
                            rf::number(row, "diff_high"), 4));
      cell(out, rf::fixed(rf::number(row, "effect_size"), 3));
      for (const char* p : {"t_p", "w_p", "p_holm"}) cell(out, rf::p_value(rf::number(row, p)));
      const std::string sig = rf::significance(rf::number(row, "p_holm"));
      out << "<td class=\"num " << sig_class(sig) << "\">" << sig << "</td>";
      cell(out, rf::text(row, "note"), false);
      out << "</tr>\n";
    }
    out << "</tbody></table>\n";
  }
}


void write_comparisons(std::ostream& out, const json& report) {
  const bool any = !child(report, "comparisons").empty() ||
                   report.contains("planned_comparisons") ||
                   report.contains("segment_comparisons") ||
                   report.contains("planned_segment_comparisons");
  if (!any) return;
  out << "<h2 id=\"comparisons\">Comparisons</h2>\n";
  comparison_tables(out, child(report, "planned_comparisons"), "Planned comparisons on",
                    std::string("Declared in the scenario ([evaluation] compare) before the run; "
                                "Holm-adjusted over this table only; mean diff = treatment - "
                                "baseline. ") + report_format::kPairingNote,
                    true, false);
  comparison_tables(out, child(report, "comparisons"), "Comparison on",
                    std::string("Mean diff = algorithm - best. ") + report_format::kPairingNote, false, false);
  comparison_tables(out, child(report, "segment_comparisons"), "Segments:",
                    std::string("Within each segment (eval/segments.hpp), mean diff = algorithm - "
                                "best overall; Holm-adjusted over every row of this table. ") +
                        report_format::kPairingNote,
                    false, true);
  comparison_tables(out, child(report, "planned_segment_comparisons"),
                    "Planned comparisons by segment on",
                    std::string("Each planned pair within each segment; Holm-adjusted over every "
                                "row of this table; mean diff = treatment - baseline. ") +
                        report_format::kPairingNote,
                    true, true);
}

// [evaluation] explain_users: report.json's "explanations", as report.md
// shows them.
void write_explanations(std::ostream& out, const json& report) {
  const json& entries = child(report, "explanations");
  if (entries.empty()) return;
  out << "<h2 id=\"explanations\">Explanations</h2>\n<p class=\"note\">Per algorithm, the first users of its "
         "first trial with explanations ([evaluation] explain_users): the top of the list the evaluator "
         "scored, whether each item is a relevant test item, and the algorithm's reason. report.json's "
         "trials keep every explained list.</p>\n";
  for (const auto& e : entries) {
    out << "<h3>" << escape(rf::text(e, "algorithm")) << "</h3>\n";
    if (const std::string note = rf::text(e, "note"); !note.empty())
      out << "<p class=\"note\">" << escape(note) << "</p>\n";
    if (child(e, "users").empty()) continue;
    head_row(out, {"user", "rank", "item", "score", "hit", "reason"});
    for (const auto& u : child(e, "users")) {
      std::size_t rank = 0;
      for (const auto& item : child(u, "items")) {
        const std::string title = rf::text(item, "title");
        out << "<tr>";
        cell(out, rf::text(u, "user_id"), false);
        cell(out, std::to_string(++rank));
        cell(out, rf::text(item, "item_id") + (title.empty() ? "" : " " + title), false);
        cell(out, rf::fixed(rf::number(item, "score"), 4));
        cell(out, child(item, "hit") == json(true) ? "yes" : "", false);
        cell(out, rf::text(item, "reason"), false);
        out << "</tr>\n";
      }
    }
    out << "</tbody></table>\n";
  }
}

void write_failed(std::ostream& out, const json& report) {
  out << "<h2 id=\"failed\">Failed trials</h2>\n";
  std::vector<const json*> failed;
  for (const auto& t : child(report, "trials")) {
    if (rf::text(t, "status") != "ok") failed.push_back(&t);
  }
  if (failed.empty()) {
    out << "<p>None.</p>\n";
    return;
  }
  head_row(out, {"trial", "algorithm", "fold", "seed", "status", "error"});
  for (const json* t : failed) {
    out << "<tr>";
    for (const char* key : {"trial_id", "algorithm", "fold"}) cell(out, rf::text(*t, key), false);
    cell(out, rf::text(*t, "seed"));
    cell(out, rf::text(*t, "status"), false);
    out << "<td class=\"error\">" << escape(rf::text(*t, "error")) << "</td></tr>\n";
  }
  out << "</tbody></table>\n";
}

}  // namespace

void write_html(std::ostream& out, const json& report) {
  const std::string name = rf::text(child(child(report, "context"), "scenario"), "name");
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>recfuse report: " << escape(name.empty() ? "unnamed scenario" : name)
      << "</title>\n<style>\n" << kStyle << "</style>\n</head>\n<body>\n";
  write_context(out, report);
  write_main_table(out, report, report_detail::main_metrics(report));
  report_detail::write_html_charts(out, report);
  write_comparisons(out, report);
  write_explanations(out, report);
  write_failed(out, report);
  out << "<p class=\"note\">report.json (schema_version "
      << escape(rf::text(report, "schema_version"))
      << ") is canonical; report.md and report.csv hold the same figures.</p>\n</body>\n</html>\n";
}

}  // namespace recfuse
