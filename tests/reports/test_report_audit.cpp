// Audit of the reporting layer: `recfuse compare` (reports/compare.cpp) on
// run directories as `recfuse run` leaves them, and reports of simulated
// protocols. Each case failed on the code before its fix.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "report_fixture.hpp"
#include "reports/compare.hpp"
#include "reports/report.hpp"

using nlohmann::json;

namespace {

// An ok record of `label`, seed `seed`, with per-user ndcg@10 over users 0..3.
json ndcg_record(const std::string& id, const std::string& label, int seed,
                 const std::vector<double>& ndcg) {
  double sum = 0;
  for (double v : ndcg) sum += v;
  const double mean = sum / static_cast<double>(ndcg.size());
  json r = recfuse::test::ok_record(
      label, "mf_als", seed - 1,
      {{"ndcg@10", {{"mean", mean}, {"low", mean - 0.1}, {"high", mean + 0.1}, {"n", 4}}}});
  r["trial_id"] = id;
  r["seed"] = seed;
  r["per_user"] = {{"users", {0, 1, 2, 3}}, {"ndcg@10", ndcg}};
  return r;
}

// A run directory as `recfuse run` writes it: the report of `records`, and
// trials/<trial_id>.json for each of `files` (records plus any left over).
std::filesystem::path write_run(const std::string& tag, const std::vector<json>& records,
                                const std::vector<json>& files) {
  const auto dir = recfuse::test::temp_dir(tag);
  recfuse::write_report_files(dir,
                              recfuse::build_report(recfuse::test::fixture_context(), records));
  std::filesystem::create_directories(dir / "trials");
  for (const auto& r : files) {
    std::ofstream(dir / "trials" / (r["trial_id"].get<std::string>() + ".json")) << r.dump(1);
  }
  return dir;
}

std::string compare_markdown(const recfuse::CompareResult& res) {
  std::ostringstream out;
  recfuse::write_compare_markdown(out, res, recfuse::CompareOptions{});
  return out.str();
}

}  // namespace

// A rerun with changed parameters gives its trials new ids; the old records
// stay in trials/ (only a changed build sets a record aside). compare paired
// whichever record of a (label, fold, seed) sorted first, so a stale record
// of the same label could stand in for the run's own.
TEST_CASE("compare reads only the trial records its report lists", "[reports][audit][compare]") {
  const json base1 = ndcg_record("b100000000000001", "als", 1, {0.5, 0.2, 0.3, 0.2});
  const json base2 = ndcg_record("b100000000000002", "als", 2, {0.4, 0.3, 0.2, 0.3});
  // An earlier run's als, seed 1, other parameters: its id sorts first.
  const json stale = ndcg_record("0000000000000000", "als", 1, {0.0, 0.0, 0.0, 0.0});
  const json cand1 = ndcg_record("c100000000000001", "als", 1, {0.6, 0.25, 0.45, 0.3});
  const json cand2 = ndcg_record("c100000000000002", "als", 2, {0.5, 0.35, 0.3, 0.45});

  const auto clean = write_run("audit-compare-clean", {base1, base2}, {base1, base2});
  const auto reused = write_run("audit-compare-reused", {base1, base2}, {stale, base1, base2});
  const auto cand = write_run("audit-compare-cand", {cand1, cand2}, {cand1, cand2});

  const recfuse::RunForCompare reused_run = recfuse::load_run(reused);
  CHECK(reused_run.records.size() == 2);
  for (const auto& r : reused_run.records) CHECK(r["trial_id"] != "0000000000000000");

  const auto expected = recfuse::compare_runs(recfuse::load_run(clean), recfuse::load_run(cand),
                                              recfuse::CompareOptions{});
  const auto got =
      recfuse::compare_runs(reused_run, recfuse::load_run(cand), recfuse::CompareOptions{});
  REQUIRE(expected.rows.size() == 1);
  REQUIRE(got.rows.size() == 1);
  CHECK(got.rows[0].method == "paired_users");
  CHECK(got.rows[0].n == expected.rows[0].n);
  CHECK(got.rows[0].p == Approx(expected.rows[0].p).epsilon(1e-12));
  CHECK(got.rows[0].better == expected.rows[0].better);
}

// A report of simulated protocols has no headline ("headline_metric": null);
// compare's default metrics read it as a string and threw json's type_error.
TEST_CASE("compare of online runs compares return and regret", "[reports][audit][compare]") {
  const auto online = [](const std::string& id, int seed, double ret, double regret) {
    json r = recfuse::test::ok_record("bandit (online)", "linucb", seed - 1,
                                      {{"return", {{"mean", ret}, {"low", ret - 0.2},
                                                   {"high", ret + 0.2}, {"n", 500}}},
                                       {"regret", {{"mean", regret}, {"low", regret - 0.2},
                                                   {"high", regret + 0.2}, {"n", 500}}},
                                       {"ctr", {{"mean", 0.1}, {"low", 0.09}, {"high", 0.11}}}});
    r["trial_id"] = id;
    r["seed"] = seed;
    r["protocol"] = "online";
    return r;
  };
  const std::vector<json> base = {online("a1", 1, 5.0, 1.0), online("a2", 2, 5.2, 0.9),
                                  online("a3", 3, 5.1, 1.1)};
  const std::vector<json> cand = {online("b1", 1, 4.0, 2.0), online("b2", 2, 4.1, 2.1),
                                  online("b3", 3, 4.05, 1.9)};
  const auto base_dir = write_run("audit-compare-online-base", base, base);
  const auto cand_dir = write_run("audit-compare-online-cand", cand, cand);
  const auto b = recfuse::load_run(base_dir), c = recfuse::load_run(cand_dir);
  REQUIRE(b.report["headline_metric"].is_null());

  recfuse::CompareResult res;
  REQUIRE_NOTHROW(res = recfuse::compare_runs(b, c, recfuse::CompareOptions{}));
  std::set<std::string> metrics;
  for (const auto& row : res.rows) metrics.insert(row.metric);
  CHECK(metrics == std::set<std::string>{"return", "regret"});
  // Return fell by 20%, regret doubled: both worse, paired over the 3 seeds.
  for (const auto& row : res.rows) {
    CHECK(row.method == "paired_trials");
    CHECK(row.n == 3);
    CHECK(row.worse);
  }
  CHECK(res.regressions == 2);
}

// An algorithm whose every candidate trial failed has no candidate mean: the
// table said "same" for a metric the candidate could not measure.
TEST_CASE("compare names a metric one side lacks instead of calling it the same",
          "[reports][audit][compare]") {
  const json base1 = ndcg_record("b100000000000001", "als", 1, {0.5, 0.2, 0.3, 0.2});
  const json base2 = ndcg_record("b100000000000002", "als", 2, {0.4, 0.3, 0.2, 0.3});
  json failed1 = base1, failed2 = base2;
  for (json* f : {&failed1, &failed2}) {
    (*f)["trial_id"] = "c" + (*f)["trial_id"].get<std::string>();
    (*f)["status"] = "failed";
    (*f)["error"] = "fit: std::bad_alloc";
    (*f)["metrics"] = json::object();
    f->erase("per_user");
  }
  const auto base_dir = write_run("audit-compare-missing-base", {base1, base2}, {base1, base2});
  const auto cand_dir =
      write_run("audit-compare-missing-cand", {failed1, failed2}, {failed1, failed2});
  const auto res = recfuse::compare_runs(recfuse::load_run(base_dir), recfuse::load_run(cand_dir),
                                         recfuse::CompareOptions{});
  REQUIRE(res.rows.size() == 1);
  CHECK(std::isnan(res.rows[0].candidate));
  const std::string md = compare_markdown(res);
  CHECK(md.find("| same |") == std::string::npos);
  CHECK(md.find("missing in candidate") != std::string::npos);
}

// The off-policy estimators' intervals are value +- 1.96 SE (eval/ope.hpp:
// "95% normal-approximation interval"), not a bootstrap; a single trial's
// summary row labelled them "bootstrap", and report.md's CI column with it.
TEST_CASE("a single off-policy trial's interval is labelled normal, not bootstrap",
          "[reports][audit][summary]") {
  const auto estimate = [](double v, double se, double truth) {
    return json{{"mean", v},       {"low", v - 1.959964 * se}, {"high", v + 1.959964 * se},
                {"se", se},        {"error", v - truth}};
  };
  json r = recfuse::test::ok_record(
      "greedy (off-policy)", "linucb", 0,
      {{"true_value", {{"mean", 0.30}, {"n", 3000}}},
       {"ips", estimate(0.32, 0.02, 0.30)},
       {"snips", estimate(0.31, 0.015, 0.30)},
       {"dr", estimate(0.305, 0.01, 0.30)},
       {"ess", {{"mean", 220.0}}},
       {"frozen_return", {{"mean", 1.5}, {"low", 1.4}, {"high", 1.6}, {"n", 3000}}}});
  r["protocol"] = "off_policy";
  const json report = recfuse::build_report(recfuse::test::fixture_context(), {r});
  const json& m = report["summary"][0]["metrics"];
  for (const char* est : {"ips", "snips", "dr"}) {
    INFO(est);
    CHECK(m[est]["ci"] == "normal");
    CHECK(m[est]["trials"] == 1);
  }
  // A bootstrap interval of the same record keeps its label.
  CHECK(m["frozen_return"]["ci"] == "bootstrap");
  CHECK(m["true_value"]["ci"] == "none");
  const std::string md = recfuse::test::markdown_of(report);
  CHECK(md.find("| greedy (off-policy) | ips | 0.3200 [0.2808, 0.3592] | normal | 1 |") !=
        std::string::npos);
}

TEST_CASE("compare names a torn trial record it skips", "[reports][compare]") {
  const auto dir = recfuse::test::temp_dir("torn_record");
  std::filesystem::create_directories(dir / "trials");
  std::ofstream(dir / "report.json") << R"({"schema_version": 1, "summary": [], "trials": [{"trial_id": "a"}]})";
  std::ofstream(dir / "trials" / "a.json") << R"({"trial_id": "a", "status": "ok", "metr)";
  const recfuse::RunForCompare run = recfuse::load_run(dir);
  CHECK(run.records.empty());
  REQUIRE(run.unreadable.size() == 1);
  CHECK(run.unreadable[0] == (dir / "trials" / "a.json").string());
}

// The verdict must be about what the test compared. Base seeds 1 and 2 (seed
// 2 scored low), candidate seed 1 only (its seed 2 failed): the summaries
// (0.2 over two seeds against 0.2475) put the candidate 24% ahead, but the
// only comparable trial, seed 1, has it lower for every user: d = -0.06,
// -0.05, -0.04, -0.06, mean -0.0525 of the paired baseline 0.3 (-17.5%),
// t = -10.967 on 3 df, p = 0.0016232 (R: t.test(d); checked by integrating
// the t density in Python). The row said "better" on that p, exit 0.
TEST_CASE("compare's verdict follows the paired difference it tested", "[reports][audit][compare]") {
  const json base1 = ndcg_record("b100000000000001", "als", 1, {0.5, 0.2, 0.3, 0.2});
  const json base2 = ndcg_record("b100000000000002", "als", 2, {0.1, 0.1, 0.1, 0.1});
  const json cand1 = ndcg_record("c100000000000001", "als", 1, {0.44, 0.15, 0.26, 0.14});
  json cand2 = ndcg_record("c100000000000002", "als", 2, {0.1, 0.1, 0.1, 0.1});
  cand2["status"] = "failed", cand2["error"] = "fit: std::bad_alloc", cand2["metrics"] = json::object();
  cand2.erase("per_user");
  const auto base_dir = write_run("audit-compare-tested-base", {base1, base2}, {base1, base2});
  const auto cand_dir = write_run("audit-compare-tested-cand", {cand1, cand2}, {cand1, cand2});
  const auto res = recfuse::compare_runs(recfuse::load_run(base_dir), recfuse::load_run(cand_dir),
                                         recfuse::CompareOptions{});
  REQUIRE(res.rows.size() == 1);
  const recfuse::CompareRow& row = res.rows[0];
  CHECK(row.method == "paired_users");
  CHECK(row.n == 4);
  CHECK(row.p == Approx(0.0016232).margin(5e-7));
  // The table shows the means the test compared, so delta and verdict agree.
  CHECK(row.base == Approx(0.3));
  CHECK(row.candidate == Approx(0.2475));
  CHECK(row.delta == Approx(-0.0525));
  CHECK(row.relative == Approx(-0.175));
  CHECK(row.worse);
  CHECK_FALSE(row.better);
  CHECK(res.regressions == 1);
  const std::string md = compare_markdown(res);
  CHECK(md.find("| als | ndcg@10 | 0.3000 | 0.2475 | -0.0525 | -17.50% | 4 | paired_users |") != std::string::npos);
  CHECK(md.find("| REGRESSION |") != std::string::npos);
  CHECK(md.find("paired rows: baseline and candidate are the means over the units the test paired") != std::string::npos);
}

// Users pair by id, and ids number each dataset's users from 0: user 3 of
// one dataset is not user 3 of another. Two runs on different data (their
// records' dataset.sha256 differ) paired their (fold, seed) trials and users
// anyway, and the paired test compared unrelated people.
TEST_CASE("compare pairs trials only when both runs scored the same dataset", "[reports][audit][compare]") {
  const auto on = [](json r, const std::string& sha) {
    r["dataset"] = {{"name", "d"}, {"sha256", sha}};
    return r;
  };
  const json base1 = on(ndcg_record("b100000000000001", "als", 1, {0.5, 0.2, 0.3, 0.2}), "aaaa");
  const json base2 = on(ndcg_record("b100000000000002", "als", 2, {0.4, 0.3, 0.2, 0.3}), "aaaa");
  const json cand1 = on(ndcg_record("c100000000000001", "als", 1, {0.6, 0.25, 0.45, 0.3}), "bbbb");
  const json cand2 = on(ndcg_record("c100000000000002", "als", 2, {0.5, 0.35, 0.3, 0.45}), "bbbb");
  const auto base_dir = write_run("audit-compare-data-base", {base1, base2}, {base1, base2});
  const auto cand_dir = write_run("audit-compare-data-cand", {cand1, cand2}, {cand1, cand2});
  const auto res = recfuse::compare_runs(recfuse::load_run(base_dir), recfuse::load_run(cand_dir),
                                         recfuse::CompareOptions{});
  REQUIRE(res.rows.size() == 1);
  CHECK(res.rows[0].method == "unpaired_summary");
  // The same records on one dataset do pair.
  const auto same_dir = write_run("audit-compare-data-same", {on(cand1, "aaaa"), on(cand2, "aaaa")},
                                  {on(cand1, "aaaa"), on(cand2, "aaaa")});
  const auto paired = recfuse::compare_runs(recfuse::load_run(base_dir), recfuse::load_run(same_dir),
                                            recfuse::CompareOptions{});
  REQUIRE(paired.rows.size() == 1);
  CHECK(paired.rows[0].method == "paired_users");
}
