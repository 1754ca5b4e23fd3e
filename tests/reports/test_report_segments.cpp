// Segment breakdown in reports, on the hand-made segment fixture
// (report_fixture.hpp: segment_records, values worked there and below).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "report_fixture.hpp"
#include "reports/report.hpp"

using nlohmann::json;

namespace {

json segment_report() {
  return recfuse::build_report(json::object(), recfuse::test::segment_records());
}

const json& segment_row(const json& report, const std::string& algorithm,
                        const std::string& segment) {
  for (const auto& row : report["segment_comparisons"]) {
    if (row["algorithm"] == algorithm && row["segment"] == segment) return row;
  }
  FAIL("no segment comparison for " << algorithm << " in " << segment);
  throw;
}

}  // namespace

TEST_CASE("summary carries per-segment means with the trial's CI", "[reports][segments]") {
  const json report = segment_report();
  REQUIRE(report["summary"].size() == 2);
  const json& fused = report["summary"][1];
  REQUIRE(fused["algorithm"] == "fused");
  const json& cold = fused["segments"]["users:cold"];
  CHECK(cold["n"].get<double>() == Approx(2));
  CHECK(cold["ndcg@10"]["mean"].get<double>() == Approx(0.45));
  CHECK(cold["ndcg@10"]["low"].get<double>() == Approx(0.40));
  CHECK(cold["ndcg@10"]["ci"] == "bootstrap");
  CHECK(fused["segments"]["items:head"]["ndcg@10"]["mean"].get<double>() == Approx(2.5 / 3));
  CHECK(fused["segments"].size() == 7);
  // The trials keep their blocks and definition; per-user vectors are dropped.
  CHECK(report["trials"][0]["segments"]["users:q4"]["n"] == 1);
  CHECK(report["trials"][0]["segment_definition"]["history_quartile_edges"] ==
        json::array({3, 4, 8}));
  CHECK_FALSE(report["trials"][0].contains("per_user"));
}

TEST_CASE("user segments are re-derived from history and paired per user",
          "[reports][segments]") {
  const json report = segment_report();
  // single vs the best (fused). users:cold = {u0, u1} (history 2, 3 <= 3):
  // diffs 0.2-0.5, 0.2-0.4 = -0.3, -0.2: mean -0.25, sd 0.070711, t = -5 on
  // 1 df, two-sided p = 1 - 2 atan(5) / pi = 0.125666.
  const json& cold = segment_row(report, "single", "users:cold");
  CHECK(cold["baseline"] == "fused");
  CHECK(cold["method"] == "paired_users");
  CHECK(cold["n"] == 2);
  CHECK(cold["mean_diff"].get<double>() == Approx(-0.25));
  CHECK(cold["t"].get<double>() == Approx(-5.0));
  CHECK(cold["t_p"].get<double>() == Approx(0.125666).epsilon(1e-4));
  // users:q3 = {u3, u4} (4 < history <= 8): diffs -0.1, +0.1 cancel.
  const json& q3 = segment_row(report, "single", "users:q3");
  CHECK(q3["n"] == 2);
  CHECK(q3["mean_diff"].get<double>() == Approx(0.0).margin(1e-12));
  // users:q2 and users:q4 hold one user each: no test.
  const json& q4 = segment_row(report, "single", "users:q4");
  CHECK(q4["n"] == 1);
  CHECK(q4["p_holm"].is_null());
  CHECK(q4["note"].get<std::string>().find("fewer than 2") != std::string::npos);
}

TEST_CASE("item segments pair the restricted per-user values", "[reports][segments]") {
  const json report = segment_report();
  // items:head = {u0, u3, u5}: diffs -0.5, -0.1, -0.1: mean -0.233333,
  // sd 0.230940, se 0.133333, t = -1.75 on 2 df: p = 1 - 1.75 / sqrt(1.75^2 + 2) = 0.222222.
  const json& head = segment_row(report, "single", "items:head");
  CHECK(head["n"] == 3);
  CHECK(head["mean_diff"].get<double>() == Approx(-0.7 / 3));
  CHECK(head["t"].get<double>() == Approx(-1.75));
  CHECK(head["t_p"].get<double>() == Approx(0.222222).epsilon(1e-4));
  // items:tail = {u0, u1, u2, u4}: diffs 0.1, -0.3, 0, 0.1: mean -0.025.
  const json& tail = segment_row(report, "single", "items:tail");
  CHECK(tail["n"] == 4);
  CHECK(tail["mean_diff"].get<double>() == Approx(-0.025));
}

TEST_CASE("segment tests are Holm-adjusted over the whole segment table",
          "[reports][segments]") {
  const json report = segment_report();
  REQUIRE(report["segment_comparisons"].size() == 7);  // one algorithm x 7 segments
  // Five tested cells (q2, q4 untested). Sorted p: cold 0.125666, q1 0.125666,
  // head 0.222222, tail, q3 1. Holm: 5 x 0.125666 = 0.628330 for cold and q1
  // (the step-down maximum), 3 x 0.222222 = 0.666667 for head.
  CHECK(segment_row(report, "single", "users:cold")["p_holm"].get<double>() ==
        Approx(0.628330).epsilon(1e-4));
  CHECK(segment_row(report, "single", "users:q1")["p_holm"].get<double>() ==
        Approx(0.628330).epsilon(1e-4));
  CHECK(segment_row(report, "single", "items:head")["p_holm"].get<double>() ==
        Approx(0.666667).epsilon(1e-4));
  CHECK(segment_row(report, "single", "users:q3")["p_holm"].get<double>() == Approx(1.0));
  CHECK(segment_row(report, "single", "users:cold")["significant"] == false);
}

TEST_CASE("records without a segment definition are not paired in user segments",
          "[reports][segments]") {
  auto records = recfuse::test::segment_records();
  for (auto& r : records) r.erase("segment_definition");
  const json report = recfuse::build_report(json::object(), records);
  // Falls back to the trial means: one matched trial is not enough for a test.
  const json& cold = segment_row(report, "single", "users:cold");
  CHECK(cold["method"] == "paired_trials");
  CHECK(cold["p_holm"].is_null());
  // Item segments do not need the definition.
  CHECK(segment_row(report, "single", "items:head")["method"] == "paired_users");
}

TEST_CASE("reports without segments have no segment section", "[reports][segments]") {
  const json report =
      recfuse::build_report(recfuse::test::fixture_context(), recfuse::test::fixture_records());
  CHECK_FALSE(report.contains("segment_comparisons"));
  CHECK_FALSE(report["summary"][0].contains("segments"));
  std::ostringstream md;
  recfuse::write_markdown(md, report);
  CHECK(md.str().find("## Segments") == std::string::npos);
}

TEST_CASE("json puts segment keys in canonical order", "[reports][segments]") {
  std::ostringstream out;
  recfuse::write_json(out, segment_report());
  const std::string s = out.str();
  // Segment blocks read mean, low, high, n like the metrics; "n" first in a segment.
  const auto block = s.find("\"users:cold\": {");
  REQUIRE(block != std::string::npos);
  const auto n = s.find("\"n\"", block), ndcg = s.find("\"ndcg@10\"", block);
  CHECK(n < ndcg);
  const auto mean = s.find("\"mean\"", ndcg), low = s.find("\"low\"", ndcg);
  CHECK(mean < low);
  CHECK(s.find("\"segment_comparisons\": [") < s.find("\"trials\": ["));
}
