// The recfuse binary end to end, continued: evaluation on the validation
// part, nested validation, a metrics filter, validation items on test, and
// planned comparisons through the CLI.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "end_to_end_support.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;
using namespace recfuse::test::e2e;

TEST_CASE("evaluation.target = validation scores the validation part, never test") {
  const auto dir = temp_dir("target");
  const auto s = write_text(dir, "v.toml", small_scenario_with("target = \"validation\""));
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "v").string() +
                             " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json on_validation = read_report(dir / "v");
  const auto t = write_text(dir, "t.toml", kSmallScenario);
  REQUIRE(run_recfuse("run " + t.string() + " --output " + (dir / "t").string() +
                      " --no-cache --quiet").exit_code == 0);
  const json on_test = read_report(dir / "t");
  const json& v = trial_named(on_validation, "item_knn");
  const json& tt = trial_named(on_test, "item_knn");
  CHECK(v.at("dataset").at("evaluated_on") == "validation");
  CHECK(tt.at("dataset").at("evaluated_on") == "test");
  // Same training data, different held-out items: the ids and metrics differ.
  CHECK(v.at("trial_id") != tt.at("trial_id"));
  CHECK(v.at("metrics").at("ndcg@10") != tt.at("metrics").at("ndcg@10"));
  CHECK(v.at("dataset").at("train") == tt.at("dataset").at("train"));

  const auto bad = write_text(dir, "b.toml",
                              "name = \"b\"\n[split]\nmethod = \"random\"\n[evaluation]\n"
                              "target = \"validation\"\n[[algorithms]]\nplugin = \"popularity\"\n");
  const auto rb = run_recfuse("run " + bad.string() + " --output " + (dir / "b").string() +
                              " --no-cache --quiet");
  // Refused before any trial, at the key (before, every trial failed).
  CHECK(rb.exit_code == 1);
  CHECK_THAT(rb.output, Catch::Contains("b.toml:5:10: [evaluation.target] \"validation\" needs validation data"));
}

TEST_CASE("nested_validation: the algorithm fits on train minus its own validation, never on what is scored") {
  // test_mean_fusion (tests/test_plugins) reports the TrainData it was fitted
  // on: pairs in train and validation, and a checksum of the validation pairs.
  const auto dir = temp_dir("nested");
  const std::string fusion = "[[algorithms]]\nname = \"fusion\"\nplugin = \"test_mean_fusion\"\n"
                             "[[algorithms.children]]\nplugin = \"popularity\"\n";
  const auto run = [&](const std::string& name, const std::string& lines) {
    const auto s = write_text(dir, name + ".toml", small_scenario_with(lines) + fusion);
    const auto r = run_recfuse("run " + s.string() + " --output " + (dir / name).string() +
                               " --plugin-path " + bad_plugin_dir().string() + " --no-cache --quiet");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return read_report(dir / name);
  };
  const json plain_report = run("plain", "target = \"validation\"");
  const json nested_report = run("nested", "target = \"validation\"\nnested_validation = true");
  const json& plain = trial_named(plain_report, "item_knn");
  const json& nested = trial_named(nested_report, "item_knn");
  // The same outer split and scored items; the algorithm's data is nested.
  CHECK(nested.at("dataset").at("nested_validation") == true);
  CHECK(plain.at("dataset").at("nested_validation") == false);
  for (const char* key : {"train", "validation", "test"}) CHECK(nested.at("dataset").at(key) == plain.at("dataset").at(key));
  CHECK(plain.at("dataset").at("algorithm_train") == plain.at("dataset").at("train"));
  CHECK(plain.at("dataset").at("algorithm_validation") == plain.at("dataset").at("validation"));
  // leave_last_one_out: one more item per user (150 users of 20) leaves train.
  CHECK(nested.at("dataset").at("algorithm_validation") == 150);
  CHECK(nested.at("dataset").at("algorithm_train").get<int>() + 150 == nested.at("dataset").at("train").get<int>());
  CHECK(nested.at("trial_id") != plain.at("trial_id"));
  CHECK(nested.at("metrics").at("ndcg@10") != plain.at("metrics").at("ndcg@10"));
  // What a fusion strategy is handed: without nesting, the very items scored;
  // nested, the inner part, which is another item of every user.
  const json& fp = trial_named(plain_report, "fusion").at("diagnostics");
  const json& fn = trial_named(nested_report, "fusion").at("diagnostics");
  CHECK(fp.at("validation_pairs") == plain.at("dataset").at("validation"));
  CHECK(fp.at("train_pairs") == plain.at("dataset").at("train"));
  CHECK(fn.at("validation_pairs") == nested.at("dataset").at("algorithm_validation"));
  CHECK(fn.at("train_pairs") == nested.at("dataset").at("algorithm_train"));
  CHECK(fn.at("validation_key_sum") != fp.at("validation_key_sum"));
  // Segments count the outer train either way: the same definition and members.
  CHECK(nested.at("segment_definition") == plain.at("segment_definition"));
  for (const auto& [segment, cell] : plain.at("segments").items())
    CHECK(nested.at("segments").at(segment).at("n") == cell.at("n"));

  const auto bad = write_text(dir, "b.toml", small_scenario_with("nested_validation = true"));
  const auto rb = run_recfuse("run " + bad.string() + " --output " + (dir / "b").string() + " --no-cache --quiet");
  CHECK(rb.exit_code == 1);  // a scenario error, before any trial
  CHECK_THAT(rb.output, Catch::Contains("b.toml:") && Catch::Contains("[evaluation.nested_validation]") &&
                            Catch::Contains("target = \"validation\" only"));
}

TEST_CASE("a metrics filter keeps only the rating metric asked for") {
  const auto dir = temp_dir("mae-only");
  const auto s = write_text(dir, "m.toml",
                            "name = \"m\"\n[dataset]\nformat = \"synthetic\"\n"
                            "[dataset.synthetic]\nusers = 80\nitems = 60\ninteractions_per_user = 12\n"
                            "[evaluation]\nmetrics = [\"mae\"]\nbootstrap = 100\n"
                            "[[algorithms]]\nplugin = \"baseline_only\"\n");
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "o").string() +
                             " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(dir / "o");
  const json& metrics = report.at("trials").at(0).at("metrics");
  CHECK(metrics.contains("mae"));
  CHECK_FALSE(metrics.contains("rmse"));
  CHECK_FALSE(metrics.contains("ndcg@10"));
  // The record keeps each rated user's test ratings and absolute-error sum
  // (no squared one: rmse was not asked for); together they are the MAE.
  json record;
  for (const auto& e : std::filesystem::directory_iterator(dir / "o" / "trials"))
    if (e.path().extension() == ".json") record = json::parse(read_text(e.path()));
  const json& pu = record.at("per_user");
  CHECK_FALSE(pu.contains("rating_sse"));
  REQUIRE(pu.at("rating_sae").size() == pu.at("rating_users").size());
  REQUIRE(pu.at("rating_n").size() == pu.at("rating_users").size());
  double sae = 0, n = 0;
  for (std::size_t k = 0; k < pu.at("rating_n").size(); ++k)
    sae += pu["rating_sae"][k].get<double>(), n += pu["rating_n"][k].get<double>();
  CHECK(n == metrics.at("mae").at("n").get<double>());
  CHECK(sae / n == Approx(metrics.at("mae").at("mean").get<double>()).epsilon(1e-9));
}

TEST_CASE("on test, validation items are never ranked unless the user repeats one as the test item") {
  // Sequences (leave-last-one-out, validation = second-last): user "2"
  // ends 7, 7, so its validation and test items are the same film. Training
  // popularity puts 7 first (4 users), so popularity's top-1 for user "2"
  // is 7 and must count as a hit; user "1" (validation 1, test 2) never
  // sees its validation item 1 ranked, and 1 would be next after 7, 8, 9.
  const auto dir = temp_dir("repeat");
  const auto data = write_text(dir, "seq.txt", "1 7 8 9 1 2\n2 1 2 3 7 7\n3 7 8 1 2 3\n4 7 9 1 2 3\n5 7 8 4 5 6\n");
  const auto s = write_text(dir, "r.toml",
                            "name = \"r\"\n[dataset]\nformat = \"sequence\"\npath = \"" + data.string() +
                                "\"\n[split]\nmethod = \"leave_last_one_out\"\n[evaluation]\ncutoffs = [1, 5]\n"
                                "bootstrap = 10\n[[algorithms]]\nplugin = \"popularity\"\n");
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "o").string() + " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string id = read_report(dir / "o").at("trials").at(0).at("trial_id");
  std::ifstream in(dir / "o" / "trials" / (id + ".json"));
  const json rec = json::parse(in);
  const json& pu = rec.at("per_user");
  const auto users = pu.at("users").get<std::vector<int>>();
  const auto hr1 = pu.at("hr@1").get<std::vector<double>>();
  REQUIRE(users.size() == 5);
  CHECK(users[1] == 1);
  CHECK(hr1[1] == 1.0);  // user "2": the repeated validation item is its test item
  // user "1": train {7, 8, 9}; with its validation item 1 (3 users) excluded
  // the top-1 is 2 (one user, tied with 3 and 4, the smaller id), its test item.
  CHECK(hr1[0] == 1.0);
}

TEST_CASE("[evaluation] compare reaches the report through the CLI") {
  const auto dir = temp_dir("planned");
  const auto s = write_text(
      dir, "p.toml",
      small_scenario_with("compare = [[\"item_knn\", \"random\"], [\"user_knn\", \"random\"]]"));
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "o").string() +
                             " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(dir / "o");
  REQUIRE(report.contains("planned_comparisons"));
  int on_ndcg = 0;
  for (const auto& row : report.at("planned_comparisons")) {
    if (row.at("metric") != "ndcg@10") continue;
    ++on_ndcg;
    CHECK(row.at("baseline") == "random");
    const std::string treatment = row.at("algorithm").get<std::string>();
    // mean diff = treatment − baseline, from the two trials' own metrics
    CHECK(row.at("mean_diff").get<double>() ==
          Approx(metric(trial_named(report, treatment), "ndcg@10") -
                 metric(trial_named(report, "random"), "ndcg@10")).margin(1e-6));
  }
  CHECK(on_ndcg == 2);
  std::ifstream md(dir / "o" / "report.md");
  const std::string markdown((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK(markdown.find("## Planned comparisons on ndcg@10") != std::string::npos);
  CHECK(std::filesystem::exists(dir / "o" / "planned_comparisons.csv"));
}
