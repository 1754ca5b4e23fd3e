// The hand-written fixture of tests/fixtures/reports: two algorithms (als,
// pop), two seeds, one failed trial. Values worked by hand in the tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/report.hpp"
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

// The fixture context with [evaluation] compare = pairs, as collect_context
// records it: [["treatment", "baseline"], ...] (a braced list of pairs would
// read as an object).
inline nlohmann::json context_with(const std::vector<std::pair<std::string, std::string>>& pairs) {
  nlohmann::json c = fixture_context();
  c["scenario"]["compare"] = nlohmann::json::array();
  for (const auto& [t, b] : pairs) {
    c["scenario"]["compare"].push_back(nlohmann::json::array({t, b}));
  }
  return c;
}

inline std::string markdown_of(const nlohmann::json& report) {
  std::ostringstream out;
  recfuse::write_markdown(out, report);
  return out.str();
}

inline std::string html_of(const nlohmann::json& report) {
  std::ostringstream out;
  recfuse::write_html(out, report);
  return out.str();
}

// The "## <title>" section of `md` up to the next section; "" when absent.
inline std::string md_section(const std::string& md, const std::string& title) {
  const auto at = md.find("## " + title);
  if (at == std::string::npos) return "";
  return md.substr(at, md.find("\n## ", at + 1) - at);
}

// Two-sided p of a t statistic on 2 degrees of freedom, in closed form:
// 1 - |t| / sqrt(t^2 + 2). Independent of the report's t distribution code.
inline double t_p_df2(double t) { return 1.0 - std::abs(t) / std::sqrt(t * t + 2.0); }

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

// An ok trial record of `label` (seed 1, no fold) carrying `metrics`; callers
// add per_user, segments and the rest.
inline nlohmann::json ok_record(const std::string& label, const std::string& plugin, int index,
                                nlohmann::json metrics) {
  return {{"record_version", 1}, {"trial_id", label + "-s1"}, {"index", index},
          {"algorithm", label},  {"plugin", plugin},           {"seed", 1},
          {"fold", ""},          {"status", "ok"},             {"error", ""},
          {"metrics", std::move(metrics)}};
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

// Segment fixture: "fused" and "single", one trial each on the same 6 users,
// fold "", seed 1. History [2,3,4,6,8,10] with cold_user_max 3 and edges
// 3/4/8 (nearest rank of the sorted lengths at 25/50/75%):
//   cold = q1 = {u0,u1}, q2 = {u2}, q3 = {u3,u4}, q4 = {u5};
//   head items relevant for {u0,u3,u5}, tail items for {u0,u1,u2,u4}.
// ndcg@10 per user        u0   u1   u2   u3   u4   u5
//   fused                 0.5  0.4  0.3  0.6  0.2  0.9    mean 0.48333
//   single                0.2  0.2  0.3  0.5  0.3  0.8    mean 0.38333
//   fused items:head      1.0   -    -   0.6   -   0.9
//   single items:head     0.5   -    -   0.5   -   0.8
//   fused items:tail      0.0  0.4  0.3   -   0.2   -
//   single items:tail     0.1  0.1  0.3   -   0.3   -
// Segment blocks hold those means with made-up CIs mean +- 0.05.
inline std::vector<nlohmann::json> segment_records() {
  using nlohmann::json;
  const auto block = [](double mean, int n) {
    return json{{"mean", mean}, {"low", mean - 0.05}, {"high", mean + 0.05}, {"n", n}};
  };
  const auto record = [&](const std::string& label, int index, std::vector<double> ndcg,
                          json head, json tail, json segments) {
    double sum = 0;
    for (double v : ndcg) sum += v;
    json r = ok_record(label, label == "fused" ? "score_fusion" : "item_knn", index,
                       {{"ndcg@10", block(sum / 6, 6)}});
    r.update(json{
        {"segments", std::move(segments)},
        {"segment_definition",
         {{"cold_user_max", 3}, {"history_quartile_edges", {3, 4, 8}}, {"head_fraction", 0.2},
          {"head_min_popularity", 40}, {"head_items", 12}}},
        {"per_user",
         {{"users", {0, 1, 2, 3, 4, 5}},
          {"history", {2, 3, 4, 6, 8, 10}},
          {"ndcg@10", ndcg},
          {"items:head/ndcg@10", std::move(head)},
          {"items:tail/ndcg@10", std::move(tail)}}}});
    return r;
  };
  const auto seg = [&](double cold, double q2, double q3, double q4, double head, double tail) {
    return json{{"users:cold", {{"n", 2}, {"ndcg@10", block(cold, 2)}}},
                {"users:q1", {{"n", 2}, {"ndcg@10", block(cold, 2)}}},
                {"users:q2", {{"n", 1}, {"ndcg@10", block(q2, 1)}}},
                {"users:q3", {{"n", 2}, {"ndcg@10", block(q3, 2)}}},
                {"users:q4", {{"n", 1}, {"ndcg@10", block(q4, 1)}}},
                {"items:head", {{"n", 3}, {"ndcg@10", block(head, 3)}}},
                {"items:tail", {{"n", 4}, {"ndcg@10", block(tail, 4)}}}};
  };
  return {record("single", 0, {0.2, 0.2, 0.3, 0.5, 0.3, 0.8},
                 {0.5, nullptr, nullptr, 0.5, nullptr, 0.8},
                 {0.1, 0.1, 0.3, nullptr, 0.3, nullptr}, seg(0.2, 0.3, 0.4, 0.8, 0.6, 0.2)),
          record("fused", 1, {0.5, 0.4, 0.3, 0.6, 0.2, 0.9},
                 {1.0, nullptr, nullptr, 0.6, nullptr, 0.9},
                 {0.0, 0.4, 0.3, nullptr, 0.2, nullptr}, seg(0.45, 0.3, 0.4, 0.9, 2.5 / 3, 0.225))};
}

}  // namespace recfuse::test
