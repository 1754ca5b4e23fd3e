// Fusion strategies receive child recommenders the host built, fitted and
// handed over from nested scenario tables; the record keeps the tree.
#include <catch2/catch.hpp>

#include "run_cli.hpp"
#include "scenario/scenario.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;

namespace {

const char* kHead = R"(name = "fusion"
seeds = [1]
threads = 1
[dataset]
format = "synthetic"
[dataset.synthetic]
users = 60
items = 50
interactions_per_user = 10
[split]
method = "leave_last_one_out"
[evaluation]
cutoffs = [5]
bootstrap = 100
)";

std::string args(const std::filesystem::path& dir) {
  return " --output " + (dir / "out").string() + " --plugin-path " + bad_plugin_dir().string() +
         " --no-cache --quiet";
}

}  // namespace

TEST_CASE("nested children are parsed with their own key paths") {
  const auto s = recfuse::parse_scenario(std::string(kHead) + R"(
[[algorithms]]
name = "mean"
plugin = "test_mean_fusion"
[[algorithms.children]]
name = "pop"
plugin = "popularity"
[[algorithms.children]]
name = "inner"
plugin = "test_mean_fusion"
[[algorithms.children.children]]
plugin = "item_knn"
[algorithms.children.children.params]
neighbors = 5
)", "f.toml");
  REQUIRE(s.algorithms.size() == 1);
  const auto& a = s.algorithms[0];
  REQUIRE(a.children.size() == 2);
  CHECK(a.children[0].key_path == "algorithms.mean.children");
  REQUIRE(a.children[1].children.size() == 1);
  CHECK(a.children[1].children[0].plugin == "item_knn");
  CHECK(std::get<std::int64_t>(a.children[1].children[0].params.at("neighbors")) == 5);
  // The tree is part of the trial's identity.
  auto other = s;
  other.algorithms[0].children[1].children[0].params["neighbors"] = std::int64_t{6};
  CHECK(recfuse::expand_trials(s)[0].id != recfuse::expand_trials(other)[0].id);

  REQUIRE_THROWS_WITH(recfuse::parse_scenario(std::string(kHead) + R"(
[[algorithms]]
plugin = "test_mean_fusion"
[[algorithms.children]]
plugin = "popularity"
[[algorithms.children]]
plugin = "popularity"
)", "f.toml"), Catch::Contains("f.toml:21:10:") && Catch::Contains("duplicate child name 'popularity'"));
}

TEST_CASE("a fusion strategy gets its fitted children and the record keeps the tree") {
  const auto dir = temp_dir("fusion");
  const auto s = write_text(dir, "f.toml", std::string(kHead) + R"(
[[algorithms]]
name = "mean"
plugin = "test_mean_fusion"
[[algorithms.children]]
name = "pop"
plugin = "popularity"
[[algorithms.children]]
name = "inner"
plugin = "test_mean_fusion"
[[algorithms.children.children]]
name = "knn"
plugin = "item_knn"
[algorithms.children.children.params]
neighbors = 5
)");
  const auto r = run_recfuse("run " + s.string() + args(dir));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json t = read_report(dir / "out").at("trials").at(0);
  CHECK(t.at("status") == "ok");
  const json& tree = t.at("model_tree");
  CHECK(tree.at("plugin") == "test_mean_fusion");
  REQUIRE(tree.at("children").size() == 2);
  CHECK(tree.at("children").at(0).at("name") == "pop");
  CHECK(tree.at("children").at(1).at("children").at(0).at("params").at("neighbors") == 5);
  CHECK(tree.at("children").at(1).at("children").at(0).at("fit_wall_s").get<double>() >= 0);
  CHECK(t.at("diagnostics").at("children") == 2);
}

TEST_CASE("children are given exactly to algorithms that take them") {
  const auto dir = temp_dir("fusion-bad");
  auto s = write_text(dir, "a.toml", std::string(kHead) + R"(
[[algorithms]]
name = "mean"
plugin = "test_mean_fusion"
)");
  auto r = run_recfuse("run " + s.string() + args(dir));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("a.toml:18:10:") &&
                           Catch::Contains("give them as [[algorithms.mean.children]]"));
  s = write_text(dir, "b.toml", std::string(kHead) + R"(
[[algorithms]]
name = "pop"
plugin = "popularity"
[[algorithms.children]]
plugin = "random"
)");
  r = run_recfuse("run " + s.string() + args(dir));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("does not take children"));
  s = write_text(dir, "c.toml", std::string(kHead) + R"(
[[algorithms]]
name = "mean"
plugin = "test_mean_fusion"
[[algorithms.children]]
plugin = "item_knn"
[algorithms.children.params]
neigbors = 3
)");
  r = run_recfuse("run " + s.string() + args(dir));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("c.toml:22:1") &&
                           Catch::Contains("[algorithms.mean.children.item_knn.params]") &&
                           Catch::Contains("did you mean 'neighbors'"));
}
