// An [evaluation] key that none of the scenario's protocols reads is refused
// at its line, naming the protocols that read it and the scenario's own:
// left in, it looked like a setting and changed nothing (target =
// "validation" or cutoffs beside online trials only), as a [split] there did.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"

using namespace recfuse;

namespace {

struct KeyUse {
  std::string key, value;
  std::set<std::string> protocols;  // read it
};

// Written from the runner, not from the schema table, so that a wrong table
// fails here: the offline trial (runner/trial.cpp) reads target and
// nested_validation, and hands [evaluation] to the evaluator
// (eval/evaluator.cpp: protocol, sampled_negatives, metrics, cutoffs,
// relevance_threshold, max_latency_users, cold_user_max, head_fraction) and
// its record (runner/eval_json.cpp: bootstrap; runner/explanations.cpp:
// explain_users); the simulated trials
// (runner/online.cpp) read bootstrap alone, for every interval of their
// records; compare is read by the report, over the labels of every protocol.
const std::vector<KeyUse>& key_uses() {
  static const std::set<std::string> all = {"offline", "online", "off_policy"};
  static const std::vector<KeyUse> uses = {
      {"protocol", "\"sampled\"", {"offline"}},
      {"sampled_negatives", "50", {"offline"}},
      {"metrics", "[\"ndcg\"]", {"offline"}},
      {"cutoffs", "[5]", {"offline"}},
      {"bootstrap", "10", all},
      {"relevance_threshold", "4.0", {"offline"}},
      {"max_latency_users", "10", {"offline"}},
      {"target", "\"validation\"", {"offline"}},
      {"nested_validation", "false", {"offline"}},
      {"cold_user_max", "3", {"offline"}},
      {"head_fraction", "0.1", {"offline"}},
      {"explain_users", "3", {"offline"}},
      {"compare", "", all},
  };
  return uses;
}

/// `protocols = [...]` with the tables they need, then [evaluation] with
/// `line` as its line `eval_line`, and two algorithms (so compare has a pair).
std::string scenario(const std::vector<std::string>& protocols, const std::string& line, int& eval_line) {
  std::string list;
  for (const auto& p : protocols) list += (list.empty() ? "\"" : ", \"") + p + "\"";
  std::string text = "name = \"t\"\nprotocols = [" + list + "]\n";
  eval_line = 3;
  const bool offline = protocols.front() == "offline";
  if (offline) text += "[dataset]\nformat = \"synthetic\"\n", eval_line += 2;
  if (protocols.size() > 1 || !offline) text += "[environment]\nplugin = \"e\"\n", eval_line += 2;
  return text + "[evaluation]\n" + line + "[[algorithms]]\nplugin = \"p\"\n[[algorithms]]\nname = \"q\"\nplugin = \"p\"\n";
}

std::string suffix(const std::string& protocol) {
  return protocol == "online" ? " (online)" : protocol == "off_policy" ? " (off-policy)" : "";
}

}  // namespace

TEST_CASE("scenario: an [evaluation] key is refused where no protocol of the scenario reads it", "[scenario]") {
  const std::vector<std::vector<std::string>> protocol_sets = {
      {"offline"}, {"online"}, {"off_policy"}, {"online", "off_policy"}, {"offline", "online", "off_policy"}};
  for (const auto& use : key_uses()) {
    for (const auto& protocols : protocol_sets) {
      const std::string value = use.key != "compare" ? use.value
                                                     : "[[\"q" + suffix(protocols.front()) + "\", \"p" +
                                                           suffix(protocols.front()) + "\"]]";
      int eval_line = 0;
      const std::string text = scenario(protocols, use.key + " = " + value + "\n", eval_line);
      INFO(text);
      bool read = false;
      for (const auto& p : protocols) read = read || use.protocols.count(p) > 0;
      if (read) {
        CHECK_NOTHROW(parse_scenario(text, "s.toml"));
        continue;
      }
      std::string message;
      try {
        parse_scenario(text, "s.toml");
      } catch (const Error& e) {
        message = e.what();
      }
      // At the key's value, as an unknown key or a [split] key its method ignores.
      const std::string at = "s.toml:" + std::to_string(eval_line + 1) + ":" + std::to_string(use.key.size() + 4) +
                             ": [evaluation." + use.key + "] ";
      CHECK_THAT(message, Catch::StartsWith(at + "is read only by the offline protocol; this scenario runs protocols = ["));
      for (const auto& p : protocols) CHECK_THAT(message, Catch::Contains("\"" + p + "\""));
    }
  }
}

TEST_CASE("scenario: the [evaluation] refusal names the protocols the scenario runs by default too", "[scenario]") {
  REQUIRE_THROWS_WITH(parse_scenario("name = \"t\"\nprotocols = [\"online\", \"off_policy\"]\n[environment]\n"
                                     "plugin = \"e\"\n[evaluation]\ncutoffs = [5, 10]\n[[algorithms]]\nplugin = \"p\"\n",
                                     "s.toml"),
                      "s.toml:6:11: [evaluation.cutoffs] is read only by the offline protocol; this scenario runs "
                      "protocols = [\"online\", \"off_policy\"]");
  // The default protocols of an [environment] without a [dataset]; the
  // default split has validation data, so target = "validation" passed the
  // split's check and changed nothing.
  REQUIRE_THROWS_WITH(parse_scenario("name = \"t\"\n[environment]\nplugin = \"e\"\n[evaluation]\nbootstrap = 200\n"
                                     "target = \"validation\"\n[[algorithms]]\nplugin = \"p\"\n",
                                     "s.toml"),
                      "s.toml:6:10: [evaluation.target] is read only by the offline protocol; this scenario runs "
                      "protocols = [\"online\", \"off_policy\"] (the default for an [environment] without a "
                      "[dataset])");
  // bootstrap sets every interval of the simulated records (runner/online.cpp).
  CHECK_NOTHROW(parse_scenario("name = \"t\"\n[environment]\nplugin = \"e\"\n[evaluation]\nbootstrap = 200\n"
                               "[[algorithms]]\nplugin = \"p\"\n",
                               "s.toml"));
}

TEST_CASE("scenario: explain_users is an int >= 0, default 0, in trial ids only when on", "[scenario]") {
  const auto text = [](const std::string& line) {
    return "name = \"t\"\n[dataset]\nformat = \"synthetic\"\n[evaluation]\n" + line +
           "[[algorithms]]\nplugin = \"p\"\n";
  };
  const Scenario off = parse_scenario(text(""), "s.toml");
  CHECK(off.evaluation.explain_users == 0);
  const Scenario zero = parse_scenario(text("explain_users = 0\n"), "s.toml");
  const Scenario three = parse_scenario(text("explain_users = 3\n"), "s.toml");
  CHECK(three.evaluation.explain_users == 3);
  // Off, ids stay those of scenarios written before the key (records resume);
  // on, a record without explanations is not resumed in their place.
  CHECK(expand_trials(zero).at(0).id == expand_trials(off).at(0).id);
  CHECK(expand_trials(three).at(0).id != expand_trials(off).at(0).id);
  CHECK(expand_trials(three).at(0).id != expand_trials(parse_scenario(text("explain_users = 4\n"), "s.toml")).at(0).id);
  REQUIRE_THROWS_WITH(parse_scenario(text("explain_users = -1\n"), "s.toml"),
                      Catch::StartsWith("s.toml:5:17: [evaluation.explain_users] ") && Catch::Contains(">= 0"));
  REQUIRE_THROWS_WITH(parse_scenario(text("explain_users = \"3\"\n"), "s.toml"),
                      Catch::Contains("[evaluation.explain_users]"));
}
