// Records name the test set they were scored on (dataset.test_sha256), and
// the report pools seeds of one test set (reports/summary.cpp): a
// deterministic algorithm over three seeds of a fixed split gets the users'
// interval, not a zero-width one; seeds of a seed-dependent split stay
// separate test sets.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;

namespace {

std::string scenario(const std::string& split) {
  return R"(name = "pooling"
seeds = [1, 2, 3]
threads = 1
[dataset]
format = "synthetic"
[dataset.synthetic]
users = 120
items = 80
interactions_per_user = 15
seed = 4
[split]
)" + split + R"(
[evaluation]
cutoffs = [10]
bootstrap = 200
[[algorithms]]
plugin = "popularity"
)";
}

json run(const std::string& tag, const std::string& split) {
  const auto dir = temp_dir(tag);
  const auto file = write_text(dir, "s.toml", scenario(split));
  const auto r = run_recfuse("run " + file.string() + " --output " + (dir / "out").string() +
                             " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return read_report(dir / "out");
}

std::set<std::string> test_sets(const json& report) {
  std::set<std::string> s;
  for (const auto& t : report.at("trials")) s.insert(t.at("dataset").at("test_sha256").get<std::string>());
  return s;
}

}  // namespace

TEST_CASE("seeds of a fixed split share a test set and keep the users' interval", "[integration]") {
  const json report = run("pool_loo", R"(method = "leave_last_one_out")");
  REQUIRE(report.at("trials").size() == 3);
  CHECK(test_sets(report).size() == 1);
  const json& row = report.at("summary").at(0).at("metrics").at("ndcg@10");
  CHECK(row.at("ci") == "t+bootstrap");
  CHECK(row.at("sd").get<double>() == 0.0);  // popularity ignores the seed
  // The interval is the trials' own bootstrap intervals (same users, same
  // scores; the resamples follow the seed): half-width sqrt(mean half_i^2),
  // not [mean, mean].
  double sq = 0;
  for (const auto& t : report.at("trials")) {
    const json& own = t.at("metrics").at("ndcg@10");
    const double half = (own.at("high").get<double>() - own.at("low").get<double>()) / 2;
    sq += half * half / 3;
  }
  CHECK((row.at("high").get<double>() - row.at("low").get<double>()) / 2 ==
        Approx(std::sqrt(sq)).epsilon(1e-9));
  CHECK(row.at("high").get<double>() > row.at("low").get<double>());
}

TEST_CASE("seeds of a seed-dependent split are separate test sets", "[integration]") {
  const json report = run("pool_random", "method = \"random\"\ntest_ratio = 0.2");
  REQUIRE(report.at("trials").size() == 3);
  CHECK(test_sets(report).size() == 3);
  const json& row = report.at("summary").at(0).at("metrics").at("ndcg@10");
  CHECK(row.at("ci") == "t");
  CHECK(row.at("test_sets") == 3);
}
