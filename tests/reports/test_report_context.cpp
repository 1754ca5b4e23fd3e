// The context block: parsers of /proc text, the date format, and the live
// block's keys.
#include <catch2/catch.hpp>

#include <regex>

#include "recfuse_build_info.hpp"
#include "reports/context.hpp"

TEST_CASE("cpu model and memory are parsed from /proc text", "[reports][context]") {
  const char* cpuinfo =
      "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ "
      "2.20GHz\r\n\nprocessor\t: 1\nmodel name\t: other\n";
  CHECK(recfuse::parse_cpu_model(cpuinfo) == "Intel(R) Xeon(R) CPU @ 2.20GHz");
  CHECK(recfuse::parse_cpu_model("processor : 0\n").empty());
  CHECK(recfuse::parse_mem_total_bytes("MemTotal:       16318480 kB\nMemFree: 1 kB\n") ==
        16318480LL * 1024);
  CHECK(recfuse::parse_mem_total_bytes("MemFree: 1 kB\n") == -1);
  CHECK(recfuse::parse_mem_total_bytes("MemTotal: lots\n") == -1);
}

TEST_CASE("dates are UTC ISO-8601", "[reports][context]") {
  CHECK(recfuse::utc_iso8601(0) == "1970-01-01T00:00:00Z");
  CHECK(recfuse::utc_iso8601(1795898400) == "2026-11-28T20:40:00Z");
}

TEST_CASE("collect_context carries inputs, build and host facts", "[reports][context]") {
  recfuse::ContextInputs in;
  in.scenario_file = "scenarios/a.toml";
  in.scenario_name = "a";
  in.scenario_sha256 = "ab12";
  in.dataset_name = "ml-100k";
  in.dataset_sha256 = "cd34";
  in.seeds = {1, 2, 3};
  in.threads = 4;
  in.command_line = "recfuse run scenarios/a.toml";
  in.plugins = {{"als", "1.0.0", "librecfuse_mf.so", "cc=GNU"}};
  nlohmann::json c = recfuse::collect_context(in);
  CHECK(c["recfuse_version"] == recfuse::build_info::kVersion);
  CHECK(c["git_commit"] == recfuse::build_info::kGitCommit);
  CHECK(c["build_type"] == recfuse::build_info::kBuildType);
  CHECK(c["compiler"] == recfuse::build_info::kCxxCompiler);
  CHECK(c["scenario"]["sha256"] == "ab12");
  CHECK(c["dataset"]["name"] == "ml-100k");
  CHECK(c["seeds"] == nlohmann::json({1, 2, 3}));
  CHECK(c["threads"] == 4);
  CHECK(c["plugins"][0]["fingerprint"] == "cc=GNU");
  CHECK(c["logical_cores"].get<unsigned>() >= 1);
  CHECK(!c["cpu_model"].get<std::string>().empty());
  CHECK(std::regex_match(c["date"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(c["libraries"]["eigen"].get<std::string>().rfind("3.", 0) == 0);
  CHECK(c["libraries"]["boost"].get<std::string>().find('.') != std::string::npos);
  CHECK(c["libraries"]["tomlplusplus"].get<std::string>().rfind("3.", 0) == 0);
  CHECK(c["libraries"]["openmp"].is_string());  // built with OpenMP
  CHECK(c["os"].get<std::string>().find("Linux") != std::string::npos);
  CHECK_FALSE(c["scenario"].contains("description"));  // none given: no key
  in.scenario_description = "bandits in <calibrated>";
  CHECK(recfuse::collect_context(in)["scenario"]["description"] == "bandits in <calibrated>");
}
