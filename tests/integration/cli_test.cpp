// The recfuse command line as a user meets it: every --help documents what it
// lists, bad command lines exit 1 naming the flag or command, -q prints what
// its help says, a rerun resumes and says so, and `data info` counts the
// tiny fixtures right. (Scenario-level bad input: bad_input_test.cpp;
// compare's verdicts: compare_test.cpp.)
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

/// Two trials of well under a second on synthetic data.
const char* kTiny = R"(name = "tiny"
seeds = [1]
threads = 1
[evaluation]
bootstrap = 0
[dataset]
format = "synthetic"
[dataset.synthetic]
users = 60
items = 40
[[algorithms]]
plugin = "popularity"
[[algorithms]]
plugin = "random"
)";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("cli: every --help documents each option it lists") {
  for (const std::string cmd : {"run", "plugins", "data info", "compare", "trial"}) {
    INFO(cmd);
    const auto r = run_recfuse(cmd + " --help");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("usage: recfuse " + cmd.substr(0, cmd.find(' '))));
    // Positional arguments are no options to list (data's --sub and --path,
    // compare's --baseline and --candidate were listed without a word), and a
    // default reads as typed (--alpha printed 0.050000000000000003).
    CHECK_THAT(r.output, !Contains("000000"));
    // Every option line has a description in the column where --help's starts.
    const auto help_at = r.output.find("show this help");
    REQUIRE(help_at != std::string::npos);
    const auto column = help_at - (r.output.rfind('\n', help_at) + 1);
    int options = 0;
    for (const std::string& line : lines_of(r.output)) {
      if (line.rfind("  -", 0) != 0) continue;
      ++options;
      INFO(line);
      CHECK(line.size() > column);
      if (line.size() <= column) continue;
      CHECK(line[column - 1] == ' ');
      CHECK(line[column] != ' ');
    }
    CHECK(options >= 2);
  }
}

TEST_CASE("cli: the top-level help documents --version and where the cache goes") {
  auto r = run_recfuse("--help");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("--version"));
  // cache_dir(): RECFUSE_CACHE, else $XDG_CACHE_HOME/recfuse, else ~/.cache/recfuse.
  CHECK_THAT(r.output, Contains("$XDG_CACHE_HOME/recfuse"));
  r = run_recfuse("--version");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::StartsWith("recfuse "));
}

TEST_CASE("cli: sweep without recfuse-mpi next to the binary exits 1 and says what to do instead") {
  // `recfuse sweep` becomes the recfuse-mpi beside it (tests/integration/
  // mpi_sweep.sh runs it under mpirun); a binary alone in its folder has none.
  const auto dir = temp_dir("cli-sweep-alone");
  const auto alone = dir / "recfuse";
  std::filesystem::copy_file(recfuse_binary(), alone);
  const auto s = write_text(dir, "s.toml", kTiny);
  const auto r = run_shell(alone.string() + " sweep " + s.string() + " -o " + (dir / "out").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains((dir / "recfuse-mpi").string() + " not found") && Contains("OpenMPI") &&
                           Contains("--shard i/N"));
  CHECK(!std::filesystem::exists(dir / "out"));
  // Its help still says what it is (and what it lacks), exit 0.
  const auto help = run_shell(alone.string() + " sweep --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Contains("usage: mpirun -n N recfuse sweep [SCENARIO]") && Contains("recfuse run --help") &&
                              Contains("recfuse-mpi not found"));
}

TEST_CASE("cli: bad command lines exit 1 and name the command or flag") {
  const auto dir = temp_dir("cli-bad");
  const auto s = write_text(dir, "s.toml", kTiny);
  const std::string run = "run " + shell_quote(s) + " -o " + shell_quote(dir / "out") + " -q ";
  const std::map<std::string, std::string> cases = {
      {"frobnicate", "recfuse: unknown command 'frobnicate'"},
      {run + "--frobnicate", "recfuse run: unrecognised option '--frobnicate'"},
      {run + "--jobs 0", "recfuse run: --jobs must be at least 1"},
      {run + "--jobs many", "'--jobs' is invalid"},
      {run + "--threads=-2", "recfuse run: --threads must be >= 0"},
      {run + "--shard 4/4", "--shard 4/4: expected i/N with 0 <= i < N"},
      // A negative or non-finite limit was taken for "no --time-limit" (the
      // scenario's, or none) and the run went on.
      {run + "--time-limit=-5", "recfuse run: --time-limit must be a finite number >= 0"},
      {run + "--time-limit nan", "recfuse run: --time-limit must be a finite number >= 0"},
      {run + "--time-limit inf", "recfuse run: --time-limit must be a finite number >= 0"},
      {"run " + shell_quote(dir / "nowhere.toml"), "nowhere.toml"},
      {"plugins --frobnicate", "recfuse plugins: unrecognised option '--frobnicate'"},
      // A misspelt plugin directory was searched silently (its plugins then
      // "unknown"); --no-cache silently won over --cache-dir.
      {run + "--plugin-path " + shell_quote(dir / "nowhere"), "recfuse run: --plugin-path " + (dir / "nowhere").string() + ": no such directory"},
      {run + "--plugin-path " + shell_quote(dir.string() + ":" + (dir / "nowhere").string()),
       "--plugin-path " + (dir / "nowhere").string() + ": no such directory"},
      {"plugins --plugin-path " + shell_quote(dir / "nowhere"), "recfuse plugins: --plugin-path " + (dir / "nowhere").string() + ": no such directory"},
      {run + "--no-cache --cache-dir " + shell_quote(dir / "c"), "recfuse run: give --cache-dir or --no-cache, not both"},
      // Usage alone did not say what was wrong.
      {"data", "recfuse data: missing subcommand (known: info)"},
      {"data infos " + shell_quote(dir), "recfuse data: unknown subcommand 'infos' (known: info)"},
      {"data info", "recfuse data info: missing PATH"},
      {"compare " + shell_quote(dir), "recfuse compare: missing CANDIDATE"},
      {"compare", "recfuse compare: missing BASELINE and CANDIDATE"},
      // ": cannot read scenario file", naming neither.
      {"trial --index 0 --record " + shell_quote(dir / "r.json"),
       "recfuse trial: give --scenario FILE or --default"},
      {"trial --default --scenario " + shell_quote(s) + " --index 0 --record " + shell_quote(dir / "r.json"),
       "recfuse trial: give --scenario FILE or --default"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args);
    const auto r = run_recfuse(args);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Contains(message));
    CHECK_THAT(r.output, !Contains("internal error:"));
  }
  CHECK_FALSE(fs::exists(dir / "out"));
  CHECK_FALSE(fs::exists(dir / "r.json"));
  // --time-limit 0 is "none", as documented.
  const auto r = run_recfuse(run + "--time-limit 0");
  CHECK(r.exit_code == 0);
  // A file where the output directory or its trials/ must go: named, exit 1,
  // before the run announces itself (trials/ in the way was exit 3).
  for (const std::string in_the_way : {"", "trials"}) {
    INFO("file at out/" << in_the_way);
    const auto out = dir / ("blocked-" + (in_the_way.empty() ? std::string("out") : in_the_way));
    const auto file = in_the_way.empty() ? out : out / in_the_way;
    if (!in_the_way.empty()) fs::create_directories(out);
    write_text(file.parent_path(), file.filename().string(), "in the way\n");
    const auto blocked = run_recfuse("run " + shell_quote(s) + " -o " + shell_quote(out));
    INFO(blocked.output);
    CHECK(blocked.exit_code == 1);
    CHECK_THAT(blocked.output, Contains("recfuse run: output directory " + file.string() + ": "));
    CHECK_THAT(blocked.output, !Contains("recfuse: scenario 'tiny'") && !Contains("internal error"));
  }
}

TEST_CASE("cli: plugins says so when it finds no plugin library") {
  // A copy of the binary away from the build tree has no plugins beside it;
  // `recfuse plugins` exited 1 with only the search path printed.
  const auto dir = temp_dir("cli-noplugins");
  fs::create_directories(dir / "bin");
  fs::copy_file(recfuse_binary(), dir / "bin" / "recfuse");
  auto r = run_shell("env -u RECFUSE_PLUGIN_PATH " + shell_quote(dir / "bin" / "recfuse") + " plugins");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("recfuse plugins: no plugin library found on the search path "
                                "(add a directory with --plugin-path or RECFUSE_PLUGIN_PATH)"));
  r = run_shell("env -u RECFUSE_PLUGIN_PATH " + shell_quote(dir / "bin" / "recfuse") + " plugins --plugin-path " +
                shell_quote(plugin_dir()));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("popularity"));
  // A RECFUSE_PLUGIN_PATH entry that is gone is skipped, as PATH's are, and the listing says so.
  r = run_shell("RECFUSE_PLUGIN_PATH=" + shell_quote(dir / "gone") + " " + shell_quote(dir / "bin" / "recfuse") +
                " plugins --plugin-path " + shell_quote(plugin_dir()));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("  " + (dir / "gone").string() + "  (no such directory)\n") &&
                           Contains("  " + plugin_dir().string() + "\n"));
}

TEST_CASE("cli: -q prints what its help says and a rerun resumes and says so") {
  const auto dir = temp_dir("cli-quiet");
  const auto s = write_text(dir, "s.toml", kTiny);
  const fs::path out = dir / "out";
  auto r = run_recfuse("run " + shell_quote(s) + " -o " + shell_quote(out) + " -q");
  REQUIRE(r.exit_code == 0);
  const auto quiet = lines_of(r.output);
  REQUIRE(quiet.size() == 2);
  CHECK_THAT(quiet[0], Catch::StartsWith("recfuse: 2 trials (0 failed, 0 resumed) in "));
  CHECK(quiet[1] == "report: " + (out / "report.md").string());
  // The help said "print only the report location".
  CHECK_THAT(run_recfuse("run --help").output, Contains("print only the summary line and the report location"));

  std::map<fs::path, std::string> before;
  for (const auto& e : fs::directory_iterator(out / "trials")) before[e.path()] = read_text(e.path());
  REQUIRE(before.size() == 2);
  r = run_recfuse("run " + shell_quote(s) + " -o " + shell_quote(out));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("resuming: 2 of 2 trials already have records in " +
                                (out / "trials").string()));
  CHECK_THAT(r.output, Contains("(0 failed, 2 resumed)"));
  for (const auto& [file, bytes] : before) CHECK(read_text(file) == bytes);
  CHECK(read_report(out).at("trials").size() == 2);
}

TEST_CASE("cli: data info counts the fixtures as they are") {
  struct Expected {
    const char* path;
    const char* format;
    const char* users;
    const char* items;
    const char* interactions;
  };
  // Counted by hand from tests/fixtures/data: ml100k-mini rates 4 of its 5
  // u.item movies; implicit-mini's user 5 has no interaction; seq.txt repeats
  // item 5 for user 1.
  for (const Expected& e : {Expected{"ml100k-mini", "ml-100k", "4", "4", "9"},
                            Expected{"ml-1m-mini", "ml-1m", "2", "2", "3"},
                            Expected{"ml-latest-mini", "ml-latest-small", "2", "3", "4"},
                            Expected{"implicit-mini", "implicit-train-test", "4", "4", "9"},
                            Expected{"rb", "recbole", "2", "2", "3"},
                            Expected{"seq.txt", "sequence", "3", "4", "7"},
                            Expected{"pairs.txt", "sequence-pairs", "3", "4", "6"}}) {
    INFO(e.path);
    const auto r = run_recfuse("data info " + shell_quote(fixture("data") / e.path));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto f = info_fields(r.output);
    CHECK(f["format:"] == e.format);
    CHECK(f["users"] == e.users);
    CHECK(f["items"] == e.items);
    CHECK(f["interactions"] == e.interactions);
  }
  const auto ml = run_recfuse("data info " + shell_quote(fixture("data/ml100k-mini"))).output;
  CHECK(info_fields(ml)["ratings"] == "mean 3.444");  // 31 / 9
  CHECK_THAT(ml, Contains("per user      min 2, median 2.0, mean 2.25, max 3"));
  CHECK_THAT(run_recfuse("data info " + shell_quote(fixture("data/implicit-mini"))).output,
             Contains("source parts  train 6, test 3"));

  const auto missing = run_recfuse("data info " + shell_quote(fixture("data") / "no-such-set"));
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Contains("no-such-set: dataset not found"));
}

TEST_CASE("cli: data info --header reads a delimited file whose first line names the columns") {
  const auto dir = temp_dir("cli-header");
  std::string pairs = "user,item\n";
  for (int u = 1; u <= 5; ++u)
    for (int i = 1; i <= 4; ++i) pairs += std::to_string(u) + "," + std::to_string(i) + "\n";
  write_text(dir, "pairs.csv", pairs);
  // Without a way to say so, the names were a sixth user and a fifth item.
  auto r = run_recfuse("data info " + shell_quote(dir / "pairs.csv") + " --header");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto f = info_fields(r.output);
  CHECK(f["users"] == "5");
  CHECK(f["items"] == "4");
  CHECK(f["interactions"] == "20");
  CHECK(f["skipped"] == "rows  0");
  // The fixture's header names four columns; a quoted comma stays in its field.
  r = run_recfuse("data info " + shell_quote(fixture("data/delimited.csv")) + " --header");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  f = info_fields(r.output);
  CHECK(f["users"] == "2");
  CHECK(f["items"] == "2");
  CHECK(f["interactions"] == "3");
  CHECK(f["skipped"] == "rows  0");
  CHECK(f["ratings"] == "mean 4.000");
  CHECK_THAT(run_recfuse("data info --help").output, Contains("--header"));
  // A bad row names data info's own flag, not only the scenario key.
  write_text(dir, "bad.csv", "1,1,4.0\n1,2,oops\n2,1,3.0\n");
  r = run_recfuse("data info " + shell_quote(dir / "bad.csv"));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("bad.csv:2:") && Contains("--skip-bad-rows"));
  r = run_recfuse("data info " + shell_quote(dir / "bad.csv") + " --skip-bad-rows");
  CHECK(r.exit_code == 0);
  CHECK(info_fields(r.output)["skipped"] == "rows  1");
  // Tab-separated ratings (u.data's layout) were read as a sequence file: one
  // user per line followed by "items" that were the item, rating and time.
  write_text(dir, "ratings.tsv", "1\t10\t4\t881250949\n1\t11\t3\t881250950\n2\t10\t5\t881250951\n");
  r = run_recfuse("data info " + shell_quote(dir / "ratings.tsv"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  f = info_fields(r.output);
  CHECK_THAT(r.output, Contains("format: delimited"));
  CHECK(f["users"] == "2");
  CHECK(f["items"] == "2");
  CHECK(f["interactions"] == "3");
  CHECK(f["ratings"] == "mean 4.000");
}
