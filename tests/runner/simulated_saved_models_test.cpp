// --save-models and --load-models in the simulated protocols
// (runner/online.cpp, runner/saved_models.hpp): the model fitted on the
// logs is saved before it is deployed, and read back in place of that fit
// only by a trial of the same environment, parameters, logs and seed; the
// environment is `test_favourite` (tests/test_plugins/favourite_env.cpp).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>

#include "recfuse/model_io.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;

namespace {

// Two seeds, both protocols; user_knn is fitted only, the bandits also
// learn from every step of the deployment (so a model saved after it would
// not report the same).
const std::string kScenario = favourite_scenario("favourite-saved", 600, R"([[algorithms]]
plugin = "user_knn"
params = { neighbors = 2 }

[[algorithms]]
plugin = "epsilon_greedy"

[[algorithms]]
plugin = "linucb"
)");

/// Runs `text` (written as <dir>/<name>.toml) into <dir>/<name> with `flags`.
CliResult run_named(const std::filesystem::path& dir, const std::string& name, const std::string& text,
                    const std::string& flags) {
  const auto s = write_text(dir, name + ".toml", text);
  return run_recfuse("run " + s.string() + " --output " + (dir / name).string() + " --plugin-path " +
                     bad_plugin_dir().string() + " --no-cache --quiet " + flags);
}

/// Saves kScenario's models into <dir>/saved and returns its models folder.
std::filesystem::path saved_models(const std::filesystem::path& dir, const std::string& text) {
  const auto r = run_named(dir, "saved", text, "--save-models");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return dir / "saved" / "models";
}

}  // namespace

TEST_CASE("a simulated trial saves the model fitted on the logs, and loading it reports the same", "[online]") {
  const auto dir = temp_dir("sim-save-load");
  const auto models = saved_models(dir, kScenario);
  const json before = read_report(dir / "saved");
  const auto r = run_named(dir, "loaded", kScenario, "--load-models " + models.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json after = read_report(dir / "loaded");
  REQUIRE(after.at("trials").size() == 12);
  for (const auto& was : before.at("trials")) {
    INFO(was.at("algorithm") << " seed " << was.at("seed"));
    const json saved = record_of(dir / "saved", was);
    const std::filesystem::path file = models / (was.at("trial_id").get<std::string>() + ".model");
    REQUIRE(saved.at("saved_model").at("file") == file.string());
    // The header names the environment and the logs the model was fitted on.
    std::ifstream in(file, std::ios::binary);
    const json header = json::parse(recfuse::read_model_header(in, file.string()));
    CHECK(header.at("environment").at("plugin") == "test_favourite");
    CHECK(header.at("environment").at("params").at("users") == 12);
    CHECK(header.at("logs").at("episodes") == 300);
    CHECK(header.at("logs").at("batch") == 64);
    CHECK(header.at("logs").at("fit_sha256") == saved.at("logs").at("fit_sha256"));
    CHECK(header.at("seed") == was.at("seed"));

    const json& now = trial_of(after, was.at("algorithm"), was.at("seed"));
    CHECK(now.at("status") == "ok");
    const json loaded = record_of(dir / "loaded", now);
    CHECK(loaded.at("loaded_model").at("file") == file.string());
    CHECK_FALSE(loaded.at("timing").contains("fit_wall_s"));
    CHECK(loaded.at("timing").contains("load_model_s"));
    // A loaded model acts and learns as the saved one: the deployment reports the same.
    CHECK(now.at("metrics") == was.at("metrics"));
    CHECK(loaded.at("per_user") == saved.at("per_user"));
    CHECK(loaded.value("learning_curve", json()) == saved.value("learning_curve", json()));  // online only
  }
}

TEST_CASE("a simulated trial's saved model is refused for another seed, environment or logs", "[online]") {
  const auto dir = temp_dir("sim-load-mismatch");
  const std::string one = replaced(replaced(kScenario, "seeds = [1, 2]", "seeds = [1]"),
                                   "protocols = [\"online\", \"off_policy\"]", "protocols = [\"online\"]");
  const auto models = saved_models(dir, one);
  const std::string knn_file =
      trial_of(read_report(dir / "saved"), "user_knn (online)", 1).at("trial_id").get<std::string>() + ".model";
  // The trial fails naming the nearest file and what differs; it is not fitted in its place.
  // Each difference here is known from the settings (seed, parameters, the
  // environment's parameters, the logging settings), so the trial fails
  // before its world is built and its logs collected (no world_s, log_s).
  const auto refused = [&](const std::string& name, const std::string& text, int seed) {
    const auto r = run_named(dir, name, text, "--load-models " + models.string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    const json rec = record_of(dir / name, trial_of(read_report(dir / name), "user_knn (online)", seed));
    CHECK(rec.at("status") == "failed");
    CHECK_FALSE(rec.contains("metrics"));
    CHECK_FALSE(rec.at("timing").contains("world_s"));
    CHECK_FALSE(rec.at("timing").contains("log_s"));
    const std::string error = rec.at("error");
    CHECK_THAT(error, Catch::Contains("no saved model in " + models.string() + " fits trial 'user_knn (online)'") &&
                          Catch::Contains("the nearest, " + knn_file + ", differs in"));
    return error;
  };
  CHECK_THAT(refused("seed", replaced(one, "seeds = [1]", "seeds = [2]"), 2),
             Catch::Contains("seed (saved 1, here 2)"));
  CHECK_THAT(refused("params", replaced(one, "neighbors = 2", "neighbors = 3"), 1),
             Catch::Contains("params.neighbors (saved 2, here 3)"));
  CHECK_THAT(refused("users", replaced(one, "users = 12", "users = 10"), 1),
             Catch::Contains("environment.params.users (saved 12, here 10)"));
  CHECK_THAT(refused("episodes", replaced(one, "log_episodes = 300", "log_episodes = 200"), 1),
             Catch::Contains("logs.episodes (saved 300, here 200)") &&
                 Catch::Contains("the logs' fingerprint not yet compared"));
  CHECK_THAT(refused("policy", replaced(one, "[online]\n", "[online]\nlogging_policy = \"epsilon_oracle\"\n"), 1),
             Catch::Contains("logs.policy (saved \"uniform\", here \"epsilon_oracle\")") &&
                 Catch::Contains("logs.epsilon (saved nothing, here 0.2)"));

  // Logs that differ under the same settings show only after they are
  // collected: a saved file whose logs' fingerprint is another one is
  // refused then, naming it (its header edited here; the body is intact).
  {
    const auto other = dir / "other-logs";
    std::filesystem::create_directories(other);
    const std::string bytes = read_text(models / knn_file);
    const std::string fit = record_of(dir / "saved", trial_of(read_report(dir / "saved"), "user_knn (online)", 1))
                                .at("logs").at("fit_sha256");
    write_text(other, knn_file, replaced(bytes, fit, std::string(fit.size(), '0')));
    const auto r = run_named(dir, "other-logs-run", one, "--load-models " + other.string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    const json rec = record_of(dir / "other-logs-run", trial_of(read_report(dir / "other-logs-run"), "user_knn (online)", 1));
    CHECK(rec.at("status") == "failed");
    CHECK(rec.at("timing").contains("world_s"));
    CHECK(rec.at("timing").contains("log_s"));
    CHECK_THAT(rec.at("error").get<std::string>(), Catch::Contains("logs.fit_sha256 (saved \"000") &&
                                                       !Catch::Contains("not yet compared"));
  }

  // What only the deployment reads (its episodes, the off-policy episodes,
  // the learning curve's window, the weight cap) does not move the fit: read.
  std::string deploy = replaced(one, "\nepisodes = 200", "\nepisodes = 100");
  deploy = replaced(deploy, "ope_episodes = 600", "ope_episodes = 300\nweight_cap = 20.0");
  deploy = replaced(deploy, "window = 50", "window = 25");
  const auto r = run_named(dir, "deploy", deploy, "--load-models " + models.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json rec = record_of(dir / "deploy", trial_of(read_report(dir / "deploy"), "user_knn (online)", 1));
  CHECK(rec.at("loaded_model").at("file") == (models / knn_file).string());
}

TEST_CASE("an offline trial never reads a simulated trial's model, nor a simulated trial an offline one's",
          "[online]") {
  const auto dir = temp_dir("sim-load-offline");
  // One algorithm, offline on synthetic data and online in test_favourite.
  const std::string both = R"(name = "both"
seeds = [3]
threads = 1
protocols = ["offline", "online"]
[dataset]
format = "synthetic"
[dataset.synthetic]
users = 60
items = 40
interactions_per_user = 10
seed = 9
[split]
method = "leave_last_one_out"
[environment]
plugin = "test_favourite"
params = { users = 12, items = 6, candidates = 3, steps = 4 }
[online]
log_episodes = 100
episodes = 50
batch = 32
window = 25
[[algorithms]]
plugin = "user_knn"
params = { neighbors = 2 }
)";
  const auto models = saved_models(dir, both);
  const json saved = read_report(dir / "saved");
  const std::string offline_id = trial_of(saved, "user_knn", 3).at("trial_id");
  const std::string online_id = trial_of(saved, "user_knn (online)", 3).at("trial_id");
  REQUIRE(std::filesystem::exists(models / (offline_id + ".model")));
  REQUIRE(std::filesystem::exists(models / (online_id + ".model")));
  // Each folder holds one protocol's model under the other's trial id (tried first).
  for (const auto& [kept, named, reads, fails] :
       {std::tuple{online_id, offline_id, "user_knn (online)", "user_knn"},
        std::tuple{offline_id, online_id, "user_knn", "user_knn (online)"}}) {
    const auto folder = dir / ("only-" + kept);
    std::filesystem::create_directories(folder);
    std::filesystem::copy_file(models / (kept + ".model"), folder / (named + ".model"));
    const std::string name = "load-" + kept;
    const auto r = run_named(dir, name, both, "--load-models " + folder.string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    const json report = read_report(dir / name);
    const json read = record_of(dir / name, trial_of(report, reads, 3));
    CHECK(read.at("status") == "ok");
    CHECK(read.at("loaded_model").at("file") == (folder / (named + ".model")).string());
    const json failed = record_of(dir / name, trial_of(report, fails, 3));
    CHECK(failed.at("status") == "failed");
    const std::string error = failed.at("error");
    CHECK_THAT(error, Catch::Contains("the nearest, " + named + ".model, differs in") &&
                          Catch::Contains("environment.plugin (saved "));
    if (std::string(fails) == "user_knn") {
      CHECK_THAT(error, Catch::Contains("dataset.split (saved "));
    } else {  // the simulated trial refuses the offline file before building its world
      CHECK_THAT(error, Catch::Contains("logs.policy (saved nothing") && Catch::Contains("not yet compared"));
      CHECK_FALSE(failed.at("timing").contains("world_s"));
    }
  }
}

TEST_CASE("a simulated trial's fit is kept in the fit cache for the other protocol and a rerun, not for other logs",
          "[online]") {
  const auto dir = temp_dir("sim-fit-cache");
  const std::string one = replaced(replaced(kScenario, "seeds = [1, 2]", "seeds = [1]"),
                                   "plugin = \"epsilon_greedy\"\n", "plugin = \"popularity\"\n");
  const std::string cache = (dir / "cache").string();
  const auto run = [&](const std::string& name, const std::string& text) {
    const auto r = run_named(dir, name, text, "--jobs 1 --fit-cache " + cache);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return read_report(dir / name);
  };
  // The online and the off-policy trial of one algorithm and seed fit on the
  // same logs: one keeps the fit, the other reads it.
  const json first = run("first", one);
  for (const char* algorithm : {"user_knn", "popularity", "linucb"}) {
    INFO(algorithm);
    const json online = record_of(dir / "first", trial_of(first, std::string(algorithm) + " (online)", 1));
    const json off = record_of(dir / "first", trial_of(first, std::string(algorithm) + " (off-policy)", 1));
    CHECK(online.at("fit_cache").at("read").size() + off.at("fit_cache").at("read").size() == 1);
    CHECK(online.at("fit_cache").at("stored").size() + off.at("fit_cache").at("stored").size() == 1);
    CHECK(online.at("logs").at("fit_sha256") == off.at("logs").at("fit_sha256"));
  }
  // A rerun reads every fit and reports the same.
  const json again = run("again", one);
  for (const auto& was : first.at("trials")) {
    INFO(was.at("algorithm"));
    const json& now = trial_of(again, was.at("algorithm"), 1);
    CHECK(record_of(dir / "again", now).at("fit_cache").at("read").size() == 1);
    CHECK(now.at("metrics") == was.at("metrics"));
  }
  // Another world (fewer users) or other logs: every fit is made and kept
  // anew (both also change the logs' fingerprint, which alone separates them).
  for (const auto& [name, text] : {std::pair{std::string("world"), replaced(one, "users = 12", "users = 10")},
                                   std::pair{std::string("logs"), replaced(one, "log_episodes = 300", "log_episodes = 200")}}) {
    INFO(name);
    const json other = run(name, text);
    for (const auto& t : other.at("trials")) {
      if (std::string(t.at("algorithm")).find("(online)") == std::string::npos) continue;
      CHECK(record_of(dir / name, t).at("fit_cache").at("read").empty());
    }
  }
}

TEST_CASE("an off-policy trial reads the model the online trial of its seed saved", "[online]") {
  const auto dir = temp_dir("sim-load-across");
  const std::string online = replaced(replaced(kScenario, "seeds = [1, 2]", "seeds = [1]"),
                                      "protocols = [\"online\", \"off_policy\"]", "protocols = [\"online\"]");
  const auto models = saved_models(dir, online);
  const std::string file =
      (models / (trial_of(read_report(dir / "saved"), "user_knn (online)", 1).at("trial_id").get<std::string>() +
                 ".model"))
          .string();
  const auto r = run_named(dir, "off", replaced(online, "protocols = [\"online\"]", "protocols = [\"off_policy\"]"),
                           "--load-models " + models.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json rec = record_of(dir / "off", trial_of(read_report(dir / "off"), "user_knn (off-policy)", 1));
  CHECK(rec.at("loaded_model").at("file") == file);
}
