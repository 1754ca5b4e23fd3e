// validate_params: the scenario's table against a plugin's declared specs.
#include <catch2/catch.hpp>

#include "host/params_validation.hpp"

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
  REQUIRE_THROWS_WITH(check({{"shrinkage", std::nan("")}}), Contains("must be a number"));
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
