#include "reports/svg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>

#include "reports/format.hpp"

namespace recfuse::report_svg {
namespace {

namespace rf = report_format;

constexpr double kWidth = 760;
constexpr double kRowHeight = 22;
// Tableau 10: distinguishable for the common colour-vision deficiencies.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

// Pixel coordinates: one decimal is far below a screen pixel. Only ever
// called with finite values (callers test first).
std::string px(double v) { return rf::fixed(v, 1); }

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Long labels are cut (never inside a UTF-8 sequence); the full text stays
// in the row's <title>.
std::string short_label(std::string_view s, std::size_t max_points = 36) {
  if (code_points(s) <= max_points) return std::string(s);
  std::size_t points = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++points > max_points - 1) break;
  }
  return std::string(s.substr(0, i)) + "\u2026";
}

// Three significant digits: latencies run from 1e-4 ms (a bandit's act) to
// seconds, so a fixed number of decimals would print most of them as 0.
std::string significant(double v) {
  if (!std::isfinite(v) || v == 0) return rf::fixed(v, 0);
  return rf::fixed(v, std::clamp(2 - static_cast<int>(std::floor(std::log10(std::abs(v)))), 0, 12));
}

template <class Rows>
double label_column(const Rows& rows) {
  std::size_t longest = 4;
  for (const auto& r : rows) longest = std::max(longest, code_points(short_label(r.label)));
  return std::clamp(12.0 + 6.6 * static_cast<double>(longest), 80.0, 300.0);
}

// A value axis: [lo, hi] with ticks at round numbers (1, 2, 5 x 10^k) or at
// decades when logarithmic.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  int decimals = 0;
  std::vector<double> ticks;

  double fraction(double v) const {
    if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
  bool contains(double v) const { return std::isfinite(v) && (!log || v > 0); }
  std::string label(double tick) const {
    if (!log) return rf::fixed(tick, decimals);
    return rf::fixed(tick, std::max(0, -static_cast<int>(std::lround(std::log10(tick)))));
  }
};

Axis linear_axis(double min, double max) {
  // Equal (or equal to a few ulps) values: pad, or the ticks would need
  // seventeen decimals.
  if (!(max - min > 1e-9 * std::max(std::abs(min), std::abs(max)))) {
    const double pad = min == 0 ? 1 : std::abs(min) * 0.1;
    min -= pad, max += pad;
  }
  const double raw = (max - min) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * magnitude;
  Axis a;
  a.lo = std::floor(min / step) * step;
  a.hi = std::ceil(max / step) * step;
  const long n = std::lround((a.hi - a.lo) / step);
  for (long i = 0; i <= n; ++i) a.ticks.push_back(a.lo + static_cast<double>(i) * step);
  a.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return a;
}

Axis log_axis(double min, double max) {
  Axis a;
  a.log = true;
  const int first = static_cast<int>(std::floor(std::log10(min)));
  const int last = std::max(first + 1, static_cast<int>(std::ceil(std::log10(max))));
  a.lo = std::pow(10.0, first), a.hi = std::pow(10.0, last);
  for (int k = first; k <= last; ++k) a.ticks.push_back(std::pow(10.0, k));
  return a;
}

// Finite range of `values`; {NaN, NaN} when none is.
std::pair<double, double> range_of(const std::vector<double>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (lo > hi) return {NAN, NAN};
  return {lo, hi};
}

void open_svg(std::ostream& out, std::string_view id, double height, std::string_view title) {
  out << "<svg id=\"" << escape(id) << "\" class=\"chart\" width=\"" << px(kWidth)
      << "\" height=\"" << px(height) << "\" viewBox=\"0 0 " << px(kWidth) << ' ' << px(height)
      << "\" role=\"img\"><title>" << escape(title) << "</title>\n";
}

// Grid lines, the horizontal axis at y_axis, tick labels and the title.
void x_axis(std::ostream& out, const Axis& a, double x0, double x1, double y_top, double y_axis,
            std::string_view title) {
  for (double t : a.ticks) {
    const std::string x = px(x0 + a.fraction(t) * (x1 - x0));
    out << "<line class=\"grid\" x1=\"" << x << "\" x2=\"" << x << "\" y1=\"" << px(y_top)
        << "\" y2=\"" << px(y_axis) << "\"/><text class=\"tick\" x=\"" << x << "\" y=\""
        << px(y_axis + 14) << "\" text-anchor=\"middle\">" << a.label(t) << "</text>\n";
  }
  out << "<line class=\"axis\" x1=\"" << px(x0) << "\" x2=\"" << px(x1) << "\" y1=\""
      << px(y_axis) << "\" y2=\"" << px(y_axis) << "\"/><text class=\"axis-title\" x=\""
      << px((x0 + x1) / 2) << "\" y=\"" << px(y_axis + 32) << "\" text-anchor=\"middle\">"
      << escape(title) << "</text>\n";
}

void row_label(std::ostream& out, std::string_view label, double x, double y) {
  out << "<text class=\"label\" x=\"" << px(x) << "\" y=\"" << px(y + 4)
      << "\" text-anchor=\"end\">" << escape(short_label(label)) << "</text>";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': s += "&amp;"; break;
      case '<': s += "&lt;"; break;
      case '>': s += "&gt;"; break;
      case '"': s += "&quot;"; break;
      case '\'': s += "&#39;"; break;
      default: s += c;
    }
  }
  return s;
}

void interval_chart(std::ostream& out, std::string_view id, std::string_view axis_title,
                    const std::vector<Interval>& rows, int precision) {
  std::vector<const Interval*> drawn;
  std::vector<double> values;
  for (const auto& r : rows) {
    if (!std::isfinite(r.mean)) continue;
    drawn.push_back(&r);
    values.insert(values.end(), {r.mean, r.low, r.high});
  }
  if (drawn.empty()) return;
  const auto [min, max] = range_of(values);
  const Axis axis = linear_axis(min, max);
  const double x0 = label_column(rows), x1 = kWidth - 24, top = 8;
  const double y_axis = top + kRowHeight * static_cast<double>(drawn.size()) + 4;
  const auto x = [&](double v) { return x0 + axis.fraction(v) * (x1 - x0); };
  open_svg(out, id, y_axis + 44, axis_title);
  x_axis(out, axis, x0, x1, top, y_axis, axis_title);
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const Interval& r = *drawn[i];
    const double y = top + kRowHeight * (static_cast<double>(i) + 0.5);
    out << "<g class=\"row\"><title>" << escape(r.label) << ": "
        << rf::mean_ci(r.mean, r.low, r.high, precision) << "</title>";
    row_label(out, r.label, x0 - 8, y);
    if (std::isfinite(r.low) && std::isfinite(r.high)) {
      const std::string lo = px(x(r.low)), hi = px(x(r.high));
      out << "<line class=\"whisker\" x1=\"" << lo << "\" x2=\"" << hi << "\" y1=\"" << px(y)
          << "\" y2=\"" << px(y) << "\"/>";
      for (const auto& end : {lo, hi}) {
        out << "<line class=\"cap\" x1=\"" << end << "\" x2=\"" << end << "\" y1=\""
            << px(y - 5) << "\" y2=\"" << px(y + 5) << "\"/>";
      }
    }
    out << "<circle class=\"dot\" cx=\"" << px(x(r.mean)) << "\" cy=\"" << px(y)
        << "\" r=\"4\"/></g>\n";
  }
  out << "</svg>\n";
}

void latency_chart(std::ostream& out, std::string_view id, const std::vector<LatencyRow>& rows) {
  std::vector<double> values;
  for (const auto& r : rows) values.insert(values.end(), {r.p50, r.p99});
  const auto [min, max] = range_of(values);
  if (!std::isfinite(min)) return;
  const Axis axis =
      min > 0 && max / min > 10 ? log_axis(min, max) : linear_axis(std::min(0.0, min), max);
  const double x0 = label_column(rows), x1 = kWidth - 24, top = 24;
  const double y_axis = top + kRowHeight * static_cast<double>(rows.size()) + 4;
  const auto x = [&](double v) { return x0 + axis.fraction(v) * (x1 - x0); };
  const std::string title =
      std::string("latency per request, ms") + (axis.log ? " (log scale)" : "");
  open_svg(out, id, y_axis + 44, title);
  out << "<circle class=\"p50\" cx=\"" << px(x1 - 110) << "\" cy=\"10\" r=\"4\"/><text x=\""
      << px(x1 - 100) << "\" y=\"14\">p50</text><rect class=\"p99\" x=\"" << px(x1 - 54)
      << "\" y=\"6\" width=\"8\" height=\"8\"/><text x=\"" << px(x1 - 40)
      << "\" y=\"14\">p99</text>\n";
  x_axis(out, axis, x0, x1, top, y_axis, title);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const LatencyRow& r = rows[i];
    const double y = top + kRowHeight * (static_cast<double>(i) + 0.5);
    out << "<g class=\"row\"><title>" << escape(r.label) << ": p50 " << significant(r.p50)
        << " ms, p99 " << significant(r.p99) << " ms</title>";
    row_label(out, r.label, x0 - 8, y);
    const bool p50 = axis.contains(r.p50), p99 = axis.contains(r.p99);
    if (p50 && p99) {
      out << "<line class=\"span\" x1=\"" << px(x(r.p50)) << "\" x2=\"" << px(x(r.p99))
          << "\" y1=\"" << px(y) << "\" y2=\"" << px(y) << "\"/>";
    }
    if (p50) {
      out << "<circle class=\"p50\" cx=\"" << px(x(r.p50)) << "\" cy=\"" << px(y)
          << "\" r=\"4\"/>";
    }
    if (p99) {
      out << "<rect class=\"p99\" x=\"" << px(x(r.p99) - 4) << "\" y=\"" << px(y - 4)
          << "\" width=\"8\" height=\"8\"/>";
    }
    out << "</g>\n";
  }
  out << "</svg>\n";
}

void line_chart(std::ostream& out, std::string_view id, std::string_view x_title,
                std::string_view y_title, double x_step, const std::vector<Series>& series) {
  std::vector<double> values;
  std::size_t windows = 0;
  for (const auto& s : series) {
    values.insert(values.end(), s.y.begin(), s.y.end());
    windows = std::max(windows, s.y.size());
  }
  const auto [min, max] = range_of(values);
  if (!std::isfinite(min)) return;
  const Axis axis = linear_axis(min, max);
  const double x0 = 56, x1 = kWidth - 220, top = 10, y_axis = 230;
  const double height = std::max(y_axis + 44, top + 16 * static_cast<double>(series.size()) + 10);
  const auto x = [&](std::size_t i) {
    return windows < 2 ? (x0 + x1) / 2
                       : x0 + (x1 - x0) * static_cast<double>(i) / static_cast<double>(windows - 1);
  };
  const auto y = [&](double v) { return y_axis - axis.fraction(v) * (y_axis - top); };
  open_svg(out, id, height, y_title);
  for (double t : axis.ticks) {
    const std::string ty = px(y(t));
    out << "<line class=\"grid\" x1=\"" << px(x0) << "\" x2=\"" << px(x1) << "\" y1=\"" << ty
        << "\" y2=\"" << ty << "\"/><text class=\"tick\" x=\"" << px(x0 - 6) << "\" y=\""
        << px(y(t) + 4) << "\" text-anchor=\"end\">" << axis.label(t) << "</text>\n";
  }
  const std::size_t every = std::max<std::size_t>(1, (windows + 9) / 10);
  for (std::size_t i = 0; i < windows; i += every) {
    out << "<text class=\"tick\" x=\"" << px(x(i)) << "\" y=\"" << px(y_axis + 14)
        << "\" text-anchor=\"middle\">"
        << rf::fixed(static_cast<double>(i + 1) * x_step, 0) << "</text>";
  }
  out << "<line class=\"axis\" x1=\"" << px(x0) << "\" x2=\"" << px(x1) << "\" y1=\""
      << px(y_axis) << "\" y2=\"" << px(y_axis) << "\"/><text class=\"axis-title\" x=\""
      << px((x0 + x1) / 2) << "\" y=\"" << px(y_axis + 32) << "\" text-anchor=\"middle\">"
      << escape(x_title) << "</text><text class=\"axis-title\" transform=\"translate(14 "
      << px((top + y_axis) / 2) << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_title)
      << "</text>\n";
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const std::string colour = kPalette[k % std::size(kPalette)];
    const std::string dash = k >= std::size(kPalette) ? " stroke-dasharray=\"6 3\"" : "";
    out << "<g class=\"series\" stroke=\"" << colour << "\"" << dash << "><title>"
        << escape(s.label) << "</title>";
    // A missing window breaks the line rather than joining across it.
    std::string points;
    std::size_t run = 0;
    const auto flush = [&] {
      if (run == 1) {
        out << "<circle cx=\"" << points.substr(0, points.find(',')) << "\" cy=\""
            << points.substr(points.find(',') + 1) << "\" r=\"2\" fill=\"" << colour << "\"/>";
      } else if (run > 1) {
        out << "<polyline fill=\"none\" points=\"" << points << "\"/>";
      }
      points.clear(), run = 0;
    };
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) {
        flush();
        continue;
      }
      points += (points.empty() ? "" : " ") + px(x(i)) + "," + px(y(s.y[i]));
      ++run;
    }
    flush();
    const double ly = top + 16 * static_cast<double>(k) + 6;
    out << "<line x1=\"" << px(x1 + 16) << "\" x2=\"" << px(x1 + 36) << "\" y1=\"" << px(ly)
        << "\" y2=\"" << px(ly) << "\"/><text class=\"legend\" x=\"" << px(x1 + 42) << "\" y=\""
        << px(ly + 4) << "\">" << escape(short_label(s.label, 26)) << "</text></g>\n";
  }
  out << "</svg>\n";
}

}  // namespace recfuse::report_svg
