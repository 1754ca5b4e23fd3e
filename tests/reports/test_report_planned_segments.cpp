// Planned comparisons per segment (report.json planned_segment_comparisons,
// report.md "Planned comparisons by segment", planned_segment_comparisons.csv)
// on hand-made records. Expected values are worked here from the per-user
// values, not by the report's pairing, segment or Holm code.
//
// One trial each (fold "", seed 1) on users 0..5, training history
// 1 2 2 9 10 12; definition: edges 2 / 5 / 8, cold_user_max 0, so
// users:q1 = {u0, u1, u2} (h <= 2) and users:q4 = {u3, u4, u5} (h > 8).
// ndcg@10 per user   u0   u1   u2 |  u3   u4   u5
//   fused            0.2  0.3  0.4 | 0.8  0.9  0.7
//   als              0.4  0.4  0.6 | 0.5  0.7  0.6
//   pop              0.1  0.2  0.2 | 0.3  0.4  0.1
//   bare             0.3 everywhere, and no segments at all.
// Planned: fused vs als, fused vs pop, bare vs als. Per cell, df = 2,
// p = 1 - |t| / sqrt(t^2 + 2):
//   A fused-als q1: -0.2 -0.1 -0.2  mean -1/6, sd 0.057735, t = -5      p 0.037750
//   B fused-als q4: +0.3 +0.2 +0.1  mean  0.2, sd 0.1,      t = 2 sqrt 3 p 0.074180
//   C fused-pop q1: +0.1 +0.1 +0.2  mean 2/15, sd 0.057735, t = 4       p 0.057191
//   D fused-pop q4: +0.5 +0.5 +0.6  mean 8/15, sd 0.057735, t = 16      p 0.0038835
// fused loses to als on light users and wins on heavy ones: the signs differ.
// bare has no segment blocks: no cell. Holm over the 4 tested cells:
//   D 4 x 0.0038835 = 0.015534; A 3 x 0.037750 = 0.113250;
//   C 2 x 0.057191 = 0.114382; B max(0.114382, 0.074180) = 0.114382.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "report_fixture.hpp"
#include "reports/report.hpp"

using nlohmann::json;
using recfuse::test::context_with;
using recfuse::test::markdown_of;
using recfuse::test::md_section;
using recfuse::test::ok_record;
using recfuse::test::t_p_df2;

namespace {

json block(double mean, int n) {
  return {{"mean", mean}, {"low", mean - 0.05}, {"high", mean + 0.05}, {"n", n}};
}

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double sum = 0;
  for (std::size_t i = from; i < to; ++i) sum += v[i];
  return sum / static_cast<double>(to - from);
}

json segmented_record(const std::string& label, int index, const std::vector<double>& ndcg,
                      bool with_segments) {
  json r = ok_record(label, label, index, {{"ndcg@10", block(mean_of(ndcg, 0, 6), 6)}});
  r["per_user"] = {{"users", {0, 1, 2, 3, 4, 5}}, {"ndcg@10", ndcg}};
  if (!with_segments) return r;
  r["segments"] = {{"users:q1", {{"n", 3}, {"ndcg@10", block(mean_of(ndcg, 0, 3), 3)}}},
                   {"users:q4", {{"n", 3}, {"ndcg@10", block(mean_of(ndcg, 3, 6), 3)}}}};
  r["segment_definition"] = {{"cold_user_max", 0}, {"history_quartile_edges", {2, 5, 8}},
                             {"head_fraction", 0.2}, {"head_min_popularity", 10},
                             {"head_items", 5}};
  r["per_user"]["history"] = {1, 2, 2, 9, 10, 12};
  return r;
}

std::vector<json> records() {
  return {segmented_record("fused", 0, {0.2, 0.3, 0.4, 0.8, 0.9, 0.7}, true),
          segmented_record("als", 1, {0.4, 0.4, 0.6, 0.5, 0.7, 0.6}, true),
          segmented_record("pop", 2, {0.1, 0.2, 0.2, 0.3, 0.4, 0.1}, true),
          segmented_record("bare", 3, {0.3, 0.3, 0.3, 0.3, 0.3, 0.3}, false)};
}

json planned_report() {
  return recfuse::build_report(
      context_with({{"fused", "als"}, {"fused", "pop"}, {"bare", "als"}}), records());
}

const json& cell(const json& report, const std::string& treatment, const std::string& baseline,
                 const std::string& segment) {
  for (const auto& r : report["planned_segment_comparisons"]) {
    if (r["algorithm"] == treatment && r["baseline"] == baseline && r["segment"] == segment) {
      return r;
    }
  }
  FAIL("no planned segment row " << treatment << " vs " << baseline << " in " << segment);
  throw;
}

}  // namespace

TEST_CASE("planned pairs per segment: users assigned by history, treatment - baseline",
          "[reports][planned][segments]") {
  const json report = planned_report();
  REQUIRE(report.contains("planned_segment_comparisons"));
  // 2 pairs x 2 segments; bare has no segments, so bare vs als has no cell.
  REQUIRE(report["planned_segment_comparisons"].size() == 4);

  const json& a = cell(report, "fused", "als", "users:q1");
  CHECK(a["metric"] == "ndcg@10");
  CHECK(a["method"] == "paired_users");
  CHECK(a["n"] == 3);
  CHECK(a["mean_a"].get<double>() == Approx(0.3));
  CHECK(a["mean_b"].get<double>() == Approx(1.4 / 3));
  CHECK(a["mean_diff"].get<double>() == Approx(-1.0 / 6));
  CHECK(a["t"].get<double>() == Approx(-5.0));
  CHECK(a["t_p"].get<double>() == Approx(t_p_df2(-5.0)).epsilon(1e-6));

  const json& b = cell(report, "fused", "als", "users:q4");
  CHECK(b["n"] == 3);
  CHECK(b["mean_diff"].get<double>() == Approx(0.2));  // the other sign
  CHECK(b["t"].get<double>() == Approx(2.0 * std::sqrt(3.0)));
  CHECK(b["t_p"].get<double>() == Approx(t_p_df2(2.0 * std::sqrt(3.0))).epsilon(1e-6));

  CHECK(cell(report, "fused", "pop", "users:q1")["mean_diff"].get<double>() == Approx(2.0 / 15));
  CHECK(cell(report, "fused", "pop", "users:q1")["t"].get<double>() == Approx(4.0));
  CHECK(cell(report, "fused", "pop", "users:q4")["mean_diff"].get<double>() == Approx(8.0 / 15));
  CHECK(cell(report, "fused", "pop", "users:q4")["t"].get<double>() == Approx(16.0));

  // The overall planned row keeps its meaning: all six users, one row per pair.
  const json& planned = report["planned_comparisons"];
  REQUIRE(planned.size() == 3);
  CHECK(planned[0]["n"] == 6);
  CHECK(planned[0]["mean_diff"].get<double>() == Approx(0.1 / 6));
  CHECK_FALSE(planned[0].contains("segment"));
}

TEST_CASE("planned segment cells are Holm-adjusted over every pair x segment cell",
          "[reports][planned][segments]") {
  const json report = planned_report();
  const double p_a = t_p_df2(-5.0), p_b = t_p_df2(2.0 * std::sqrt(3.0)), p_c = t_p_df2(4.0),
               p_d = t_p_df2(16.0);
  REQUIRE(p_a == Approx(0.037750).epsilon(1e-4));
  REQUIRE(p_b == Approx(0.074180).epsilon(1e-4));
  REQUIRE(p_c == Approx(0.057191).epsilon(1e-4));
  REQUIRE(p_d == Approx(0.0038835).epsilon(1e-4));
  const json& d = cell(report, "fused", "pop", "users:q4");
  CHECK(d["p_holm"].get<double>() == Approx(4 * p_d).epsilon(1e-6));  // 0.015534
  CHECK(d["significant"] == true);
  const json& a = cell(report, "fused", "als", "users:q1");
  CHECK(a["p_holm"].get<double>() == Approx(3 * p_a).epsilon(1e-6));  // 0.113250
  CHECK(a["significant"] == false);
  CHECK(cell(report, "fused", "pop", "users:q1")["p_holm"].get<double>() ==
        Approx(2 * p_c).epsilon(1e-6));  // 0.114382
  // B's own 1 x p is below C's adjusted value: the step-down maximum.
  CHECK(cell(report, "fused", "als", "users:q4")["p_holm"].get<double>() ==
        Approx(2 * p_c).epsilon(1e-6));

  // Declaring pairs leaves the vs-best segment table (its own family) as it was.
  const json plain = recfuse::build_report(recfuse::test::fixture_context(), records());
  CHECK_FALSE(plain.contains("planned_segment_comparisons"));
  REQUIRE(plain.contains("segment_comparisons"));
  CHECK(plain["segment_comparisons"] == report["segment_comparisons"]);
}

TEST_CASE("report.md shows planned comparisons by segment only with pairs and segments",
          "[reports][planned][segments]") {
  const json report = planned_report();
  const std::string md = markdown_of(report);
  const std::string section = md_section(md, "Planned comparisons by segment: ndcg@10");
  REQUIRE_FALSE(section.empty());
  CHECK(md.find("## Planned comparisons by segment") > md.find("## Segments: ndcg@10 vs the best"));
  CHECK(section.find("over the 4 tested cell(s) of this table") != std::string::npos);
  CHECK(section.find("| treatment | baseline | users:q1 | users:q4 |") != std::string::npos);
  CHECK(section.find("| fused | als | -0.1667 ns (n=3) | +0.2000 ns (n=3) |") !=
        std::string::npos);
  CHECK(section.find("| fused | pop | +0.1333 ns (n=3) | +0.5333 * (n=3) |") !=
        std::string::npos);
  CHECK(section.find("| bare | als | n/a | n/a |") != std::string::npos);  // stays visible
  CHECK(markdown_of(json::parse([&] {
          std::ostringstream js;
          recfuse::write_json(js, report);
          return js.str();
        }())) == md);

  // No pairs declared: no section, no key.
  const json no_pairs = recfuse::build_report(recfuse::test::fixture_context(), records());
  CHECK(md_section(markdown_of(no_pairs), "Planned comparisons by segment").empty());
  CHECK_FALSE(md_section(markdown_of(no_pairs), "Segments: ndcg@10 vs the best").empty());
  // Pairs declared but no segments: the overall planned table only.
  auto flat = records();
  for (auto& r : flat) r.erase("segments");
  const json no_segments = recfuse::build_report(context_with({{"fused", "als"}}), flat);
  CHECK_FALSE(no_segments.contains("planned_segment_comparisons"));
  const std::string md_flat = markdown_of(no_segments);
  CHECK(md_section(md_flat, "Planned comparisons by segment").empty());
  CHECK_FALSE(md_section(md_flat, "Planned comparisons on ndcg@10").empty());
}

TEST_CASE("planned_segment_comparisons.csv and report.json order",
          "[reports][planned][segments]") {
  const json report = planned_report();
  std::ostringstream js;
  recfuse::write_json(js, report);
  const std::string text = js.str();
  const auto key = text.find("\"planned_segment_comparisons\": [");
  REQUIRE(key != std::string::npos);
  CHECK(key > text.find("\"segment_comparisons\": ["));
  CHECK(key < text.find("\"trials\": ["));
  CHECK(text.find("\"metric\": \"ndcg@10\",\n      \"segment\": \"users:q1\"", key) !=
        std::string::npos);

  auto dir = recfuse::test::temp_dir("planned_segments");
  const recfuse::ReportFiles files = recfuse::write_report_files(dir, report);
  CHECK(files.planned_segment_csv == dir / "planned_segment_comparisons.csv");
  std::istringstream lines(recfuse::test::read_file(files.planned_segment_csv));
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0] ==
        "metric,segment,direction,treatment,baseline,method,matched_trials,n,mean_a,mean_b,"
        "mean_diff,diff_low,diff_high,t,t_p,w,w_p,p_holm,effect_size,significant,note\r");
  // Pairs in declared order, segments in display order.
  CHECK(rows[1].rfind("ndcg@10,users:q1,higher_is_better,fused,als,paired_users,1,3,", 0) == 0);
  CHECK(rows[2].rfind("ndcg@10,users:q4,higher_is_better,fused,als,paired_users,1,3,", 0) == 0);
  CHECK(rows[3].rfind("ndcg@10,users:q1,higher_is_better,fused,pop,", 0) == 0);
  CHECK(rows[4].rfind("ndcg@10,users:q4,higher_is_better,fused,pop,", 0) == 0);
  CHECK(rows[4].find(",true,\r") != std::string::npos);  // significant after Holm
  // planned_comparisons.csv keeps its columns and its one row per pair.
  const std::string planned = recfuse::test::read_file(files.planned_csv);
  CHECK(planned.rfind("metric,direction,treatment,baseline,method,", 0) == 0);
  CHECK(std::count(planned.begin(), planned.end(), '\n') == 4);

  // A rerun without pairs removes the earlier per-segment table.
  const recfuse::ReportFiles again =
      recfuse::write_report_files(dir, recfuse::build_report(json::object(), records()));
  CHECK(again.planned_segment_csv.empty());
  CHECK_FALSE(std::filesystem::exists(dir / "planned_segment_comparisons.csv"));
}
