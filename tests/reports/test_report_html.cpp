// report.html: well-formed, escaped, the same figures as report.md, charts
// whose geometry follows the numbers, and never "nan" in a coordinate.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>
#include <set>
#include <sstream>

#include "report_fixture.hpp"
#include "reports/report.hpp"
#include "reports/svg.hpp"

using nlohmann::json;
using recfuse::test::html_of;

namespace {


json fixture_report() {
  return recfuse::build_report(recfuse::test::fixture_context(),
                               recfuse::test::fixture_records());
}

// "" when every element opened is closed in order; else what is wrong.
// Void elements need no end tag; <style> is raw text up to </style>.
std::string tag_problem(const std::string& html) {
  static const std::set<std::string> kVoid = {"area", "base", "br",   "col",   "embed",
                                              "hr",   "img",  "input", "link", "meta",
                                              "source", "track", "wbr"};
  std::vector<std::string> open;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 4, "<!--") == 0) {
      i = html.find("-->", i);
      if (i == std::string::npos) return "unclosed comment";
      continue;
    }
    const std::size_t end = html.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    if (html.compare(i, 2, "<!") == 0) {  // doctype
      i = end + 1;
      continue;
    }
    const std::string tag = html.substr(i + 1, end - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !closing && !tag.empty() && tag.back() == '/';
    const std::size_t first = closing ? 1 : 0;
    const std::string name = tag.substr(first, tag.find_first_of(" \t\n/", first) - first);
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) {
      return "stray '<' at " + std::to_string(i);
    }
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes <" + (open.empty() ? "nothing" : open.back()) + ">";
      }
      open.pop_back();
    } else if (!self_closing && !kVoid.count(name)) {
      open.push_back(name);
    }
    i = end + 1;
    if (!closing && name == "style") i = html.find("</style>", i);
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The <svg id="id"> element; "" when absent.
std::string svg_of(const std::string& html, const std::string& id) {
  const auto at = html.find("<svg id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</svg>", at) + 6 - at);
}

double attr(const std::string& tag, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(tag, m, std::regex("\\b" + name + "=\"([^\"]*)\""))) return NAN;
  const std::string v = m[1].str();
  double x = NAN;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  return ec == std::errc{} && ptr == v.data() + v.size() ? x : NAN;
}

struct ChartRow {
  std::string label;
  double cx, x1, x2;
};
std::vector<ChartRow> chart_rows(const std::string& svg) {
  std::vector<ChartRow> rows;
  for (std::size_t at = svg.find("<g class=\"row\">"); at != std::string::npos;
       at = svg.find("<g class=\"row\">", at + 1)) {
    const std::string g = svg.substr(at, svg.find("</g>", at) - at);
    const auto label_at = g.find('>', g.find("class=\"label\"")) + 1;
    const auto whisker = g.find("class=\"whisker\"");
    const std::string line =
        whisker == std::string::npos ? "" : g.substr(whisker, g.find("/>", whisker) - whisker);
    const auto dot = g.find("class=\"dot\"");
    rows.push_back({g.substr(label_at, g.find("</text>", label_at) - label_at),
                    attr(g.substr(dot, g.find("/>", dot) - dot), "cx"), attr(line, "x1"),
                    attr(line, "x2")});
  }
  return rows;
}

// Cells of the Results table row of `label`, from the HTML and from report.md.
std::vector<std::string> html_row(const std::string& html, const std::string& label) {
  const auto table = html.find("<tbody>", html.find("<h2 id=\"results\">"));
  const std::string body = html.substr(table, html.find("</tbody>", table) - table);
  const auto row = body.find("<tr><td>" + label + "</td>");
  const std::string tr = body.substr(row, body.find("</tr>", row) - row);
  std::vector<std::string> cells;
  const std::regex td("<td[^>]*>(.*?)</td>");
  for (std::sregex_iterator it(tr.begin(), tr.end(), td), end; it != end; ++it)
    cells.push_back((*it)[1].str());
  return cells;
}
std::vector<std::string> md_row(const std::string& md, const std::string& label) {
  const std::string results = recfuse::test::md_section(md, "Results");
  const auto at = results.find("\n| " + label + " |");
  std::istringstream line(results.substr(at + 3, results.find('\n', at + 1) - at - 3));
  std::vector<std::string> cells;
  for (std::string c; std::getline(line, c, '|');) {
    const auto first = c.find_first_not_of(' ');
    c = first == std::string::npos ? "" : c.substr(first, c.find_last_not_of(' ') - first + 1);
    cells.push_back(c == "n/a" ? "\u2014" : c);
  }
  return cells;
}

// Every coordinate attribute of every SVG reads back as a finite number.
void check_coordinates_finite(const std::string& html) {
  const std::regex coordinate("\\b(x|y|cx|cy|x1|x2|y1|y2|width|height|r|points)=\"([^\"]*)\"");
  std::size_t checked = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), coordinate), end; it != end; ++it) {
    std::istringstream values(std::regex_replace((*it)[2].str(), std::regex(","), " "));
    for (std::string v; values >> v; ++checked) {
      double x = NAN;
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      INFO((*it)[0].str());
      CHECK((ec == std::errc{} && ptr == v.data() + v.size() && std::isfinite(x)));
    }
  }
  CHECK(checked > 0);
}

json online_record(const std::string& label, int seed, double value, std::vector<json> curve) {
  const auto block = [](double m, double half) {
    return json{{"mean", m}, {"low", m - half}, {"high", m + half}, {"n", 100}};
  };
  json r = recfuse::test::ok_record(label, "bandit", seed,
                                    {{"return", block(value, 0.2)},
                                     {"regret", block(10 - value, 0.2)},
                                     {"ctr", block(value / 20, 0.01)}});
  r["seed"] = seed;
  r["trial_id"] = label + "-s" + std::to_string(seed);
  r["protocol"] = "online";
  r["learning_curve"] = {{"window", 100}, {"return", std::move(curve)}};
  r["timing"] = {{"latency_ms", {{"p50", 0.0004 * value}, {"p99", 0.05}}}};
  return r;
}

// Three online policies over two seeds. greedy's mean curve is 2, 3, 4, 5;
// linucb has no value in window 2 in either seed.
json online_report() {
  std::vector<json> records = {
      online_record("greedy", 1, 5.0, {1, 2, 3, 4}),
      online_record("greedy", 2, 5.5, {3, 4, 5, 6}),
      online_record("linucb", 1, 7.0, {4, 4, nullptr, 4}),
      online_record("linucb", 2, 7.2, {4, 4, nullptr, 4}),
      online_record("random", 1, 2.0, {2, 2, 2, 2}),
      online_record("random", 2, 2.1, {2, 2, 2, 2}),
  };
  return recfuse::build_report(recfuse::test::fixture_context(), records);
}

json failed_report() {
  std::vector<json> records = recfuse::test::fixture_records();
  for (auto& r : records) {
    r["status"] = "crashed";
    r["error"] = "signal 11 <SIGSEGV> & \"core\"";
  }
  return recfuse::build_report(recfuse::test::fixture_context(), records);
}

}  // namespace

TEST_CASE("the tag checker of these tests catches what it must", "[reports][html]") {
  CHECK(tag_problem("<p><b>x</b><br></p><svg><circle r=\"1\"/></svg>") == "");
  CHECK(tag_problem("<div><p></div>") != "");
  CHECK(tag_problem("<p>a <b c</p>") != "");
  CHECK(tag_problem("<p>1 < 2</p>") != "");
}

TEST_CASE("report.html is one well-formed page, offline, online, failed or empty",
          "[reports][html]") {
  const std::vector<std::pair<std::string, json>> reports = {
      {"offline", fixture_report()},
      {"online", online_report()},
      {"all failed", failed_report()},
      {"no trial", recfuse::build_report(recfuse::test::fixture_context(), {})}};
  for (const auto& [name, report] : reports) {
    INFO(name);
    const std::string html = html_of(report);
    CHECK(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0) == 0);
    CHECK(tag_problem(html) == "");
    // Self-contained: nothing fetched, nothing run.
    for (const char* banned : {"<script", "http:", "https:", "src=", "href=", "url(", "@import"})
      CHECK(lower(html).find(banned) == std::string::npos);
    CHECK(html.find("<h1>recfuse report: tiny</h1>") != std::string::npos);
    CHECK(html.find("<h2 id=\"failed\">Failed trials</h2>") != std::string::npos);
  }
}

TEST_CASE("report.html reads in order: context, results, charts, comparisons, failed",
          "[reports][html]") {
  const std::string html = html_of(fixture_report());
  std::vector<std::size_t> at;
  for (const char* mark : {"<dl class=\"context\">", "<h2 id=\"results\">", "<h2 id=\"charts\">",
                           "<svg id=\"chart-headline\"", "<svg id=\"chart-latency\"",
                           "<h2 id=\"comparisons\">", "<h2 id=\"failed\">"}) {
    INFO(mark);
    at.push_back(html.find(mark));
    CHECK(at.back() != std::string::npos);
  }
  CHECK(std::is_sorted(at.begin(), at.end()));
  // Context: the seeds, the split the trials ran, the short commit.
  CHECK(html.find("<dd>1, 2</dd>") != std::string::npos);
  CHECK(html.find("<dd>leave_last_one_out</dd>") != std::string::npos);
  CHECK(html.find("commit 0123456789ab ") != std::string::npos);
  // The failed trial with its error, and the vs-best table with its marker.
  CHECK(html.find("<td class=\"error\">") != std::string::npos);
  CHECK(html.find("<h3>Comparison on ndcg@10 vs the best (als)</h3>") != std::string::npos);
}

TEST_CASE("report.html escapes every text taken from the report", "[reports][html]") {
  const std::string label = "a<b>&\"c\"'";
  std::vector<json> records = recfuse::test::fixture_records();
  for (auto& r : records) {
    if (r["algorithm"] == "als") r["algorithm"] = label;
    if (r["status"] != "ok") r["error"] = "<img src=x>";
  }
  json context = recfuse::test::fixture_context();
  context["scenario"]["name"] = "<script>x</script>";
  context["scenario"]["description"] = "1 < 2 & 3 > 2";
  const std::string html = html_of(recfuse::build_report(context, records));
  CHECK(tag_problem(html) == "");
  CHECK(html.find("a<b>") == std::string::npos);
  CHECK(html.find("&\"c\"") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("a&lt;b&gt;&amp;&quot;c&quot;&#39;") != std::string::npos);
  CHECK(html.find("&lt;img src=x&gt;") != std::string::npos);
  CHECK(html.find("1 &lt; 2 &amp; 3 &gt; 2") != std::string::npos);
}

TEST_CASE("report.html's main table shows report.md's figures", "[reports][html]") {
  for (const json& report : {fixture_report(), online_report()}) {
    const std::string html = html_of(report), md = recfuse::test::markdown_of(report);
    for (const auto& row : report["summary"]) {
      const std::string label = row["algorithm"];
      INFO(label);
      const auto h = html_row(html, label), m = md_row(md, label);
      REQUIRE(h.size() >= 9);
      CHECK(h == m);
    }
  }
}

TEST_CASE("the headline chart puts the best first and its dot further along",
          "[reports][html]") {
  const json report = fixture_report();
  const auto rows = chart_rows(svg_of(html_of(report), "chart-headline"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].label == "als");
  CHECK(rows[1].label == "pop");
  CHECK(rows[0].cx > rows[1].cx);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json& s = report["summary"][i]["metrics"]["ndcg@10"];
    REQUIRE(report["summary"][i]["algorithm"] == rows[i].label);
    CHECK(rows[i].x1 < rows[i].cx);
    CHECK(rows[i].cx < rows[i].x2);
    // Linear axis: the dot divides the whisker as the mean divides [low, high].
    const double low = s["low"], high = s["high"], mean = s["mean"];
    CHECK((rows[i].cx - rows[i].x1) / (rows[i].x2 - rows[i].x1) ==
          Approx((mean - low) / (high - low)).margin(0.02));
  }
  // Lower is better for RMSE: svd leads and lies nearer the axis origin.
  const auto folds = chart_rows(
      svg_of(html_of(recfuse::build_report(json::object(), recfuse::test::fold_records())),
             "chart-headline"));
  REQUIRE(folds.size() == 2);
  CHECK(folds[0].label == "svd");
  CHECK(folds[0].cx < folds[1].cx);
}

TEST_CASE("a missing or NaN value draws no mark and never writes nan", "[reports][html]") {
  json report = fixture_report();
  REQUIRE(report["summary"][1]["algorithm"] == "pop");
  report["summary"][1]["metrics"]["ndcg@10"]["mean"] = std::nan("");  // NaN stays a number
  report["summary"][1]["metrics"]["ndcg@10"]["low"] = nullptr;
  report["summary"][0]["metrics"]["ndcg@10"]["high"] = nullptr;  // a dot without whisker
  report["summary"][0]["latency_ms"]["p99"] = std::nan("");
  report["summary"][0]["latency_ms"]["p50"] = std::numeric_limits<double>::infinity();
  const std::string html = html_of(report);
  CHECK(tag_problem(html) == "");
  for (const char* bad : {"nan", "inf", "null"}) CHECK(lower(html).find(bad) == std::string::npos);
  check_coordinates_finite(html);
  const auto rows = chart_rows(svg_of(html, "chart-headline"));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].label == "als");
  CHECK(std::isfinite(rows[0].cx));
  CHECK(std::isnan(rows[0].x1));
  CHECK(html.find("No value, not drawn: pop.") != std::string::npos);
  CHECK(html_row(html, "pop")[2] == "\u2014");
  CHECK(html_row(html, "als")[4] == "\u2014");  // p50 ms
}

TEST_CASE("online reports chart return, regret and one learning curve per policy",
          "[reports][html]") {
  const std::string html = html_of(online_report());
  check_coordinates_finite(html);
  CHECK(lower(html).find("nan") == std::string::npos);
  CHECK(svg_of(html, "chart-headline").empty());  // no headline: the return chart stands in
  const auto ret = chart_rows(svg_of(html, "chart-return"));
  REQUIRE(ret.size() == 3);
  CHECK(ret[0].label == "linucb");
  CHECK(ret[2].label == "random");
  const auto regret = chart_rows(svg_of(html, "chart-regret"));
  REQUIRE(regret.size() == 3);
  CHECK(regret[0].label == "linucb");  // lowest regret first
  CHECK(regret[0].cx < regret[2].cx);

  const std::string curves = svg_of(html, "chart-learning");
  REQUIRE(!curves.empty());
  std::vector<std::string> groups;
  for (auto at = curves.find("<g class=\"series\""); at != std::string::npos;
       at = curves.find("<g class=\"series\"", at + 1))
    groups.push_back(curves.substr(at, curves.find("</g>", at) - at));
  REQUIRE(groups.size() == 3);
  // greedy: mean over seeds 2, 3, 4, 5 -> y falls (SVG y grows downwards) in equal steps.
  std::smatch m;
  REQUIRE(std::regex_search(groups[0], m, std::regex("points=\"([^\"]*)\"")));
  std::vector<double> y;
  std::istringstream points(std::regex_replace(m[1].str(), std::regex(","), " "));
  for (double px, py; points >> px >> py;) y.push_back(py);
  REQUIRE(y.size() == 4);
  CHECK(y[0] > y[1]);
  CHECK(y[0] - y[1] == Approx(y[2] - y[3]).margin(0.2));
  // linucb: window 2 missing in every seed -> a two-point line, then a lone point.
  CHECK(groups[1].find("<title>linucb</title>") != std::string::npos);
  REQUIRE(std::regex_search(groups[1], m, std::regex("points=\"([^\"]*)\"")));
  const std::string line = m[1].str();
  CHECK(std::count(line.begin(), line.end(), ',') == 2);
  CHECK(groups[1].find("<circle") != std::string::npos);
}

TEST_CASE("write_report_files writes report.html beside report.md", "[reports][html]") {
  const auto dir = recfuse::test::temp_dir("report-html");
  const json report = fixture_report();
  const recfuse::ReportFiles files = recfuse::write_report_files(dir, report);
  CHECK(files.html == dir / "report.html");
  REQUIRE(std::filesystem::exists(files.html));
  // Written from the report as given, byte for byte, and the canonical JSON
  // holds everything the page shows.
  const std::string html = recfuse::test::read_file(files.html);
  CHECK(html == html_of(report));
  CHECK(html == html_of(json::parse(recfuse::test::read_file(files.json))));
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.insert(e.path().filename().string());
  // No temporary left behind.
  CHECK(names == std::set<std::string>{"report.csv", "report.html", "report.json", "report.md"});
}

TEST_CASE("an axis over near-equal values keeps short tick labels", "[reports][html]") {
  // Two means a few ulps apart: without padding the axis step is ~1e-16 and
  // the tick labels need seventeen decimals.
  std::ostringstream out;
  recfuse::report_svg::interval_chart(out, "near", "ndcg@10",
                                      {{"a", 0.5, 0.5, 0.5}, {"b", 0.5 + 1e-15, 0.5, 0.5 + 2e-15}}, 4);
  const std::string svg = out.str();
  std::size_t ticks = 0;
  for (std::size_t at = svg.find("class=\"tick\""); at != std::string::npos;
       at = svg.find("class=\"tick\"", at + 1)) {
    const std::size_t open = svg.find('>', at) + 1, close = svg.find('<', open);
    const std::string label = svg.substr(open, close - open);
    INFO(label);
    CHECK(label.size() <= 6);
    ++ticks;
  }
  CHECK(ticks >= 2);
}
