// Fitted models through the recfuse binary: --save-models writes them, with
// a header naming the trial; --load-models reads them back in place of
// fitting, matched by what the fit depended on (runner/saved_models.hpp).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
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

namespace {

// kSmallScenario (random, item_knn, user_knn) with popularity added; random
// alone declares no save/load.
std::string saveable_scenario() {
  return std::string(kSmallScenario) + "[[algorithms]]\nname = \"popularity\"\nplugin = \"popularity\"\n";
}

/// `recfuse run <scenario> --output <out> --no-cache --quiet <flags>`.
CliResult run_into(const std::filesystem::path& scenario, const std::filesystem::path& out, const std::string& flags) {
  return run_recfuse("run " + scenario.string() + " --output " + out.string() + " --no-cache --quiet " + flags);
}

/// Writes `text` as <dir>/<name>.toml, runs it with --save-models into
/// <dir>/<name> and requires success; returns that output folder.
std::filesystem::path save_run(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  const auto r = run_into(write_text(dir, name + ".toml", text), dir / name, "--save-models");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return dir / name;
}

}  // namespace

TEST_CASE("run with save-models writes each model that can be saved, with a header naming its trial") {
  const auto dir = temp_dir("save_models");
  // random declares no save/load; popularity, item_knn and user_knn do.
  const auto scenario = write_text(dir, "small.toml", saveable_scenario());
  const auto out = dir / "out";
  const auto r = run_into(scenario, out, "--save-models");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(out);
  const json& pop = trial_named(report, "popularity");
  const std::string id = pop.at("trial_id").get<std::string>();
  // One file per trial whose algorithm declares save/load; random's record says why it has none.
  std::set<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(out / "models")) files.insert(e.path().filename().string());
  std::set<std::string> want;
  for (const char* name : {"popularity", "item_knn", "user_knn"})
    want.insert(trial_named(report, name).at("trial_id").get<std::string>() + ".model");
  CHECK(files == want);
  const json rnd = json::parse(read_text(out / "trials" / (trial_named(report, "random").at("trial_id").get<std::string>() + ".json")));
  CHECK_THAT(rnd.at("saved_model").at("skipped").get<std::string>(), Catch::Contains("does not declare save/load"));
  const json rec = json::parse(read_text(out / "trials" / (id + ".json")));
  const std::filesystem::path file = out / "models" / (id + ".model");
  CHECK(rec.at("saved_model").at("file") == file.string());

  std::ifstream in(file, std::ios::binary);
  const json header = json::parse(recfuse::read_model_header(in, file.string()));
  CHECK(header.at("plugin") == "popularity");
  CHECK(header.at("trial_id") == id);
  CHECK(header.at("n_items") == 120);
  CHECK(header.at("provenance") == rec.at("provenance"));
  // The rest loads into a fresh popularity built from the plugin, whose scores
  // are the training counts of the trial: they sum to its training interactions.
  recfuse::PluginRegistry registry;
  registry.scan({plugin_dir()});
  const recfuse::AlgorithmHandle a = registry.find("popularity");
  const recfuse::ParamSet params = recfuse::validate_params(
      a.params(), {{"recent_days", header.at("params").at("recent_days").get<std::int64_t>()}}, {}, "", "test");
  auto model = recfuse::create_recommender(a, params);
  model->load(in);
  REQUIRE(model->n_items() == 120);
  std::vector<float> row(120);
  const std::vector<recfuse::UserId> users = {0};
  model->score_all(users, row);
  double total = 0;
  for (float s : row) total += s;
  CHECK(total == header.at("dataset").at("train").get<double>());

  // A save that fails (here models/ is a file) is noted; the trial stays ok.
  const auto out2 = dir / "out2";
  std::filesystem::create_directories(out2);
  write_text(out2, "models", "in the way\n");
  const auto r2 = run_into(scenario, out2, "--save-models");
  INFO(r2.output);
  REQUIRE(r2.exit_code == 0);
  const json rec2 = json::parse(read_text(out2 / "trials" / (id + ".json")));
  CHECK(rec2.at("status") == "ok");
  CHECK_THAT(rec2.at("saved_model").at("error").get<std::string>(), Catch::Contains("model not saved"));
  CHECK(rec2.at("metrics") == rec.at("metrics"));
}

TEST_CASE("run with load-models scores the saved models instead of fitting them") {
  const auto dir = temp_dir("load_models");
  const auto saved = save_run(dir, "saved", saveable_scenario());
  const json before = read_report(saved);
  // Another [evaluation] (a cutoff more): other trial ids, the same fits.
  const auto loading = write_text(dir, "load.toml", replaced(saveable_scenario(), "cutoffs = [5, 10]", "cutoffs = [5, 10, 20]"));
  const auto out = dir / "loaded";
  const auto r = run_into(loading, out, "--load-models " + (saved / "models").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json after = read_report(out);
  for (const char* name : {"item_knn", "user_knn", "popularity"}) {
    INFO(name);
    const json& was = trial_named(before, name);
    const json& now = trial_named(after, name);
    CHECK(now.at("trial_id") != was.at("trial_id"));
    const json rec = record_of(out, now);
    CHECK(rec.at("loaded_model").at("file") ==
          (saved / "models" / (was.at("trial_id").get<std::string>() + ".model")).string());
    CHECK(rec.at("loaded_model").at("saved_trial_id") == was.at("trial_id"));
    // Read, not fitted: no fit time, a load time; and scored as the fitted model was.
    CHECK_FALSE(rec.at("timing").contains("fit_wall_s"));
    CHECK(rec.at("timing").contains("load_model_s"));
    CHECK(now.at("params") == was.at("params"));
    CHECK(now.at("metrics").at("ndcg@10") == was.at("metrics").at("ndcg@10"));
    CHECK(rec.at("per_user").at("ndcg@10") == record_of(saved, was).at("per_user").at("ndcg@10"));
    CHECK(now.at("resources").at("model_bytes") == was.at("resources").at("model_bytes"));
  }
  // An algorithm that cannot be saved is fitted, and its record says so.
  const json rnd = record_of(out, trial_named(after, "random"));
  CHECK_THAT(rnd.at("loaded_model").at("skipped").get<std::string>(), Catch::Contains("fitted"));
  CHECK(rnd.at("timing").contains("fit_wall_s"));
  CHECK_THAT(read_text(out / "report.md"),
             Catch::Contains("not fitted, so their fit time is n/a: item_knn (1 of 1 trials), user_knn (1 of 1 trials), "
                             "popularity (1 of 1 trials)."));
  for (const auto& row : after.at("summary"))
    CHECK(row.value("loaded_models", 0) == (row.at("algorithm") == "random" ? 0 : 1));

  // A model that is missing is not fitted in its place: the trial fails.
  std::filesystem::remove(saved / "models" / (trial_named(before, "item_knn").at("trial_id").get<std::string>() + ".model"));
  const auto out2 = dir / "missing";
  const auto r2 = run_into(loading, out2, "--load-models " + (saved / "models").string());
  CHECK(r2.exit_code == 2);
  const json knn = record_of(out2, trial_named(read_report(out2), "item_knn"));
  CHECK(knn.at("status") == "failed");
  CHECK_THAT(knn.at("error").get<std::string>(),
             Catch::Contains("no saved model in " + (saved / "models").string() + " fits trial 'item_knn'") &&
                 Catch::Contains("none of its 2 model file(s) is of plugin 'item_knn'"));
}

TEST_CASE("load-models names what differs between a trial and the nearest saved model") {
  const auto dir = temp_dir("load_models_mismatch");
  const auto saved = save_run(dir, "saved", saveable_scenario());
  const json before = read_report(saved);
  // Other neighbours and another seed: item_knn differs in both, popularity in its seed.
  const auto other = write_text(dir, "other.toml", replaced(replaced(saveable_scenario(), "neighbors = 20", "neighbors = 10"),
                                                            "seeds = [3]", "seeds = [4]"));
  const auto out = dir / "other";
  CHECK(run_into(other, out, "--load-models " + (saved / "models").string())
            .exit_code == 2);
  const json after = read_report(out);
  const std::string knn = record_of(out, trial_named(after, "item_knn")).at("error");
  CHECK_THAT(knn, Catch::Contains("the nearest, " + trial_named(before, "item_knn").at("trial_id").get<std::string>() +
                                  ".model, differs in seed (saved 3, here 4), params.neighbors (saved 20, here 10)"));
  const std::string pop = record_of(out, trial_named(after, "popularity")).at("error");
  CHECK_THAT(pop, Catch::EndsWith("differs in seed (saved 3, here 4)"));

  // Other data: the dataset's hash and the training part differ.
  const auto data = write_text(dir, "data.toml", replaced(saveable_scenario(), "seed = 9", "seed = 10"));
  const auto out2 = dir / "data";
  CHECK(run_into(data, out2, "--load-models " + (saved / "models").string())
            .exit_code == 2);
  const std::string moved = record_of(out2, trial_named(read_report(out2), "popularity")).at("error");
  CHECK_THAT(moved, Catch::Contains("dataset.sha256 (saved \""));

  // Another split seed: every size stays, the interactions fitted on move.
  const std::string random_split = replaced(saveable_scenario(), "method = \"leave_last_one_out\"",
                                            "method = \"random\"\nseed = 5");
  const auto saved5 = save_run(dir, "saved5", random_split);
  const auto six = write_text(dir, "six.toml", replaced(random_split, "seed = 5", "seed = 6"));
  const auto out6 = dir / "six";
  CHECK(run_into(six, out6, "--load-models " + (saved5 / "models").string())
            .exit_code == 2);
  CHECK_THAT(record_of(out6, trial_named(read_report(out6), "popularity")).at("error").get<std::string>(),
             Catch::EndsWith("differs in dataset.fit_sha256 (saved \"" +
                             trial_named(read_report(saved5), "popularity").at("dataset").at("fit_sha256").get<std::string>() +
                             "\", here \"" +
                             trial_named(read_report(out6), "popularity").at("dataset").at("fit_sha256").get<std::string>() +
                             "\")"));

  // A damaged file of the right header fails naming the file, not a model of
  // garbage: a flipped byte or a cut body is caught by the header's
  // body_sha256; in a file without one (saved before it was written) the
  // plugin's reader finds the cut.
  const auto file = saved / "models" / (trial_named(before, "popularity").at("trial_id").get<std::string>() + ".model");
  const std::string bytes = read_text(file);
  const auto error_with = [&](const std::string& content, const std::string& tag) {
    write_text(file.parent_path(), file.filename().string(), content);
    const auto out3 = dir / tag;
    CHECK(run_into(dir / "saved.toml", out3, "--load-models " + (saved / "models").string()).exit_code == 2);
    return record_of(out3, trial_named(read_report(out3), "popularity")).at("error").get<std::string>();
  };
  std::string flipped = bytes;
  flipped[flipped.size() - 3] ^= 0x20;
  for (const std::string& damaged : {flipped, bytes.substr(0, bytes.size() - 8)})
    CHECK(error_with(damaged, "damaged" + std::to_string(damaged.size())) ==
          file.string() + ": the model's bytes do not match the sha256 its header records (a damaged or partly written file)");
  const auto at = bytes.find(",\"body_sha256\":\"");
  REQUIRE(at != std::string::npos);
  const std::string unhashed = bytes.substr(0, at) + bytes.substr(at + 16 + 64 + 1);
  REQUIRE(json::parse(unhashed.substr(unhashed.find('\n') + 1, unhashed.find('\n', unhashed.find('\n') + 1) -
                                                                   unhashed.find('\n') - 1)).is_object());
  CHECK_THAT(error_with(unhashed.substr(0, unhashed.size() - 8), "truncated"),
             Catch::StartsWith(file.string() + ": popularity: model file:") && Catch::Contains("truncated"));
  // A damaged header: the trial's own file is no model file at all, and the
  // error names it first among the unreadable ones.
  CHECK_THAT(error_with("not a model\n" + bytes, "header"),
             Catch::Contains("no saved model in " + (saved / "models").string() + " fits trial 'popularity'") &&
                 Catch::EndsWith("(1 file(s) there are not readable recfuse model files: " +
                                 file.filename().string() + ")"));
}

TEST_CASE("load-models is refused with save-models and for a missing directory") {
  const auto dir = temp_dir("load_models_cli");
  const auto s = write_text(dir, "s.toml", saveable_scenario());
  const auto both = run_recfuse("run " + s.string() + " --output " + (dir / "o").string() +
                                " --no-cache --quiet --save-models --load-models " + dir.string());
  CHECK(both.exit_code == 1);
  CHECK_THAT(both.output, Catch::Contains("give --save-models or --load-models, not both"));
  const auto missing = run_into(s, dir / "o", "--load-models " + (dir / "nope").string());
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Catch::Contains("--load-models " + (dir / "nope").string() + ": no such directory"));
  CHECK_FALSE(std::filesystem::exists(dir / "o"));
}

namespace {

// Fusion trees on kSmallScenario's data, with a validation part for stacking:
// "stack" and "cascade" have saveable children only, "with_random" a child
// that cannot be saved.
std::string fusion_scenario() {
  std::string text = kSmallScenario;
  text = replaced(text, "method = \"leave_last_one_out\"", "method = \"leave_last_one_out\"\nvalidation = true");
  text.erase(text.find("[[algorithms]]"));
  return text + R"([[algorithms]]
name = "stack"
plugin = "stacking"
[[algorithms.children]]
name = "pop"
plugin = "popularity"
[[algorithms.children]]
name = "knn"
plugin = "item_knn"
params = { neighbors = 20 }
[[algorithms]]
name = "cascade"
plugin = "cascade"
params = { candidates = 30 }
[[algorithms.children]]
name = "knn"
plugin = "item_knn"
params = { neighbors = 20 }
[[algorithms.children]]
name = "uknn"
plugin = "user_knn"
[[algorithms]]
name = "with_random"
plugin = "score_fusion"
[[algorithms.children]]
name = "pop"
plugin = "popularity"
[[algorithms.children]]
name = "rnd"
plugin = "random"
)";
}

/// `tree` (a record's model_tree) without its fit times.
json without_fit_times(json tree) {
  tree.erase("fit_wall_s");
  tree.erase("fit_cpu_s");
  if (tree.contains("children"))
    for (json& c : tree.at("children")) c = without_fit_times(c);
  return tree;
}

/// Whether `tree` or a node below it has a fit time.
bool has_fit_times(const json& tree) {
  if (tree.contains("fit_wall_s") || tree.contains("fit_cpu_s")) return true;
  for (const auto& c : tree.value("children", json::array()))
    if (has_fit_times(c)) return true;
  return false;
}

}  // namespace

TEST_CASE("load-models reads a fusion tree whole, children included, and scores it as fitted") {
  const auto dir = temp_dir("load_fusion_models");
  const auto saved = save_run(dir, "saved", fusion_scenario());
  const json before = read_report(saved);
  // A child without save/load: no file, the record says which child; the trial stands.
  const json rnd_saved = record_of(saved, trial_named(before, "with_random"));
  CHECK(rnd_saved.at("status") == "ok");
  CHECK_THAT(rnd_saved.at("saved_model").at("error").get<std::string>(),
             Catch::Contains("model not saved: [score_fusion] child 'rnd' (plugin random) does not declare save/load"));
  CHECK_FALSE(std::filesystem::exists(saved / "models" / (trial_named(before, "with_random").at("trial_id").get<std::string>() + ".model")));
  // The header names the tree the children are built from, without fit times.
  const auto stack_file = saved / "models" / (trial_named(before, "stack").at("trial_id").get<std::string>() + ".model");
  std::ifstream in(stack_file, std::ios::binary);
  const json header = json::parse(recfuse::read_model_header(in, stack_file.string()));
  REQUIRE(header.at("model_tree").at("children").size() == 2);
  CHECK(header.at("model_tree").at("children").at(1).at("name") == "knn");
  CHECK(header.at("model_tree").at("children").at(1).at("params").at("neighbors") == 20);
  CHECK_FALSE(has_fit_times(header.at("model_tree")));

  // Other cutoffs: other trial ids, the same fits.
  const auto loading = write_text(dir, "load.toml", replaced(fusion_scenario(), "cutoffs = [5, 10]", "cutoffs = [5, 10, 20]"));
  const auto out = dir / "loaded";
  const auto r = run_into(loading, out, "--load-models " + (saved / "models").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json after = read_report(out);
  for (const char* name : {"stack", "cascade"}) {
    INFO(name);
    const json& was = trial_named(before, name);
    const json& now = trial_named(after, name);
    CHECK(now.at("trial_id") != was.at("trial_id"));
    const json rec = record_of(out, now), old = record_of(saved, was);
    CHECK(rec.at("loaded_model").at("file") == (saved / "models" / (was.at("trial_id").get<std::string>() + ".model")).string());
    CHECK_FALSE(rec.at("timing").contains("fit_wall_s"));
    CHECK(rec.at("timing").contains("load_model_s"));
    CHECK(now.at("metrics").contains("ndcg@20"));
    CHECK(now.at("metrics").at("ndcg@10") == was.at("metrics").at("ndcg@10"));
    CHECK(now.at("metrics").at("recall@5") == was.at("metrics").at("recall@5"));
    CHECK(rec.at("per_user").at("ndcg@10") == old.at("per_user").at("ndcg@10"));
    CHECK(rec.at("per_user").at("hr@5") == old.at("per_user").at("hr@5"));
    CHECK(now.at("resources").at("model_bytes") == was.at("resources").at("model_bytes"));
    // The record's tree: the fitted one's, without fit times.
    CHECK_FALSE(has_fit_times(rec.at("model_tree")));
    CHECK(rec.at("model_tree") == without_fit_times(old.at("model_tree")));
  }
  CHECK(record_of(out, trial_named(after, "stack")).at("diagnostics") ==
        record_of(saved, trial_named(before, "stack")).at("diagnostics"));
  CHECK(record_of(out, trial_named(after, "cascade")).at("diagnostics").at("retrieval_recall") ==
        record_of(saved, trial_named(before, "cascade")).at("diagnostics").at("retrieval_recall"));
  const json rnd = record_of(out, trial_named(after, "with_random"));
  CHECK(rnd.at("loaded_model").at("skipped") ==
        "algorithm 'with_random' has a child that cannot be saved: children[1] 'rnd' (plugin random) does not "
        "declare save/load: fitted");
  CHECK(rnd.at("timing").contains("fit_wall_s"));
}

TEST_CASE("load-models names a fusion child's parameter that differs") {
  const auto dir = temp_dir("load_fusion_mismatch");
  const auto saved = save_run(dir, "saved", fusion_scenario());
  // Stack's error when loading `scenario` (stack's tree changed, the cascade's not).
  const auto stack_error = [&](const std::string& tag, const std::string& scenario) {
    const auto out = dir / tag;
    CHECK(run_recfuse("run " + write_text(dir, tag + ".toml", scenario).string() + " --output " + out.string() +
                      " --no-cache --quiet --load-models " + (saved / "models").string())
              .exit_code == 2);
    const json after = read_report(out);
    CHECK(record_of(out, trial_named(after, "cascade")).at("loaded_model").contains("file"));
    return record_of(out, trial_named(after, "stack")).at("error").get<std::string>();
  };
  // The first "neighbors = 20" is stack's child knn; the cascade's stays.
  CHECK_THAT(stack_error("param", replaced(fusion_scenario(), "neighbors = 20", "neighbors = 10")),
             Catch::EndsWith(".model, differs in children[1].params.neighbors (saved 20, here 10)"));
  // A child of another plugin is that one difference, not its parameters too.
  CHECK_THAT(stack_error("plugin", replaced(fusion_scenario(), "plugin = \"item_knn\"", "plugin = \"user_knn\"")),
             Catch::EndsWith(".model, differs in children[1].plugin (saved \"item_knn\", here \"user_knn\")"));
  CHECK_THAT(stack_error("count", replaced(fusion_scenario(), "[[algorithms]]\nname = \"cascade\"",
                                           "[[algorithms.children]]\nname = \"pop2\"\nplugin = \"popularity\"\n"
                                           "[[algorithms]]\nname = \"cascade\"")),
             Catch::EndsWith(".model, differs in children (saved 2, here 3)"));
}
