// validate_params: the scenario's table against a plugin's declared specs.
#include <catch2/catch.hpp>

#include "host/params_validation.hpp"

#include <limits>

using namespace recfuse;
using Catch::Contains;

namespace {

const std::vector<ParamSpec> kSpecs = {
    ParamSpec::integer("neighbors", 50, 1, 100000, "neighbourhood size"),
    ParamSpec::real("shrinkage", 10.0, 0.0, 1e9, "similarity shrinkage"),
    ParamSpec::choice("similarity", "cosine", {"cosine", "jaccard", "pearson"}, "measure"),
    ParamSpec::boolean("normalize", true, "normalise rows"),
    ParamSpec::string("note", "", "free text")};

using Values = std::map<std::string, ParamValue>;
const std::map<std::string, std::string> kLocations = {{"neigbors", "s.toml:14:9"},
                                                       {"neighbors", "s.toml:15:1"},
                                                       {"similarity", "s.toml:16:14"}};

ParamSet check(const Values& v) {
  return validate_params(kSpecs, v, kLocations, "s.toml:12:1", "algorithms.itemknn");
}

}  // namespace

TEST_CASE("validate_params fills every declared key, defaults included", "[params]") {
  const ParamSet p = check({{"neighbors", std::int64_t{20}}, {"shrinkage", std::int64_t{3}}});
  CHECK(p.values().size() == 5);
  CHECK(p.get_int("neighbors") == 20);
  // An int given for a float is stored as a double.
  CHECK(std::holds_alternative<double>(p.values().at("shrinkage")));
  CHECK(p.get_float("shrinkage") == 3.0);
  CHECK(p.get_string("similarity") == "cosine");
  CHECK(p.get_bool("normalize") == true);
  CHECK(p.get_string("note").empty());
}

TEST_CASE("validate_params: unknown key with suggestion and known keys", "[params]") {
  REQUIRE_THROWS_WITH(check({{"neigbors", std::int64_t{3}}}),
                      "s.toml:14:9: [algorithms.itemknn.params] unknown key 'neigbors'; did you "
                      "mean 'neighbors'? known: neighbors, normalize, note, shrinkage, "
                      "similarity");
  // Without a location of its own the key is reported at the table.
  REQUIRE_THROWS_WITH(check({{"zzzzzz", true}}),
                      "s.toml:12:1: [algorithms.itemknn.params] unknown key 'zzzzzz'; known: "
                      "neighbors, normalize, note, shrinkage, similarity");
  REQUIRE_THROWS_WITH(validate_params({}, {{"x", true}}, {}, "", ""),
                      "unknown key 'x'; this algorithm takes no parameters");
}

TEST_CASE("validate_params: wrong type names expected and got", "[params]") {
  REQUIRE_THROWS_WITH(check({{"neighbors", 2.5}}),
                      "s.toml:15:1: [algorithms.itemknn.params] 'neighbors' expected int, got "
                      "float 2.5");
  REQUIRE_THROWS_WITH(check({{"shrinkage", std::string("big")}}),
                      Contains("'shrinkage' expected float, got string \"big\""));
  REQUIRE_THROWS_WITH(check({{"normalize", std::int64_t{1}}}),
                      Contains("'normalize' expected bool, got int 1"));
  REQUIRE_THROWS_WITH(check({{"note", false}}), Contains("'note' expected string, got bool"));
  REQUIRE_THROWS_WITH(check({{"similarity", std::int64_t{2}}}),
                      Contains("'similarity' expected a string (one of: cosine, jaccard, "
                               "pearson), got int 2"));
}

TEST_CASE("validate_params: ranges are inclusive and shown", "[params]") {
  CHECK(check({{"neighbors", std::int64_t{1}}}).get_int("neighbors") == 1);
  CHECK(check({{"neighbors", std::int64_t{100000}}}).get_int("neighbors") == 100000);
  REQUIRE_THROWS_WITH(check({{"neighbors", std::int64_t{0}}}),
                      "s.toml:15:1: [algorithms.itemknn.params] 'neighbors' = 0 is out of range "
                      "[1, 100000]");
  REQUIRE_THROWS_WITH(check({{"shrinkage", -0.5}}),
                      Contains("'shrinkage' = -0.5 is out of range [0.0, 1e+09]"));
  REQUIRE_THROWS_WITH(check({{"shrinkage", std::nan("")}}), Contains("'shrinkage' must be a finite number, got nan"));
}

TEST_CASE("validate_params: inf is refused even where the range is unbounded", "[params]") {
  // SCHEMA.md: every float must be finite. A spec without bounds (ParamSpec's
  // own min/max are -inf/inf) let inf through to the plugin.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<ParamSpec> open = {ParamSpec::real("lr", 0.1, -inf, inf, "unbounded")};
  CHECK(validate_params(open, {{"lr", 1e300}}, {}, "", "").get_float("lr") == 1e300);
  REQUIRE_THROWS_WITH(validate_params(open, {{"lr", inf}}, {{"lr", "s.toml:3:6"}}, "", "algorithms.x"),
                      "s.toml:3:6: [algorithms.x.params] 'lr' must be a finite number, got inf");
  REQUIRE_THROWS_WITH(validate_params(open, {{"lr", -inf}}, {}, "", ""),
                      Contains("'lr' must be a finite number, got -inf"));
}

TEST_CASE("validate_params: choices listed, with a suggestion", "[params]") {
  CHECK(check({{"similarity", std::string("pearson")}}).get_string("similarity") == "pearson");
  REQUIRE_THROWS_WITH(check({{"similarity", std::string("cosin")}}),
                      "s.toml:16:14: [algorithms.itemknn.params] 'similarity' = \"cosin\" is not "
                      "one of the choices; did you mean \"cosine\"? (cosine, jaccard, pearson)");
}

TEST_CASE("validate_params: a key path that already names the table is kept", "[params]") {
  REQUIRE_THROWS_WITH(validate_params(kSpecs, {{"bogus", true}}, {}, "", "algorithms.x.grid"),
                      Contains("[algorithms.x.grid] unknown key 'bogus'"));
}

TEST_CASE("format_param_value renders each type", "[params]") {
  CHECK(format_param_value(std::int64_t{-3}) == "-3");
  CHECK(format_param_value(0.5) == "0.5");
  CHECK(format_param_value(10.0) == "10.0");
  CHECK(format_param_value(1e-7) == "1e-07");
  CHECK(format_param_value(true) == "true");
  CHECK(format_param_value(std::string("cosine")) == "\"cosine\"");
}

TEST_CASE("check_param_table: names, ranges, choices and defaults of a plugin's own table", "[params]") {
  REQUIRE_NOTHROW(check_param_table(kSpecs));
  // An int default for a float is what validate_params accepts from a scenario too.
  REQUIRE_NOTHROW(check_param_table({ParamSpec::real("x", std::int64_t{2}, 0, 10, "")}));
  using Specs = std::vector<ParamSpec>;
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::integer("n", 500, 0, 100, "")}),
                      "default 'n' = 500 is out of range [0, 100]");
  REQUIRE_THROWS_WITH(check_param_table(Specs{{"n", ParamType::kInt, 0.5, 0, 1, {}, ""}}),
                      "default 'n' expected int, got float 0.5");
  REQUIRE_THROWS_WITH(check_param_table(Specs{{"b", ParamType::kBool, std::int64_t{1}, 0, 1, {}, ""}}),
                      "default 'b' expected bool, got int 1");
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::real("x", std::nan(""), 0, 1, "")}),
                      "default 'x' must be a finite number, got nan");
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::choice("m", "c", {"a", "b"}, "")}),
                      Contains("default 'm' = \"c\" is not one of the choices") && Contains("(a, b)"));
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::choice("m", "a", {}, "")}),
                      "parameter 'm' has no choices");
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::integer("n", 5, 10, 1, "")}),
                      "parameter 'n' has an empty range [10, 1]");
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::real("x", 0.5, std::nan(""), 1, "")}),
                      "parameter 'x' has an empty range [nan, 1.0]");
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::boolean("b", true, ""), ParamSpec::boolean("b", false, "")}),
                      "parameter 'b' is declared twice");
  REQUIRE_THROWS_WITH(check_param_table(Specs{ParamSpec::boolean("", true, "")}), "parameter #0 has no name");
}

TEST_CASE("format_param_range: int bounds print whole, as validation errors show them", "[params]") {
  // `recfuse plugins` printed sasrec's batch range as [1, 1.04858e+06].
  CHECK(format_param_range(ParamSpec::integer("batch", 128, 1, 1 << 20, "")) == "[1, 1048576]");
  CHECK(format_param_range(ParamSpec::integer("n", 1, 1, 1e9, "")) == "[1, 1000000000]");
  CHECK(format_param_range(ParamSpec::real("x", 1, 0, 1e9, "")) == "[0.0, 1e+09]");
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(format_param_range(ParamSpec::real("x", 1, -inf, inf, "")) == "[-inf, inf]");
  CHECK(format_param_range(kSpecs[2]) == "cosine|jaccard|pearson");
  CHECK(format_param_range(kSpecs[3]).empty());
}
