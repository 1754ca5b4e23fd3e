// Planned comparisons ([evaluation] compare, carried in context.scenario.compare):
// the rows, their Holm family and the three writers, on hand-made records.
// Expected values are worked here from the per-user values, not by the
// report's pairing or Holm code.
//
// One trial each (fold "", seed 1) on users 0..2, ndcg@10 per user:
//   stacking 0.5 0.7 0.9   bpr 0.4 0.5 0.6   pop 0.1 0.3 0.2   knn 0.45 0.65 0.8
// Planned: stacking vs bpr, pop vs bpr.
//   stacking - bpr = 0.1 0.2 0.3: mean 0.2, sd 0.1, t = 0.2 / (0.1 / sqrt 3) = 2 sqrt 3
//   pop - bpr = -0.3 -0.2 -0.4:   mean -0.3, sd 0.1, t = -3 sqrt 3
// With df = 2 the two-sided t p-value is 1 - |t| / sqrt(t^2 + 2):
//   p(stacking) = 1 - sqrt(12 / 14) = 0.074180, p(pop) = 1 - sqrt(27 / 29) = 0.035099.
// Holm over these two: pop (smaller) 2 x 0.035099 = 0.070198; stacking
// max(0.070198, 0.074180) = 0.074180.
// Wilcoxon (normal approximation, continuity correction), n = 3, every
// difference one sign: V = 6 or 0, E = 3, Var = 3 * 4 * 7 / 24 = 3.5,
// |z| = 2.5 / sqrt 3.5, p = erfc(|z| / sqrt 2).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "report_fixture.hpp"
#include "reports/context.hpp"
#include "reports/report.hpp"

using nlohmann::json;
using recfuse::test::ok_record;

namespace {

json user_record(const std::string& label, int index, const std::vector<double>& ndcg) {
  double sum = 0;
  for (double v : ndcg) sum += v;
  const double mean = sum / static_cast<double>(ndcg.size());
  json r = ok_record(label, label, index,
                     {{"ndcg@10", {{"mean", mean}, {"low", mean - 0.1}, {"high", mean + 0.1},
                                   {"n", ndcg.size()}}}});
  r["per_user"] = {{"users", {0, 1, 2}}, {"ndcg@10", ndcg}};
  return r;
}

std::vector<json> planned_records() {
  return {user_record("stacking", 0, {0.5, 0.7, 0.9}), user_record("bpr", 1, {0.4, 0.5, 0.6}),
          user_record("pop", 2, {0.1, 0.3, 0.2}), user_record("knn", 3, {0.45, 0.65, 0.8})};
}

// [["treatment", "baseline"], ...] as collect_context writes it.
json pairs_of(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return recfuse::test::context_with(pairs)["scenario"]["compare"];
}

using recfuse::test::context_with;
using recfuse::test::markdown_of;
using recfuse::test::t_p_df2;
using recfuse::test::md_section;

const json& row_of(const json& rows, const std::string& treatment) {
  for (const auto& r : rows) {
    if (r["algorithm"] == treatment) return r;
  }
  FAIL("no row for " << treatment);
  throw;
}

}  // namespace

TEST_CASE("planned comparisons: treatment - baseline, Holm over the planned pairs only",
          "[reports][planned]") {
  const json report =
      recfuse::build_report(context_with({{"stacking", "bpr"}, {"pop", "bpr"}}), planned_records());
  REQUIRE(report.contains("planned_comparisons"));
  const json& rows = report["planned_comparisons"];
  REQUIRE(rows.size() == 2);

  const double p_stacking = t_p_df2(2.0 * std::sqrt(3.0));
  const double p_pop = t_p_df2(-3.0 * std::sqrt(3.0));
  REQUIRE(p_stacking == Approx(0.074180).epsilon(1e-4));
  REQUIRE(p_pop == Approx(0.035099).epsilon(1e-4));
  const double half = 4.302653 * 0.1 / std::sqrt(3.0);  // t(0.975, 2) * se
  const double w_p = std::erfc(2.5 / std::sqrt(3.5) / std::sqrt(2.0));

  const json& s = row_of(rows, "stacking");
  CHECK(s["metric"] == "ndcg@10");
  CHECK(s["baseline"] == "bpr");
  CHECK(s["method"] == "paired_users");
  CHECK(s["n"] == 3);
  CHECK(s["mean_a"].get<double>() == Approx(0.7));
  CHECK(s["mean_b"].get<double>() == Approx(0.5));
  CHECK(s["mean_diff"].get<double>() == Approx(0.2));
  CHECK(s["diff_low"].get<double>() == Approx(0.2 - half).epsilon(1e-5));
  CHECK(s["diff_high"].get<double>() == Approx(0.2 + half).epsilon(1e-5));
  CHECK(s["effect_size"].get<double>() == Approx(2.0));
  CHECK(s["t_p"].get<double>() == Approx(p_stacking).epsilon(1e-6));
  CHECK(s["w_p"].get<double>() == Approx(w_p).epsilon(1e-6));
  CHECK(s["p_holm"].get<double>() == Approx(p_stacking).epsilon(1e-6));  // max(2 p_pop, p_stacking)
  CHECK(s["significant"] == false);

  const json& p = row_of(rows, "pop");
  CHECK(p["baseline"] == "bpr");
  CHECK(p["mean_diff"].get<double>() == Approx(-0.3));
  CHECK(p["effect_size"].get<double>() == Approx(-3.0));
  CHECK(p["t_p"].get<double>() == Approx(p_pop).epsilon(1e-6));
  CHECK(p["w_p"].get<double>() == Approx(w_p).epsilon(1e-6));
  CHECK(p["p_holm"].get<double>() == Approx(2.0 * p_pop).epsilon(1e-6));
  CHECK(p["significant"] == false);
}

TEST_CASE("planned comparisons leave the table against the best as it was",
          "[reports][planned]") {
  const json plain = recfuse::build_report(recfuse::test::fixture_context(), planned_records());
  const json planned =
      recfuse::build_report(context_with({{"stacking", "bpr"}, {"pop", "bpr"}}), planned_records());
  CHECK_FALSE(plain.contains("planned_comparisons"));
  CHECK(planned["comparisons"] == plain["comparisons"]);
  // Its own family: bpr, pop, knn against stacking (the best), three rows.
  REQUIRE(plain["comparisons"].size() == 3);
  CHECK(row_of(plain["comparisons"], "bpr")["baseline"] == "stacking");
  const std::string md_plain = markdown_of(plain), md_planned = markdown_of(planned);
  const std::string vs_best = md_section(md_plain, "Comparison on ndcg@10");
  REQUIRE_FALSE(vs_best.empty());
  CHECK(md_section(md_planned, "Comparison on ndcg@10") == vs_best);
  CHECK(md_section(md_plain, "Planned comparisons").empty());
}

TEST_CASE("planned comparisons in report.md, report.json and planned_comparisons.csv",
          "[reports][planned]") {
  const json report =
      recfuse::build_report(context_with({{"stacking", "bpr"}, {"pop", "bpr"}}), planned_records());
  const std::string md = markdown_of(report);
  const std::string planned = md_section(md, "Planned comparisons on ndcg@10");
  REQUIRE_FALSE(planned.empty());
  CHECK(md.find("## Planned comparisons on ndcg@10") < md.find("## Comparison on ndcg@10"));
  CHECK(planned.find("the 2 tested comparison(s) of this table only") != std::string::npos);
  CHECK(planned.find("mean diff = treatment - baseline") != std::string::npos);
  CHECK(planned.find("| treatment | baseline | method | n | mean diff [95% CI] | d_z | t-test p | "
                     "Wilcoxon p | Holm p | sig | note |") != std::string::npos);
  CHECK(planned.find("| stacking | bpr | paired_users | 3 | 0.2000 [") != std::string::npos);
  CHECK(planned.find("| 2.000 | 0.0742 | ") != std::string::npos);
  CHECK(planned.find("| pop | bpr | paired_users | 3 | -0.3000 [") != std::string::npos);
  CHECK(planned.find("| 0.0351 | 0.1814 | 0.0702 | ns |") != std::string::npos);

  // report.json is canonical: every format regenerates from it.
  std::ostringstream js;
  recfuse::write_json(js, report);
  const std::string text = js.str();
  CHECK(text.find("\"planned_comparisons\"") > text.find("\"comparisons\""));
  CHECK(text.find("\"compare\": [") != std::string::npos);
  const json back = json::parse(text);
  CHECK(markdown_of(back) == md);

  auto dir = recfuse::test::temp_dir("planned");
  const recfuse::ReportFiles files = recfuse::write_report_files(dir, report);
  CHECK(files.planned_csv == dir / "planned_comparisons.csv");
  const std::string csv = recfuse::test::read_file(files.planned_csv);
  std::istringstream lines(csv);
  std::string header, first, second, extra;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK_FALSE(std::getline(lines, extra));
  CHECK(header ==
        "metric,direction,treatment,baseline,method,matched_trials,n,mean_a,mean_b,mean_diff,"
        "diff_low,diff_high,t,t_p,w,w_p,p_holm,effect_size,significant,note\r");
  CHECK(first.rfind("ndcg@10,higher_is_better,stacking,bpr,paired_users,1,3,", 0) == 0);
  CHECK(second.rfind("ndcg@10,higher_is_better,pop,bpr,paired_users,1,3,", 0) == 0);
  // report.csv keeps one row per trial.
  const std::string trials_csv = recfuse::test::read_file(files.csv);
  CHECK(std::count(trials_csv.begin(), trials_csv.end(), '\n') == 5);

  // A rerun without planned comparisons removes the earlier table.
  const recfuse::ReportFiles again = recfuse::write_report_files(
      dir, recfuse::build_report(recfuse::test::fixture_context(), planned_records()));
  CHECK(again.planned_csv.empty());
  CHECK_FALSE(std::filesystem::exists(dir / "planned_comparisons.csv"));
}

TEST_CASE("a planned pair that cannot be tested stays visible and outside Holm's family",
          "[reports][planned]") {
  auto records = planned_records();
  json failed = user_record("ghost", 4, {0.1, 0.1, 0.1});
  failed["status"] = "failed";
  failed.erase("metrics");
  records.push_back(failed);
  const json report = recfuse::build_report(
      context_with({{"stacking", "bpr"}, {"pop", "bpr"}, {"ghost", "bpr"}, {"ghost", "nobody"}}),
      records);
  const json& rows = report["planned_comparisons"];
  // ghost vs nobody: neither side reports ndcg@10, so it is in no family.
  REQUIRE(rows.size() == 3);
  const json& ghost = row_of(rows, "ghost");
  CHECK(ghost["note"] == "skipped: no ok trial of 'ghost' reports ndcg@10");
  CHECK(ghost["p_holm"].is_null());
  CHECK(ghost["n"] == 0);
  // The two tested pairs are adjusted as before: the untested one adds no test.
  CHECK(row_of(rows, "pop")["p_holm"].get<double>() ==
        Approx(2.0 * t_p_df2(-3.0 * std::sqrt(3.0))).epsilon(1e-6));
  const std::string md = markdown_of(report);
  CHECK(md_section(md, "Planned comparisons on ndcg@10").find("the 2 tested comparison(s)") !=
        std::string::npos);
  CHECK(md_section(md, "Planned comparisons not tested").find("ghost vs nobody") !=
        std::string::npos);
}

TEST_CASE("planned comparisons pair trials when there are no per-user values, lower is better",
          "[reports][planned]") {
  // fold_records: rmse of svd and bias on folds u10, u1, u2, no per-user vectors.
  // svd - bias = -0.02, -0.02, -0.01: mean -0.016667, sd 0.0057735, t = -5,
  // p = 1 - 5 / sqrt(27) = 0.037750; one pair, so Holm p = p.
  const json report =
      recfuse::build_report(context_with({{"svd", "bias"}}), recfuse::test::fold_records());
  REQUIRE(report["planned_comparisons"].size() == 1);
  const json& r = report["planned_comparisons"][0];
  CHECK(r["metric"] == "rmse");
  CHECK(r["direction"] == "lower_is_better");
  CHECK(r["method"] == "paired_trials");
  CHECK(r["n"] == 3);
  CHECK(r["mean_diff"].get<double>() == Approx(-0.05 / 3));
  CHECK(r["t_p"].get<double>() == Approx(t_p_df2(-5.0)).epsilon(1e-6));
  CHECK(r["p_holm"].get<double>() == Approx(t_p_df2(-5.0)).epsilon(1e-6));
  CHECK(r["significant"] == true);
}

TEST_CASE("collect_context records the planned pairs under scenario.compare",
          "[reports][planned][context]") {
  recfuse::ContextInputs in;
  CHECK_FALSE(recfuse::collect_context(in)["scenario"].contains("compare"));
  in.planned_comparisons = {{"stacking", "bpr"}, {"bpr[lr=0.05]", "pop"}};
  CHECK(recfuse::collect_context(in)["scenario"]["compare"] ==
        pairs_of({{"stacking", "bpr"}, {"bpr[lr=0.05]", "pop"}}));
}
