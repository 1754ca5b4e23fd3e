// [evaluation] compare: planned comparisons, their shape and their labels,
// with each error's exact file:line:column and wording.
#include <catch2/catch.hpp>

#include "scenario_test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

// `compare = <value>` on line 3 (the value starts at column 11) of a
// scenario whose report labels are stacking, bpr[lr=0.05], bpr[lr=0.1],
// popularity.
std::string with_compare(const std::string& value) {
  return "name = \"t\"\n[evaluation]\ncompare = " + value +
         "\n[[algorithms]]\nname = \"stacking\"\nplugin = \"stacking\"\n"
         "[[algorithms]]\nplugin = \"bpr\"\ngrid = { lr = [0.05, 0.1] }\n"
         "[[algorithms]]\nplugin = \"popularity\"\n";
}

}  // namespace

TEST_CASE("compare: pairs of report labels, grid points included", "[scenario][compare]") {
  const Scenario s =
      parse(with_compare(R"([["stacking", "popularity"], ["bpr[lr=0.05]", "popularity"]])"));
  REQUIRE(s.evaluation.compare.size() == 2);
  CHECK(s.evaluation.compare[0] == PlannedComparison{"stacking", "popularity"});
  CHECK(s.evaluation.compare[1] == PlannedComparison{"bpr[lr=0.05]", "popularity"});
  const Scenario points = parse(with_compare(R"([["bpr[lr=0.1]", "bpr[lr=0.05]"]])"));
  REQUIRE(points.evaluation.compare.size() == 1);
  CHECK(points.evaluation.compare[0] == PlannedComparison{"bpr[lr=0.1]", "bpr[lr=0.05]"});
  // Absent: no planned comparison.
  CHECK(parse("name = \"t\"\n[[algorithms]]\nplugin = \"p\"\n").evaluation.compare.empty());
}

TEST_CASE("compare: the planned pairs are not part of any trial id", "[scenario][compare]") {
  // Declaring comparisons before a run must not turn finished trials into new work.
  const auto plain = expand_trials(parse(
      "name = \"t\"\n[evaluation]\ncutoffs = [10]\n[[algorithms]]\nname = \"stacking\"\n"
      "plugin = \"stacking\"\n[[algorithms]]\nplugin = \"bpr\"\ngrid = { lr = [0.05, 0.1] }\n"
      "[[algorithms]]\nplugin = \"popularity\"\n"));
  const auto planned = expand_trials(parse(with_compare(R"([["stacking", "popularity"]])")));
  REQUIRE(plain.size() == planned.size());
  for (std::size_t i = 0; i < plain.size(); ++i) CHECK(plain[i].id == planned[i].id);
}

TEST_CASE("compare: a malformed value names file, line, column and key", "[scenario][compare]") {
  CHECK_THROWS_WITH(parse(with_compare(R"("stacking")")),
                    "s.toml:3:11: [evaluation.compare] expected an array of [\"treatment\", "
                    "\"baseline\"] pairs of algorithm labels, got string");
  CHECK_THROWS_WITH(parse(with_compare("[]")),
                    "s.toml:3:11: [evaluation.compare] expected at least one [\"treatment\", "
                    "\"baseline\"] pair");
  CHECK_THROWS_WITH(parse(with_compare(R"(["stacking", "popularity"])")),
                    "s.toml:3:12: [evaluation.compare] expected a [\"treatment\", \"baseline\"] "
                    "pair of algorithm labels, got string");
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking"]])")),
                    "s.toml:3:12: [evaluation.compare] expected a [\"treatment\", \"baseline\"] "
                    "pair of algorithm labels, got an array of 1 element(s)");
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking", "popularity", "bpr[lr=0.1]"]])")),
                    Catch::StartsWith("s.toml:3:12: [evaluation.compare] ") &&
                        Catch::EndsWith("got an array of 3 element(s)"));
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking", 1]])")),
                    "s.toml:3:25: [evaluation.compare] expected a [\"treatment\", \"baseline\"] "
                    "pair of algorithm labels, got an element of type int");
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking", ""]])")),
                    "s.toml:3:25: [evaluation.compare] labels must not be empty");
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking", "stacking"]])")),
                    "s.toml:3:12: [evaluation.compare] compares 'stacking' with itself; the "
                    "baseline must be another algorithm");
  // The second pair asks the first one's (two-sided) question again.
  CHECK_THROWS_WITH(
      parse(with_compare(R"([["stacking", "popularity"], ["popularity", "stacking"]])")),
      "s.toml:3:40: [evaluation.compare] 'popularity' vs 'stacking' is already planned (as "
      "'stacking' vs 'popularity')");
  CHECK_THROWS_WITH(
      parse(with_compare(R"([["stacking", "popularity"], ["stacking", "popularity"]])")),
      Catch::StartsWith("s.toml:3:40: [evaluation.compare] 'stacking' vs 'popularity' is already "
                        "planned"));
}

TEST_CASE("compare: an unknown label is an error at load time naming key and label",
          "[scenario][compare]") {
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking", "poplarity"]])")),
                    "s.toml:3:25: [evaluation.compare] unknown algorithm label 'poplarity'; did "
                    "you mean 'popularity'? labels: stacking, bpr[lr=0.05], bpr[lr=0.1], "
                    "popularity");
  CHECK_THROWS_WITH(parse(with_compare(R"([["xgboost", "popularity"]])")),
                    "s.toml:3:13: [evaluation.compare] unknown algorithm label 'xgboost'; "
                    "labels: stacking, bpr[lr=0.05], bpr[lr=0.1], popularity");
  // A swept algorithm's bare name is no report label; its points are.
  CHECK_THROWS_WITH(parse(with_compare(R"([["bpr", "popularity"]])")),
                    "s.toml:3:13: [evaluation.compare] unknown algorithm label 'bpr'; 'bpr' "
                    "sweeps a grid, name one of its points: bpr[lr=0.05], bpr[lr=0.1]");
  CHECK_THROWS_WITH(parse(with_compare(R"([["stacking", "bpr[lr=0.5]"]])")),
                    Catch::StartsWith("s.toml:3:25: [evaluation.compare] unknown algorithm label "
                                      "'bpr[lr=0.5]'; did you mean 'bpr[lr=0.05]'?"));
}

TEST_CASE("compare: both sides run under one protocol", "[scenario][compare]") {
  const auto doc = [](const std::string& value) {
    return "name = \"t\"\nprotocols = [\"offline\", \"online\"]\n[dataset]\n"
           "format = \"synthetic\"\n[environment]\nplugin = \"interest_evolution\"\n"
           "[evaluation]\ncompare = " +
           value +
           "\n[[algorithms]]\nplugin = \"linucb\"\n[[algorithms]]\nplugin = \"popularity\"\n";
  };
  CHECK(parse(doc(R"x([["linucb (online)", "popularity (online)"], ["linucb", "popularity"]])x"))
            .evaluation.compare.size() == 2);
  CHECK_THROWS_WITH(parse(doc(R"x([["linucb (online)", "popularity"]])x")),
                    "s.toml:8:12: [evaluation.compare] 'linucb (online)' runs under protocol "
                    "online and 'popularity' under offline; a comparison pairs trials of one "
                    "protocol");
  CHECK_THROWS_WITH(parse(doc(R"x([["linucb (off-policy)", "popularity"]])x")),
                    Catch::StartsWith("s.toml:8:13: [evaluation.compare] unknown algorithm label "
                                      "'linucb (off-policy)'"));
}
