// The runner's promises: each trial in its own process, so a crash, an
// exception or a runaway plugin becomes a record and the run goes on; a time
// limit is enforced; a rerun resumes from the records already written.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;

namespace {

std::string scenario_with(const std::string& algorithms) {
  return "name = \"runner\"\nseeds = [1]\nthreads = 1\n"
         "[dataset]\nformat = \"synthetic\"\n"
         "[dataset.synthetic]\nusers = 60\nitems = 50\ninteractions_per_user = 10\n"
         "[split]\nmethod = \"leave_last_one_out\"\n"
         "[evaluation]\ncutoffs = [5]\nbootstrap = 100\n" +
         algorithms;
}

std::string algorithm(const std::string& name, const std::string& plugin,
                      const std::string& params = "") {
  std::string s = "[[algorithms]]\nname = \"" + name + "\"\nplugin = \"" + plugin + "\"\n";
  if (!params.empty()) s += "[algorithms.params]\n" + params + "\n";
  return s;
}

const json& trial_named(const json& report, const std::string& algorithm) {
  for (const auto& t : report.at("trials"))
    if (t.at("algorithm") == algorithm) return t;
  FAIL("no trial for " << algorithm);
  static json none;
  return none;
}

std::string plugin_args() { return " --plugin-path " + bad_plugin_dir().string() + " --no-cache"; }

/// Runs a three-trial scenario (popularity, test_good, random) into
/// dir/out and returns the paths of its three records, sorted.
std::vector<std::filesystem::path> run_three(const std::filesystem::path& dir) {
  const auto s = write_text(dir, "s.toml",
                            scenario_with(algorithm("popularity", "popularity") +
                                          algorithm("good", "test_good") +
                                          algorithm("random", "random")));
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "out").string() + plugin_args());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<std::filesystem::path> records;
  for (const auto& e : std::filesystem::directory_iterator(dir / "out" / "trials"))
    if (e.is_regular_file()) records.push_back(e.path());
  std::sort(records.begin(), records.end());
  REQUIRE(records.size() == 3);
  return records;
}

}  // namespace

TEST_CASE("crashing and throwing plugins become failed records, the run goes on") {
  const auto dir = temp_dir("crash");
  const auto s = write_text(dir, "s.toml",
                            scenario_with(algorithm("segfault", "test_segfault") +
                                          algorithm("throws", "test_throws") +
                                          algorithm("popularity", "popularity") +
                                          algorithm("good", "test_good")));
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "out").string() +
                             plugin_args());
  INFO(r.output);
  CHECK(r.exit_code == 2);  // report written, some trials failed
  const json report = read_report(dir / "out");
  REQUIRE(report.at("trials").size() == 4);
  const json& seg = trial_named(report, "segfault");
  CHECK(seg.at("status") == "crashed");
  CHECK_THAT(seg.at("error").get<std::string>(), Catch::Contains("signal 11"));
  const json& thr = trial_named(report, "throws");
  CHECK(thr.at("status") == "failed");
  CHECK_THAT(thr.at("error").get<std::string>(), Catch::Contains("boom in fit"));
  CHECK(trial_named(report, "popularity").at("status") == "ok");
  CHECK(trial_named(report, "good").at("status") == "ok");
  const std::string md = read_text(dir / "out" / "report.md");
  CHECK_THAT(md, Catch::Contains("boom in fit"));
  // The record the sweep wrote for the crashed trial carries this build's
  // provenance, so a rerun keeps it (--retry-failed would rerun it).
  CHECK(seg.contains("provenance"));
  const auto again = run_recfuse("run " + s.string() + " --output " + (dir / "out").string() +
                                 plugin_args());
  INFO(again.output);
  CHECK_THAT(again.output, Catch::Contains("resuming: 4 of 4"));
  CHECK_THAT(again.output, !Catch::Contains("superseded"));
}

TEST_CASE("a trial over its time limit is killed and recorded as a timeout") {
  const auto dir = temp_dir("timeout");
  const auto s = write_text(dir, "s.toml",
                            scenario_with(algorithm("slow", "test_slow", "seconds = 120.0") +
                                          algorithm("popularity", "popularity")));
  const auto r = run_recfuse("run " + s.string() + " --output " + (dir / "out").string() +
                             " --time-limit 10 --jobs 2" + plugin_args());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  const json report = read_report(dir / "out");
  CHECK(trial_named(report, "slow").at("status") == "timeout");
  CHECK(trial_named(report, "popularity").at("status") == "ok");
}

TEST_CASE("a rerun resumes: trials with a record are not run again") {
  const auto dir = temp_dir("resume");
  const std::vector<std::filesystem::path> records = run_three(dir);
  const auto s = dir / "s.toml";
  const auto out = dir / "out";
  // Simulate a run killed after two trials: one record is missing.
  const std::string kept = read_text(records[0]);
  std::filesystem::remove(records[1]);
  auto r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("resuming: 2 of 3"));
  CHECK(std::filesystem::exists(records[1]));
  CHECK(read_text(records[0]) == kept);  // untouched, not rerun
  CHECK(read_report(out).at("trials").size() == 3);
}

TEST_CASE("a rerun reuses only records of this build: others run again and move to trials/superseded") {
  const auto dir = temp_dir("provenance");
  const std::vector<std::filesystem::path> records = run_three(dir);
  const auto s = dir / "s.toml";
  const auto out = dir / "out";
  json own = json::parse(read_text(records[0]));
  REQUIRE(own.contains("provenance"));
  const json expected = own.at("provenance");
  CHECK(!expected.at("recfuse").get<std::string>().empty());
  CHECK(expected.at("plugins").size() == 1);  // the trial's one library
  // Record 0: written by another version of its plugin; record 1: from
  // before records carried a provenance; record 2: this build's.
  json other = own;
  other["provenance"]["plugins"].begin().value() = "0.0.1 another build";
  other["metrics"] = json::object();  // a result the report must not show
  write_text(records[0].parent_path(), records[0].filename().string(), other.dump(1));
  json legacy = json::parse(read_text(records[1]));
  legacy.erase("provenance");
  write_text(records[1].parent_path(), records[1].filename().string(), legacy.dump(1));
  const std::string kept = read_text(records[2]);

  auto r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("superseded: 2 record(s)"));
  CHECK_THAT(r.output, Catch::Contains("came from another build"));
  CHECK_THAT(r.output, Catch::Contains("resuming: 1 of 3"));
  CHECK(read_text(records[2]) == kept);  // this build's record is not rerun
  // The old records are kept, unchanged, beside the new ones.
  const auto aside = out / "trials" / "superseded";
  CHECK(json::parse(read_text(aside / records[0].filename())) == other);
  CHECK(json::parse(read_text(aside / records[1].filename())) == legacy);
  for (int k = 0; k < 2; ++k) {
    const json fresh = json::parse(read_text(records[static_cast<std::size_t>(k)]));
    CHECK(fresh.at("status") == "ok");
    CHECK(fresh.at("provenance").at("recfuse") == expected.at("recfuse"));
  }
  CHECK(json::parse(read_text(records[0])).at("provenance") == expected);
  const json report = read_report(out);
  REQUIRE(report.at("trials").size() == 3);
  for (const auto& t : report.at("trials")) CHECK(!t.at("metrics").empty());
  CHECK(std::filesystem::exists(aside / records[0].filename().replace_extension(".log")));
  // A third run finds every record current.
  r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  CHECK_THAT(r.output, Catch::Contains("resuming: 3 of 3"));
  CHECK_THAT(r.output, !Catch::Contains("superseded"));
  // Superseded again: the earlier superseded record keeps its name.
  write_text(records[0].parent_path(), records[0].filename().string(), other.dump(1));
  r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  CHECK_THAT(r.output, Catch::Contains("superseded: 1 record(s)"));
  // The message names what differs: here the plugin libraries only.
  CHECK_THAT(r.output, Catch::Contains("(first: other plugin libraries: {"));
  const std::string id = records[0].stem().string();
  CHECK(json::parse(read_text(aside / (id + ".json"))) == other);
  CHECK(json::parse(read_text(aside / (id + ".1.json"))) == other);
  CHECK(std::filesystem::exists(aside / (id + ".1.log")));
  // A file that is not a readable record is set aside too, not deleted.
  write_text(records[1].parent_path(), records[1].filename().string(), "{ torn");
  r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  CHECK_THAT(r.output, Catch::Contains("cannot read as the record"));
  CHECK(read_text(aside / (records[1].stem().string() + ".1.json")) == "{ torn");
  CHECK(json::parse(read_text(records[1])).at("status") == "ok");
}

TEST_CASE("a plugin rebuilt during the run: the trial that loaded it fails and its record is set aside") {
  const auto dir = temp_dir("rebuilt");
  const auto plugins = dir / "plugins";
  std::filesystem::create_directories(plugins);
  for (const char* name : {"librecfuse_test_slow.so", "librecfuse_test_good.so"})
    std::filesystem::copy_file(bad_plugin_dir() / name, plugins / name);
  const auto go = dir / "go";
  const auto s = write_text(dir, "s.toml",
                            scenario_with(algorithm("slow", "test_slow",
                                                    "seconds = 0.0\nwait_for = \"" + go.string() + "\"") +
                                          algorithm("good", "test_good")));
  const auto out = dir / "out";
  const std::string args = "run " + s.string() + " --output " + out.string() + " --jobs 1 --plugin-path " +
                           plugins.string() + " --no-cache";
  CliResult r;
  std::thread sweep([&] { r = run_recfuse(args); });
  // The sweep stamps every trial with the libraries it expects before the
  // first one starts; while that one (slow, which waits for the file `go`)
  // runs, test_good's file changes by one byte, as a rebuild would change
  // it, so the second trial loads another library than its sweep hashed.
  const auto logs = out / "logs";
  const auto started = std::chrono::steady_clock::now();
  const auto first_log = [&] {
    std::error_code ec;
    return std::filesystem::is_directory(logs, ec) && !std::filesystem::is_empty(logs, ec);
  };
  while (!first_log() && std::chrono::steady_clock::now() - started < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::ofstream(plugins / "librecfuse_test_good.so", std::ios::app | std::ios::binary) << '\0';
  std::ofstream(go) << "go\n";
  sweep.join();
  INFO(r.output);
  CHECK(r.exit_code == 2);
  json report = read_report(out);
  CHECK(trial_named(report, "slow").at("status") == "ok");
  const json& good = trial_named(report, "good");
  CHECK(good.at("status") == "failed");
  CHECK_THAT(good.at("error").get<std::string>(), Catch::Contains("the trial ran another build"));
  // The failed record carries no provenance, so the next run retries it;
  // the child's own record is kept aside, with the hash it loaded.
  const std::string id = good.at("trial_id").get<std::string>();
  CHECK_FALSE(json::parse(read_text(out / "trials" / (id + ".json"))).contains("provenance"));
  const json aside = json::parse(read_text(out / "trials" / "superseded" / (id + ".json")));
  CHECK(aside.at("status") == "ok");
  CHECK(aside.at("provenance").at("plugins").contains("test_good"));
  // One build throughout: the slow trial is resumed, good runs again.
  r = run_recfuse(args);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("resuming: 1 of 2"));
  report = read_report(out);
  CHECK(trial_named(report, "good").at("status") == "ok");
}

TEST_CASE("a rerun reuses only records of the same data: an edited dataset or fold file reruns its trial") {
  const auto dir = temp_dir("data_provenance");
  const auto data = dir / "ml100k";
  std::filesystem::copy(fixture("data/ml100k-mini"), data);
  const auto s = write_text(dir, "s.toml",
                            "name = \"d\"\nseeds = [1]\nthreads = 1\n[dataset]\nformat = \"ml-100k\"\npath = \"" +
                                data.string() + "\"\n[split]\nmethod = \"fixed\"\nfold = [\"u1\"]\n"
                                "[evaluation]\ncutoffs = [5]\nbootstrap = 50\n" + algorithm("popularity", "popularity"));
  const std::string args = "run " + s.string() + " --output " + (dir / "out").string() + plugin_args();
  auto r = run_recfuse(args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<std::filesystem::path> records;
  for (const auto& e : std::filesystem::directory_iterator(dir / "out" / "trials"))
    if (e.is_regular_file()) records.push_back(e.path());
  REQUIRE(records.size() == 1);
  const json first = json::parse(read_text(records[0]));
  REQUIRE(first.at("provenance").contains("data"));
  r = run_recfuse(args);
  CHECK_THAT(r.output, Catch::Contains("resuming: 1 of 1"));
  // The fold's test file changes (one rating): the record is of other data.
  std::string fold = read_text(data / "u1.test");
  REQUIRE(fold.find("2\t5\t4\t90") != std::string::npos);
  fold.replace(fold.find("2\t5\t4\t90"), 8, "2\t5\t5\t90");
  write_text(data, "u1.test", fold);
  r = run_recfuse(args);
  CHECK_THAT(r.output, Catch::Contains("superseded: 1 record(s)"));
  const json second = json::parse(read_text(records[0]));
  CHECK(second.at("status") == "ok");
  CHECK(second.at("provenance").at("data") != first.at("provenance").at("data"));
  CHECK(second.at("provenance").at("plugins") == first.at("provenance").at("plugins"));
  // So does one of the dataset's own files (a zip code no reader uses).
  std::string users = read_text(data / "u.user");
  users.back() == '\n' ? users.insert(users.size() - 1, "0") : users.append("0");
  write_text(data, "u.user", users);
  r = run_recfuse(args);
  CHECK_THAT(r.output, Catch::Contains("superseded: 1 record(s)"));
}

TEST_CASE("retrying failed trials reruns only those") {
  const auto dir = temp_dir("retry");
  const auto s = write_text(dir, "s.toml",
                            scenario_with(algorithm("throws", "test_throws") +
                                          algorithm("popularity", "popularity")));
  const auto out = dir / "out";
  auto r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  REQUIRE(r.exit_code == 2);
  r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  CHECK_THAT(r.output, Catch::Contains("resuming: 2 of 2"));
  r = run_recfuse("run " + s.string() + " --output " + out.string() + " --retry-failed" +
                  plugin_args());
  INFO(r.output);
  CHECK_THAT(r.output, Catch::Contains("resuming: 1 of 2"));
  CHECK(r.exit_code == 2);
}

TEST_CASE("shards run disjoint trials, an unsharded rerun completes the report") {
  const auto dir = temp_dir("shard");
  const auto s = write_text(dir, "s.toml",
                            scenario_with(algorithm("popularity", "popularity") +
                                          algorithm("good", "test_good") +
                                          algorithm("random", "random")));
  const auto out = dir / "out";
  auto r = run_recfuse("run " + s.string() + " --output " + out.string() + " --shard 0/2" +
                       plugin_args());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(read_report(out).at("trials").size() == 2);  // indices 0 and 2
  r = run_recfuse("run " + s.string() + " --output " + out.string() + " --shard 1/2" +
                  plugin_args());
  REQUIRE(r.exit_code == 0);
  CHECK(read_report(out).at("trials").size() == 1);
  r = run_recfuse("run " + s.string() + " --output " + out.string() + plugin_args());
  CHECK_THAT(r.output, Catch::Contains("resuming: 3 of 3"));
  CHECK(read_report(out).at("trials").size() == 3);
  r = run_recfuse("run " + s.string() + " --output " + out.string() + " --shard 2/2" +
                  plugin_args());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("--shard 2/2"));
}
