// scenarios/SCHEMA.md and the parser agree: every key the parser accepts is
// documented, every documented key is accepted.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "scenario/schema.hpp"
#include "test_support.hpp"

using namespace recfuse;

namespace {

std::string read_schema_doc() {
  std::ifstream in(test::source_dir() / "scenarios" / "SCHEMA.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// One key's row: "| `split.folds` | int ≥ 2 | `5` | ..." -> split.folds, "int ≥ 2", "`5`".
struct Row {
  std::string key, type, default_cell;
};

std::vector<Row> documented_rows(const std::string& doc) {
  std::vector<Row> rows;
  const std::regex row(R"(^\| `([a-z_.]+)` \| ([^|]+) \| ([^|]+) \|)");
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) rows.push_back({m[1], m[2], m[3]});
  }
  return rows;
}

std::set<std::string> documented_keys(const std::string& doc) {
  std::set<std::string> keys;
  for (const auto& r : documented_rows(doc)) keys.insert(r.key);
  return keys;
}

}  // namespace

TEST_CASE("SCHEMA.md documents exactly the keys the parser accepts", "[scenario]") {
  const auto documented = documented_keys(read_schema_doc());
  const auto accepted = scenario_schema::all_key_paths();
  REQUIRE(documented.size() > 40);
  for (const auto& k : accepted) {
    INFO("key accepted by the parser: " << k);
    CHECK(documented.count(k) == 1);
  }
  const std::set<std::string> accepted_set(accepted.begin(), accepted.end());
  for (const auto& k : documented) {
    INFO("key documented in SCHEMA.md: " << k);
    CHECK(accepted_set.count(k) == 1);
  }
}

TEST_CASE("SCHEMA.md lists every enumeration value", "[scenario]") {
  const std::string doc = read_schema_doc();
  for (const auto* values :
       {&scenario_schema::dataset_formats(), &scenario_schema::split_methods(),
        &scenario_schema::split_ties(), &scenario_schema::split_validation_items(),
        &scenario_schema::split_validation_trains(),
        &scenario_schema::evaluation_protocols(),
        &scenario_schema::evaluation_targets(), &scenario_schema::protocols(),
        &scenario_schema::logging_policies()}) {
    for (const auto& v : *values) {
      INFO(v);
      CHECK(doc.find("`" + v + "`") != std::string::npos);
    }
  }
}

TEST_CASE("the parser rejects a key the schema does not list, in every table", "[scenario]") {
  // Guards the other direction at run time: each table really checks keys.
  for (const auto& t : scenario_schema::tables()) {
    if (t.table.empty() || t.table == "algorithms") continue;
    std::string text = "name = \"k\"\n[" + t.table + "]\nbogus_key_x = 1\n";
    if (t.table == "dataset.delimited") text = "name = \"k\"\n[dataset]\nformat = \"delimited\"\n"
                                               "[dataset.delimited]\nbogus_key_x = 1\n";
    text += "[[algorithms]]\nplugin = \"p\"\n";
    INFO(t.table);
    CHECK_THROWS_WITH(parse_scenario(text, "k.toml"),
                      Catch::Contains("[" + t.table + "] unknown key 'bogus_key_x'"));
  }
}

TEST_CASE("every scenario shipped in scenarios/ parses and expands", "[scenario]") {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() / "scenarios")) {
    if (entry.path().extension() != ".toml") continue;
    INFO(entry.path().string());
    Scenario s;
    REQUIRE_NOTHROW(s = load_scenario(entry.path().string()));
    CHECK_FALSE(expand_trials(s).empty());
    ++n;
  }
  CHECK(n >= 1);
}

namespace {

/// A scenario that sets documented key `key` (a full dotted path) to `value`
/// in the surroundings it applies in: delimited columns under format =
/// "delimited", [online] beside an [environment] (under epsilon_softmax, where
/// every [online] key is part of the trial ids). Empty `value`: the key is left out.
std::string scenario_setting(const std::string& key, const std::string& value) {
  const auto dot = key.rfind('.');
  const std::string table = dot == std::string::npos ? "" : key.substr(0, dot);
  const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
  const std::string line = value.empty() ? "" : leaf + " = " + value + "\n";
  const auto in = [&](const std::string& t) { return table == t ? line : std::string(); };
  std::string text = (key == "name" ? "" : "name = \"d\"\n") + in("");
  // Without a timestamp column (the default), the default split method
  // leave_last_one_out is refused: a split that does not read time.
  if (table == "dataset.delimited")
    text += "[dataset]\nformat = \"delimited\"\npath = \"x.csv\"\n[split]\nmethod = \"random\"\n";
  if (table == "online")
    text += "[environment]\nplugin = \"e\"\n" +
            std::string(leaf == "logging_policy" ? "" : "[online]\nlogging_policy = \"epsilon_softmax\"\n");
  if (table == "environment") text += "[environment]\n" + (leaf == "plugin" ? "" : std::string("plugin = \"e\"\n"));
  if (table == "online" && leaf == "logging_policy") text += "[online]\n";
  if (!table.empty() && table != "algorithms" && table != "online" && table != "environment")
    text += "[" + table + "]\n";
  // A [split] key that only some methods read, under the first of them.
  if (table == "split")
    for (const auto& use : scenario_schema::split_key_methods())
      if (use.key == leaf) text += "method = \"" + use.methods.front() + "\"\n";
  if (!table.empty() && table != "algorithms") text += line;
  return text + "[[algorithms]]\n" + (key == "algorithms.plugin" ? "" : "plugin = \"p\"\n") +
         in("algorithms");
}

/// What a scenario's defaults decide: its trial ids and the keys they leave out.
std::string signature(const Scenario& s) {
  std::string out = s.description + "|" + std::to_string(s.threads) + "|" +
                    std::to_string(s.time_limit_s) + "|" + s.output + "|" +
                    (s.dataset.cache ? "cache" : "no-cache");
  for (const auto& t : expand_trials(s)) out += "|" + t.id;
  return out;
}

}  // namespace

TEST_CASE("SCHEMA.md's defaults are the parser's", "[scenario]") {
  // Writing a key's documented default must change nothing.
  std::size_t checked = 0;
  for (const auto& row : documented_rows(read_schema_doc())) {
    std::smatch m;
    if (!std::regex_match(row.default_cell, m, std::regex(R"(`([^`]+)` *)"))) continue;
    std::string value = m[1];
    if (const auto at = value.find("<name>"); at != std::string::npos) value.replace(at, 6, "d");
    INFO(row.key << " = " << value);
    if (row.key == "name") continue;
    const Scenario with = parse_scenario(scenario_setting(row.key, value), "s.toml");
    const Scenario without = parse_scenario(scenario_setting(row.key, ""), "s.toml");
    CHECK(signature(with) == signature(without));
    ++checked;
  }
  CHECK(checked > 50);
}

TEST_CASE("SCHEMA.md's types and ranges are the parser's", "[scenario]") {
  // A value of the wrong type, or just outside the documented range, is
  // refused at its key; the bound itself is accepted.
  std::size_t checked = 0;
  for (const auto& row : documented_rows(read_schema_doc())) {
    std::string type = row.type;
    type.erase(type.find_last_not_of(' ') + 1);
    std::vector<std::string> refused, accepted;
    std::smatch m;
    if (type == "bool") {
      refused = {"1", "\"true\""};
    } else if (type == "string") {
      refused = {"1", "true"};
    } else if (std::regex_match(type, m, std::regex(R"(int ≥ (-?\d+))"))) {
      const long lo = std::stol(m[1]);
      refused = {"1.5", "\"1\"", std::to_string(lo - 1)};
      // item = 0 would equal user's default column.
      if (row.key != "dataset.delimited.item") accepted = {std::to_string(lo)};
    } else if (std::regex_match(type, m, std::regex(R"(float( ≥ (\d+))?)"))) {
      refused = {"\"1\"", "true", "inf", "-inf", "nan"};
      if (m[2].matched) {
        const double lo = std::stod(m[2]);
        refused.push_back(std::to_string(lo - 0.5));
        accepted = {std::to_string(lo), std::to_string(static_cast<long>(lo))};
      }
    } else if (type == "float > 0") {
      refused = {"0", "-1.0", "inf"}, accepted = {"0.5"};
    } else if (type == "float in [0, 1)") {
      refused = {"-0.5", "1.0", "1"}, accepted = {"0.0", "0.5"};
    } else if (type == "float in (0, 1)") {
      refused = {"0.0", "1.0", "-0.5"}, accepted = {"0.5"};
    } else if (type == "float in (0, 1]") {
      refused = {"0.0", "1.5"}, accepted = {"1.0", "0.5"};
    } else if (type == "float in [0, 1]") {
      refused = {"-0.5", "1.5"}, accepted = {"0.0", "1.0"};
    } else {
      continue;
    }
    for (const auto& v : refused) {
      INFO(row.key << " (" << type << ") = " << v << " is refused");
      REQUIRE_THROWS_WITH(parse_scenario(scenario_setting(row.key, v), "s.toml"),
                          Catch::StartsWith("s.toml:") && Catch::Contains(": [" + row.key + "] "));
    }
    for (const auto& v : accepted) {
      INFO(row.key << " (" << type << ") = " << v << " is accepted");
      CHECK_NOTHROW(parse_scenario(scenario_setting(row.key, v), "s.toml"));
    }
    ++checked;
  }
  CHECK(checked > 50);
}

TEST_CASE("SCHEMA.md names the methods each [split] key applies to", "[scenario]") {
  // Each row of a key that only some methods read says "Only with `method` =
  // ..." up to a ';', naming exactly the methods the parser accepts it under
  // (scenario_schema::split_key_methods); the other [split] rows say no such thing.
  const std::string marker = "Only with `method` = ";
  const auto& uses = scenario_schema::split_key_methods();
  std::size_t checked = 0;
  std::istringstream lines(read_schema_doc());
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(^\| `split\.([a-z_]+)` \|)"))) continue;
    const std::string leaf = m[1];
    const auto use = std::find_if(uses.begin(), uses.end(), [&](const auto& u) { return u.key == leaf; });
    const auto at = line.find(marker);
    INFO("split." << leaf);
    if (use == uses.end()) {
      CHECK(at == std::string::npos);
      continue;
    }
    REQUIRE(at != std::string::npos);
    const std::string clause = line.substr(at + marker.size(), line.find(';', at) - at - marker.size());
    std::set<std::string> named, expected(use->methods.begin(), use->methods.end());
    expected.insert(use->with_validation_ratio.begin(), use->with_validation_ratio.end());
    for (const auto& method : scenario_schema::split_methods())
      if (clause.find("`" + method + "`") != std::string::npos) named.insert(method);
    INFO(clause);
    CHECK(named == expected);
    CHECK((clause.find("`validation_ratio` > 0") != std::string::npos) == !use->with_validation_ratio.empty());
    ++checked;
  }
  CHECK(checked == uses.size());
}

TEST_CASE("SCHEMA.md names the protocols that read each [evaluation] key", "[scenario]") {
  // Each [evaluation] row says "Read by the ..." up to a '.', naming exactly
  // the protocols of scenario_schema::evaluation_key_protocols, which lists
  // every [evaluation] key once.
  const auto& uses = scenario_schema::evaluation_key_protocols();
  std::vector<std::string> listed;
  for (const auto& use : uses) listed.push_back(use.key);
  CHECK(listed == scenario_schema::keys_of("evaluation"));
  const std::string marker = "Read by the ";
  std::size_t checked = 0;
  std::istringstream lines(read_schema_doc());
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(^\| `evaluation\.([a-z_]+)` \|)"))) continue;
    const std::string leaf = m[1];
    const auto use = std::find_if(uses.begin(), uses.end(), [&](const auto& u) { return u.key == leaf; });
    INFO("evaluation." << leaf);
    REQUIRE(use != uses.end());
    const auto at = line.find(marker);
    REQUIRE(at != std::string::npos);
    const std::string clause = line.substr(at, line.find('.', at) - at);
    std::set<std::string> named;
    for (const auto& p : scenario_schema::protocols())
      if (clause.find("`" + p + "`") != std::string::npos) named.insert(p);
    INFO(clause);
    CHECK(named == std::set<std::string>(use->protocols.begin(), use->protocols.end()));
    ++checked;
  }
  CHECK(checked == uses.size());
}

TEST_CASE("SCHEMA.md's complete example loads and expands", "[scenario]") {
  // It once combined split.method = "fixed" with [filter] keys the loader
  // refuses: the documentation's own example did not load.
  const std::string doc = read_schema_doc();
  const auto start = doc.find("## A complete example\n\n```toml\n");
  REQUIRE(start != std::string::npos);
  const auto body = start + std::string("## A complete example\n\n```toml\n").size();
  const auto end = doc.find("```", body);
  REQUIRE(end != std::string::npos);
  const Scenario s = parse_scenario(doc.substr(body, end - body), "SCHEMA.md");
  // 2 folds x (popularity + 3 x 2 grid points) x 3 seeds.
  CHECK(expand_trials(s).size() == 2 * 7 * 3);
  CHECK(s.evaluation.compare.size() == 1);
}
