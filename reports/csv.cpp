// report.csv: one row per trial for spreadsheets and pandas. RFC 4180:
// CRLF line ends, a field quoted when it holds a comma, quote or line break.
// Numbers in shortest round-trip form (std::to_chars); missing = empty.
#include <algorithm>
#include <ostream>
#include <map>
#include <set>

#include "eval/segments.hpp"
#include "reports/format.hpp"
#include "reports/report.hpp"

namespace recfuse {
namespace {

using nlohmann::json;
namespace rf = report_format;
using report_format::child;


// (column name, object path within the trial, key)
struct NumberColumn {
  const char* name;
  std::vector<const char*> path;
  const char* key;
};

const std::vector<NumberColumn>& timing_columns() {
  static const std::vector<NumberColumn> columns = {
      {"load_s", {"timing"}, "load_s"},
      {"split_s", {"timing"}, "split_s"},
      {"fit_wall_s", {"timing"}, "fit_wall_s"},
      {"fit_cpu_s", {"timing"}, "fit_cpu_s"},
      {"eval_wall_s", {"timing"}, "eval_wall_s"},
      {"trial_wall_s", {"timing"}, "trial_wall_s"},
      {"latency_p50_ms", {"timing", "latency_ms"}, "p50"},
      {"latency_p95_ms", {"timing", "latency_ms"}, "p95"},
      {"latency_p99_ms", {"timing", "latency_ms"}, "p99"},
      {"latency_max_ms", {"timing", "latency_ms"}, "max"},
      {"latency_mean_ms", {"timing", "latency_ms"}, "mean"},
      {"batch_s", {"timing"}, "batch_s"},
      {"throughput_users_per_s", {"timing"}, "throughput_users_per_s"},
      {"peak_rss_bytes", {"resources"}, "peak_rss_bytes"},
      {"model_bytes", {"resources"}, "model_bytes"},
  };
  return columns;
}

// Appends ",field" (two appends: GCC 12 warns falsely on "," + string&&).
void add_field(std::string& line, const std::string& field) {
  line += ',';
  line += field;
}

// Integers as integers (byte counts), everything else in shortest form.
std::string number_field(const json& j, const char* key) {
  const json& v = child(j, key);
  if (v.is_number_integer() || v.is_number_unsigned()) return rf::text(j, key);
  return rf::shortest(rf::number(j, key));
}

// Segment columns, after the timing ones: per segment its user count and the
// headline families (ndcg, recall, hr) at every cutoff -- the full blocks are
// in report.json.
std::vector<std::pair<std::string, std::vector<std::string>>> segment_columns(const json& trials) {
  std::map<std::string, std::set<std::string>> found;
  for (const auto& t : trials) {
    const json& segments = child(t, "segments");
    if (!segments.is_object()) continue;
    for (auto s = segments.begin(); s != segments.end(); ++s) {
      auto& names = found[s.key()];
      if (!s->is_object()) continue;
      for (auto m = s->begin(); m != s->end(); ++m) {
        const std::string& k = m.key();
        if (k.rfind("ndcg@", 0) == 0 || k.rfind("recall@", 0) == 0 || k.rfind("hr@", 0) == 0) {
          names.insert(k);
        }
      }
    }
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> columns;
  for (auto& [segment, names] : found) {
    std::vector<std::string> sorted(names.begin(), names.end());
    std::sort(sorted.begin(), sorted.end(), rf::metric_display_less);
    columns.emplace_back(segment, std::move(sorted));
  }
  std::sort(columns.begin(), columns.end(),
            [](const auto& a, const auto& b) { return segment_less(a.first, b.first); });
  return columns;
}

}  // namespace

void write_csv(std::ostream& out, const json& report) {
  const json& trials = child(report, "trials");
  std::set<std::string> names;
  for (const auto& t : trials) {
    const json& metrics = child(t, "metrics");
    if (!metrics.is_object()) continue;
    for (auto it = metrics.begin(); it != metrics.end(); ++it) names.insert(it.key());
  }
  std::vector<std::string> metrics(names.begin(), names.end());
  std::sort(metrics.begin(), metrics.end(), rf::metric_display_less);

  std::string header = "trial_id,index,algorithm,plugin,plugin_version,fold,seed,threads,status,error";
  for (const auto& m : metrics) {
    for (const char* part : {"_mean", "_low", "_high"}) add_field(header, rf::csv_field(m + part));
  }
  for (const auto& c : timing_columns()) add_field(header, c.name);
  const auto segments = segment_columns(trials);
  for (const auto& [segment, names] : segments) {
    add_field(header, rf::csv_field(segment + "/n"));
    for (const auto& m : names) {
      for (const char* part : {"_mean", "_low", "_high"}) {
        add_field(header, rf::csv_field(segment + "/" + m + part));
      }
    }
  }
  out << header << "\r\n";

  for (const auto& t : trials) {
    std::string line = rf::csv_field(rf::text(t, "trial_id"));
    for (const char* key : {"index", "algorithm", "plugin", "plugin_version", "fold", "seed",
                            "threads", "status", "error"}) {
      add_field(line, rf::csv_field(rf::text(t, key)));
    }
    for (const auto& m : metrics) {
      const json& v = child(child(t, "metrics"), m.c_str());
      for (const char* part : {"mean", "low", "high"}) {
        add_field(line, rf::shortest(rf::number(v, part)));
      }
    }
    for (const auto& c : timing_columns()) {
      const json* node = &t;
      for (const char* p : c.path) node = &child(*node, p);
      add_field(line, number_field(*node, c.key));
    }
    for (const auto& [segment, names] : segments) {
      const json& block = child(child(t, "segments"), segment.c_str());
      add_field(line, number_field(block, "n"));
      for (const auto& m : names) {
        for (const char* part : {"mean", "low", "high"}) {
          add_field(line, rf::shortest(rf::number(child(block, m.c_str()), part)));
        }
      }
    }
    out << line << "\r\n";
  }
}

namespace {

// The planned tables' rows, the JSON's keys as columns ("algorithm" read as
// "treatment"); "segment" after "metric" when `with_segment`.
void write_planned_rows(std::ostream& out, const json& rows, bool with_segment) {
  static const char* const kText[] = {"direction", "algorithm", "baseline", "method"};
  static const char* const kNumbers[] = {"matched_trials", "n", "mean_a", "mean_b", "mean_diff",
                                         "diff_low", "diff_high", "t", "t_p", "w", "w_p",
                                         "p_holm", "effect_size"};
  std::string header = with_segment ? "metric,segment" : "metric";
  header += ",direction,treatment,baseline,method";
  for (const char* key : kNumbers) add_field(header, key);
  header += ",significant,note";
  out << header << "\r\n";
  for (const auto& row : rows) {
    std::string line = rf::csv_field(rf::text(row, "metric"));
    if (with_segment) add_field(line, rf::csv_field(rf::text(row, "segment")));
    for (const char* key : kText) add_field(line, rf::csv_field(rf::text(row, key)));
    for (const char* key : kNumbers) add_field(line, number_field(row, key));
    add_field(line, rf::text(row, "significant"));
    add_field(line, rf::csv_field(rf::text(row, "note")));
    out << line << "\r\n";
  }
}

}  // namespace

void write_planned_csv(std::ostream& out, const json& report) {
  write_planned_rows(out, child(report, "planned_comparisons"), false);
}

void write_planned_segment_csv(std::ostream& out, const json& report) {
  write_planned_rows(out, child(report, "planned_segment_comparisons"), true);
}

}  // namespace recfuse
