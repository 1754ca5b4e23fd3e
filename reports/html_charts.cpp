// report.html's charts (html.cpp writes the page): the headline metric and
// latency per algorithm, and for simulated protocols return, regret and the
// learning curves, as inline SVG (reports/svg.cpp).
#include <algorithm>
#include <cmath>
#include <ostream>

#include "reports/format.hpp"
#include "reports/report.hpp"
#include "reports/summary.hpp"
#include "reports/svg.hpp"

namespace recfuse::report_detail {
namespace {

using nlohmann::json;
namespace rf = report_format;
namespace svg = report_svg;
using report_format::child;
using report_svg::escape;

bool has_metric(const json& row, const char* metric) {
  return !child(child(row, "metrics"), metric).is_null();
}

bool is_online(const json& report) {
  for (const auto& row : child(report, "summary")) {
    if (has_metric(row, "return") && has_metric(row, "ctr")) return true;
  }
  return false;
}

// `metric` per algorithm, best first, as dots with their 95% CI; the rows
// without a value are named under the chart instead of drawn.
void metric_chart(std::ostream& out, const json& report, const std::string& metric,
                  const std::string& id, int precision) {
  std::vector<svg::Interval> rows;
  std::string missing;
  for (const auto& row : child(report, "summary")) {
    const json& s = child(child(row, "metrics"), metric.c_str());
    svg::Interval r{rf::text(row, "algorithm"), rf::number(s, "mean"), rf::number(s, "low"),
                    rf::number(s, "high")};
    if (std::isfinite(r.mean)) {
      rows.push_back(std::move(r));
    } else {
      missing += (missing.empty() ? "" : ", ") + r.label;
    }
  }
  const bool lower = rf::lower_is_better(metric);
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    return lower ? a.mean < b.mean : a.mean > b.mean;
  });
  out << "<h3>" << escape(metric) << " per algorithm</h3>\n<p class=\"note\">Mean and 95% "
      << "confidence interval, best first (" << (lower ? "lower" : "higher")
      << " is better).</p>\n";
  if (rows.empty()) {
    out << "<p>No ok trial reports a value of " << escape(metric) << ".</p>\n";
    return;
  }
  svg::interval_chart(out, id, metric, rows, precision);
  if (!missing.empty()) {
    out << "<p class=\"note\">No value, not drawn: " << escape(missing) << ".</p>\n";
  }
}

void write_latency_chart(std::ostream& out, const json& report) {
  std::vector<svg::LatencyRow> rows;
  bool any = false;
  for (const auto& row : child(report, "summary")) {
    const json& l = child(row, "latency_ms");
    rows.push_back({rf::text(row, "algorithm"), rf::number(l, "p50"), rf::number(l, "p99")});
    any = any || std::isfinite(rows.back().p50) || std::isfinite(rows.back().p99);
  }
  out << "<h3>Latency</h3>\n";
  if (!any) {
    out << "<p>No ok trial measured latency.</p>\n";
    return;
  }
  out << "<p class=\"note\">Median over trials of each trial's p50 and p99, ms.</p>\n";
  svg::latency_chart(out, "chart-latency", rows);
}

// Learning curves: per algorithm, the mean over its ok trials of the return
// in each window of episodes (trials with another window size are left out).
void write_learning_curves(std::ostream& out, const json& report) {
  std::vector<svg::Series> series;
  double window = NAN;
  for (const auto& row : child(report, "summary")) {
    const std::string label = rf::text(row, "algorithm");
    std::vector<double> sum;
    std::vector<int> n;
    for (const auto& t : child(report, "trials")) {
      const json& curve = child(t, "learning_curve");
      if (rf::text(t, "algorithm") != label || rf::text(t, "status") != "ok") continue;
      const double w = rf::number(curve, "window");
      if (!child(curve, "return").is_array() || !std::isfinite(w)) continue;
      if (std::isnan(window)) window = w;
      if (w != window) continue;
      const json& values = child(curve, "return");
      sum.resize(std::max(sum.size(), values.size()), 0.0), n.resize(sum.size(), 0);
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i].is_number() && std::isfinite(values[i].get<double>())) {
          sum[i] += values[i].get<double>(), ++n[i];
        }
      }
    }
    if (sum.empty()) continue;
    svg::Series s{label, {}};
    for (std::size_t i = 0; i < sum.size(); ++i) s.y.push_back(n[i] ? sum[i] / n[i] : NAN);
    series.push_back(std::move(s));
  }
  if (series.empty()) return;
  out << "<h3>Learning curves</h3>\n<p class=\"note\">Mean return per episode in each window of "
      << rf::fixed(window, 0) << " episodes, averaged over each algorithm's ok trials.</p>\n";
  svg::line_chart(out, "chart-learning", "episodes", "return per episode", window, series);
}

}  // namespace

void write_html_charts(std::ostream& out, const json& report) {
  const bool online = is_online(report);
  out << "<h2 id=\"charts\">Charts</h2>\n";
  // An online report has no headline; its return chart below takes the place.
  std::string headline = rf::text(report, "headline_metric");
  if (headline.empty() && !online) {
    const auto metrics = report_detail::main_metrics(report);
    if (!metrics.empty()) headline = metrics.front();
  }
  if (!headline.empty()) metric_chart(out, report, headline, "chart-headline", 4);
  write_latency_chart(out, report);
  if (!online) return;
  out << "<h2 id=\"online\">Simulated online</h2>\n<p class=\"note\">Return per episode; "
         "regret = the environment's myopic oracle's return on the same episodes minus the "
         "policy's.</p>\n";
  metric_chart(out, report, "return", "chart-return", 3);
  bool regret = false;
  for (const auto& row : child(report, "summary")) regret = regret || has_metric(row, "regret");
  if (regret) metric_chart(out, report, "regret", "chart-regret", 3);
  write_learning_curves(out, report);
}

}  // namespace recfuse::report_detail
