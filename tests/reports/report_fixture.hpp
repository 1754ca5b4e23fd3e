// The hand-written fixture of tests/fixtures/reports: two algorithms (als,
// pop), two seeds, one failed trial. Values worked by hand in the tests.
#pragma once

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace recfuse::test {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json fixture_context() {
  return nlohmann::json::parse(read_file(fixture("reports/context.json")));
}

inline std::vector<nlohmann::json> fixture_records() {
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(fixture("reports/records"))) {
    paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<nlohmann::json> records;
  for (const auto& p : paths) records.push_back(nlohmann::json::parse(read_file(p)));
  return records;
}

// A rating-prediction sweep: two algorithms over folds u1, u2, u10, one seed,
// RMSE without per-user vectors.
inline std::vector<nlohmann::json> fold_records() {
  const std::vector<std::string> folds = {"u10", "u1", "u2"};  // deliberately unsorted
  const double bias[] = {0.94, 0.95, 0.96}, svd[] = {0.92, 0.93, 0.95};
  std::vector<nlohmann::json> records;
  for (std::size_t f = 0; f < folds.size(); ++f) {
    for (int a = 0; a < 2; ++a) {
      double rmse = a == 0 ? bias[f] : svd[f];
      records.push_back({{"record_version", 1},
                         {"trial_id", folds[f] + (a == 0 ? "-bias" : "-svd")},
                         {"algorithm", a == 0 ? "bias" : "svd"},
                         {"plugin", a == 0 ? "bias" : "funk_svd"},
                         {"seed", 1},
                         {"fold", folds[f]},
                         {"status", "ok"},
                         {"error", ""},
                         {"metrics", {{"rmse", {{"mean", rmse}, {"low", rmse - 0.01},
                                                {"high", rmse + 0.01}, {"n", 20000}}}}}});
    }
  }
  return records;
}

}  // namespace recfuse::test
