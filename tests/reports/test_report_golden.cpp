// Golden-output tests of report.md and report.csv. The context paragraph is
// masked (it holds the machine, commit and date); every other number comes
// from the fixture records, so it is compared exactly.
// RECFUSE_UPDATE_GOLDEN=1 rewrites the golden files (then review the diff).
#include <catch2/catch.hpp>

#include <clocale>
#include <cstdlib>
#include <locale>
#include <regex>
#include <sstream>

#include "report_fixture.hpp"
#include "reports/context.hpp"
#include "reports/report.hpp"

using nlohmann::json;

namespace {

std::string mask_context(const std::string& markdown) {
  static const std::regex context_line("^Commit `[^\\n]*$", std::regex::multiline);
  return std::regex_replace(markdown, context_line, "Commit <context>");
}

using recfuse::test::markdown_of;

std::string csv_of(const json& report) {
  std::ostringstream out;
  recfuse::write_csv(out, report);
  return out.str();
}

std::string json_of(const json& report) {
  std::ostringstream out;
  recfuse::write_json(out, report);
  return out.str();
}

void check_golden(const std::string& actual, const std::string& name) {
  auto path = recfuse::test::fixture("reports/" + name);
  if (const char* update = std::getenv("RECFUSE_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
    WARN("rewrote " << path.string());
  }
  REQUIRE(std::filesystem::exists(path));
  CHECK(actual == recfuse::test::read_file(path));
}

json fixture_report() {
  return recfuse::build_report(recfuse::test::fixture_context(),
                               recfuse::test::fixture_records());
}

// Digits grouped with '.', decimals with ',': what a German locale does to
// every stream and printf. No writer may be affected by it.
struct CommaDecimal : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
  char do_thousands_sep() const override { return '.'; }
  std::string do_grouping() const override { return "\3"; }
};

}  // namespace

TEST_CASE("markdown matches the golden file", "[reports][golden]") {
  check_golden(mask_context(markdown_of(fixture_report())), "expected.md");
}

TEST_CASE("csv matches the golden file", "[reports][golden]") {
  check_golden(csv_of(fixture_report()), "expected.csv");
}

TEST_CASE("markdown of per-fold runs matches the golden file", "[reports][golden]") {
  json report = recfuse::build_report(recfuse::test::fixture_context(),
                                      recfuse::test::fold_records());
  check_golden(mask_context(markdown_of(report)), "expected_folds.md");
}

TEST_CASE("segment tables match the golden files", "[reports][golden][segments]") {
  json report = recfuse::build_report(recfuse::test::fixture_context(),
                                      recfuse::test::segment_records());
  const std::string md = mask_context(markdown_of(report));
  check_golden(md, "expected_segments.md");
  check_golden(csv_of(report), "expected_segments.csv");
  // The segment sections come from the JSON alone, like everything else.
  CHECK(mask_context(markdown_of(json::parse(json_of(report)))) == md);
}

TEST_CASE("markdown context paragraph names commit, hardware and hashes", "[reports][golden]") {
  const std::string md = markdown_of(fixture_report());
  CHECK(md.rfind("# recfuse report: tiny\n", 0) == 0);
  CHECK(md.find("Commit `0123456789ab` (Release; GNU 12.2.0) on Example CPU @ 3.00GHz "
                "(16 logical cores), 2 threads. Dataset tiny-10 (sha256 `fedcba987654`), "
                "scenario `scenarios/tiny.toml` (sha256 `abcdef012345`), seeds 1, 2. "
                "Generated 2026-11-28T20:40:00Z on bench-01.\n") != std::string::npos);
}

TEST_CASE("markdown gives the scenario's description under the title, as one paragraph", "[reports][golden]") {
  json report = fixture_report();
  CHECK(markdown_of(report).find("\n\nCommit `") == std::string("# recfuse report: tiny").size());  // none: no line
  report["context"]["scenario"]["description"] = "bandits | RL\nin calibrated";
  CHECK(markdown_of(report).rfind("# recfuse report: tiny\n\nbandits \\| RL in calibrated\n\nCommit `", 0) == 0);
}

TEST_CASE("a live context changes only the masked paragraph", "[reports][golden]") {
  recfuse::ContextInputs inputs;
  inputs.scenario_name = "tiny";
  json live = recfuse::build_report(recfuse::collect_context(inputs),
                                    recfuse::test::fixture_records());
  CHECK(mask_context(markdown_of(live)) == mask_context(markdown_of(fixture_report())));
}

TEST_CASE("writers do not depend on the global locale", "[reports][locale]") {
  const json report = fixture_report();
  const std::string md = markdown_of(report), csv = csv_of(report), js = json_of(report),
                    html = recfuse::test::html_of(report);
  // Ensure the fixture has something a locale could break.
  REQUIRE(md.find("17000") != std::string::npos);
  REQUIRE(md.find("0.3200 [") != std::string::npos);

  const std::locale saved_cpp = std::locale();
  SECTION("C++ global locale with comma decimals and digit grouping") {
    std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
    std::string md2 = markdown_of(report), csv2 = csv_of(report), js2 = json_of(report),
                html2 = recfuse::test::html_of(report);
    std::locale::global(saved_cpp);
    CHECK(md2 == md);
    CHECK(csv2 == csv);
    CHECK(js2 == js);
    CHECK(html2 == html);
  }
  SECTION("C LC_NUMERIC of a comma-decimal locale") {
    const std::string saved_c = std::setlocale(LC_NUMERIC, nullptr);
    const char* found = nullptr;
    for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE",
                             "ru_RU.UTF-8", "nl_NL.UTF-8"}) {
      if (std::setlocale(LC_NUMERIC, name)) {
        found = name;
        break;
      }
    }
    if (!found) {
      WARN("no comma-decimal C locale installed; LC_NUMERIC check skipped "
           "(the C++ locale section still runs)");
      return;
    }
    std::string md2 = markdown_of(report), csv2 = csv_of(report), js2 = json_of(report),
                html2 = recfuse::test::html_of(report);
    std::setlocale(LC_NUMERIC, saved_c.c_str());
    CHECK(md2 == md);
    CHECK(csv2 == csv);
    CHECK(js2 == js);
    CHECK(html2 == html);
  }
}

TEST_CASE("write_report_files writes all four atomically, derived from the JSON",
          "[reports][files]") {
  const json report = fixture_report();
  auto dir = recfuse::test::temp_dir("reports") / "nested" / "out";
  recfuse::ReportFiles files = recfuse::write_report_files(dir, report);
  CHECK(files.json == dir / "report.json");
  CHECK(files.markdown == dir / "report.md");
  CHECK(files.csv == dir / "report.csv");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  CHECK(entries == 4);  // json, md, csv, html; no temporary left behind
  // Markdown and CSV regenerated from the written JSON are identical: the
  // JSON is canonical and holds everything the other formats show.
  json back = json::parse(recfuse::test::read_file(files.json));
  CHECK(recfuse::test::read_file(files.markdown) == markdown_of(back));
  CHECK(recfuse::test::read_file(files.csv) == csv_of(back));
  CHECK(recfuse::test::read_file(files.json) == json_of(back));
  // Writing again replaces the files.
  REQUIRE_NOTHROW(recfuse::write_report_files(dir, report));
}

TEST_CASE("write_report_files names the path it cannot write", "[reports][files]") {
  auto dir = recfuse::test::temp_dir("reports-bad");
  auto blocker = dir / "file";
  std::ofstream(blocker) << "x";
  try {
    recfuse::write_report_files(blocker / "sub", fixture_report());
    FAIL("expected recfuse::Error");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find((blocker / "sub").string()) != std::string::npos);
  }
}
