// build_report / write_json on the hand-written fixture. Expected values are
// worked by hand from tests/fixtures/reports/records/*.json.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>

#include "report_fixture.hpp"
#include "reports/report.hpp"

using nlohmann::json;

namespace {

const json& summary_row(const json& report, const std::string& algorithm) {
  for (const auto& row : report["summary"]) {
    if (row["algorithm"] == algorithm) return row;
  }
  FAIL("no summary row for " << algorithm);
  throw;
}

}  // namespace

TEST_CASE("report has schema version, context and every trial", "[reports][json]") {
  json report = recfuse::build_report(recfuse::test::fixture_context(),
                                      recfuse::test::fixture_records());
  CHECK(report["schema_version"] == recfuse::kReportSchemaVersion);
  CHECK(report["schema_version"] == 1);
  CHECK(report["context"]["git_commit"] == "0123456789abcdef0123456789abcdef01234567");
  CHECK(report["headline_metric"] == "ndcg@10");
  REQUIRE(report["trials"].size() == 4);
  for (const auto& t : report["trials"]) CHECK_FALSE(t.contains("per_user"));
  // The failed trial is kept, with its error, not dropped.
  const json& failed = report["trials"][3];
  CHECK(failed["status"] == "failed");
  CHECK(failed["error"].get<std::string>().find("std::bad_alloc") != std::string::npos);
}

TEST_CASE("summary aggregates per algorithm over seeds", "[reports][json]") {
  json report = recfuse::build_report(recfuse::test::fixture_context(),
                                      recfuse::test::fixture_records());
  REQUIRE(report["summary"].size() == 2);
  CHECK(report["summary"][0]["algorithm"] == "als");  // order of first appearance

  const json& als = summary_row(report, "als");
  CHECK(als["trials"] == 2);
  CHECK(als["ok"] == 2);
  CHECK(als["failed"] == 0);
  // ndcg@10 trial means 0.30 and 0.34: mean 0.32, sd = sqrt(2 * 0.02^2 / 1) = 0.028284,
  // t(0.975, 1) = 12.7062, half width = 12.7062 * 0.028284 / sqrt(2) = 0.254124.
  const json& ndcg = als["metrics"]["ndcg@10"];
  CHECK(ndcg["ci"] == "t");
  CHECK(ndcg["trials"] == 2);
  CHECK(ndcg["mean"].get<double>() == Approx(0.32));
  CHECK(ndcg["low"].get<double>() == Approx(0.32 - 0.254124).epsilon(1e-4));
  CHECK(ndcg["high"].get<double>() == Approx(0.32 + 0.254124).epsilon(1e-4));
  CHECK(als["metrics"]["recall@10"]["mean"].get<double>() == Approx(0.625));
  CHECK(als["metrics"]["coverage@10"]["mean"].get<double>() == Approx(0.65));
  CHECK(als["latency_ms"]["p50"].get<double>() == Approx(0.3));   // median of 0.2, 0.4
  CHECK(als["latency_ms"]["p99"].get<double>() == Approx(0.7));   // median of 0.5, 0.9
  CHECK(als["throughput_users_per_s"].get<double>() == Approx(17000));
  CHECK(als["fit_wall_s"].get<double>() == Approx(2.0));          // mean of 1.5, 2.5
  CHECK(als["peak_rss_bytes"] == 209715200);                       // max
  CHECK(als["model_bytes"] == 2097152);

  const json& pop = summary_row(report, "pop");
  CHECK(pop["trials"] == 2);
  CHECK(pop["ok"] == 1);
  CHECK(pop["failed"] == 1);
  // A single successful trial keeps its own bootstrap CI.
  const json& pop_ndcg = pop["metrics"]["ndcg@10"];
  CHECK(pop_ndcg["ci"] == "bootstrap");
  CHECK(pop_ndcg["mean"].get<double>() == Approx(0.2));
  CHECK(pop_ndcg["low"].get<double>() == Approx(0.1));
  CHECK(pop_ndcg["high"].get<double>() == Approx(0.3));
  CHECK(pop_ndcg["n"] == 5);
  CHECK_FALSE(pop["metrics"].contains("auc"));  // its only value was null
  // The failed trial's 3 GiB is not a measurement of a working run.
  CHECK(pop["peak_rss_bytes"] == 52428800);
}

TEST_CASE("comparison pairs users by id against the best algorithm", "[reports][json]") {
  json report = recfuse::build_report(recfuse::test::fixture_context(),
                                      recfuse::test::fixture_records());
  REQUIRE(report["comparisons"].size() == 1);
  const json& c = report["comparisons"][0];
  CHECK(c["metric"] == "ndcg@10");
  CHECK(c["baseline"] == "als");
  CHECK(c["algorithm"] == "pop");
  CHECK(c["method"] == "paired_users");
  CHECK(c["matched_trials"] == 1);  // pop seed 2 failed: only (fold "", seed 1) pairs
  // pop lists users 3,2,1,0,7; als 0..3 (seed 1). User 7 has no partner.
  // diffs pop - als by user: 0.3-0.5, 0.1-0.2, 0.2-0.3, 0.2-0.2 = -0.2, -0.1, -0.1, 0
  // mean -0.1; sd = sqrt(0.02 / 3) = 0.081650; d_z = -1.224745; t = -2.449490;
  // CI = -0.1 +- t(0.975, 3) 3.182446 * 0.040825 = [-0.229924, 0.029924].
  CHECK(c["n"] == 4);
  CHECK(c["mean_diff"].get<double>() == Approx(-0.1));
  CHECK(c["mean_a"].get<double>() == Approx(0.2));
  CHECK(c["mean_b"].get<double>() == Approx(0.3));
  CHECK(c["effect_size"].get<double>() == Approx(-1.224745).epsilon(1e-4));
  CHECK(c["t"].get<double>() == Approx(-2.449490).epsilon(1e-4));
  CHECK(c["diff_low"].get<double>() == Approx(-0.229924).epsilon(1e-3));
  CHECK(c["diff_high"].get<double>() == Approx(0.029924).epsilon(1e-3));
  CHECK(c["t_p"].get<double>() == Approx(0.0917).margin(2e-3));
  CHECK(c["p_holm"].get<double>() == Approx(c["t_p"].get<double>()));  // family of one
  CHECK(c["significant"] == false);
  CHECK(c["w_p"].get<double>() > 0.0);
  CHECK(c["w_p"].get<double>() <= 1.0);
}

TEST_CASE("rating metrics without per-user vectors are paired over trials", "[reports][json]") {
  json report = recfuse::build_report(json::object(), recfuse::test::fold_records());
  CHECK(report["headline_metric"] == "rmse");
  REQUIRE(report["comparisons"].size() == 1);
  const json& c = report["comparisons"][0];
  CHECK(c["baseline"] == "svd");  // lower RMSE is better: 0.9333 < 0.95
  CHECK(c["algorithm"] == "bias");
  CHECK(c["direction"] == "lower_is_better");
  CHECK(c["method"] == "paired_trials");
  CHECK(c["n"] == 3);
  // diffs bias - svd per fold: u10 0.02, u1 0.02, u2 0.01 -> mean 0.016667
  CHECK(c["mean_diff"].get<double>() == Approx(0.05 / 3));
}

TEST_CASE("a single matched trial without per-user vectors is skipped with a note",
          "[reports][json]") {
  auto records = recfuse::test::fold_records();
  records.resize(2);  // fold u10 only
  json report = recfuse::build_report(json::object(), records);
  REQUIRE(report["comparisons"].size() == 1);
  const json& c = report["comparisons"][0];
  CHECK(c["n"] == 1);  // one (fold, seed) pair: no test possible
  CHECK(c["method"] == "paired_trials");
  CHECK_FALSE(c.contains("t_p"));
  CHECK(c["p_holm"].is_null());
  CHECK(c["note"].get<std::string>().find("skipped") != std::string::npos);
}

TEST_CASE("headline metric falls back to the smallest ndcg cutoff, then rmse",
          "[reports][json]") {
  auto record = [](json metrics) {
    return json{{"algorithm", "a"}, {"status", "ok"}, {"metrics", std::move(metrics)}};
  };
  auto headline = [](std::vector<json> records) {
    return recfuse::build_report(json::object(), records)["headline_metric"];
  };
  CHECK(headline({record({{"ndcg@20", {{"mean", 0.1}}}, {"ndcg@5", {{"mean", 0.1}}},
                          {"rmse", {{"mean", 0.9}}}})}) == "ndcg@5");
  CHECK(headline({record({{"ndcg@20", {{"mean", 0.1}}}, {"ndcg@10", {{"mean", 0.1}}}})}) ==
        "ndcg@10");
  CHECK(headline({record({{"mae", {{"mean", 0.7}}}, {"rmse", {{"mean", 0.9}}}})}) == "rmse");
  CHECK(headline({record({{"coverage@10", {{"mean", 0.7}}}})}).is_null());
}

TEST_CASE("write_json: NaN as null, canonical key order, trailing newline", "[reports][json]") {
  json report = recfuse::build_report(recfuse::test::fixture_context(),
                                      recfuse::test::fixture_records());
  report["summary"][0]["fit_wall_s"] = std::numeric_limits<double>::quiet_NaN();
  std::ostringstream out;
  recfuse::write_json(out, report);
  const std::string text = out.str();
  CHECK(text.back() == '\n');
  CHECK(text.find("NaN") == std::string::npos);
  CHECK(text.find("nan") == std::string::npos);
  CHECK(text.find("\"fit_wall_s\": null") != std::string::npos);
  // Keys in canonical order, not nlohmann's alphabetical one.
  CHECK(text.find("\"schema_version\"") < text.find("\"context\""));
  CHECK(text.find("\"context\"") < text.find("\"summary\""));
  CHECK(text.find("\"record_version\"") < text.find("\"trial_id\""));
  CHECK(text.find("\"mean\": 0.2,") < text.find("\"low\": 0.1,"));
  CHECK(text.rfind("\"trials\": [") > text.find("\"comparisons\""));
  // Two-space indentation and it reads back to the same report (NaN aside).
  CHECK(text.find("\n  \"context\": {") != std::string::npos);
  json back = json::parse(text);
  CHECK(back["summary"][0]["fit_wall_s"].is_null());
  CHECK(back["trials"] == report["trials"]);
}

TEST_CASE("records with missing fields never throw", "[reports][json]") {
  std::vector<json> records = {json{{"status", "crashed"}}, json::object(),
                               json{{"algorithm", "x"}, {"status", "ok"}, {"metrics", 3}}};
  json report;
  REQUIRE_NOTHROW(report = recfuse::build_report(json::object(), records));
  CHECK(report["trials"].size() == 3);
  std::ostringstream md, csv, js;
  REQUIRE_NOTHROW(recfuse::write_markdown(md, report));
  REQUIRE_NOTHROW(recfuse::write_csv(csv, report));
  REQUIRE_NOTHROW(recfuse::write_json(js, report));
  CHECK(md.str().find("crashed") != std::string::npos);
}

TEST_CASE("Holm adjustment is applied across the rows of one metric", "[reports][json]") {
  auto records = recfuse::test::fold_records();
  // A third, clearly worse algorithm: u10 1.00, u1 1.10, u2 1.06.
  const std::vector<std::pair<std::string, double>> worse = {
      {"u10", 1.00}, {"u1", 1.10}, {"u2", 1.06}};
  for (const auto& [fold, rmse] : worse) {
    records.push_back({{"algorithm", "mean"}, {"seed", 1}, {"fold", fold}, {"status", "ok"},
                       {"metrics", {{"rmse", {{"mean", rmse}}}}}});
  }
  json report = recfuse::build_report(json::object(), records);
  REQUIRE(report["comparisons"].size() == 2);
  json bias = report["comparisons"][0], mean = report["comparisons"][1];
  REQUIRE(bias["algorithm"] == "bias");
  REQUIRE(mean["algorithm"] == "mean");
  // mean - svd diffs: 0.08, 0.17, 0.11 -> mean 0.12
  CHECK(mean["mean_diff"].get<double>() == Approx(0.12));
  double p_bias = bias["t_p"].get<double>(), p_mean = mean["t_p"].get<double>();
  // Holm: the smaller p is multiplied by 2, the larger by 1, then made monotone.
  double small = std::min(p_bias, p_mean), large = std::max(p_bias, p_mean);
  double adj_small = std::min(1.0, 2 * small), adj_large = std::max(adj_small, large);
  const json& row_small = p_bias < p_mean ? bias : mean;
  const json& row_large = p_bias < p_mean ? mean : bias;
  CHECK(row_small["p_holm"].get<double>() == Approx(adj_small));
  CHECK(row_large["p_holm"].get<double>() == Approx(adj_large));
}
