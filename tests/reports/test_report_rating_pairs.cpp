// RMSE and MAE paired per user on the users' error sums (per_user
// "rating_users", "rating_n", "rating_sse", "rating_sae"), in report.json's
// comparisons and in `recfuse compare`; per trial for records without them.
// Expected values are worked here from the per-user sums (mpmath, 30
// digits), not by the report's pairing code.
//
// Six users (ids 1..6) with n = 2 3 1 4 2 3 test ratings (15 in all), the
// same in every seed (a deterministic algorithm on one fixed split):
//   SSE a  1.0 2.5 0.3 3.0 1.2 2.0  (9.0)   SAE a  1.2 2.9 0.5 3.4 1.5 2.6  (12.1)
//   SSE b  1.2 2.0 0.5 3.5 1.0 2.6  (9.8)   SAE b  1.6 2.4 0.7 3.9 1.3 3.1  (13.0)
// RMSE a = sqrt(9 / 15) = 0.816497, b = sqrt(9.8 / 15) = 0.848528;
// MAE a = 12.1 / 15 = 0.806667, b = 13 / 15 = 0.866667.
// b - a per user, SSE: 0.2 -0.5 0.2 0.5 -0.2 0.6, mean 0.133333,
//   t = 0.781465, df = 5, p = 0.469896 (R: t.test(d)); summed over three
//   seeds every d triples and t stays the same.
//   95% CI of the MSE difference: (0.133333 -+ 2.570582 sd / sqrt 6) * 6 / 15
//   = [-0.122104, 0.228770]; over RMSE_a + RMSE_b: [-0.073334, 0.137397].
// b - a per user, SAE: 0.4 -0.5 0.2 0.5 -0.2 0.5: t = 0.888523, p = 0.414954,
//   CI of the MAE difference [-0.113586, 0.233586].
// Paired per trial instead (before), every seed's difference is the same:
// sd 0, p = 0, and compare called a 3.9% RMSE change a significant REGRESSION.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "report_fixture.hpp"
#include "reports/compare.hpp"
#include "reports/report.hpp"

using nlohmann::json;

namespace {

struct Sums {
  std::vector<int> users, n;
  std::vector<double> sse, sae;
};

const Sums kA{{1, 2, 3, 4, 5, 6}, {2, 3, 1, 4, 2, 3}, {1.0, 2.5, 0.3, 3.0, 1.2, 2.0},
              {1.2, 2.9, 0.5, 3.4, 1.5, 2.6}};
const Sums kB{{1, 2, 3, 4, 5, 6}, {2, 3, 1, 4, 2, 3}, {1.2, 2.0, 0.5, 3.5, 1.0, 2.6},
              {1.6, 2.4, 0.7, 3.9, 1.3, 3.1}};

double total(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

json interval(double mean, int n) {
  return {{"mean", mean}, {"low", mean - 0.01}, {"high", mean + 0.01}, {"n", n}};
}

/// An ok trial of `label` on (fold u1, seed) as trial.cpp writes it: rmse and
/// mae over the sums and, with `vectors`, the per-user rating errors.
json rated_trial(const std::string& label, int seed, const Sums& s, bool vectors = true) {
  double n = 0;
  for (int k : s.n) n += k;
  json r = {{"algorithm", label}, {"trial_id", label + std::to_string(seed)}, {"fold", "u1"},
            {"seed", seed}, {"status", "ok"}, {"dataset", {{"sha256", "d1"}}},
            {"metrics", {{"rmse", interval(std::sqrt(total(s.sse) / n), static_cast<int>(n))},
                         {"mae", interval(total(s.sae) / n, static_cast<int>(n))}}}};
  // Ranking users are another set (those with a relevant rating): unused here.
  r["per_user"] = {{"users", {2, 4}}, {"history", {5, 7}}};
  if (vectors) {
    r["per_user"]["rating_users"] = s.users;
    r["per_user"]["rating_n"] = s.n;
    r["per_user"]["rating_sse"] = s.sse;
    r["per_user"]["rating_sae"] = s.sae;
  }
  return r;
}

const json& comparison(const json& report, const std::string& metric, const std::string& label) {
  for (const auto& row : report.at("comparisons"))
    if (row.at("metric") == metric && row.at("algorithm") == label) return row;
  FAIL("no " << metric << " comparison row of " << label);
  static const json none;
  return none;
}

recfuse::RunForCompare run_of(std::vector<json> records) {
  recfuse::RunForCompare run;
  json summary = json::array({{{"algorithm", "model"}, {"metrics", records.front().at("metrics")}}});
  run.report = {{"schema_version", 1}, {"headline_metric", "rmse"}, {"summary", summary}};
  run.records = std::move(records);
  return run;
}

const recfuse::CompareRow& row_of(const recfuse::CompareResult& res, const std::string& metric) {
  for (const auto& r : res.rows)
    if (r.metric == metric) return r;
  FAIL("no compare row for " << metric);
  return res.rows.front();
}

}  // namespace

TEST_CASE("rmse of a deterministic algorithm over seeds of one split pairs users, not seeds") {
  std::vector<json> records;
  for (int seed = 1; seed <= 3; ++seed) {
    records.push_back(rated_trial("a", seed, kA));
    records.push_back(rated_trial("b", seed, kB));
  }
  const json report = recfuse::build_report(recfuse::test::fixture_context(), records);
  const json& row = comparison(report, "rmse", "b");  // against the best, a
  INFO(row.dump(1));
  CHECK(row.at("baseline") == "a");
  CHECK(row.at("method") == "paired_user_errors");
  CHECK(row.at("matched_trials") == 3);
  CHECK(row.at("n") == 6);  // users, each once over the three seeds
  CHECK(row.at("t_p").get<double>() == Approx(0.469896).epsilon(1e-5));
  CHECK(row.at("t").get<double>() == Approx(0.781465).epsilon(1e-5));
  CHECK(row.at("mean_a").get<double>() == Approx(0.848528).epsilon(1e-6));
  CHECK(row.at("mean_b").get<double>() == Approx(0.816497).epsilon(1e-6));
  CHECK(row.at("mean_diff").get<double>() == Approx(0.848528 - 0.816497).epsilon(1e-4));
  CHECK(row.at("diff_low").get<double>() == Approx(-0.073334).epsilon(1e-4));
  CHECK(row.at("diff_high").get<double>() == Approx(0.137397).epsilon(1e-4));
  CHECK(row.at("significant") == false);
  CHECK_THAT(row.at("note").get<std::string>(), Catch::Contains("users independent"));
}

TEST_CASE("report.json compares mae per user too in MAE units") {
  std::vector<json> records;
  for (int seed = 1; seed <= 3; ++seed) {
    records.push_back(rated_trial("a", seed, kA));
    records.push_back(rated_trial("b", seed, kB));
  }
  const json report = recfuse::build_report(recfuse::test::fixture_context(), records);
  const json& row = comparison(report, "mae", "b");
  INFO(row.dump(1));
  CHECK(row.at("baseline") == "a");
  CHECK(row.at("method") == "paired_user_errors");
  CHECK(row.at("n") == 6);
  CHECK(row.at("t").get<double>() == Approx(0.888523).epsilon(1e-5));
  CHECK(row.at("t_p").get<double>() == Approx(0.414954).epsilon(1e-5));
  CHECK(row.at("mean_a").get<double>() == Approx(0.866667).epsilon(1e-6));
  CHECK(row.at("mean_b").get<double>() == Approx(0.806667).epsilon(1e-6));
  CHECK(row.at("diff_low").get<double>() == Approx(-0.113586).epsilon(1e-4));
  CHECK(row.at("diff_high").get<double>() == Approx(0.233586).epsilon(1e-4));
  CHECK(row.at("significant") == false);
}

TEST_CASE("compare pairs rmse and mae per user: no false regression over deterministic seeds") {
  std::vector<json> base, cand;
  for (int seed = 1; seed <= 3; ++seed) {
    base.push_back(rated_trial("model", seed, kA));
    cand.push_back(rated_trial("model", seed, kB));
  }
  const auto res = recfuse::compare_runs(run_of(base), run_of(cand), recfuse::CompareOptions{});
  const auto& rmse = row_of(res, "rmse");
  CHECK(rmse.method == "paired_user_errors");
  CHECK(rmse.n == 6);
  CHECK(rmse.p == Approx(0.469896).epsilon(1e-5));
  CHECK(rmse.base == Approx(0.816497).epsilon(1e-6));
  CHECK(rmse.candidate == Approx(0.848528).epsilon(1e-6));
  CHECK_FALSE(rmse.worse);
  const auto& mae = row_of(res, "mae");
  CHECK(mae.method == "paired_user_errors");
  CHECK(mae.p == Approx(0.414954).epsilon(1e-5));
  CHECK(mae.delta == Approx(0.06).epsilon(1e-6));
  CHECK_FALSE(mae.worse);
  CHECK(res.regressions == 0);
}

TEST_CASE("the rmse delta shown and the per-user test agree in sign") {
  // One heavy user (10 ratings) on which a is much better, three light ones
  // (1 rating each) on which b is better:
  //   SSE a 5 1 1 1 (8), b 8 0.5 0.5 0.5 (9.5), 13 ratings:
  //   RMSE a = sqrt(8 / 13) = 0.784465, b = sqrt(9.5 / 13) = 0.854850.
  //   b - a per user: 3 -0.5 -0.5 -0.5, mean 0.375, sd 1.75,
  //   t = 0.428571, df = 3, p = 0.697144.
  // The mean of per-user MSEs points the other way (a 0.875, b 0.575), so
  // a test on per-user metric values would disagree with the RMSE delta.
  const Sums a{{1, 2, 3, 4}, {10, 1, 1, 1}, {5, 1, 1, 1}, {4, 1, 1, 1}};
  const Sums b{{1, 2, 3, 4}, {10, 1, 1, 1}, {8, 0.5, 0.5, 0.5}, {6, 0.6, 0.6, 0.6}};
  const json report = recfuse::build_report(recfuse::test::fixture_context(),
                                            {rated_trial("a", 1, a), rated_trial("b", 1, b)});
  const json& row = comparison(report, "rmse", "b");
  INFO(row.dump(1));
  CHECK(row.at("method") == "paired_user_errors");
  CHECK(row.at("mean_a").get<double>() == Approx(0.854850).epsilon(1e-6));
  CHECK(row.at("mean_b").get<double>() == Approx(0.784465).epsilon(1e-6));
  CHECK(row.at("mean_diff").get<double>() > 0);
  CHECK(row.at("t").get<double>() == Approx(0.428571).epsilon(1e-5));
  CHECK(row.at("t_p").get<double>() == Approx(0.697144).epsilon(1e-5));
  CHECK(row.at("diff_low").get<double>() < 0);
  CHECK(row.at("diff_high").get<double>() > row.at("mean_diff").get<double>());

  const auto res = recfuse::compare_runs(run_of({rated_trial("model", 1, a)}),
                                         run_of({rated_trial("model", 1, b)}),
                                         recfuse::CompareOptions{});
  const auto& rmse = row_of(res, "rmse");
  CHECK(rmse.method == "paired_user_errors");
  CHECK(rmse.delta == Approx(0.854850 - 0.784465).epsilon(1e-4));
  CHECK(rmse.p == Approx(0.697144).epsilon(1e-5));
}

TEST_CASE("records without per-user rating errors still pair rmse per trial") {
  // Trial rmse a 0.8165 on every seed; b: sums scaled so the trials differ
  // by d = 0.02, 0.01, 0.03 (b - a): mean 0.02, sd 0.01, t = 2 sqrt 3, df 2.
  std::vector<json> old_records, mixed;
  const double b_rmse[] = {0.02, 0.01, 0.03};
  for (int seed = 1; seed <= 3; ++seed) {
    json a = rated_trial("a", seed, kA, false), b = rated_trial("b", seed, kB, false);
    const double rmse_a = a["metrics"]["rmse"]["mean"].get<double>();
    b["metrics"]["rmse"]["mean"] = rmse_a + b_rmse[seed - 1];
    old_records.push_back(a), old_records.push_back(b);
    mixed.push_back(rated_trial("a", seed, kA)), mixed.push_back(b);  // one side only
  }
  for (const auto& records : {old_records, mixed}) {
    const json report = recfuse::build_report(recfuse::test::fixture_context(), records);
    const json& row = comparison(report, "rmse", "b");
    INFO(row.dump(1));
    CHECK(row.at("method") == "paired_trials");
    CHECK(row.at("n") == 3);
    CHECK(row.at("t_p").get<double>() == Approx(recfuse::test::t_p_df2(2 * std::sqrt(3.0))));
    CHECK(row.at("mean_diff").get<double>() == Approx(0.02));
  }
}
