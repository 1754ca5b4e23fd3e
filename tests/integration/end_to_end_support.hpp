// Shared by the end-to-end tests (end_to_end_test.cpp,
// end_to_end_evaluation_test.cpp): a small synthetic scenario of three
// algorithms and readers for what a run leaves.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "run_cli.hpp"

namespace recfuse::test::e2e {

using json = nlohmann::json;

inline const json& trial_named(const json& report, const std::string& algorithm) {
  for (const auto& t : report.at("trials"))
    if (t.at("algorithm") == algorithm) return t;
  FAIL("no trial for " << algorithm);
  static json none;
  return none;
}

inline double metric(const json& trial, const std::string& name) {
  return trial.at("metrics").at(name).at("mean").get<double>();
}

inline const char* kSmallScenario = R"(name = "small"
seeds = [3]
threads = 2
[dataset]
format = "synthetic"
[dataset.synthetic]
users = 150
items = 120
interactions_per_user = 20
seed = 9
[split]
method = "leave_last_one_out"
[evaluation]
cutoffs = [5, 10]
bootstrap = 300
[[algorithms]]
name = "random"
plugin = "random"
[[algorithms]]
name = "item_knn"
plugin = "item_knn"
[algorithms.params]
neighbors = 20
[[algorithms]]
name = "user_knn"
plugin = "user_knn"
)";

// kSmallScenario with `lines` added to its [evaluation] section.
inline std::string small_scenario_with(const std::string& lines) {
  std::string text = kSmallScenario;
  text.replace(text.find("bootstrap = 300"), 15, "bootstrap = 300\n" + lines);
  return text;
}

}  // namespace recfuse::test::e2e
