// `recfuse compare`: paired per-user deltas between two runs and an exit
// status that gates CI on a significant regression.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/stats.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;

namespace {

std::string scenario(const std::string& plugin) {
  return "name = \"cmp\"\nseeds = [1]\nthreads = 1\n[dataset]\nformat = \"synthetic\"\n"
         "[dataset.synthetic]\nusers = 200\nitems = 100\ninteractions_per_user = 20\n"
         "[split]\nmethod = \"leave_last_one_out\"\n[evaluation]\ncutoffs = [10]\n"
         "bootstrap = 200\n[[algorithms]]\nname = \"model\"\nplugin = \"" + plugin + "\"\n";
}

}  // namespace

TEST_CASE("compare finds no regression between identical runs and flags a real one") {
  const auto dir = temp_dir("compare");
  const auto good = write_text(dir, "good.toml", scenario("user_knn"));
  const auto bad = write_text(dir, "bad.toml", scenario("random"));
  REQUIRE(run_recfuse("run " + good.string() + " -o " + (dir / "a").string() + " -q --no-cache")
              .exit_code == 0);
  REQUIRE(run_recfuse("run " + good.string() + " -o " + (dir / "b").string() + " -q --no-cache")
              .exit_code == 0);
  REQUIRE(run_recfuse("run " + bad.string() + " -o " + (dir / "c").string() + " -q --no-cache")
              .exit_code == 0);

  auto r = run_recfuse("compare " + (dir / "a").string() + " " + (dir / "b").string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("| model | ndcg@10 |") && Catch::Contains("paired_users") &&
                           Catch::Contains("0 regression(s)"));

  r = run_recfuse("compare " + (dir / "a").string() + " " + (dir / "c").string());
  INFO(r.output);
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.output, Catch::Contains("REGRESSION") && Catch::Contains("1 regression(s)"));

  // The other way round it is an improvement, not a regression.
  r = run_recfuse("compare " + (dir / "c" / "report.json").string() + " " + (dir / "a").string());
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("better"));

  r = run_recfuse("compare " + (dir / "a").string() + " " + (dir / "missing").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("missing"));
}

namespace {

using nlohmann::json;

/// A run directory as `recfuse run` leaves it: report.json, and the trial
/// records in trials/ when `records` is not empty.
std::filesystem::path write_run(const std::filesystem::path& dir, const json& summary,
                                const std::vector<json>& records = {}) {
  std::filesystem::create_directories(dir);
  json report = {{"schema_version", 1}, {"headline_metric", "ndcg@10"}, {"summary", summary}};
  write_text(dir, "report.json", report.dump());
  if (!records.empty()) {
    std::filesystem::create_directories(dir / "trials");
    for (std::size_t i = 0; i < records.size(); ++i)
      write_text(dir / "trials", "t" + std::to_string(10 + i) + ".json", records[i].dump());
  }
  return dir;
}

json t_row(double mean, double sd, int trials) {  // as reports/summary.cpp writes k >= 2
  const double half = recfuse::student_t_quantile(0.975, trials - 1) * sd / std::sqrt(trials);
  return {{"mean", mean}, {"low", mean - half}, {"high", mean + half}, {"trials", trials},
          {"ci", "t"}, {"sd", sd}};
}
json bootstrap_row(double mean, double low, double high) {  // one trial, no "n"
  return {{"mean", mean}, {"low", low}, {"high", high}, {"trials", 1}, {"ci", "bootstrap"}};
}

/// The cells of the markdown row of (algorithm, metric): algorithm, metric,
/// baseline, candidate, delta, relative, n, method, p, p (Holm), verdict.
std::vector<std::string> row_cells(const std::string& output, const std::string& algorithm,
                                   const std::string& metric) {
  const std::string start = "| " + algorithm + " | " + metric + " |";
  const auto at = output.find(start);
  if (at == std::string::npos) return {};
  const std::string line = output.substr(at, output.find('\n', at) - at);
  std::vector<std::string> cells;
  std::size_t pos = 1;
  while (pos < line.size()) {
    const auto bar = line.find('|', pos);
    if (bar == std::string::npos) break;
    std::string cell = line.substr(pos, bar - pos);
    cell.erase(0, cell.find_first_not_of(' '));
    cell.erase(cell.find_last_not_of(' ') + 1);
    cells.push_back(cell);
    pos = bar + 1;
  }
  return cells;
}

/// One ok trial of "model" on (fold, seed): ndcg@10 per user (users 1..20),
/// rmse as a trial mean only.
json trial(const std::string& fold, int seed, double user_offset, double user_swing,
           double rmse) {
  json users = json::array(), values = json::array();
  double sum = 0;
  for (int u = 1; u <= 20; ++u) {
    const double v = 0.5 + user_offset + (u % 2 ? user_swing : -user_swing);
    users.push_back(u), values.push_back(v), sum += v;
  }
  return {{"algorithm", "model"}, {"fold", fold}, {"seed", seed}, {"status", "ok"},
          {"metrics", {{"ndcg@10", {{"mean", sum / 20}}}, {"rmse", {{"mean", rmse}}}}},
          {"per_user", {{"users", users}, {"ndcg@10", values}}}};
}

}  // namespace

TEST_CASE("compare pairs each user once over seeds and folds, trials for rating metrics") {
  // Candidate - baseline per user: -0.01 + 0.03 or -0.01 - 0.03 (alternating),
  // the same in every trial. Over the 20 users: t = -1.453, df = 19,
  // p = 0.1625 (R: t.test(d)). Counting each user once per seed (5 seeds,
  // n = 100) gave t = -3.317, p = 0.0013 and a false REGRESSION; once per
  // fold (2 folds, n = 40) p = 0.0440, also a REGRESSION.
  const double base_rmse[] = {0.9, 0.91, 0.92, 0.93, 0.94};
  const double rmse_diff[] = {0.003, -0.001, 0.002, 0.0, 0.001};  // t = 1.414, df 4
  const auto dir = temp_dir("compare_units");
  for (const bool folds : {false, true}) {
    std::vector<json> base, cand;
    const std::vector<std::string> fold_names = folds ? std::vector<std::string>{"u1", "u2"}
                                                      : std::vector<std::string>{"u1"};
    const int seeds = folds ? 1 : 5;
    int i = 0;
    for (const auto& f : fold_names)
      for (int s = 1; s <= seeds; ++s, ++i) {
        base.push_back(trial(f, s, 0, 0.0, base_rmse[i]));
        cand.push_back(trial(f, s, -0.01, 0.03, base_rmse[i] + rmse_diff[i]));
      }
    const json sb = json::array({{{"algorithm", "model"},
                                  {"metrics", {{"ndcg@10", t_row(0.5, 1e-4, i)},
                                               {"rmse", t_row(0.92, 0.016, i)}}}}});
    const json sc = json::array({{{"algorithm", "model"},
                                  {"metrics", {{"ndcg@10", t_row(0.49, 1e-4, i)},
                                               {"rmse", t_row(0.921, 0.016, i)}}}}});
    const std::string tag = folds ? "folds" : "seeds";
    const auto a = write_run(dir / ("base_" + tag), sb, base);
    const auto b = write_run(dir / ("cand_" + tag), sc, cand);
    const auto r = run_recfuse("compare " + a.string() + " " + b.string());
    INFO(tag << "\n" << r.output);
    const auto ndcg = row_cells(r.output, "model", "ndcg@10");
    REQUIRE(ndcg.size() == 11);
    CHECK(ndcg[6] == "20");
    CHECK(ndcg[7] == "paired_users");
    CHECK(ndcg[8] == "0.1625");
    CHECK(ndcg[10] == "same");
    // rmse has no per-user vectors: paired over the matched (fold, seed)
    // trials (seeds: t = 1.414, df = 4, p = 0.2302; folds: t = 0.5, df = 1,
    // p = 0.7048), not over the summary intervals.
    const auto rmse = row_cells(r.output, "model", "rmse");
    REQUIRE(rmse.size() == 11);
    CHECK(rmse[7] == "paired_trials");
    CHECK(rmse[6] == (folds ? "2" : "5"));
    CHECK(rmse[8] == (folds ? "0.7048" : "0.2302"));
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("0 regression(s)"));
  }
}

TEST_CASE("compare without trial records: Welch's t from the summary rows") {
  // t rows: SE = sd / sqrt(trials), df = trials - 1; bootstrap rows: SE =
  // half-width / 1.96, df = infinity; Welch-Satterthwaite df.
  //   t3: 0.30 vs 0.26, sd 0.02, 3 trials each: t = 2.4495, df = 4,
  //       p = 0.0705 (reading the t-intervals as normal gave p = 0.2645);
  //   mixed: 4 trials sd 0.04 vs a bootstrap [0.33, 0.37]: t = 2.2269,
  //       df = 4.765, p = 0.0791;
  //   boot: two bootstrap rows without "n": z = 2.0789, p = 0.0376, n = 0
  //       (a NaN "n" cast to int64 printed -9223372036854775808).
  const auto dir = temp_dir("compare_summary");
  const json sb = json::array(
      {{{"algorithm", "t3"}, {"metrics", {{"ndcg@10", t_row(0.30, 0.02, 3)}}}},
       {{"algorithm", "mixed"}, {"metrics", {{"ndcg@10", t_row(0.40, 0.04, 4)}}}},
       {{"algorithm", "boot"}, {"metrics", {{"ndcg@10", bootstrap_row(0.50, 0.48, 0.52)}}}}});
  const json sc = json::array(
      {{{"algorithm", "t3"}, {"metrics", {{"ndcg@10", t_row(0.26, 0.02, 3)}}}},
       {{"algorithm", "mixed"},
        {"metrics", {{"ndcg@10", bootstrap_row(0.35, 0.33, 0.37)}}}},
       {{"algorithm", "boot"}, {"metrics", {{"ndcg@10", bootstrap_row(0.47, 0.45, 0.49)}}}}});
  const auto a = write_run(dir / "base", sb), b = write_run(dir / "cand", sc);
  const auto r = run_recfuse("compare " + a.string() + " " + b.string() + " --metric ndcg@10");
  INFO(r.output);
  CHECK_THAT(r.output, !Catch::Contains("-9223372036854775808"));
  const auto t3 = row_cells(r.output, "t3", "ndcg@10");
  const auto mixed = row_cells(r.output, "mixed", "ndcg@10");
  const auto boot = row_cells(r.output, "boot", "ndcg@10");
  REQUIRE(t3.size() == 11);
  REQUIRE(mixed.size() == 11);
  REQUIRE(boot.size() == 11);
  CHECK(t3[7] == "unpaired_summary");
  CHECK(t3[6] == "3");
  CHECK(t3[8] == "0.0705");
  CHECK(mixed[7] == "unpaired_summary");
  CHECK(mixed[6] == "4");  // the bootstrap side's user count is unknown: the t side's trials
  CHECK(mixed[8] == "0.0791");
  CHECK(boot[6] == "0");
  CHECK(boot[8] == "0.0376");
  // Holm over the three tested rows: 0.0376 * 3 = 0.1129, then the others.
  CHECK(boot[9] == "0.1129");
  CHECK(boot[10] == "same");
  CHECK(r.exit_code == 0);
}

TEST_CASE("compare gates on Holm-adjusted p-values over all tested rows") {
  // Three worse candidates: two with raw p = 0.0376 each and one with a huge
  // z. Raw p < 0.05 flagged all three; Holm over the family of three rows:
  // strong p * 3, then 0.0376 * 2 = 0.0753 for both others: one regression.
  const auto dir = temp_dir("compare_holm");
  json sb = json::array(), sc = json::array();
  for (const char* name : {"a1", "a2"}) {
    sb.push_back({{"algorithm", name}, {"metrics", {{"ndcg@10", bootstrap_row(0.5, 0.48, 0.52)}}}});
    sc.push_back({{"algorithm", name}, {"metrics", {{"ndcg@10", bootstrap_row(0.47, 0.45, 0.49)}}}});
  }
  sb.push_back({{"algorithm", "strong"}, {"metrics", {{"ndcg@10", bootstrap_row(0.5, 0.49, 0.51)}}}});
  sc.push_back({{"algorithm", "strong"}, {"metrics", {{"ndcg@10", bootstrap_row(0.4, 0.39, 0.41)}}}});
  const auto a = write_run(dir / "base", sb), b = write_run(dir / "cand", sc);
  const auto r = run_recfuse("compare " + a.string() + " " + b.string() + " --metric ndcg@10");
  INFO(r.output);
  for (const char* name : {"a1", "a2"}) {
    const auto row = row_cells(r.output, name, "ndcg@10");
    REQUIRE(row.size() == 11);
    CHECK(row[8] == "0.0376");  // raw
    CHECK(row[9] == "0.0753");  // Holm
    CHECK(row[10] == "same");
  }
  const auto strong = row_cells(r.output, "strong", "ndcg@10");
  REQUIRE(strong.size() == 11);
  CHECK(strong[10] == "REGRESSION");
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.output, Catch::Contains("1 regression(s)") &&
                           Catch::Contains("with Holm-adjusted p < 0.05") &&
                           Catch::Contains("| p | p (Holm) | verdict |"));
}

TEST_CASE("compare refuses a metric neither run reports and runs with nothing in common") {
  // Both printed an empty table and "0 regression(s)", exit 0: a typo in
  // --metric, or two unrelated runs, passed a CI gate unseen.
  const auto dir = temp_dir("compare_nothing");
  const json row = bootstrap_row(0.5, 0.48, 0.52);
  const auto a = write_run(dir / "a", json::array({{{"algorithm", "pop"}, {"metrics", {{"ndcg@10", row}}}}}));
  const auto b = write_run(dir / "b", json::array({{{"algorithm", "pop"}, {"metrics", {{"ndcg@10", row}}}}}));
  const auto other =
      write_run(dir / "other", json::array({{{"algorithm", "knn"}, {"metrics", {{"ndcg@10", row}}}}}));

  auto r = run_recfuse("compare " + a.string() + " " + b.string() + " --metric ndgc@10");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("recfuse compare: --metric ndgc@10: no algorithm of both runs "
                                       "reports it (they report: ndcg@10)"));
  r = run_recfuse("compare " + a.string() + " " + b.string() + " --metric ndcg@10 --metric hr@10");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("--metric hr@10: no algorithm of both runs reports it"));

  r = run_recfuse("compare " + a.string() + " " + other.string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("recfuse compare: nothing to compare: the runs share no "
                                       "algorithm (only in baseline: pop; only in candidate: knn)"));
  // Shared algorithms, but none of the default metrics (a `metrics` filter).
  const json p5 = {{"precision@5", row}};
  const auto c = write_run(dir / "c", json::array({{{"algorithm", "pop"}, {"metrics", p5}}}));
  const auto d = write_run(dir / "d", json::array({{{"algorithm", "pop"}, {"metrics", p5}}}));
  r = run_recfuse("compare " + c.string() + " " + d.string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("nothing to compare: the algorithms of both runs report none of "
                                       "the default metrics; pass --metric (they report: precision@5)"));
  CHECK(run_recfuse("compare " + c.string() + " " + d.string() + " -m precision@5").exit_code == 0);

  r = run_recfuse("compare " + a.string() + " " + b.string() + " --metric ndcg@10");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("| pop | ndcg@10 |"));
}

TEST_CASE("compare refuses a significance level outside (0, 1) and a threshold below 0") {
  // --alpha 2 flagged every change; --alpha 0 and --threshold nan none, silently.
  const auto dir = temp_dir("compare_options");
  const auto a = write_run(dir / "a", json::array({{{"algorithm", "pop"},
                                                    {"metrics", {{"ndcg@10", bootstrap_row(0.5, 0.48, 0.52)}}}}}));
  const auto b = write_run(dir / "b", json::array({{{"algorithm", "pop"},
                                                    {"metrics", {{"ndcg@10", bootstrap_row(0.3, 0.28, 0.32)}}}}}));
  for (const std::string bad : {"--alpha 0", "--alpha 1", "--alpha 2", "--alpha=-0.1", "--alpha nan"}) {
    INFO(bad);
    const auto r = run_recfuse("compare " + a.string() + " " + b.string() + " " + bad);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("recfuse compare: --alpha must be in (0, 1)"));
  }
  for (const std::string bad : {"--threshold=-0.01", "--threshold nan", "--threshold inf"}) {
    INFO(bad);
    const auto r = run_recfuse("compare " + a.string() + " " + b.string() + " " + bad);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("recfuse compare: --threshold must be a finite number >= 0"));
  }
  const auto r = run_recfuse("compare " + a.string() + " " + b.string() + " --threshold 0 --alpha 0.01");
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.output, Catch::Contains("with Holm-adjusted p < 0.01"));
}

TEST_CASE("compare fails the gate when the candidate lost an algorithm or a metric of the baseline") {
  // Exit 0 before: a candidate whose algorithm vanished, or whose trials all
  // failed, passed a CI gate with "0 regression(s)".
  const auto dir = temp_dir("compare_lost");
  const json row = bootstrap_row(0.5, 0.48, 0.52);
  const auto base = write_run(dir / "base", json::array({{{"algorithm", "pop"}, {"metrics", {{"ndcg@10", row}}}},
                                                        {{"algorithm", "knn"}, {"metrics", {{"ndcg@10", row}}}}}));
  const auto lost_algorithm = write_run(dir / "c1", json::array({{{"algorithm", "pop"}, {"metrics", {{"ndcg@10", row}}}}}));
  const json failed = {{"mean", nullptr}, {"low", nullptr}, {"high", nullptr}, {"trials", 0}, {"ci", "none"}};
  const auto lost_metric = write_run(dir / "c2", json::array({{{"algorithm", "pop"}, {"metrics", {{"ndcg@10", row}}}},
                                                             {{"algorithm", "knn"}, {"metrics", {{"ndcg@10", failed}}}}}));
  for (const auto& cand : {lost_algorithm, lost_metric}) {
    INFO(cand.string());
    auto r = run_recfuse("compare " + base.string() + " " + cand.string() + " --metric ndcg@10");
    INFO(r.output);
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.output, Catch::Contains("0 regression(s)") &&
                             Catch::Contains("1 lost in the candidate") &&
                             Catch::Contains("the gate fails on them as on a regression"));
    r = run_recfuse("compare " + base.string() + " " + cand.string() + " --metric ndcg@10 --allow-missing");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("allowed by --allow-missing"));
  }
  // What the candidate adds is no loss.
  const auto r = run_recfuse("compare " + lost_algorithm.string() + " " + base.string() + " --metric ndcg@10");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("only in candidate: knn") && !Catch::Contains("lost"));
}
