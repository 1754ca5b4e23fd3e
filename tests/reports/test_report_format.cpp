// The number and field formatting every writer goes through.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "reports/format.hpp"

namespace rf = recfuse::report_format;

TEST_CASE("fixed precision without locale and without negative zero", "[reports][format]") {
  CHECK(rf::fixed(0.04123, 4) == "0.0412");
  CHECK(rf::fixed(1234567.891, 2) == "1234567.89");  // no digit grouping
  CHECK(rf::fixed(-0.00001, 4) == "0.0000");
  CHECK(rf::fixed(-0.5, 1) == "-0.5");
  CHECK(rf::fixed(NAN, 3) == "n/a");
  CHECK(rf::fixed(INFINITY, 3) == "n/a");
  CHECK(rf::fixed(1e80, 2).find('e') != std::string::npos);  // too wide for fixed: scientific
}

TEST_CASE("shortest round-trips and CI cells", "[reports][format]") {
  CHECK(rf::shortest(0.1) == "0.1");
  CHECK(rf::shortest(3221225472.0) == "3221225472");
  CHECK(rf::shortest(NAN).empty());
  CHECK(rf::mean_ci(0.0412, 0.0351, 0.047, 4) == "0.0412 [0.0351, 0.0470]");
  CHECK(rf::mean_ci(0.0412, NAN, 0.047, 4) == "0.0412");
}

TEST_CASE("p-values and significance markers", "[reports][format]") {
  CHECK(rf::p_value(0.00001) == "<0.0001");
  CHECK(rf::p_value(0.04999) == "0.0500");
  CHECK(rf::significance(0.0009) == "***");
  CHECK(rf::significance(0.009) == "**");
  CHECK(rf::significance(0.049) == "*");
  CHECK(rf::significance(0.05) == "ns");
  CHECK(rf::significance(NAN).empty());
}

TEST_CASE("markdown cells and RFC 4180 fields are escaped", "[reports][format]") {
  CHECK(rf::md_cell("a|b\nc") == "a\\|b c");
  CHECK(rf::csv_field("plain") == "plain");
  CHECK(rf::csv_field("a,b") == "\"a,b\"");
  CHECK(rf::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(rf::csv_field("two\nlines") == "\"two\nlines\"");
}

TEST_CASE("metrics sort headline families first, by cutoff", "[reports][format]") {
  std::vector<std::string> names = {"rmse", "coverage@10", "recall@10", "ndcg@10", "ndcg@5",
                                    "zeta"};
  std::sort(names.begin(), names.end(), rf::metric_display_less);
  CHECK(names == std::vector<std::string>{"ndcg@5", "ndcg@10", "recall@10", "rmse",
                                          "coverage@10", "zeta"});
  CHECK(rf::lower_is_better("rmse"));
  CHECK_FALSE(rf::lower_is_better("ndcg@10"));
}

TEST_CASE("number and text read absent or null fields safely", "[reports][format]") {
  nlohmann::json j = {{"a", 1.5}, {"b", nullptr}, {"c", "x"}, {"d", 7}};
  CHECK(rf::number(j, "a") == 1.5);
  CHECK(std::isnan(rf::number(j, "b")));
  CHECK(std::isnan(rf::number(j, "c")));
  CHECK(std::isnan(rf::number(j, "zz")));
  CHECK(std::isnan(rf::number(nlohmann::json(3), "a")));
  CHECK(rf::text(j, "d") == "7");
  CHECK(rf::text(j, "b").empty());
  CHECK(rf::text(j, "c") == "x");
}
