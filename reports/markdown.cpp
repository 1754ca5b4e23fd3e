// report.md: what a person reads first. Every number is formatted by
// report_format (std::to_chars), never by a stream, so the page does not
// change with the locale.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <ostream>
#include <set>
#include <tuple>

#include "reports/format.hpp"
#include "reports/report.hpp"
#include "reports/summary.hpp"

namespace recfuse {
namespace {

using nlohmann::json;
namespace rf = report_format;
using report_format::child;


std::string or_unknown(std::string s) { return s.empty() ? "unknown" : s; }
std::string prefix(const std::string& hash) { return hash.empty() ? "unknown" : hash.substr(0, 12); }

void write_context(std::ostream& out, const json& report) {
  const json& c = child(report, "context");
  const json& scenario = child(c, "scenario");
  const json& dataset = child(c, "dataset");
  std::string seeds;
  for (const auto& s : child(c, "seeds")) seeds += (seeds.empty() ? "" : ", ") + s.dump();
  std::string name = rf::text(scenario, "name");
  out << "# recfuse report: " << rf::md_cell(name.empty() ? "unnamed scenario" : name) << "\n\n";
  if (const std::string d = rf::text(scenario, "description"); !d.empty()) out << rf::md_cell(d) << "\n\n";
  // One line on purpose: tests and diff tools can mask it as a whole.
  out << "Commit `" << prefix(rf::text(c, "git_commit")) << "` ("
      << or_unknown(rf::text(c, "build_type")) << "; " << or_unknown(rf::text(c, "compiler"))
      << ") on " << or_unknown(rf::text(c, "cpu_model")) << " ("
      << or_unknown(rf::text(c, "logical_cores")) << " logical cores), "
      << or_unknown(rf::text(c, "threads")) << " threads. Dataset "
      << or_unknown(rf::text(dataset, "name")) << " (sha256 `"
      << prefix(rf::text(dataset, "sha256")) << "`), scenario `"
      << or_unknown(rf::text(scenario, "file")) << "` (sha256 `"
      << prefix(rf::text(scenario, "sha256")) << "`), seeds "
      << (seeds.empty() ? "unknown" : seeds) << ". Generated "
      << or_unknown(rf::text(c, "date")) << " on " << or_unknown(rf::text(c, "host_name"))
      << ".\n\n";
}

// Headline first, then its siblings at the same cutoff, then rating errors.

void write_main_table(std::ostream& out, const json& report,
                      const std::vector<std::string>& metrics) {
  const json& summary = child(report, "summary");
  std::size_t failed = 0;
  for (const auto& row : summary) {
    if (double f = rf::number(row, "failed"); std::isfinite(f)) failed += static_cast<std::size_t>(f);
  }
  // Integers go through std::to_string too: a stream would group digits by locale.
  out << "## Results\n\n"
      << std::to_string(child(report, "trials").size()) << " trial(s) of "
      << std::to_string(summary.size()) << " algorithm(s), " << std::to_string(failed)
      << " failed. Each metric is the mean with its 95% confidence interval: over users "
         "(bootstrap) for a single trial; over test sets (t-interval) when an algorithm ran "
         "several folds or seed-dependent splits, seeds of one test set averaged first; and "
         "for seeds of one fixed test set, the seeds' t-interval widened by the users' "
         "bootstrap (t+bootstrap). Latency is per single-user request (median over trials).\n\n";
  out << "| algorithm | trials ok |";
  for (const auto& m : metrics) out << ' ' << rf::md_cell(m) << " |";
  out << " p50 ms | p99 ms | users/s | fit s | peak RSS MiB | model MiB |\n|---|---:|";
  for (std::size_t i = 0; i < metrics.size(); ++i) out << "---:|";
  out << "---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : summary) {
    out << "| " << rf::md_cell(rf::text(row, "algorithm")) << " | " << rf::text(row, "ok") << "/"
        << rf::text(row, "trials") << " |";
    for (const auto& m : metrics) {
      const json& s = child(child(row, "metrics"), m.c_str());
      out << ' '
          << (s.is_null() ? std::string("n/a")
                          : rf::mean_ci(rf::number(s, "mean"), rf::number(s, "low"),
                                        rf::number(s, "high"), 4))
          << " |";
    }
    const json& latency = child(row, "latency_ms");
    out << ' ' << rf::fixed(rf::number(latency, "p50"), 3) << " | "
        << rf::fixed(rf::number(latency, "p99"), 3) << " | "
        << rf::fixed(rf::number(row, "throughput_users_per_s"), 0) << " | "
        << rf::fixed(rf::number(row, "fit_wall_s"), 2) << " | "
        << rf::fixed(rf::mib(rf::number(row, "peak_rss_bytes")), 1) << " | "
        << rf::fixed(rf::mib(rf::number(row, "model_bytes")), 1) << " |\n";
  }
  out << '\n';
  if (const std::string note = report_detail::loaded_models_note(summary); !note.empty()) out << note << "\n\n";
}

// Metrics of `rows` in order of first appearance.
std::vector<std::string> row_metrics(const json& rows) {
  std::vector<std::string> metrics;
  for (const auto& row : rows) {
    std::string m = rf::text(row, "metric");
    if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  }
  return metrics;
}


// The rows of `metric` as a table: the vs-best table and the planned one
// share every column but the baseline, which only planned rows vary.
void write_comparison_table(std::ostream& out, const json& rows, const std::string& metric,
                            bool with_baseline) {
  out << (with_baseline ? "| treatment | baseline |" : "| algorithm |")
      << " method | n | mean diff [95% CI] | d_z | t-test p | Wilcoxon p | Holm p | sig | note |\n"
      << (with_baseline ? "|---|---|" : "|---|") << "---|---:|---:|---:|---:|---:|---:|:-:|---|\n";
  for (const auto& row : rows) {
    if (rf::text(row, "metric") != metric) continue;
    out << "| " << rf::md_cell(rf::text(row, "algorithm")) << " | ";
    if (with_baseline) out << rf::md_cell(rf::text(row, "baseline")) << " | ";
    out << rf::text(row, "method") << " | " << rf::text(row, "n") << " | "
        << rf::mean_ci(rf::number(row, "mean_diff"), rf::number(row, "diff_low"),
                       rf::number(row, "diff_high"), 4)
        << " | " << rf::fixed(rf::number(row, "effect_size"), 3) << " | "
        << rf::p_value(rf::number(row, "t_p")) << " | " << rf::p_value(rf::number(row, "w_p"))
        << " | " << rf::p_value(rf::number(row, "p_holm")) << " | "
        << rf::significance(rf::number(row, "p_holm")) << " | "
        << rf::md_cell(rf::text(row, "note")) << " |\n";
  }
  out << '\n';
}

void write_comparisons(std::ostream& out, const json& report) {
  const json& rows = child(report, "comparisons");
  for (const auto& metric : row_metrics(rows)) {
    std::string baseline, direction;
    for (const auto& row : rows) {
      if (rf::text(row, "metric") == metric) {
        baseline = rf::text(row, "baseline"), direction = rf::text(row, "direction");
      }
    }
    out << "## Comparison on " << rf::md_cell(metric) << ": each algorithm vs the best ("
        << rf::md_cell(baseline) << ")\n\n"
        << (direction == "lower_is_better" ? "Lower" : "Higher")
        << " is better; mean diff = algorithm - best. " << rf::kPairingNote << "\n\n";
    write_comparison_table(out, rows, metric, false);
  }
}

// The scenario's [evaluation] compare, one Holm family per metric; a planned
// pair that no compared metric could test is named, never dropped silently.
void write_planned_comparisons(std::ostream& out, const json& report) {
  if (!report.contains("planned_comparisons")) return;
  const json& rows = child(report, "planned_comparisons");
  for (const auto& metric : row_metrics(rows)) {
    std::size_t tested = 0;
    std::string direction;
    for (const auto& row : rows) {
      if (rf::text(row, "metric") != metric) continue;
      direction = rf::text(row, "direction");
      if (std::isfinite(rf::number(row, "t_p"))) ++tested;
    }
    out << "## Planned comparisons on " << rf::md_cell(metric) << "\n\n"
        << "Declared in the scenario (`[evaluation] compare`) before the run; Holm-adjusted over "
           "the "
        << std::to_string(tested)
        << " tested comparison(s) of this table only, not over the table against the best. "
        << (direction == "lower_is_better" ? "Lower" : "Higher")
        << " is better; mean diff = treatment - baseline. " << rf::kPairingNote << "\n\n";
    write_comparison_table(out, rows, metric, true);
  }
  std::string untested;
  for (const auto& p : report_detail::planned_comparisons_of(child(report, "context"))) {
    bool found = false;
    for (const auto& row : rows) {
      found = found || (rf::text(row, "algorithm") == p.treatment &&
                        rf::text(row, "baseline") == p.baseline);
    }
    if (!found) untested += (untested.empty() ? "" : ", ") + p.treatment + " vs " + p.baseline;
  }
  if (!untested.empty()) {
    out << "## Planned comparisons not tested\n\nNo ok trial of either side reports a compared "
           "metric: "
        << rf::md_cell(untested) << ".\n\n";
  }
}

// "u2" < "u10": compare the text before the trailing digits, then the number.
bool fold_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    std::size_t i = s.size();
    while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
    long n = i < s.size() && s.size() - i < 18 ? std::stol(s.substr(i)) : -1;
    return std::make_tuple(s.substr(0, i), n, s);
  };
  return split(a) < split(b);
}

void write_per_fold(std::ostream& out, const json& report, const std::vector<std::string>& metrics) {
  std::vector<std::string> folds;
  for (const auto& t : child(report, "trials")) {
    std::string f = rf::text(t, "fold");
    if (!f.empty() && std::find(folds.begin(), folds.end(), f) == folds.end()) folds.push_back(f);
  }
  if (folds.size() < 2) return;
  std::sort(folds.begin(), folds.end(), fold_less);
  for (const auto& metric : metrics) {
    out << "## Per fold: " << rf::md_cell(metric) << "\n\nMean over seeds of each fold's trial.\n\n"
        << "| algorithm |";
    for (const auto& f : folds) out << ' ' << rf::md_cell(f) << " |";
    out << " mean |\n|---|";
    for (std::size_t i = 0; i <= folds.size(); ++i) out << "---:|";
    out << '\n';
    for (const auto& row : child(report, "summary")) {
      std::string label = rf::text(row, "algorithm");
      out << "| " << rf::md_cell(label) << " |";
      double fold_sum = 0;
      int fold_n = 0;
      for (const auto& f : folds) {
        double sum = 0;
        int n = 0;
        for (const auto& t : child(report, "trials")) {
          if (rf::text(t, "algorithm") != label || rf::text(t, "fold") != f ||
              rf::text(t, "status") != "ok") {
            continue;
          }
          double v = rf::number(child(child(t, "metrics"), metric.c_str()), "mean");
          if (std::isfinite(v)) sum += v, ++n;
        }
        double cell = n ? sum / n : std::nan("");
        if (n) fold_sum += cell, ++fold_n;
        out << ' ' << rf::fixed(cell, 4) << " |";
      }
      out << ' ' << rf::fixed(fold_n ? fold_sum / fold_n : std::nan(""), 4) << " |\n";
    }
    out << '\n';
  }
}

void write_failed(std::ostream& out, const json& report) {
  out << "## Failed trials\n\n";
  std::vector<const json*> failed;
  for (const auto& t : child(report, "trials")) {
    if (rf::text(t, "status") != "ok") failed.push_back(&t);
  }
  if (failed.empty()) {
    out << "None.\n\n";
    return;
  }
  out << "| trial | algorithm | fold | seed | status | error |\n|---|---|---|---:|---|---|\n";
  for (const json* t : failed) {
    out << "| " << rf::md_cell(rf::text(*t, "trial_id")) << " | "
        << rf::md_cell(rf::text(*t, "algorithm")) << " | " << rf::md_cell(rf::text(*t, "fold"))
        << " | " << rf::text(*t, "seed") << " | " << rf::md_cell(rf::text(*t, "status")) << " | "
        << rf::md_cell(rf::text(*t, "error")) << " |\n";
  }
  out << '\n';
}

// [evaluation] explain_users: report.json's "explanations", a few users
// per algorithm (report.cpp bounds them).
void write_explanations(std::ostream& out, const json& report) {
  const json& entries = child(report, "explanations");
  if (entries.empty()) return;
  out << "## Explanations\n\nPer algorithm, the first users of its first trial with explanations "
         "(`[evaluation] explain_users`): the top of the list the evaluator scored, whether each item "
         "is a relevant test item, and the algorithm's reason. report.json's trials keep every "
         "explained list.\n\n";
  for (const auto& e : entries) {
    out << "### " << rf::md_cell(rf::text(e, "algorithm")) << "\n\n";
    if (const std::string note = rf::text(e, "note"); !note.empty()) out << rf::md_cell(note) << "\n\n";
    if (child(e, "users").empty()) continue;
    out << "| user | rank | item | score | hit | reason |\n|---|---:|---|---:|:-:|---|\n";
    for (const auto& u : child(e, "users")) {
      std::size_t rank = 0;
      for (const auto& item : child(u, "items")) {
        const std::string title = rf::text(item, "title");
        out << "| " << rf::md_cell(rf::text(u, "user_id")) << " | " << std::to_string(++rank) << " | "
            << rf::md_cell(rf::text(item, "item_id") + (title.empty() ? "" : " " + title)) << " | "
            << rf::fixed(rf::number(item, "score"), 4) << " | " << (child(item, "hit") == json(true) ? "yes" : "")
            << " | " << rf::md_cell(rf::text(item, "reason")) << " |\n";
      }
    }
    out << '\n';
  }
}

void write_all_metrics(std::ostream& out, const json& report,
                       const std::vector<std::string>& metrics) {
  out << "## All metrics\n\n| algorithm | metric | mean [95% CI] | CI | trials |\n"
         "|---|---|---:|---|---:|\n";
  for (const auto& row : child(report, "summary")) {
    for (const auto& m : metrics) {
      const json& s = child(child(row, "metrics"), m.c_str());
      if (s.is_null()) continue;
      out << "| " << rf::md_cell(rf::text(row, "algorithm")) << " | " << rf::md_cell(m) << " | "
          << rf::mean_ci(rf::number(s, "mean"), rf::number(s, "low"), rf::number(s, "high"), 4)
          << " | " << rf::text(s, "ci") << " | " << rf::text(s, "trials") << " |\n";
    }
  }
}

}  // namespace


void write_markdown(std::ostream& out, const json& report) {
  const std::set<std::string> present = report_detail::summary_metric_names(report);
  std::vector<std::string> all(present.begin(), present.end());
  std::sort(all.begin(), all.end(), rf::metric_display_less);
  const auto headline = report_detail::main_metrics(report);

  write_context(out, report);
  write_main_table(out, report, headline);
  report_detail::write_simulation_markdown(out, report);
  write_planned_comparisons(out, report);
  write_comparisons(out, report);
  report_detail::write_segment_markdown(out, report);
  write_per_fold(out, report, headline);
  write_explanations(out, report);
  write_failed(out, report);
  write_all_metrics(out, report, all);
}

}  // namespace recfuse
