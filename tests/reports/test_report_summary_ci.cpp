// The interval of a summary row over several trials (reports/summary.cpp):
// trials are pooled by the test set they were scored on (the record's
// dataset.test_sha256). Seeds of one fixed test set are one sample of users,
// so their row's interval must carry the users' uncertainty, not only the
// seeds' spread (which is 0 for a deterministic algorithm).
#include <catch2/catch.hpp>

#include <cmath>

#include "eval/stats.hpp"
#include "report_fixture.hpp"
#include "reports/compare.hpp"
#include "reports/report.hpp"

using nlohmann::json;

namespace {

// An ok trial of `label` with ndcg@10 = mean [mean - half, mean + half],
// scored on test set `test_set` ("" : the record names none).
json trial(const std::string& label, int seed, double mean, double half,
           const std::string& test_set) {
  json r = recfuse::test::ok_record(
      label, "item_knn", seed,
      {{"ndcg@10", {{"mean", mean}, {"low", mean - half}, {"high", mean + half}, {"n", 500}}}});
  r["trial_id"] = label + "-" + std::to_string(seed) + "-" + test_set;
  r["seed"] = seed;
  if (!test_set.empty()) r["dataset"] = {{"name", "tiny"}, {"test_sha256", test_set}};
  return r;
}

json ndcg_row(const std::vector<json>& records) {
  const json report = recfuse::build_report(recfuse::test::fixture_context(), records);
  return report["summary"][0]["metrics"]["ndcg@10"];
}

}  // namespace

TEST_CASE("seeds of one test set keep the users' interval, even with no spread over seeds",
          "[reports][summary]") {
  // A deterministic algorithm: three seeds, one test set, identical means.
  // The t over seeds alone gave [0.3, 0.3], which claims certainty.
  const json row = ndcg_row({trial("ease", 1, 0.3, 0.05, "abc"), trial("ease", 2, 0.3, 0.05, "abc"),
                             trial("ease", 3, 0.3, 0.05, "abc")});
  CHECK(row["ci"] == "t+bootstrap");
  CHECK(row["test_sets"] == 1);
  CHECK(row["mean"].get<double>() == Approx(0.3));
  // SE = 0.05 / 1.96 from the users, df infinite: the trials' own interval.
  CHECK(row["low"].get<double>() == Approx(0.25).margin(1e-4));
  CHECK(row["high"].get<double>() == Approx(0.35).margin(1e-4));
  CHECK(row["df"].is_null());
}

TEST_CASE("identical seeds whose mean is not exactly representable keep the users' interval",
          "[reports][summary]") {
  // (x + x + x) / 3 != x for this x (an ml100k-compression mrr@10): the
  // seeds' sd came out 4e-18, the Welch-Satterthwaite df 1e61, and the
  // interval +-1e20.
  const double x = 0.026421080980996138;
  REQUIRE((x + x + x) / 3 != x);
  const json row = ndcg_row({trial("ease", 1, x, 0.007, "abc"), trial("ease", 2, x, 0.007, "abc"),
                             trial("ease", 3, x, 0.007, "abc")});
  CHECK(row["ci"] == "t+bootstrap");
  CHECK(row["sd"].get<double>() == 0);
  CHECK(row["df"].is_null());
  CHECK(row["low"].get<double>() == Approx(x - 0.007).margin(1e-9));
  CHECK(row["high"].get<double>() == Approx(x + 0.007).margin(1e-9));
}

TEST_CASE("seeds of one test set add the seeds' spread to the users' interval",
          "[reports][summary]") {
  const json row = ndcg_row({trial("mf", 1, 0.28, 0.05, "abc"), trial("mf", 2, 0.32, 0.05, "abc")});
  const double se_seeds = std::sqrt(0.0008) / std::sqrt(2.0);  // sd of {0.28, 0.32} over sqrt 2
  const double se_users = 0.05 / 1.96;
  const double se = std::sqrt(se_seeds * se_seeds + se_users * se_users);
  const double df = std::pow(se, 4) / std::pow(se_seeds, 4);  // Welch-Satterthwaite, k - 1 = 1
  CHECK(row["ci"] == "t+bootstrap");
  CHECK(row["se"].get<double>() == Approx(se));
  CHECK(row["df"].get<double>() == Approx(df));
  const double half = recfuse::student_t_quantile(0.975, df) * se;
  CHECK(row["low"].get<double>() == Approx(0.3 - half));
  CHECK(row["high"].get<double>() == Approx(0.3 + half));
  // Wider than the users' part alone; df between the seeds' (1) and infinity.
  CHECK(half > 1.96 * se_users);
  CHECK(row["df"].get<double>() > 1.0);
}

TEST_CASE("trials on different test sets keep the t-interval over trials", "[reports][summary]") {
  // Folds, or records that name no test set (simulated episodes, older runs).
  for (const std::string tag : {"named", "unnamed"}) {
    const auto set = [&](const char* s) { return tag == "named" ? std::string(s) : std::string(); };
    const json row = ndcg_row({trial("knn", 1, 0.2, 0.05, set("f1")), trial("knn", 2, 0.3, 0.05, set("f2")),
                               trial("knn", 3, 0.4, 0.05, set("f3"))});
    CHECK(row["ci"] == "t");
    CHECK(row["test_sets"] == 3);
    const double half = recfuse::student_t_quantile(0.975, 2) * 0.1 / std::sqrt(3.0);
    CHECK(row["low"].get<double>() == Approx(0.3 - half));
    CHECK(row["high"].get<double>() == Approx(0.3 + half));
  }
}

TEST_CASE("seeds within folds are averaged per fold before the t over folds", "[reports][summary]") {
  // Two folds x two seeds: the unit is the fold (df 1), not the trial (df 3).
  const json row = ndcg_row({trial("knn", 1, 0.20, 0.05, "f1"), trial("knn", 2, 0.22, 0.05, "f1"),
                             trial("knn", 1, 0.30, 0.05, "f2"), trial("knn", 2, 0.32, 0.05, "f2")});
  CHECK(row["ci"] == "t");
  CHECK(row["trials"] == 4);
  CHECK(row["test_sets"] == 2);
  CHECK(row["df"].get<double>() == Approx(1.0));
  const double sd = std::sqrt(2 * 0.05 * 0.05);  // fold means 0.21 and 0.31
  CHECK(row["se"].get<double>() == Approx(sd / std::sqrt(2.0)));
  const double half = recfuse::student_t_quantile(0.975, 1) * sd / std::sqrt(2.0);
  CHECK(row["high"].get<double>() == Approx(0.26 + half));
}

TEST_CASE("compare of deterministic seeds on one test set is not certain of a small difference",
          "[reports][summary][compare]") {
  // Base seeds 1, 2 and candidate seeds 3, 4: no (fold, seed) pairs, so the
  // unpaired test of the two summary rows decides. With SE = sd / sqrt(k) =
  // 0 on both sides the old rows made a 0.002 difference certain (p = 0).
  const auto run = [](std::vector<int> seeds, double mean) {
    recfuse::RunForCompare r;
    for (int s : seeds) r.records.push_back(trial("ease", s, mean, 0.05, "abc"));
    r.report = recfuse::build_report(recfuse::test::fixture_context(), r.records);
    r.records.clear();  // summary rows only
    return r;
  };
  const recfuse::CompareResult res =
      recfuse::compare_runs(run({1, 2}, 0.300), run({3, 4}, 0.298), recfuse::CompareOptions{});
  const recfuse::CompareRow* row = nullptr;
  for (const auto& r : res.rows)
    if (r.metric == "ndcg@10") row = &r;
  REQUIRE(row != nullptr);
  CHECK(row->method == "unpaired_summary");
  CHECK(row->p > 0.5);
  CHECK_FALSE(row->worse);
  CHECK(res.regressions == 0);
}

TEST_CASE("with unequal seeds per test set the row's mean is the mean over test sets",
          "[reports][summary]") {
  // A seed of fold f2 failed: f1 keeps three, f2 one. The interval is built
  // from the two fold means (0.1, 0.3), so its centre must be 0.2, not the
  // mean over four trials (0.15).
  const json row = ndcg_row({trial("knn", 1, 0.1, 0.05, "f1"), trial("knn", 2, 0.1, 0.05, "f1"),
                             trial("knn", 3, 0.1, 0.05, "f1"), trial("knn", 1, 0.3, 0.05, "f2")});
  CHECK(row["mean"].get<double>() == Approx(0.2));
  CHECK((row["low"].get<double>() + row["high"].get<double>()) / 2 == Approx(0.2));
}

TEST_CASE("seeds of one test set without per-trial intervals give a mean only, never a certain one",
          "[reports][summary][compare]") {
  // bootstrap = 0, or a catalogue measure: no users' part to add, and the
  // seeds' spread of a deterministic algorithm is 0.
  const auto no_ci = [](int seed, double mean) {
    json r = trial("ease", seed, mean, 0.05, "abc");
    r["metrics"]["ndcg@10"].erase("low");
    r["metrics"]["ndcg@10"].erase("high");
    return r;
  };
  const json row = ndcg_row({no_ci(1, 0.3), no_ci(2, 0.3), no_ci(3, 0.3)});
  CHECK(row["ci"] == "none");
  CHECK(row["low"].is_null());
  CHECK(row["high"].is_null());
  // A trial without an interval does not discard the others' users' part.
  const json mixed = ndcg_row({no_ci(1, 0.3), trial("ease", 2, 0.3, 0.05, "abc"), trial("ease", 3, 0.3, 0.05, "abc")});
  CHECK(mixed["ci"] == "t+bootstrap");
  CHECK(mixed["high"].get<double>() == Approx(0.35).margin(1e-9));
  // compare has nothing to test on such rows instead of p = 0.
  const auto run = [&](std::vector<int> seeds, double mean) {
    recfuse::RunForCompare r;
    for (int s : seeds) r.records.push_back(no_ci(s, mean));
    r.report = recfuse::build_report(recfuse::test::fixture_context(), r.records);
    r.records.clear();
    return r;
  };
  const recfuse::CompareResult res =
      recfuse::compare_runs(run({1, 2}, 0.300), run({3, 4}, 0.298), recfuse::CompareOptions{});
  for (const auto& r : res.rows)
    if (r.metric == "ndcg@10") CHECK(r.method == "none");
  CHECK(res.regressions == 0);
}
