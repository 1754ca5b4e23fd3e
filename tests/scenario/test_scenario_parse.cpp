// parse_scenario on valid documents: every key lands in its typed field.
#include <catch2/catch.hpp>

#include "scenario/scenario.hpp"
#include "test_support.hpp"
#include "util/sha256.hpp"

using namespace recfuse;

namespace {

constexpr const char* kFull = R"(
name = "full"
description = "every key"
seeds = [3, 1, 7]
threads = 2
time_limit_s = 90
output = "out/full"

[dataset]
format = "delimited"
path = "logs/x.csv"
name = "x"
skip_bad_rows = true
cache = false

[dataset.delimited]
separator = "\t"
header = true
user = 2
item = 0
rating = 1
timestamp = 3

[filter]
min_rating = 3.5
implicit = true
min_user_interactions = 5
min_item_interactions = 2

[split]
method = "kfold"
# test_ratio and validation: kfold reads neither (test_split_keys.cpp)
validation_ratio = 0.1
ties = "item"
folds = 4
fold = [2, 4]
seed = 99

[evaluation]
protocol = "sampled"
sampled_negatives = 99
metrics = ["ndcg", "recall"]
cutoffs = [5, 10]
bootstrap = 200
relevance_threshold = 4
max_latency_users = 50

[[algorithms]]
name = "knn"
plugin = "item_knn"
params = { similarity = "jaccard", shrinkage = 2.5, normalize = true }
grid = { neighbors = [10, 20] }

[[algorithms]]
plugin = "popularity"
)";

}  // namespace

TEST_CASE("parse_scenario reads every key into its field", "[scenario]") {
  const Scenario s = parse_scenario(kFull, "full.toml");
  CHECK(s.file == "full.toml");
  CHECK(s.text_sha256 == sha256_hex(kFull));
  CHECK(s.name == "full");
  CHECK(s.description == "every key");
  CHECK(s.seeds == std::vector<std::uint64_t>{3, 1, 7});
  CHECK(s.threads == 2);
  CHECK(s.time_limit_s == 90.0);
  CHECK(s.output == "out/full");

  CHECK(s.dataset.format == "delimited");
  CHECK(s.dataset.path == "logs/x.csv");
  CHECK(s.dataset.name == "x");
  CHECK(s.dataset.skip_bad_rows);
  CHECK_FALSE(s.dataset.cache);
  CHECK(s.dataset.delimited.separator == "\t");
  CHECK(s.dataset.delimited.header);
  CHECK(s.dataset.delimited.user_column == 2);
  CHECK(s.dataset.delimited.item_column == 0);
  CHECK(s.dataset.delimited.rating_column == 1);
  CHECK(s.dataset.delimited.timestamp_column == 3);

  REQUIRE(s.filter.min_rating.has_value());
  CHECK(*s.filter.min_rating == 3.5);
  CHECK(s.filter.implicit);
  CHECK(s.filter.min_user_interactions == 5);
  CHECK(s.filter.min_item_interactions == 2);

  CHECK(s.split.method == "kfold");
  CHECK(s.split.validation_ratio == 0.1);
  CHECK(s.split.ties == "item");
  CHECK(s.split.folds == 4);
  CHECK(s.split.fold_numbers == std::vector<std::int32_t>{2, 4});
  CHECK(s.split.fold_names.empty());
  CHECK(s.split.seed == 99);

  CHECK(s.evaluation.protocol == "sampled");
  CHECK(s.evaluation.sampled_negatives == 99);
  CHECK(s.evaluation.metrics == std::vector<std::string>{"ndcg", "recall"});
  CHECK(s.evaluation.cutoffs == std::vector<std::int32_t>{5, 10});
  CHECK(s.evaluation.bootstrap == 200);
  CHECK(s.evaluation.relevance_threshold == 4.0);
  CHECK(s.evaluation.max_latency_users == 50);

  REQUIRE(s.algorithms.size() == 2);
  const AlgorithmSpec& knn = s.algorithms[0];
  CHECK(knn.name == "knn");
  CHECK(knn.plugin == "item_knn");
  CHECK(knn.location == "full.toml:48:1");
  CHECK(std::get<std::string>(knn.params.at("similarity")) == "jaccard");
  CHECK(std::get<double>(knn.params.at("shrinkage")) == 2.5);
  CHECK(std::get<bool>(knn.params.at("normalize")) == true);
  REQUIRE(knn.grid.at("neighbors").size() == 2);
  CHECK(std::get<std::int64_t>(knn.grid.at("neighbors")[1]) == 20);
  CHECK(knn.locations.at("plugin") == "full.toml:50:10");
  CHECK(knn.locations.at("similarity") == "full.toml:51:25");
  CHECK(knn.locations.at("neighbors") == "full.toml:52:22");
  // The name defaults to the plugin.
  CHECK(s.algorithms[1].name == "popularity");
  CHECK(s.algorithms[1].params.empty());
}

TEST_CASE("parse_scenario fills defaults for omitted tables", "[scenario]") {
  const Scenario s = parse_scenario("name = \"m\"\n[[algorithms]]\nplugin = \"p\"\n", "m.toml");
  CHECK(s.seeds == std::vector<std::uint64_t>{1});
  CHECK(s.threads == 0);
  CHECK(s.output == "results/m");
  CHECK(s.dataset.format == "synthetic");
  CHECK(s.dataset.synthetic.users == 1000);
  CHECK_FALSE(s.filter.min_rating.has_value());
  CHECK(s.split.method == "leave_last_one_out");
  CHECK(s.evaluation.protocol == "full");
  CHECK(s.evaluation.cutoffs == std::vector<std::int32_t>{10});
}

TEST_CASE("parse_scenario reads synthetic worlds, fixed folds and per-method split keys", "[scenario]") {
  const Scenario s = parse_scenario(R"(
name = "syn"
[dataset.synthetic]
users = 50
items = 40
factors = 3
genres = 0
interactions_per_user = 7
popularity_skew = 0.5
noise = 0
seed = 5
[[algorithms]]
plugin = "random"
)",
                                    "syn.toml");
  CHECK(s.dataset.synthetic.users == 50);
  CHECK(s.dataset.synthetic.items == 40);
  CHECK(s.dataset.synthetic.factors == 3);
  CHECK(s.dataset.synthetic.genres == 0);
  CHECK(s.dataset.synthetic.interactions_per_user == 7.0);
  CHECK(s.dataset.synthetic.popularity_skew == 0.5);
  CHECK(s.dataset.synthetic.noise == 0.0);
  CHECK(s.dataset.synthetic.seed == 5);
  // Fixed folds are ml-100k's own files.
  const Scenario f = parse_scenario(
      "name = \"folds\"\n[dataset]\nformat = \"ml-100k\"\npath = \"ml-100k\"\n[split]\nmethod = \"fixed\"\n"
      "fold = [\"u2\", \"ua\"]\n[[algorithms]]\nplugin = \"random\"\n",
      "folds.toml");
  CHECK(f.split.method == "fixed");
  CHECK(f.split.fold_names == std::vector<std::string>{"u2", "ua"});
  // The keys kfold does not read, under methods that do.
  const auto split = [](const std::string& lines) {
    return parse_scenario("name = \"s\"\n[split]\n" + lines + "\n[[algorithms]]\nplugin = \"random\"\n", "s.toml").split;
  };
  CHECK(split("method = \"random\"\ntest_ratio = 0.25").test_ratio == 0.25);
  CHECK_FALSE(split("method = \"leave_last_one_out\"\nvalidation = false").validation);
}

TEST_CASE("load_scenario reads a file and names a missing one", "[scenario]") {
  const std::string path = test::fixture("scenarios/minimal.toml").string();
  const Scenario s = load_scenario(path);
  CHECK(s.name == "minimal");
  CHECK(s.file == path);
  REQUIRE(s.algorithms.size() == 1);
  CHECK(s.algorithms[0].location == path + ":4:1");
  REQUIRE_THROWS_WITH(load_scenario("/nonexistent/x.toml"),
                      "/nonexistent/x.toml: cannot read scenario file");
  REQUIRE_THROWS_WITH(load_scenario(test::fixture("scenarios").string()),
                      Catch::Contains("cannot read scenario file"));
}

TEST_CASE("the default scenario parses and names the baseline and knn algorithms",
          "[scenario]") {
  const Scenario s = parse_scenario(default_scenario_text(), "<embedded>");
  CHECK(s.name == "default");
  CHECK(s.dataset.format == "synthetic");
  CHECK(s.split.method == "leave_last_one_out");
  CHECK(s.evaluation.cutoffs == std::vector<std::int32_t>{10, 20});
  CHECK(s.seeds == std::vector<std::uint64_t>{1});
  std::vector<std::string> plugins;
  for (const auto& a : s.algorithms) plugins.push_back(a.plugin);
  CHECK(plugins == std::vector<std::string>{"random", "popularity", "item_knn", "user_knn",
                                            "baseline_only"});
  CHECK(std::get<std::int64_t>(s.algorithms[2].params.at("neighbors")) == 50);
  CHECK(std::get<std::string>(s.algorithms[2].params.at("similarity")) == "cosine");
  CHECK(std::get<std::int64_t>(s.algorithms[3].params.at("neighbors")) == 50);
  CHECK(expand_trials(s).size() == 5);
}
