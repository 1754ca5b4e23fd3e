// Inline SVG charts for report.html: plain markup, no script, no external
// reference (not even an xmlns, which HTML5 does not need for inline SVG),
// so the page reads offline and diffs as text. Every coordinate is written
// by report_format::fixed, never by a stream, and only for finite values: a
// NaN or missing value leaves its mark out instead of writing "nan" into an
// attribute, which browsers would reject silently.
//
//   report_svg::interval_chart(out, "chart-headline", "ndcg@10", rows, 4);
//
// Markup contract (tests read it): one <svg id="..."> per chart; each
// estimate is a <g class="row"> holding <text class="label">, optionally
// <line class="whisker" x1=low x2=high>, and <circle class="dot" cx=mean>;
// the value axis grows left to right (x) or bottom to top (y).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace recfuse::report_svg {

/// `text` with & < > " ' as character references: safe as element text and
/// as a quoted attribute value alike.
std::string escape(std::string_view text);

/// One labelled estimate: the mean with its 95% CI; NaN bounds draw no
/// whisker, a NaN mean no row.
struct Interval {
  std::string label;
  double mean, low, high;
};
/// Dot-and-whisker chart, one row per interval in the given order (rows with
/// a non-finite mean are skipped), a linear value axis with ticks under the
/// rows titled `axis_title`; `precision` digits in the hover titles.
void interval_chart(std::ostream& out, std::string_view id, std::string_view axis_title,
                    const std::vector<Interval>& rows, int precision);

/// Median and 99th-percentile latency of one algorithm, in ms.
struct LatencyRow {
  std::string label;
  double p50, p99;
};
/// p50 (circle) and p99 (square) per row joined by a line; a log axis when
/// the finite values span more than a decade, else linear.
void latency_chart(std::ostream& out, std::string_view id, const std::vector<LatencyRow>& rows);

/// One polyline: y[i] is the value of window i (NaN: a gap in the line).
struct Series {
  std::string label;
  std::vector<double> y;
};
/// Line chart of `series` against the window index, x labelled as
/// (i + 1) * x_step; legend at the right, colours cycling through a fixed
/// palette (dashed after ten series).
void line_chart(std::ostream& out, std::string_view id, std::string_view x_title,
                std::string_view y_title, double x_step, const std::vector<Series>& series);

}  // namespace recfuse::report_svg
