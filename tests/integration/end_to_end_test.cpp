// The recfuse binary end to end: the embedded default scenario, the shipped
// ml-100k scenario, determinism, and the CLI's answers to bad input.
// (Evaluation targets, metric filters, planned comparisons and saved models:
// end_to_end_evaluation_test.cpp.)
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "end_to_end_support.hpp"
#include "host/params_validation.hpp"
#include "host/plugin_loader.hpp"
#include "recfuse/model_io.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;
using namespace recfuse::test::e2e;


TEST_CASE("the default scenario runs end to end and writes all three reports") {
  const auto out = temp_dir("default");
  const auto r = run_recfuse("run --output " + out.string() + " --no-cache");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("report: " + (out / "report.md").string()));
  for (const char* f : {"report.json", "report.md", "report.csv", "scenario.toml"})
    CHECK(std::filesystem::exists(out / f));
  const json report = read_report(out);
  CHECK(report.at("schema_version") == 1);
  const std::string commit = report.at("context").at("git_commit").get<std::string>();
  CHECK(commit.size() >= 40);  // a full hash (possibly "-dirty"), not "unknown"
  REQUIRE(report.at("trials").size() == 5);
  for (const auto& t : report.at("trials")) CHECK(t.at("status") == "ok");
  // A learned signal must beat chance on the synthetic world.
  CHECK(metric(trial_named(report, "popularity"), "ndcg@10") >
        2 * metric(trial_named(report, "random"), "ndcg@10"));
  CHECK(metric(trial_named(report, "baseline_only"), "rmse") < 1.5);
}

TEST_CASE("the same scenario and seed run twice give identical metrics") {
  const auto dir = temp_dir("determinism");
  const auto scenario = write_text(dir, "small.toml", kSmallScenario);
  const auto a = run_recfuse("run " + scenario.string() + " --output " + (dir / "a").string() +
                             " --no-cache --quiet");
  const auto b = run_recfuse("run " + scenario.string() + " --output " + (dir / "b").string() +
                             " --no-cache --quiet --jobs 2");
  INFO(a.output << b.output);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  const json ra = read_report(dir / "a"), rb = read_report(dir / "b");
  REQUIRE(ra.at("trials").size() == 3);
  for (const auto& t : ra.at("trials")) {
    const json& u = trial_named(rb, t.at("algorithm").get<std::string>());
    INFO(t.at("algorithm"));
    CHECK(t.at("trial_id") == u.at("trial_id"));
    CHECK(t.at("metrics") == u.at("metrics"));
  }
}

TEST_CASE("ml-100k baselines, leave-last-one-out, full ranking") {
  if (!have_shared("ml-100k/u.data")) {
    WARN("ml-100k not found under " << shared_data() << "; skipped");
    return;
  }
  const auto out = temp_dir("ml100k");
  const auto r = run_recfuse("run " + (source_dir() / "scenarios/ml100k-baselines.toml").string() +
                             " --output " + out.string() + " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(out);
  REQUIRE(report.at("trials").size() == 4);
  for (const auto& t : report.at("trials")) {
    CHECK(t.at("status") == "ok");
    CHECK(t.at("dataset").at("test_users") == 943);
    CHECK(t.at("dataset").at("users") == 943);
    CHECK(t.at("dataset").at("items") == 1682);
    CHECK(t.at("metrics").at("hr@10").at("n") == 943);
    CHECK(t.at("timing").at("latency_ms").at("n") == 943);
    CHECK(t.at("resources").at("peak_rss_bytes").get<double>() > 1e6);
  }
  const double random_hr = metric(trial_named(report, "random"), "hr@10");
  const double pop_hr = metric(trial_named(report, "popularity"), "hr@10");
  CHECK(random_hr < 0.03);  // 10 of ~1600 candidates: about 0.006
  CHECK(pop_hr > 3 * random_hr);
  CHECK(metric(trial_named(report, "item_knn"), "hr@10") > 3 * random_hr);
  CHECK(metric(trial_named(report, "user_knn"), "hr@10") > 3 * random_hr);
  // explain_users = 3: the kNN recommenders give a reason for every item.
  for (const char* name : {"item_knn", "user_knn"}) {
    const json& lists = trial_named(report, name).at("explanations");
    REQUIRE(lists.size() == 3);
    for (const auto& item : lists.at(0).at("items")) CHECK_FALSE(item.at("reason").get<std::string>().empty());
  }
  CHECK(trial_named(report, "random").contains("explanations_note"));
}

TEST_CASE("bad scenarios fail before any trial with file:line:column") {
  const auto dir = temp_dir("bad");
  const auto typo = write_text(dir, "typo.toml", "name = \"t\"\n[split]\nmetod = \"random\"\n");
  auto r = run_recfuse("run " + typo.string() + " --output " + (dir / "o1").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("typo.toml:3:") && Catch::Contains("did you mean 'method'"));
  CHECK_FALSE(std::filesystem::exists(dir / "o1" / "trials"));

  const auto plugin = write_text(dir, "plugin.toml",
                                 "name = \"p\"\n[[algorithms]]\nname = \"x\"\nplugin = \"itemknn\"\n");
  r = run_recfuse("run " + plugin.string() + " --output " + (dir / "o2").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("plugin.toml:4:") && Catch::Contains("item_knn"));

  const auto param = write_text(dir, "param.toml",
                                "name = \"p\"\n[[algorithms]]\nname = \"x\"\nplugin = \"item_knn\"\n"
                                "[algorithms.params]\nneigbors = 5\n");
  r = run_recfuse("run " + param.string() + " --output " + (dir / "o3").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("param.toml:6:") && Catch::Contains("did you mean 'neighbors'"));

  r = run_recfuse("run " + (dir / "missing.toml").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("missing.toml"));
}

TEST_CASE("a missing dataset names the file and how to obtain it") {
  const auto dir = temp_dir("nodata");
  const auto s = write_text(dir, "s.toml",
                            "name = \"s\"\n[dataset]\nformat = \"ml-100k\"\npath = \"no-such-dir\"\n"
                            "[[algorithms]]\nplugin = \"popularity\"\n");
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "o").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("no-such-dir") && Catch::Contains("RECFUSE_DATA"));
  CHECK_THAT(r.output, Catch::Contains("s.toml:") && Catch::Contains("[dataset] path"));
}

TEST_CASE("an output path that is a file is bad input, named, not an internal error") {
  const auto dir = temp_dir("outfile");
  const auto s = write_text(dir, "s.toml", kSmallScenario);
  const auto file = write_text(dir, "taken", "a file\n");
  const auto r = run_recfuse("run " + s.string() + " --output " + file.string() + " --no-cache");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("output directory " + file.string()));
}

TEST_CASE("plugins, data info and --help answer") {
  auto r = run_recfuse("plugins");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  for (const char* name : {"random", "popularity", "baseline_only", "item_knn", "user_knn",
                           "neighbors", "shrinkage"})
    CHECK_THAT(r.output, Catch::Contains(name));
  // Every parameter table is aligned: each row has two blanks before the
  // column starts its header gives, however long a cell (a default, a range).
  {
    std::istringstream lines(r.output);
    std::string line;
    std::vector<std::size_t> starts;  // of type, default, range, doc in the current table
    int rows = 0;
    while (std::getline(lines, line)) {
      if (line.rfind("    parameter", 0) == 0) {
        starts.clear();
        for (const char* h : {" type ", " default ", " range ", " doc"}) starts.push_back(line.find(h) + 1);
        continue;
      }
      if (starts.empty() || line.rfind("    ", 0) != 0 || line.rfind("     ", 0) == 0 ||
          line.find("capabilities:") != std::string::npos || line.find("(no parameters)") != std::string::npos) {
        starts.clear();
        continue;
      }
      ++rows;
      INFO(line);
      for (std::size_t c = 0; c < starts.size(); ++c) {
        REQUIRE(line.size() > starts[c]);
        CHECK(line.substr(starts[c] - 2, 2) == "  ");
        if (c < 2) CHECK(line[starts[c]] != ' ');  // type and default are never empty
      }
    }
    CHECK(rows > 20);
  }
  for (const char* cmd : {"--help", "run --help", "plugins --help", "data info --help",
                          "trial --help"}) {
    r = run_recfuse(cmd);
    INFO(cmd);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("usage"));
  }
  if (have_shared("ml-100k/u.data")) {
    r = run_recfuse("data info " + (shared_data() / "ml-100k").string());
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("943") && Catch::Contains("1682"));
  }
}
