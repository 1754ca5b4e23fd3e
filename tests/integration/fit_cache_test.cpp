// Fits kept between trials through the recfuse binary (recfuse run
// --fit-cache, runner/fit_cache.hpp): a fusion strategy's children are read
// where a standalone trial (under another name) or an earlier fusion trial
// fitted the same model on the same data, with the same scores as fitting
// them; anything that changes the fit misses; a damaged file is refitted.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "end_to_end_support.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;
using namespace recfuse::test::e2e;

namespace {

// item_knn and popularity, then a grid of two score_fusion settings over
// the same two models under other names; two seeds on the same data.
std::string fusion_scenario(int child_neighbors = 20) {
  std::string text = kSmallScenario;
  text.replace(text.find("seeds = [3]"), 11, "seeds = [3, 4]");
  return text + R"([[algorithms]]
name = "popularity"
plugin = "popularity"
[[algorithms]]
name = "fused"
plugin = "score_fusion"
grid = { normalization = ["minmax", "zscore"] }
[[algorithms.children]]
name = "neighbours"
plugin = "item_knn"
params = { neighbors = )" + std::to_string(child_neighbors) + R"( }
[[algorithms.children]]
name = "pop"
plugin = "popularity"
)";
}

CliResult run_into(const std::filesystem::path& scenario, const std::filesystem::path& out, const std::string& flags) {
  return run_recfuse("run " + scenario.string() + " --output " + out.string() + " --no-cache --quiet --jobs 1 " + flags);
}

/// Every trial's per-user ndcg@10, by trial id.
std::map<std::string, json> per_user(const std::filesystem::path& out) {
  std::map<std::string, json> by_id;
  const json report = read_report(out);  // a range-for over a temporary's member dangles
  for (const auto& t : report.at("trials"))
    by_id[t.at("trial_id").get<std::string>()] = record_of(out, t).at("per_user").at("ndcg@10");
  return by_id;
}

std::set<std::string> as_set(const json& names) { return {names.begin(), names.end()}; }

std::size_t model_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.path().extension() == ".model";
  return n;
}

}  // namespace

TEST_CASE("fit-cache reads a fusion strategy's children where another trial fitted them, scoring as fitting does") {
  const auto dir = temp_dir("fit_cache");
  const auto scenario = write_text(dir, "fused.toml", fusion_scenario());
  const auto cache = dir / "cache";
  const auto plain = dir / "plain", cached = dir / "cached";
  const auto r0 = run_into(scenario, plain, "");
  INFO(r0.output);
  REQUIRE(r0.exit_code == 0);
  const auto r1 = run_into(scenario, cached, "--fit-cache " + cache.string());
  INFO(r1.output);
  REQUIRE(r1.exit_code == 0);
  CHECK(per_user(cached) == per_user(plain));

  const json report = read_report(cached);
  std::size_t fused = 0;
  for (const auto& t : report.at("trials")) {
    const json rec = record_of(cached, t);
    const json& fc = rec.at("fit_cache");
    CHECK(fc.at("errors").empty());
    if (t.at("plugin") != "score_fusion") {
      // Standalone trials run first (--jobs 1, scenario order): each fits
      // and keeps its model; random declares no save/load.
      CHECK(fc.at("read").empty());
      CHECK(as_set(fc.at("stored")) == (t.at("algorithm") == "random" ? std::set<std::string>{}
                                                                       : std::set<std::string>{t.at("algorithm")}));
      continue;
    }
    ++fused;
    // Both children were fitted by the standalone trial of their seed, under
    // other names; the strategy itself is fitted and kept (nodes are named
    // as in the scenario).
    CHECK(as_set(fc.at("read")) == std::set<std::string>{"neighbours", "pop"});
    CHECK(as_set(fc.at("stored")) == std::set<std::string>{"fused"});
    for (const auto& child : rec.at("model_tree").at("children")) CHECK(child.at("fit_cache").contains("read"));
    // The strategy's file leaves out item_knn's model, which has its own;
    // popularity's (under 4 KiB) stays inline (runner/model_splice.hpp).
    CHECK(rec.at("model_tree").at("fit_cache").at("children_spliced") == 1);
    // The progress says which nodes were read, not "fitting".
    const std::string progress = rec.at("progress").dump();
    CHECK_THAT(progress, Catch::Contains("'neighbours' (item_knn) read from the fit cache, not fitted") &&
                             Catch::Contains("'pop' (popularity) read from the fit cache, not fitted"));
  }
  CHECK(fused == 4);
  // Per seed: item_knn, user_knn, popularity and the two strategies.
  CHECK(model_files(cache) == 2 * 5);
  for (const auto& row : report.at("summary"))
    CHECK(row.value("cached_fits", 0) == (row.at("plugin") == "score_fusion" ? 2 : 0));
  CHECK_THAT(read_text(cached / "report.md"), Catch::Contains("Fits read from the fit cache (--fit-cache)") &&
                                                  Catch::Contains("fused[normalization=minmax] (2 of 2 trials)"));

  // Run again into a fresh folder: every saveable trial reads its whole model.
  const auto again = dir / "again";
  const auto r2 = run_into(scenario, again, "--fit-cache " + cache.string());
  INFO(r2.output);
  REQUIRE(r2.exit_code == 0);
  CHECK(per_user(again) == per_user(plain));
  const json report_again = read_report(again);
  CHECK(report_again.at("trials").size() == 12);
  for (const auto& t : report_again.at("trials")) {
    const json fc = record_of(again, t).at("fit_cache");
    const std::string name = t.at("plugin") == "score_fusion" ? "fused" : t.at("algorithm").get<std::string>();
    CHECK(as_set(fc.at("read")) == (name == "random" ? std::set<std::string>{} : std::set<std::string>{name}));
  }
  CHECK(model_files(cache) == 2 * 5);

  // A child's file removed, and only the strategies run: the first of that
  // seed fails to read, naming the file, and is fitted again (the child
  // too, kept again); the second reads; scores as fitting.
  const json first_fused = record_of(cached, trial_named(report, "fused[normalization=minmax]"));
  const std::string child_file =
      first_fused.at("model_tree").at("children")[0].at("fit_cache").at("read").get<std::string>();
  REQUIRE(std::filesystem::remove(child_file));
  std::string only_fused = fusion_scenario();
  const auto from = only_fused.find("[[algorithms]]");
  only_fused.erase(from, only_fused.find("[[algorithms]]\nname = \"fused\"") - from);
  const auto removed = dir / "removed";
  const auto r3 = run_into(write_text(dir, "only_fused.toml", only_fused), removed, "--fit-cache " + cache.string());
  INFO(r3.output);
  REQUIRE(r3.exit_code == 0);
  const auto plain_scores = per_user(plain);
  const auto removed_scores = per_user(removed);
  CHECK(removed_scores.size() == 4);
  for (const auto& [id, scores] : removed_scores) CHECK(plain_scores.at(id) == scores);
  std::size_t failed_reads = 0;
  const json report_removed = read_report(removed);
  for (const auto& t : report_removed.at("trials")) {
    const json rec = record_of(removed, t);
    for (const auto& e : rec.at("fit_cache").at("errors")) {
      CHECK_THAT(e.get<std::string>(), Catch::Contains(child_file) && Catch::EndsWith("(fitted instead)"));
      ++failed_reads;
    }
  }
  CHECK(failed_reads == 1);  // the first fused trial of that seed; it keeps the child again
}

TEST_CASE("fit-cache misses on another parameter and refits a damaged file without failing the trial") {
  const auto dir = temp_dir("fit_cache_miss");
  const auto cache = dir / "cache";
  const auto first = run_into(write_text(dir, "a.toml", fusion_scenario()), dir / "a", "--fit-cache " + cache.string());
  INFO(first.output);
  REQUIRE(first.exit_code == 0);

  // The child with 10 neighbours is another fit: per seed, the first
  // strategy fits and keeps it and the second reads it; popularity is read.
  const auto other = write_text(dir, "b.toml", fusion_scenario(10));
  const auto r = run_into(other, dir / "b", "--fit-cache " + cache.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report_b = read_report(dir / "b");
  std::size_t fused = 0, fitted = 0;
  for (const auto& t : report_b.at("trials")) {
    if (t.at("plugin") != "score_fusion") continue;
    ++fused;
    const json fc = record_of(dir / "b", t).at("fit_cache");
    const bool first = as_set(fc.at("stored")).count("neighbours") == 1;
    fitted += first;
    CHECK(as_set(fc.at("read")) == (first ? std::set<std::string>{"pop"} : std::set<std::string>{"neighbours", "pop"}));
    CHECK(as_set(fc.at("stored")) == (first ? std::set<std::string>{"neighbours", "fused"} : std::set<std::string>{"fused"}));
  }
  CHECK(fused == 4);
  CHECK(fitted == 2);  // once per seed
  CHECK(per_user(dir / "b") == [&] {
    const auto r0 = run_into(other, dir / "b_plain", "");
    REQUIRE(r0.exit_code == 0);
    return per_user(dir / "b_plain");
  }());

  // Every kept file's body cut short: each read fails, is noted, and the node is
  // fitted (scores unchanged) and kept again, whole.
  for (const auto& e : std::filesystem::directory_iterator(cache))
    if (e.path().extension() == ".model")  // not the nodes' empty .lock files
      std::filesystem::resize_file(e.path(), std::filesystem::file_size(e.path()) - 8);
  const auto cut = dir / "cut";
  const auto r2 = run_into(write_text(dir, "a2.toml", fusion_scenario()), cut, "--fit-cache " + cache.string());
  INFO(r2.output);
  REQUIRE(r2.exit_code == 0);
  CHECK(per_user(cut) == per_user(dir / "a"));
  const json fc = record_of(cut, trial_named(read_report(cut), "popularity")).at("fit_cache");
  REQUIRE(fc.at("errors").size() == 1);
  const std::string error = fc.at("errors")[0].get<std::string>();
  CHECK_THAT(error, Catch::StartsWith(cache.string()) &&
                        Catch::EndsWith(".model: the model's bytes do not match the sha256 its header records (a "
                                        "damaged or partly written file) (fitted instead)"));
  CHECK(error.find(cache.string(), 1) == std::string::npos);  // the file named once
  CHECK(as_set(fc.at("stored")) == std::set<std::string>{"popularity"});
  const auto r3 = run_into(write_text(dir, "a3.toml", fusion_scenario()), dir / "whole", "--fit-cache " + cache.string());
  REQUIRE(r3.exit_code == 0);
  CHECK(record_of(dir / "whole", trial_named(read_report(dir / "whole"), "popularity")).at("fit_cache").at("read").size() == 1);
}

TEST_CASE("fit-cache misses on another thread count and on another order of equal timestamps") {
  const auto dir = temp_dir("fit_cache_threads_ties");
  const auto cache = dir / "cache";
  // A random split: split.ties changes no part's membership, only the order
  // of each user's training sequence (train_data_builder.cpp).
  std::string text = kSmallScenario;
  text.replace(text.find("method = \"leave_last_one_out\""), 29, "method = \"random\"\ntest_ratio = 0.2");
  const auto scenario = write_text(dir, "random.toml", text);
  const auto stored_of = [&](const std::string& tag, const std::filesystem::path& s, const std::string& flags) {
    const auto r = run_into(s, dir / tag, "--fit-cache " + cache.string() + " " + flags);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const json fc = record_of(dir / tag, trial_named(read_report(dir / tag), "item_knn")).at("fit_cache");
    return std::make_pair(fc.at("read").size(), fc.at("stored").size());
  };
  CHECK(stored_of("two", scenario, "") == std::make_pair(std::size_t{0}, std::size_t{1}));
  CHECK(stored_of("two_again", scenario, "") == std::make_pair(std::size_t{1}, std::size_t{0}));
  CHECK(stored_of("one", scenario, "--threads 1") == std::make_pair(std::size_t{0}, std::size_t{1}));
  text.replace(text.find("test_ratio = 0.2"), 16, "test_ratio = 0.2\nties = \"item\"");
  const auto by_item = write_text(dir, "by_item.toml", text);
  CHECK(stored_of("by_item", by_item, "") == std::make_pair(std::size_t{0}, std::size_t{1}));
  // The same interactions either way; only the fingerprint tells them apart.
  CHECK(trial_named(read_report(dir / "by_item"), "item_knn").at("dataset").at("train") ==
        trial_named(read_report(dir / "two"), "item_knn").at("dataset").at("train"));
}

TEST_CASE("fit-cache refuses a path it cannot make a directory of") {
  const auto dir = temp_dir("fit_cache_bad");
  const auto in_the_way = write_text(dir, "file", "not a directory\n");
  const auto r = run_into(write_text(dir, "s.toml", kSmallScenario), dir / "out", "--fit-cache " + in_the_way.string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("--fit-cache " + in_the_way.string() + ": cannot make this directory"));
}

TEST_CASE("fit-cache: trials side by side that need the same node fit it once, the other waits and reads") {
  const auto dir = temp_dir("fit_cache_jobs");
  const auto cache = dir / "cache";
  // Two rows of one fit under two names, long enough (~0.5 s on a 2-core machine) that --jobs 2
  // starts the second before the first has kept it.
  const auto scenario = write_text(dir, "twins.toml", R"(name = "twins"
seeds = [3]
threads = 1
[dataset]
format = "synthetic"
[dataset.synthetic]
users = 2000
items = 400
interactions_per_user = 50
seed = 9
[split]
method = "leave_last_one_out"
[evaluation]
cutoffs = [10]
bootstrap = 10
[[algorithms]]
name = "first"
plugin = "bpr"
params = { factors = 64, epochs = 100 }
[[algorithms]]
name = "second"
plugin = "bpr"
params = { factors = 64, epochs = 100 }
)");
  const auto out = dir / "out";
  const auto r = run_recfuse("run " + scenario.string() + " --output " + out.string() +
                             " --no-cache --quiet --jobs 2 --fit-cache " + cache.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::size_t stored = 0, read = 0;
  std::vector<json> scores;
  const json report = read_report(out);
  for (const auto& t : report.at("trials")) {
    const json rec = record_of(out, t);
    const json& fc = rec.at("fit_cache");
    CHECK(fc.at("errors").empty());
    CHECK(fc.at("waited_s").is_number());
    stored += fc.at("stored").size();
    read += fc.at("read").size();
    scores.push_back(rec.at("per_user").at("ndcg@10"));
  }
  CHECK(stored == 1);  // without the lock both trials fit and keep it
  CHECK(read == 1);
  CHECK(model_files(cache) == 1);
  REQUIRE(scores.size() == 2);
  CHECK(scores[0] == scores[1]);
}
