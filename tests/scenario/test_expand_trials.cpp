// expand_trials: fold x algorithm x grid point x seed, with stable ids.
#include <catch2/catch.hpp>
#include <set>

#include "scenario/scenario.hpp"

using namespace recfuse;

namespace {

constexpr const char* kSweep = R"(
name = "sweep"
seeds = [1, 2]
[split]
method = "kfold"
folds = 3
[[algorithms]]
name = "itemknn"
plugin = "item_knn"
params = { similarity = "cosine" }
grid = { shrinkage = [0, 10.5], neighbors = [20, 50, 100] }
[[algorithms]]
plugin = "popularity"
)";

}  // namespace

TEST_CASE("expand_trials: counts, order and grid labels", "[scenario]") {
  const auto trials = expand_trials(parse_scenario(kSweep, "sweep.toml"));
  // 3 folds x (6 grid points + 1) x 2 seeds.
  REQUIRE(trials.size() == 3 * 7 * 2);
  for (std::size_t i = 0; i < trials.size(); ++i) CHECK(trials[i].index == i);

  // Keys in sorted order (neighbors before shrinkage), the last one fastest,
  // then the seeds.
  CHECK(trials[0].algorithm == "itemknn[neighbors=20,shrinkage=0]");
  CHECK(trials[0].seed == 1);
  CHECK(trials[1].algorithm == "itemknn[neighbors=20,shrinkage=0]");
  CHECK(trials[1].seed == 2);
  CHECK(trials[2].algorithm == "itemknn[neighbors=20,shrinkage=10.5]");
  CHECK(trials[4].algorithm == "itemknn[neighbors=50,shrinkage=0]");
  CHECK(trials[11].algorithm == "itemknn[neighbors=100,shrinkage=10.5]");
  CHECK(trials[12].algorithm == "popularity");
  CHECK(trials[12].algorithm_index == 1);
  CHECK(trials[12].plugin == "popularity");
  CHECK(trials[13].fold == "1");
  CHECK(trials[14].fold == "2");
  CHECK(trials.back().fold == "3");

  // Parameters are the fixed ones plus the grid point.
  const auto& p = trials[2].params;
  CHECK(p.size() == 3);
  CHECK(std::get<std::string>(p.at("similarity")) == "cosine");
  CHECK(std::get<std::int64_t>(p.at("neighbors")) == 20);
  CHECK(std::get<double>(p.at("shrinkage")) == 10.5);
  CHECK(trials[0].plugin == "item_knn");
}

TEST_CASE("expand_trials: fold labels follow the split method", "[scenario]") {
  auto folds_of = [](const std::string& split) {
    const auto s = parse_scenario("name = \"f\"\n" + split + "\n[[algorithms]]\nplugin = \"p\"\n",
                                  "f.toml");
    std::vector<std::string> out;
    for (const auto& t : expand_trials(s)) out.push_back(t.fold);
    return out;
  };
  CHECK(folds_of("") == std::vector<std::string>{""});
  CHECK(folds_of("[split]\nmethod = \"random\"") == std::vector<std::string>{""});
  CHECK(folds_of("[split]\nmethod = \"kfold\"\nfolds = 4") ==
        std::vector<std::string>{"1", "2", "3", "4"});
  CHECK(folds_of("[split]\nmethod = \"kfold\"\nfold = [5, 2]") ==
        std::vector<std::string>{"5", "2"});
  // The fixed folds are ml-100k's files.
  const std::string ml100k = "[dataset]\nformat = \"ml-100k\"\n";
  CHECK(folds_of(ml100k + "[split]\nmethod = \"fixed\"") ==
        std::vector<std::string>{"u1", "u2", "u3", "u4", "u5"});
  CHECK(folds_of(ml100k + "[split]\nmethod = \"fixed\"\nfold = [\"ua\", \"ub\"]") ==
        std::vector<std::string>{"ua", "ub"});
}

TEST_CASE("expand_trials: ids are stable, unique and content-derived", "[scenario]") {
  const auto a = expand_trials(parse_scenario(kSweep, "sweep.toml"));
  // Parsing again, from another path, gives the same ids.
  const auto b = expand_trials(parse_scenario(kSweep, "elsewhere/sweep.toml"));
  REQUIRE(a.size() == b.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].id == b[i].id);
    CHECK(a[i].id.size() == 16);
    CHECK(a[i].id.find_first_not_of("0123456789abcdef") == std::string::npos);
    ids.insert(a[i].id);
  }
  CHECK(ids.size() == a.size());  // seeds, folds and grid points all differ
  // Pinned: a change to the canonical text would orphan every stored record,
  // so it must be deliberate (bump "recfuse-trial-v2" and update this).
  CHECK(a[0].id == "99b0501bb6c99218");

  // A change that alters results changes the id; cosmetic keys do not.
  std::string changed = kSweep;
  changed.replace(changed.find("folds = 3"), 9, "folds = 3\nseed = 11");
  CHECK(expand_trials(parse_scenario(changed, "x.toml"))[0].id != a[0].id);
  std::string cosmetic = kSweep;
  cosmetic.replace(cosmetic.find("seeds"), 5, "threads = 3\ndescription = \"d\"\nseeds");
  CHECK(expand_trials(parse_scenario(cosmetic, "x.toml"))[0].id == a[0].id);
  // 1 and 1.0 are different parameter values.
  std::string as_float = kSweep;
  as_float.replace(as_float.find("[20, 50, 100]"), 13, "[20.0, 50, 100]");
  CHECK(expand_trials(parse_scenario(as_float, "x.toml"))[0].id != a[0].id);
}

TEST_CASE("expand_trials: two entries of one plugin with equal params differ", "[scenario]") {
  const auto t = expand_trials(parse_scenario(R"(
name = "twins"
[[algorithms]]
name = "a"
plugin = "p"
[[algorithms]]
name = "b"
plugin = "p"
)",
                                              "t.toml"));
  REQUIRE(t.size() == 2);
  CHECK(t[0].id != t[1].id);
}

// A record of other segment definitions (users:cold, items:head) must not be
// resumed as this trial's: its "segments" were cut elsewhere.
TEST_CASE("trial ids follow the segment definitions, and their defaults keep earlier ids") {
  const std::string head = "name = \"s\"\n[dataset]\nformat = \"synthetic\"\n[evaluation]\n";
  const std::string algo = "[[algorithms]]\nplugin = \"popularity\"\n";
  const auto id = [&](const std::string& eval) {
    return recfuse::expand_trials(recfuse::parse_scenario(head + eval + algo, "s.toml")).at(0).id;
  };
  const std::string plain = id("");
  CHECK(id("cold_user_max = 5\nhead_fraction = 0.2\n") == plain);
  CHECK(id("cold_user_max = 9\n") != plain);
  CHECK(id("head_fraction = 0.5\n") != plain);
}

// The validation item decides what a tuning trial scores: another rule is
// another trial; the default keeps the ids of records written before the key.
TEST_CASE("trial ids follow split.validation_item, and its default keeps earlier ids", "[scenario]") {
  const auto id = [](const std::string& split) {
    return expand_trials(parse_scenario("name = \"s\"\n[dataset]\nformat = \"synthetic\"\n[split]\n"
                                        "method = \"leave_last_one_out\"\n" + split +
                                            "[[algorithms]]\nplugin = \"popularity\"\n",
                                        "s.toml"))
        .at(0)
        .id;
  };
  const std::string plain = id("");
  CHECK(id("validation_item = \"second_last\"\n") == plain);
  CHECK(id("validation_item = \"before_test_time\"\n") != plain);
  // So does what the training part keeps (a validation trial: the key needs one).
  const auto validation_id = [&](const std::string& split) {
    return id(split + "validation_item = \"before_test_time\"\n[evaluation]\ntarget = \"validation\"\n");
  };
  CHECK(validation_id("validation_train = \"all\"\n") == validation_id(""));
  CHECK(validation_id("validation_train = \"before_validation_item\"\n") != validation_id(""));
}

TEST_CASE("expand_trials: simulated trials' ids ignore the split and offline-only evaluation keys",
          "[scenario]") {
  const std::string head = "name = \"mixed\"\nseeds = [1]\nprotocols = [\"offline\", \"online\"]\n"
                           "[dataset]\nformat = \"synthetic\"\n[environment]\nplugin = \"calibrated\"\n";
  const std::string algo = "[[algorithms]]\nplugin = \"popularity\"\n";
  auto ids = [&](const std::string& extra) {
    const auto t = expand_trials(parse_scenario(head + extra + algo, "mixed.toml"));
    REQUIRE(t.size() == 2);
    CHECK(t[0].protocol == "offline");
    CHECK(t[1].protocol == "online");
    return std::make_pair(t[0].id, t[1].id);
  };
  const auto plain = ids("");
  // Pinned (computed by the code before this rule): a scenario whose split
  // and [evaluation] are the defaults keeps its ids, offline and online.
  CHECK(plain.first == "d6fcc80ae397de1c");
  CHECK(plain.second == "86bf55c658cccf6e");
  for (const std::string offline_only :
       {"[split]\nmethod = \"random\"\ntest_ratio = 0.3\n", "[split]\nmethod = \"kfold\"\nfolds = 2\nfold = [1]\n",
        "[evaluation]\ncutoffs = [5]\n", "[evaluation]\nmetrics = [\"ndcg\"]\n",
        "[evaluation]\nrelevance_threshold = 2.0\n", "[evaluation]\nexplain_users = 2\n"}) {
    INFO(offline_only);
    const auto changed = ids(offline_only);
    CHECK(changed.first != plain.first);
    CHECK(changed.second == plain.second);  // the online trial does not rerun
  }
  // bootstrap shapes the online record's intervals: both change.
  const auto boot = ids("[evaluation]\nbootstrap = 500\n");
  CHECK(boot.first != plain.first);
  CHECK(boot.second != plain.second);
  // An online-only scenario (its offline-only keys are refused) keeps its ids.
  const auto online_only = expand_trials(parse_scenario(
      "name = \"mixed\"\nseeds = [1]\nprotocols = [\"online\"]\n[dataset]\nformat = \"synthetic\"\n"
      "[environment]\nplugin = \"calibrated\"\n[evaluation]\nbootstrap = 500\n" + algo,
      "online.toml"));
  REQUIRE(online_only.size() == 1);
  CHECK(online_only[0].id == "ae777d423a320115");
}
