// The simulated protocols (runner/online.cpp) against `test_favourite`, an
// environment with a known answer (tests/test_plugins/favourite_env.cpp):
// user u clicks item u % 6 when a slate holds it, every session lasts 4
// steps, and the myopic oracle is optimal because nothing a policy does
// changes the user.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "run_cli.hpp"
#include "scenario/scenario.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;

namespace {

const std::string kScenario = favourite_scenario("favourite", 3000, R"([[algorithms]]
plugin = "popularity"

[[algorithms]]
plugin = "user_knn"
params = { neighbors = 2 }
)");

std::string args(const std::filesystem::path& dir, const std::string& extra = "") {
  return " --output " + (dir / "out").string() + " --plugin-path " + bad_plugin_dir().string() +
         " --no-cache --quiet" + extra;
}

std::vector<double> per_episode(const std::filesystem::path& dir, const json& trial,
                                const std::string& key) {
  const json rec = json::parse(read_text(dir / "out" / "trials" /
                                         (trial.at("trial_id").get<std::string>() + ".json")));
  return rec.at("per_user").at(key).get<std::vector<double>>();
}

}  // namespace

TEST_CASE("protocols default from the tables a scenario has, and are checked", "[online]") {
  const auto s = recfuse::parse_scenario(R"(name = "x"
[environment]
plugin = "test_favourite"
[[algorithms]]
plugin = "popularity"
)", "x.toml");
  CHECK(s.protocols == std::vector<std::string>{"online", "off_policy"});
  const auto trials = recfuse::expand_trials(s);
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].algorithm == "popularity (online)");
  CHECK(trials[1].protocol == "off_policy");
  CHECK(trials[0].id != trials[1].id);

  // The environment is part of an online trial's identity.
  auto other = s;
  other.environment.params["items"] = std::int64_t{7};
  CHECK(recfuse::expand_trials(other)[0].id != trials[0].id);

  REQUIRE_THROWS_WITH(recfuse::parse_scenario(R"(name = "x"
protocols = ["offline"]
[environment]
plugin = "test_favourite"
[[algorithms]]
plugin = "popularity"
)", "y.toml"), Catch::Contains("y.toml:2:1") && Catch::Contains("needs a [dataset] table"));
  REQUIRE_THROWS_WITH(recfuse::parse_scenario(R"(name = "x"
[online]
episodes = 10
[[algorithms]]
plugin = "popularity"
)", "z.toml"), Catch::Contains("z.toml:2:1") && Catch::Contains("needs an [environment]"));
  REQUIRE_THROWS_WITH(recfuse::parse_scenario(R"(name = "x"
[environment]
plugin = "test_favourite"
[online]
episods = 10
[[algorithms]]
plugin = "popularity"
)", "w.toml"), Catch::Contains("w.toml:5:1") && Catch::Contains("did you mean 'episodes'"));
}

TEST_CASE("an unknown environment or parameter is reported at its key before any trial runs",
          "[online]") {
  const auto dir = temp_dir("online-bad");
  auto s = write_text(dir, "a.toml", R"(name = "x"
[environment]
plugin = "test_favorite"
[[algorithms]]
plugin = "popularity"
)");
  auto r = run_recfuse("run " + s.string() + args(dir));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("a.toml:3:10") &&
                           Catch::Contains("did you mean 'test_favourite'"));
  s = write_text(dir, "b.toml", R"(name = "x"
[environment]
plugin = "test_favourite"
params = { itmes = 4 }
[[algorithms]]
plugin = "popularity"
)");
  r = run_recfuse("run " + s.string() + args(dir));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("b.toml:4:20") && Catch::Contains("did you mean 'items'"));
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "trials"));
}

// With state, a logged step after the first stands in a state the logging
// policy led to: the off-policy value is that of the policy's first slate,
// and estimates and truth must meet there. The tiring world: a click ends
// the user's clicks for the session, so user_knn (which shows the favourite
// whenever it is offered) earns its reward on the first offer only, while
// the uniform logger leaves most users fresh for later steps (an estimate
// over every logged step misses this truth by far more than its SE).
TEST_CASE("off-policy estimates in a world with state target the first slate of a session", "[online]") {
  const auto dir = temp_dir("online_state");
  std::string text = kScenario;
  const auto swap = [&](const std::string& from, const std::string& to) {
    REQUIRE(text.find(from) != std::string::npos);
    text.replace(text.find(from), from.size(), to);
  };
  swap("steps = 4 }", "steps = 4, tiring = true }");
  swap(R"(protocols = ["online", "off_policy"])", R"(protocols = ["off_policy"])");
  const auto s = write_text(dir, "t.toml", text);
  const auto r = run_recfuse("run " + s.string() + args(dir, " --jobs 2"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(dir / "out");
  for (int seed : {1, 2}) {
    const json& t = trial_of(report, "user_knn (off-policy)", seed);
    CHECK(t.at("off_policy").at("estimand") == "reward of the first slate of a session");
    CHECK(t.at("off_policy").at("first_steps") == 3000);
    const json& m = t.at("metrics");
    // At t = 0 the candidates are items 0..2: the favourite u % 6 of half the
    // users is offered, and user_knn shows it.
    const double truth = m.at("true_value").at("mean");
    CHECK(truth == Approx(0.5).margin(0.1));
    for (const char* est : {"ips", "snips", "dr"}) {
      INFO("seed " << seed << " " << est << " truth " << truth);
      const json& e = m.at(est);
      CHECK(std::abs(e.at("mean").get<double>() - truth) < 4 * e.at("se").get<double>());
    }
  }
}

TEST_CASE("online and off-policy trials against a known-answer environment", "[online]") {
  const auto dir = temp_dir("online");
  const auto s = write_text(dir, "f.toml", kScenario);
  const auto r = run_recfuse("run " + s.string() + args(dir, " --jobs 2"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(dir / "out");
  REQUIRE(report.at("trials").size() == 8);
  for (const auto& t : report.at("trials")) REQUIRE(t.at("status") == "ok");

  for (int seed : {1, 2}) {
    for (const char* algo : {"popularity (online)", "user_knn (online)"}) {
      const json& t = trial_of(report, algo, seed);
      CHECK(t.at("protocol") == "online");
      // Every session lasts exactly 4 steps; a click earns 1.
      CHECK(t.at("metrics").at("session_length").at("mean") == Approx(4.0));
      const auto ret = per_episode(dir, t, "return");
      const auto regret = per_episode(dir, t, "regret");
      REQUIRE(ret.size() == 200);
      for (std::size_t e = 0; e < ret.size(); ++e) {
        // Nothing changes the user, so the myopic oracle is optimal.
        CHECK(regret[e] >= 0.0);
        CHECK(ret[e] + regret[e] <= 3.0);  // the favourite is offered at most 3 of 4 steps
      }
      CHECK(t.at("learning_curve").at("return").size() == 4);
      CHECK(t.at("logs").at("steps") == 300 * 4);
    }
    // The logs show each user's favourite only, so user-kNN finds it: no regret.
    CHECK(trial_of(report, "user_knn (online)", seed).at("metrics").at("regret").at("mean") ==
          Approx(0.0));
    CHECK(trial_of(report, "popularity (online)", seed).at("metrics").at("regret").at("mean") > 0.2);

    for (const char* algo : {"popularity (off-policy)", "user_knn (off-policy)"}) {
      const json& m = trial_of(report, algo, seed).at("metrics");
      const double truth = m.at("true_value").at("mean");
      // Uniform logging of ordered 2-slates from 3 candidates: propensity 1/6,
      // so about a sixth of the logged first steps match a deterministic policy.
      CHECK(m.at("ess").at("mean").get<double>() == Approx(3000 / 6.0).epsilon(0.1));
      // No state to shift, so every estimator is unbiased here: within 4 SE.
      for (const char* est : {"ips", "snips", "dr"}) {
        INFO(algo << " " << est);
        const json& e = m.at(est);
        CHECK(std::abs(e.at("mean").get<double>() - truth) < 4 * e.at("se").get<double>());
        CHECK(e.at("error").get<double>() == Approx(e.at("mean").get<double>() - truth));
      }
    }
  }
  // Episodes pair across algorithms: the comparison on return is per episode.
  bool compared = false;
  for (const auto& c : report.at("comparisons")) {
    if (c.at("metric") != "return") continue;
    compared = true;
    CHECK(c.at("baseline") == "user_knn (online)");
    CHECK(c.at("method") == "paired_users");
    CHECK(c.at("matched_trials") == 2);
    CHECK(c.at("n") == 200);  // episode e of each seed, averaged over the seeds as users are
  }
  CHECK(compared);
  const std::string md = read_text(dir / "out" / "report.md");
  CHECK_THAT(md, Catch::Contains("## Simulated online") && Catch::Contains("## Off-policy estimates"));
}

TEST_CASE("simulated trials are deterministic in the seed, whatever the jobs", "[online]") {
  const auto dir = temp_dir("online-det");
  const auto s = write_text(dir, "f.toml", kScenario);
  REQUIRE(run_recfuse("run " + s.string() + args(dir, " --jobs 1")).exit_code == 0);
  const json a = read_report(dir / "out");
  std::filesystem::remove_all(dir / "out");
  REQUIRE(run_recfuse("run " + s.string() + args(dir, " --jobs 2")).exit_code == 0);
  const json b = read_report(dir / "out");
  for (std::size_t i = 0; i < a.at("trials").size(); ++i)
    CHECK(a.at("trials").at(i).at("metrics") == b.at("trials").at(i).at("metrics"));
}

TEST_CASE("an environment that throws fails its trial with the plugin's message", "[online]") {
  // calibrated fits itself to the scenario's dataset and refuses to build
  // without one; the message must survive the plugin's library.
  const auto dir = temp_dir("online-throw");
  const auto s = write_text(dir, "c.toml", R"(name = "x"
[environment]
plugin = "calibrated"
[online]
log_episodes = 2
episodes = 2
ope_episodes = 2
[[algorithms]]
plugin = "popularity"
)");
  const auto r = run_recfuse("run " + s.string() + args(dir));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  const json report = read_report(dir / "out");
  for (const auto& t : report.at("trials")) {
    CHECK(t.at("status") == "failed");
    CHECK_THAT(t.at("error").get<std::string>(), Catch::Contains("[dataset]"));
  }
}

TEST_CASE("a policy whose slates break the act contract fails its trial, naming plugin, session and position",
          "[online]") {
  // tests/test_plugins/bad_slate.cpp: the last slate position holds an item
  // that is not among the row's candidates, or repeats the first candidate.
  // test_favourite's slates hold 2 items, so position 1 is the bad one.
  const auto dir = temp_dir("online-bad-slate");
  const auto s = write_text(dir, "b.toml", R"(name = "bad-slate"
seeds = [1]
protocols = ["online"]
[environment]
plugin = "test_favourite"
params = { users = 12, items = 6, candidates = 3, steps = 4 }
[online]
log_episodes = 20
episodes = 20
batch = 8
[[algorithms]]
plugin = "popularity"
[[algorithms]]
name = "outside"
plugin = "test_bad_slate"
[[algorithms]]
name = "repeat"
plugin = "test_bad_slate"
params = { mode = "repeat" }
)");
  const auto r = run_recfuse("run " + s.string() + args(dir));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  const json report = read_report(dir / "out");
  std::map<std::string, std::string> outcome;
  for (const auto& t : report.at("trials"))
    outcome[t.at("algorithm").get<std::string>()] =
        t.at("status") == "ok" ? "ok" : t.at("error").get<std::string>();
  CHECK(outcome.at("popularity (online)") == "ok");  // a good trial beside them keeps its result
  for (const auto& [label, why] : {std::pair<std::string, std::string>{"outside (online)", "is not among this step's candidates"},
                                   {"repeat (online)", "appears twice in the slate"}}) {
    INFO(label << ": " << outcome.at(label));
    CHECK_THAT(outcome.at(label), Catch::Contains("plugin 'test_bad_slate'") &&
                                      Catch::Contains("session 0, slate position 1: item") && Catch::Contains(why) &&
                                      Catch::Contains("(step 0 of the batch of episodes 0..7;"));
  }
}
