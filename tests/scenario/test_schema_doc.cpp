// scenarios/SCHEMA.md and the parser agree: every key the parser accepts is
// documented, every documented key is accepted.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

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

/// The first cell of each table row: "| `split.method` | ..." -> split.method
std::set<std::string> documented_keys(const std::string& doc) {
  std::set<std::string> keys;
  const std::regex row(R"(^\| `([a-z_.]+)` \|)");
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) keys.insert(m[1]);
  }
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
  for (const auto* values : {&scenario_schema::dataset_formats(),
                             &scenario_schema::split_methods(),
                             &scenario_schema::evaluation_protocols()}) {
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
