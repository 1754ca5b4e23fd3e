// A [split] key that the chosen method never reads is refused at its line,
// naming the methods that do read it: left in, it looked like a setting and
// changed nothing (validation_ratio under leave_last_one_out, folds under
// random, seed under a method that draws nothing).
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "scenario/schema.hpp"

using namespace recfuse;

namespace {

struct KeyUse {
  std::string key, value;
  std::set<std::string> methods;           // read it
  std::set<std::string> with_validation;   // read it only with validation_ratio > 0
};

// Written from data/splits.cpp, not from the schema table, so that a wrong
// table fails here: test_ratio by random and temporal_* (checked_ratio);
// validation_ratio by carve_validation, which every method but
// leave_last_one_out reaches (it returns before); validation by
// leave_last_one_out only; folds by kfold; seed by the methods that shuffle
// (random, kfold) and by the random carving of validation_ratio (kfold,
// random, and fixed and source, whose split itself draws nothing; the
// temporal carving takes the latest interactions).
const std::vector<KeyUse>& key_uses() {
  static const std::vector<KeyUse> uses = {
      {"test_ratio", "0.1", {"random", "temporal_global", "temporal_user"}, {}},
      {"validation_ratio", "0.1", {"random", "temporal_global", "temporal_user", "kfold", "fixed", "source"}, {}},
      {"validation", "false", {"leave_last_one_out"}, {}},
      {"validation_item", "\"before_test_time\"", {"leave_last_one_out"}, {}},
      {"validation_train", "\"all\"", {"leave_last_one_out"}, {}},
      {"folds", "3", {"kfold"}, {}},
      {"fold", "", {"kfold", "fixed"}, {}},
      {"seed", "7", {"random", "kfold"}, {"fixed", "source"}},
  };
  return uses;
}

// A scenario whose dataset suits `method` (fixed reads ml-100k's files,
// source implicit-train-test's parts), then [split] with `method` on line
// `split_line` + 1 and `lines` after it.
std::string scenario(const std::string& method, const std::string& lines, int& split_line) {
  std::string text = "name = \"t\"\n";
  split_line = 2;
  if (method == "fixed") text += "[dataset]\nformat = \"ml-100k\"\n", split_line += 2;
  if (method == "source") text += "[dataset]\nformat = \"implicit-train-test\"\npath = \"x\"\n", split_line += 3;
  return text + "[split]\nmethod = \"" + method + "\"\n" + lines + "[[algorithms]]\nplugin = \"p\"\n";
}

std::string quoted_list(const std::set<std::string>& methods) {
  std::string out;
  for (const auto& m : methods) out += "\"" + m + "\" ";
  return out;
}

}  // namespace

TEST_CASE("scenario: a [split] key is refused under a method that does not read it", "[scenario]") {
  for (const auto& use : key_uses()) {
    for (const auto& method : scenario_schema::split_methods()) {
      const std::string value = use.key != "fold" ? use.value : method == "fixed" ? "[\"u1\"]" : "[1]";
      const std::string line = use.key + " = " + value + "\n";
      int split_line = 0;
      const std::string text = scenario(method, line, split_line);
      INFO(text);
      if (use.methods.count(method)) {
        CHECK_NOTHROW(parse_scenario(text, "s.toml"));
        continue;
      }
      // At the key's value: "s.toml:<line>:<col>: [split.<key>] only applies to ...".
      const std::string at = "s.toml:" + std::to_string(split_line + 2) + ":" +
                             std::to_string(use.key.size() + 4) + ": [split." + use.key + "] ";
      std::string message;
      try {
        parse_scenario(text, "s.toml");
      } catch (const Error& e) {
        message = e.what();
      }
      INFO(message << "\nmethods that read it: " << quoted_list(use.methods));
      CHECK_THAT(message, Catch::StartsWith(at + "only applies to method = ") &&
                              Catch::Contains(", not \"" + method + "\""));
      for (const auto& m : use.methods) CHECK_THAT(message, Catch::Contains("\"" + m + "\""));
      if (use.with_validation.count(method)) {
        // The random carving of validation_ratio reads it there.
        CHECK_THAT(message, Catch::Contains("validation_ratio > 0"));
        CHECK_NOTHROW(parse_scenario(scenario(method, line + "validation_ratio = 0.1\n", split_line), "s.toml"));
      }
    }
  }
}

TEST_CASE("scenario: the message names the applicable methods in order", "[scenario]") {
  REQUIRE_THROWS_WITH(parse_scenario("name = \"t\"\n[split]\nmethod = \"leave_last_one_out\"\nvalidation_ratio = 0.1\n"
                                     "[[algorithms]]\nplugin = \"p\"\n",
                                     "s.toml"),
                      "s.toml:4:20: [split.validation_ratio] only applies to method = \"random\", "
                      "\"temporal_global\", \"temporal_user\", \"kfold\", \"fixed\" or \"source\", not "
                      "\"leave_last_one_out\"");
  REQUIRE_THROWS_WITH(parse_scenario("name = \"t\"\n[split]\nmethod = \"temporal_user\"\nseed = 3\n"
                                     "[[algorithms]]\nplugin = \"p\"\n",
                                     "s.toml"),
                      "s.toml:4:8: [split.seed] only applies to method = \"random\" or \"kfold\", or to "
                      "\"fixed\" or \"source\" with validation_ratio > 0, not \"temporal_user\"");
}

TEST_CASE("scenario: a dead [split] key is refused without an offline protocol too", "[scenario]") {
  // As [split.fold] and test_ratio = 0 are: the check reads [split] alone.
  CHECK_THROWS_WITH(parse_scenario("name = \"t\"\nprotocols = [\"online\"]\n[split]\nmethod = \"random\"\n"
                                   "folds = 3\n[environment]\nplugin = \"e\"\n[[algorithms]]\nplugin = \"p\"\n",
                                   "s.toml"),
                    Catch::StartsWith("s.toml:5:9: [split.folds] only applies to method = \"kfold\", not \"random\""));
}

TEST_CASE("scenario: [split] is refused where no protocol reads it", "[scenario]") {
  // Only offline trials split the dataset (trial.cpp); the simulated
  // protocols build their world from all of it (online.cpp), so a [split]
  // beside them changed nothing.
  CHECK_THROWS_WITH(parse_scenario("name = \"t\"\nprotocols = [\"online\"]\n[split]\nmethod = \"random\"\n"
                                   "[environment]\nplugin = \"e\"\n[[algorithms]]\nplugin = \"p\"\n",
                                   "s.toml"),
                    "s.toml:3:1: [split] is read only by the offline protocol; this scenario runs "
                    "protocols = [\"online\"]");
  // The default protocols of an [environment] without a [dataset].
  CHECK_THROWS_WITH(parse_scenario("name = \"t\"\n[split]\nmethod = \"random\"\n[environment]\nplugin = \"e\"\n"
                                   "[[algorithms]]\nplugin = \"p\"\n",
                                   "s.toml"),
                    "s.toml:2:1: [split] is read only by the offline protocol; this scenario runs "
                    "protocols = [\"online\", \"off_policy\"] (the default for an [environment] without a "
                    "[dataset])");
  // With the offline protocol among them, [split] is read.
  CHECK_NOTHROW(parse_scenario("name = \"t\"\nprotocols = [\"offline\", \"online\"]\n[dataset]\n"
                               "format = \"synthetic\"\n[split]\nmethod = \"random\"\n[environment]\nplugin = \"e\"\n[[algorithms]]\nplugin = \"p\"\n",
                               "s.toml"));
}

TEST_CASE("scenario: split.ties applies under every method, on data with timestamps", "[scenario]") {
  // Every method's training sequences order equal timestamps by it
  // (train_data_builder.cpp), not only the time-based splits.
  for (const auto& method : scenario_schema::split_methods()) {
    if (method == "source") continue;  // only implicit-train-test, which has no timestamps
    int split_line = 0;
    const std::string text = scenario(method, "ties = \"item\"\n", split_line);
    INFO(text);
    CHECK_NOTHROW(parse_scenario(text, "s.toml"));
  }
  // Without timestamps no two interactions tie in time: the key does nothing.
  CHECK_THROWS_WITH(parse_scenario("name = \"t\"\n[dataset]\nformat = \"sequence\"\npath = \"x\"\n[split]\n"
                                   "method = \"random\"\nties = \"item\"\n[[algorithms]]\nplugin = \"p\"\n",
                                   "s.toml"),
                    Catch::StartsWith("s.toml:7:8: [split.ties] has no effect: dataset.format \"sequence\" "
                                      "has no timestamps"));
  int split_line = 0;
  CHECK_THROWS_WITH(parse_scenario(scenario("source", "ties = \"source\"\n", split_line), "s.toml"),
                    Catch::Contains("[split.ties] has no effect: dataset.format \"implicit-train-test\""));
}

TEST_CASE("scenario: split.validation_item needs a held-out validation item and timestamps", "[scenario]") {
  int split_line = 0;
  const Scenario s = parse_scenario(scenario("leave_last_one_out", "validation_item = \"before_test_time\"\n", split_line),
                                    "s.toml");
  CHECK(s.split.validation_item == "before_test_time");
  CHECK(parse_scenario(scenario("leave_last_one_out", "", split_line), "s.toml").split.validation_item == "second_last");
  CHECK_THROWS_WITH(parse_scenario(scenario("leave_last_one_out", "validation = false\nvalidation_item = \"second_last\"\n",
                                            split_line),
                                   "s.toml"),
                    Catch::StartsWith("s.toml:5:19: [split.validation_item] has no effect with validation = false"));
  CHECK_THROWS_WITH(parse_scenario(scenario("leave_last_one_out", "validation_item = \"latest\"\n", split_line), "s.toml"),
                    Catch::Contains("[split.validation_item]") && Catch::Contains("before_test_time"));
  CHECK_THROWS_WITH(parse_scenario("name = \"t\"\n[dataset]\nformat = \"sequence\"\npath = \"x\"\n[split]\n"
                                   "method = \"leave_last_one_out\"\nvalidation_item = \"before_test_time\"\n"
                                   "[[algorithms]]\nplugin = \"p\"\n",
                                   "s.toml"),
                    Catch::StartsWith("s.toml:7:19: [split.validation_item] has no effect: dataset.format \"sequence\" "
                                      "has no timestamps"));
}

TEST_CASE("scenario: split.validation_train cuts training at the validation item, in validation trials only",
          "[scenario]") {
  // Lines: 1 name, 2 [split], 3 method, then `split` from line 4, then
  // [evaluation] with `evaluation`.
  const auto text = [](const std::string& split, const std::string& evaluation) {
    return "name = \"t\"\n[split]\nmethod = \"leave_last_one_out\"\n" + split + "[evaluation]\n" + evaluation +
           "[[algorithms]]\nplugin = \"p\"\n";
  };
  const std::string cut = "validation_train = \"before_validation_item\"\n";
  const std::string before = "validation_item = \"before_test_time\"\n";
  const std::string target = "target = \"validation\"\n";
  const Scenario s = parse_scenario(text(before + cut, target), "s.toml");
  CHECK(s.split.validation_train == "before_validation_item");
  CHECK(parse_scenario(text(before, target), "s.toml").split.validation_train == "all");
  // A test trial would lose those interactions from training and score them nowhere.
  CHECK_THROWS_WITH(parse_scenario(text(before + cut, ""), "s.toml"),
                    Catch::StartsWith("s.toml:5:20: [split.validation_train] \"before_validation_item\" leaves") &&
                        Catch::Contains("evaluation.target = \"validation\""));
  // Under the second-last item nothing lies between it and the test item.
  CHECK_THROWS_WITH(parse_scenario(text(cut, target), "s.toml"),
                    Catch::StartsWith("s.toml:4:20: [split.validation_train] \"before_validation_item\" has no "
                                      "effect with validation_item = \"second_last\""));
  CHECK_THROWS_WITH(parse_scenario(text("validation = false\nvalidation_train = \"all\"\n", ""), "s.toml"),
                    Catch::StartsWith("s.toml:5:20: [split.validation_train] has no effect with validation = false"));
  CHECK_THROWS_WITH(parse_scenario(text(before + "validation_train = \"before\"\n", target), "s.toml"),
                    Catch::Contains("[split.validation_train]") && Catch::Contains("before_validation_item"));
}
