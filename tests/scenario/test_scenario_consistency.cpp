// Scenario errors that only a combination of keys shows (a grid's values as
// the plugin will read them, the split against the evaluation target and the
// data source): refused at load time, at a key, instead of failing every
// trial of the run (exit 2, no line) once it has started.
#include <catch2/catch.hpp>
#include <set>

#include "scenario_test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

TEST_CASE("scenario: a grid value equal as a number to another is listed twice", "[scenario]") {
  // A float parameter reads 10 as 10.0 (an int one refuses 10.0): the same
  // configuration twice, two trials and two report rows of one result.
  REQUIRE_THROWS_WITH(parse("name = \"t\"\n[[algorithms]]\nplugin = \"p\"\n"
                            "grid = { shrinkage = [10, 10.0] }\n"),
                      "s.toml:4:27: [algorithms.p.grid.shrinkage] value 10.0 is listed twice (10 and 10.0 are "
                      "one number to a float parameter)");
  REQUIRE_THROWS_WITH(parse("name = \"t\"\n[[algorithms]]\nplugin = \"p\"\n"
                            "grid = { x = [0.5, 2, 1, 2.0] }\n"),
                      "s.toml:4:26: [algorithms.p.grid.x] value 2.0 is listed twice (2 and 2.0 are one number to a "
                      "float parameter)");
  // Two ints compare exactly, even where their doubles agree (beyond 2^53).
  CHECK(expand_trials(parse("name = \"t\"\n[[algorithms]]\nplugin = \"p\"\n"
                            "grid = { n = [9007199254740992, 9007199254740993] }\n"))
            .size() == 2);
  // Distinct numbers stay distinct trials, however close.
  CHECK(expand_trials(parse("name = \"t\"\n[[algorithms]]\nplugin = \"p\"\n"
                            "grid = { x = [0.1, 0.10000000001, 1, 1.5] }\n"))
            .size() == 4);
}

TEST_CASE("scenario: distinct grid values get distinct trial ids", "[scenario]") {
  const auto t = expand_trials(parse("name = \"t\"\n[[algorithms]]\nplugin = \"p\"\n"
                                     "grid = { x = [0.1, 0.10000000001, 1, \"1\", true, \"true\"] }\n"));
  REQUIRE(t.size() == 6);
  std::set<std::string> ids;
  for (const auto& trial : t) ids.insert(trial.id);
  CHECK(ids.size() == 6);
}

TEST_CASE("scenario: target = validation needs a split that makes validation data", "[scenario]") {
  // Every trial failed with "produced no validation data" once the run had
  // started; the split's keys alone say so.
  REQUIRE_THROWS_WITH(
      parse(with_algo("[split]\nvalidation = false\n[evaluation]\ntarget = \"validation\"")),
      "s.toml:5:10: [evaluation.target] \"validation\" needs validation data, which split "
      "'leave_last_one_out' makes only with validation = true");
  REQUIRE_THROWS_WITH(
      parse(with_algo("[split]\nmethod = \"random\"\n[evaluation]\ntarget = \"validation\"")),
      "s.toml:5:10: [evaluation.target] \"validation\" needs validation data, which split "
      "'random' makes only with validation_ratio > 0");
  REQUIRE_THROWS_WITH(
      parse(with_algo("[split]\nmethod = \"kfold\"\nvalidation_ratio = 0.0\n[evaluation]\n"
                      "target = \"validation\"\nnested_validation = true")),
      Catch::StartsWith("s.toml:6:10: [evaluation.target] \"validation\" needs validation data"));
  CHECK_NOTHROW(parse(with_algo("[evaluation]\ntarget = \"validation\"")));
  CHECK_NOTHROW(parse(with_algo(
      "[split]\nmethod = \"random\"\nvalidation_ratio = 0.1\n[evaluation]\ntarget = \"validation\"")));
  // Without the offline protocol the split does not apply: such a [split]
  // is refused as a whole (test_split_keys.cpp), not at the target.
  REQUIRE_THROWS_WITH(parse(with_algo("[split]\nvalidation = false\n[evaluation]\ntarget = \"validation\"\n"
                                      "[environment]\nplugin = \"e\"")),
                      Catch::StartsWith("s.toml:2:1: [split] is read only by the offline protocol"));
}

TEST_CASE("scenario: fixed fold names are ml-100k's", "[scenario]") {
  const std::string head = "[dataset]\nformat = \"ml-100k\"\n[split]\nmethod = \"fixed\"\n";
  REQUIRE_THROWS_WITH(parse(with_algo(head + "fold = [\"u1\", \"u6\"]")),
                      "s.toml:6:15: [split.fold] unknown fold \"u6\"; did you mean \"u1\"? one of: "
                      "u1, u2, u3, u4, u5, ua, ub");
  REQUIRE_THROWS_WITH(parse(with_algo(head + "fold = [\"../u1\"]")),
                      Catch::StartsWith("s.toml:6:9: [split.fold] unknown fold \"../u1\""));
  CHECK(parse(with_algo(head + "fold = [\"ub\", \"u5\"]")).split.fold_names ==
        std::vector<std::string>{"ub", "u5"});
}

TEST_CASE("scenario: the split methods that read a source's own parts need that source",
          "[scenario]") {
  // Without [dataset] the data is the synthetic default, which has no fold files.
  REQUIRE_THROWS_WITH(parse(with_algo("[split]\nmethod = \"fixed\"")),
                      Catch::StartsWith("s.toml:3:10: [split.method] \"fixed\" reads ml-100k's own "
                                        "fold files") &&
                          Catch::Contains("dataset.format is \"synthetic\""));
  REQUIRE_THROWS_WITH(
      parse(with_algo("[dataset]\nformat = \"ml-100k\"\n[split]\nmethod = \"source\"")),
      "s.toml:5:10: [split.method] \"source\" reads the train and test parts a two-file format "
      "ships (implicit-train-test); dataset.format is \"ml-100k\"");
  REQUIRE_THROWS_WITH(parse(with_algo("[split]\nmethod = \"source\"")),
                      Catch::Contains("dataset.format is \"synthetic\""));
  CHECK_NOTHROW(parse(with_algo(
      "[dataset]\nformat = \"implicit-train-test\"\npath = \"x\"\n[split]\nmethod = \"source\"")));
  // A scenario that runs only the simulated protocols builds no split: its
  // [split] is refused as a whole (test_split_keys.cpp), not at the method.
  REQUIRE_THROWS_WITH(parse(with_algo("[split]\nmethod = \"fixed\"\n[environment]\nplugin = \"e\"")),
                      Catch::StartsWith("s.toml:2:1: [split] is read only by the offline protocol"));
}

TEST_CASE("scenario: a misspelt metric name is refused at its element", "[scenario]") {
  // Before, the parser took any name and every trial failed (exit 2, no line).
  REQUIRE_THROWS_WITH(parse(with_algo("[evaluation]\nmetrics = [\"recall\", \"ndgc\"]")),
                      Catch::StartsWith("s.toml:3:22: [evaluation.metrics] unknown metric \"ndgc\"; did you mean "
                                        "\"ndcg\"? one of: precision, recall,"));
  REQUIRE_THROWS_WITH(parse(with_algo("[evaluation]\nmetrics = [\"ndcg@10\"]")),
                      Catch::StartsWith("s.toml:3:12: [evaluation.metrics] unknown metric \"ndcg@10\""));
  CHECK(parse(with_algo("[evaluation]\nmetrics = [\"ndcg\", \"auc\", \"rmse\", \"gini\"]")).evaluation.metrics.size() == 4);
}
