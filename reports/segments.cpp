// Segment breakdown of a report: the headline metric per user-history and
// item-popularity segment (eval/segments.hpp defines them), and where each
// algorithm wins or loses against the best one. Fusion helps unevenly; a
// single mean hides it.
//
// Tests per segment pair users exactly as the main comparison does (same
// (fold, seed), per user, seeds averaged per user); the family for Holm's
// correction is the whole segment table (every algorithm x segment cell),
// because a reader scans the table for any winning cell. The planned pairs
// of the scenario ([evaluation] compare) get a table of their own, tested
// the same way, with its own family (every pair x segment cell).
#include <cmath>
#include <map>
#include <ostream>
#include <set>

#include "eval/segments.hpp"
#include "reports/format.hpp"
#include "reports/summary.hpp"

namespace recfuse::report_detail {
namespace {

using nlohmann::json;
namespace rf = report_format;
using report_format::child;


// The record's segment definition; false when it has none (older records).
bool definition_of(const json& record, SegmentDefinition& def) {
  const json& d = child(record, "segment_definition");
  const json& edges = child(d, "history_quartile_edges");
  if (!edges.is_array() || edges.size() != 3) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    if (!edges[i].is_number()) return false;
    def.history_edges[i] = edges[i].get<std::int64_t>();
  }
  double cold = rf::number(d, "cold_user_max");
  if (!std::isfinite(cold)) return false;
  def.cold_user_max = static_cast<std::int32_t>(cold);
  return true;
}

std::map<std::int64_t, double> user_segment_values(const json& record, const std::string& segment,
                                                   const std::string& metric) {
  std::map<std::int64_t, double> out;
  SegmentDefinition def;
  if (!definition_of(record, def)) return out;
  auto values = per_user_values(record, metric);
  auto history = per_user_values(record, "history");
  for (const auto& [user, value] : values) {
    auto h = history.find(user);
    if (h != history.end() && in_user_segment(segment, std::llround(h->second), def)) {
      out[user] = value;
    }
  }
  return out;
}

// Segment names present in the summary, in display order.
std::vector<std::string> summary_segments(const json& summary, const std::string& metric) {
  std::set<std::string> names;
  for (const auto& row : summary) {
    const json& segments = child(row, "segments");
    if (!segments.is_object()) continue;
    for (auto it = segments.begin(); it != segments.end(); ++it) {
      if (metric.empty() || it->contains(metric)) names.insert(it.key());
    }
  }
  std::vector<std::string> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end(), segment_less);
  return sorted;
}

std::string definition_text(const json& d) {
  const json& e = child(d, "history_quartile_edges");
  std::string edges;
  for (const auto& x : e) edges += (edges.empty() ? "" : " / ") + x.dump();
  return "history quartile edges " + (edges.empty() ? std::string("n/a") : edges) +
         ", cold = at most " + rf::text(d, "cold_user_max") + " training interactions, head = " +
         rf::text(d, "head_items") + " items with popularity >= " +
         rf::text(d, "head_min_popularity") + " (head_fraction " + rf::text(d, "head_fraction") +
         ")";
}

void write_definitions(std::ostream& out, const json& report) {
  std::vector<std::pair<std::string, std::vector<std::string>>> distinct;  // text -> trials
  for (const auto& t : child(report, "trials")) {
    const json& d = child(t, "segment_definition");
    if (rf::text(t, "status") != "ok" || !d.is_object()) continue;
    std::string text = definition_text(d);
    std::string fold = rf::text(t, "fold");
    std::string label = (fold.empty() ? "" : "fold " + fold + ", ") + "seed " + rf::text(t, "seed");
    auto it = std::find_if(distinct.begin(), distinct.end(),
                           [&](const auto& p) { return p.first == text; });
    if (it == distinct.end()) {
      distinct.push_back({text, {label}});
    } else {
      it->second.push_back(label);
    }
  }
  if (distinct.size() == 1) {
    out << "Definitions: " << distinct[0].first << ".\n\n";
    return;
  }
  for (const auto& [text, labels] : distinct) {
    std::string joined;
    for (const auto& l : labels) joined += (joined.empty() ? "" : "; ") + l;
    out << "- " << rf::md_cell(joined) << ": " << text << '\n';
  }
  if (!distinct.empty()) out << '\n';
}

void write_segment_means(std::ostream& out, const json& report, const std::string& metric,
                         const std::vector<std::string>& segments) {
  out << "## Segments: " << rf::md_cell(metric)
      << "\n\nUsers split by training history length, test items by training popularity "
         "(core/src/eval/segments.hpp). users:cold: at most cold_user_max training "
         "interactions; users:q1..q4: quartiles of the evaluated users' history lengths "
         "(q1 <= e1 < q2 <= e2 < q3 <= e3 < q4; equal lengths share a quartile); items:head: "
         "the most popular head_fraction of the catalogue (ties at the boundary included), "
         "items:tail: the rest. An item segment scores each user's list against the user's "
         "relevant items of that segment only; users without one are left out. Cells: mean "
         "[95% CI] as in the main table; n = users in the segment (mean over trials).\n\n";
  write_definitions(out, report);
  out << "| algorithm |";
  for (const auto& s : segments) out << ' ' << rf::md_cell(s) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < segments.size(); ++i) out << "---:|";
  out << '\n';
  for (const auto& row : child(report, "summary")) {
    out << "| " << rf::md_cell(rf::text(row, "algorithm")) << " |";
    for (const auto& s : segments) {
      const json& block = child(child(row, "segments"), s.c_str());
      const json& m = child(block, metric.c_str());
      if (m.is_null()) {
        out << " n/a (n=" << rf::fixed(rf::number(block, "n"), 0) << ") |";
        continue;
      }
      out << ' '
          << rf::mean_ci(rf::number(m, "mean"), rf::number(m, "low"), rf::number(m, "high"), 4)
          << " (n=" << rf::fixed(rf::number(block, "n"), 0) << ") |";
    }
    out << '\n';
  }
  out << '\n';
}

// One cell of a segment test table: "+0.1234 * (n=5)", "n/a" when untested.
void write_test_cell(std::ostream& out, const json* cell) {
  double diff = cell ? rf::number(*cell, "mean_diff") : std::nan("");
  if (!std::isfinite(diff)) {
    out << " n/a |";
    return;
  }
  std::string sig = rf::significance(rf::number(*cell, "p_holm"));
  out << ' ' << (diff > 0 ? "+" : "") << rf::fixed(diff, 4) << (sig.empty() ? "" : " ") << sig
      << " (n=" << rf::text(*cell, "n") << ") |";
}

// The row of `rows` for (algorithm, baseline, segment); nullptr when none.
const json* find_cell(const json& rows, const std::string& algorithm, const std::string& baseline,
                      const std::string& segment) {
  for (const auto& r : rows) {
    if (rf::text(r, "algorithm") == algorithm && rf::text(r, "baseline") == baseline &&
        rf::text(r, "segment") == segment) {
      return &r;
    }
  }
  return nullptr;
}

void write_segment_header(std::ostream& out, const char* leading, const char* leading_rule,
                          const std::vector<std::string>& segments) {
  out << leading;
  for (const auto& s : segments) out << ' ' << rf::md_cell(s) << " |";
  out << '\n' << leading_rule;
  for (std::size_t i = 0; i < segments.size(); ++i) out << "---:|";
  out << '\n';
}

void write_segment_tests(std::ostream& out, const json& report, const std::string& metric,
                         const std::vector<std::string>& segments) {
  const json& rows = child(report, "segment_comparisons");
  if (!rows.is_array() || rows.empty()) return;
  std::vector<std::string> labels;
  std::string baseline;
  for (const auto& r : rows) {
    std::string label = rf::text(r, "algorithm");
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
    baseline = rf::text(r, "baseline");
  }
  out << "## Segments: " << rf::md_cell(metric) << " vs the best (" << rf::md_cell(baseline)
      << ")\n\nMean difference algorithm - best within each segment, paired per user on the "
         "same (fold, seed), then the Holm-adjusted paired t-test over every cell of this "
         "table: *** p < 0.001, ** p < 0.01, * p < 0.05, ns otherwise; n = paired users; "
         "n/a = fewer than 2 pairs. Details in report.json (segment_comparisons).\n\n";
  write_segment_header(out, "| algorithm |", "|---|", segments);
  for (const auto& label : labels) {
    out << "| " << rf::md_cell(label) << " |";
    for (const auto& s : segments) write_test_cell(out, find_cell(rows, label, baseline, s));
    out << '\n';
  }
  out << '\n';
}

// Every declared pair gets a line, even one no segment could test (n/a
// cells), so a planned claim never disappears from the table.
void write_planned_segment_tests(std::ostream& out, const json& report, const std::string& metric,
                                 const std::vector<std::string>& segments) {
  const json& rows = child(report, "planned_segment_comparisons");
  if (!rows.is_array() || rows.empty()) return;
  std::size_t tested = 0;
  for (const auto& r : rows) tested += std::isfinite(rf::number(r, "t_p")) ? 1 : 0;
  out << "## Planned comparisons by segment: " << rf::md_cell(metric)
      << "\n\nEach pair declared in the scenario (`[evaluation] compare`) within each segment: "
         "mean difference treatment - baseline, paired per user on the same (fold, seed), then "
         "the Holm-adjusted paired t-test over the "
      << tested
      << " tested cell(s) of this table (every pair x segment; not over the planned or segment "
         "tables above): *** p < 0.001, ** p < 0.01, * p < 0.05, ns otherwise; n = paired "
         "users; n/a = not tested (fewer than 2 pairs, or a side without the segment). Details "
         "in report.json (planned_segment_comparisons) and "
         "planned_segment_comparisons.csv.\n\n";
  write_segment_header(out, "| treatment | baseline |", "|---|---|", segments);
  for (const auto& p : planned_comparisons_of(child(report, "context"))) {
    out << "| " << rf::md_cell(p.treatment) << " | " << rf::md_cell(p.baseline) << " |";
    for (const auto& s : segments) {
      write_test_cell(out, find_cell(rows, p.treatment, p.baseline, s));
    }
    out << '\n';
  }
  out << '\n';
}

}  // namespace

MetricView segment_view(const std::string& segment, const std::string& metric) {
  MetricView view;
  view.trial_mean = [segment, metric](const json& r) {
    return rf::number(child(child(child(r, "segments"), segment.c_str()), metric.c_str()), "mean");
  };
  if (is_item_segment(segment)) {
    view.per_user = [key = segment + "/" + metric](const json& r) {
      return per_user_values(r, key);
    };
  } else {
    view.per_user = [segment, metric](const json& r) {
      return user_segment_values(r, segment, metric);
    };
  }
  return view;
}

json build_segment_comparisons(const std::vector<json>& records, const json& summary,
                               const std::string& metric) {
  json rows = json::array();
  const std::string best = best_algorithm(summary, metric);
  if (best.empty()) return rows;
  const auto segments = summary_segments(summary, metric);
  for (const auto& row : summary) {
    const std::string label = rf::text(row, "algorithm");
    if (label == best) continue;
    for (const auto& segment : segments) {
      if (!child(child(row, "segments"), segment.c_str()).contains(metric)) continue;
      json r = compare_pair(records, label, best, metric, segment_view(segment, metric));
      r["segment"] = segment;
      rows.push_back(std::move(r));
    }
  }
  holm_over_rows(rows);
  return rows;
}

json build_planned_segment_comparisons(const std::vector<json>& records, const json& summary,
                                       const std::vector<PlannedComparison>& planned,
                                       const std::string& metric) {
  std::map<std::string, const json*> rows_by_label;
  for (const auto& row : summary) rows_by_label.emplace(rf::text(row, "algorithm"), &row);
  const auto in_segment = [&](const std::string& label, const std::string& segment) {
    auto it = rows_by_label.find(label);
    return it != rows_by_label.end() &&
           child(child(*it->second, "segments"), segment.c_str()).contains(metric);
  };
  const auto segments = summary_segments(summary, metric);
  json rows = json::array();
  for (const auto& p : planned) {
    for (const auto& segment : segments) {
      if (!in_segment(p.treatment, segment) || !in_segment(p.baseline, segment)) continue;
      json r =
          compare_pair(records, p.treatment, p.baseline, metric, segment_view(segment, metric));
      r["segment"] = segment;
      rows.push_back(std::move(r));
    }
  }
  // One family: every (pair x segment) cell of this table, as for the
  // segment table, because a reader scans it for any segment where a fused
  // model beats its child. Neither the overall planned family nor the
  // vs-best segment table is mixed in: each table answers its own question.
  holm_over_rows(rows);
  return rows;
}

void write_segment_markdown(std::ostream& out, const json& report) {
  const std::string metric = rf::text(report, "headline_metric");
  if (metric.empty()) return;
  // Every segment, even one without users (ml-100k has no cold user): an
  // empty column says so instead of hiding it.
  const auto segments = summary_segments(child(report, "summary"), "");
  if (segments.empty() || summary_segments(child(report, "summary"), metric).empty()) return;
  write_segment_means(out, report, metric, segments);
  write_segment_tests(out, report, metric, segments);
  write_planned_segment_tests(out, report, metric, segments);
}

}  // namespace recfuse::report_detail
