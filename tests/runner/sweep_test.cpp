// The sweep's process boundary: what a trial's record measures is the trial
// process itself, a trial process never outlives its run, and the default
// thread count follows the cores the run may use.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <spawn.h>
#include <sstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "run_cli.hpp"
#include "runner/sweep.hpp"
#include "test_support.hpp"

extern char** environ;

using namespace recfuse::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string tiny_scenario(const std::string& head, const std::string& algorithms) {
  return "name = \"sweep\"\nseeds = [1]\n" + head +
         "[dataset]\nformat = \"synthetic\"\n"
         "[dataset.synthetic]\nusers = 60\nitems = 50\ninteractions_per_user = 10\n"
         "[evaluation]\ncutoffs = [5]\nbootstrap = 0\n" +
         algorithms;
}

/// "R", "S", "Z", ... of process `pid`; "" when it no longer exists.
std::string process_state(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? "" : stat.substr(close + 2, 1);
}

/// Children of `parent` whose command line contains `needle`.
std::vector<pid_t> children_of(pid_t parent, const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) == std::string::npos) continue;
    std::istringstream status(read_text(e.path() / "status"));
    for (std::string line; std::getline(status, line);)
      if (line.rfind("PPid:", 0) == 0 && std::stol(line.substr(5)) == parent) out.push_back(std::stoi(name));
  }
  return out;
}

/// Starts `recfuse <args>` with output to `log`; returns its pid.
pid_t start_recfuse(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> all{recfuse_binary().string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

/// A sweep of scenario file `s` into dir/out, as `recfuse run` sets it up.
struct Sweep {
  recfuse::Scenario scenario;
  std::vector<recfuse::TrialSpec> trials;
  recfuse::SweepOptions opt;

  Sweep(const fs::path& s, const fs::path& dir)
      : scenario(recfuse::load_scenario(s.string())), trials(recfuse::expand_trials(scenario)) {
    opt.executable = recfuse_binary();
    opt.trial_args = {"--scenario", s.string(), "--no-cache"};
    opt.output_dir = dir / "out";
    opt.quiet = true;
  }
  recfuse::SweepResult run() {
    std::ostringstream log;
    return recfuse::run_sweep(scenario, trials, opt, log);
  }
};

}  // namespace

TEST_CASE("a trial's peak RSS is its own, not that of the process that started it") {
  const auto dir = temp_dir("sweep_rss");
  const auto s = write_text(dir, "s.toml",
                            tiny_scenario("threads = 1\n", "[[algorithms]]\nplugin = \"popularity\"\n"));
  // This process (the sweep's parent) touches 384 MiB and gives it back
  // before the sweep starts: its peak is far above any tiny trial's. The
  // kernel folds the spawning process's high-water mark into the child's
  // ru_maxrss at exec, so wait4 alone would report it for the trial.
  const std::size_t big = std::size_t{384} << 20;
  void* p = ::mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  std::memset(p, 1, big);
  ::munmap(p, big);

  Sweep sweep(s, dir);
  REQUIRE(sweep.trials.size() == 1);
  const recfuse::SweepResult result = sweep.run();
  REQUIRE(result.records.size() == 1);
  const json& rec = result.records[0];
  INFO(rec.dump(1).substr(0, 2000));
  REQUIRE(rec.at("status") == "ok");
  const auto rss = rec.at("resources").at("peak_rss_bytes").get<std::int64_t>();
  CHECK(rss > (std::int64_t{1} << 20));
  CHECK(rss < static_cast<std::int64_t>(big / 2));
  // The record on disk says the same.
  CHECK(json::parse(read_text(recfuse::record_path(sweep.opt.output_dir, sweep.trials[0])))
            .at("resources").at("peak_rss_bytes") == rss);
}

TEST_CASE("the sweep waits for its own trials only, not for other children of its process") {
  // A process embedding run_sweep may have children of its own; their exit
  // status is theirs to collect, and must still be there after the sweep.
  const auto dir = temp_dir("sweep_other_child");
  const auto s = write_text(dir, "s.toml",
                            tiny_scenario("threads = 1\n", "[[algorithms]]\nplugin = \"popularity\"\n"));
  std::string sh = "/bin/sh", flag = "-c", body = "exit 7";
  char* argv[] = {sh.data(), flag.data(), body.data(), nullptr};
  pid_t other = -1;
  REQUIRE(posix_spawn(&other, "/bin/sh", nullptr, nullptr, argv, environ) == 0);
  const recfuse::SweepResult result = Sweep(s, dir).run();
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].at("status") == "ok");
  int status = 0;
  REQUIRE(::waitpid(other, &status, 0) == other);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("a sweep whose children are reaped elsewhere (SIGCHLD ignored) still ends, keeping their records") {
  // wait4 then answers ECHILD for every trial: before, the sweep polled a
  // trial that could no longer be waited for, forever.
  const auto dir = temp_dir("sweep_sigchld");
  const auto s = write_text(dir, "s.toml",
                            tiny_scenario("threads = 1\n", "[[algorithms]]\nplugin = \"popularity\"\n"));
  Sweep sweep(s, dir);
  struct sigaction ignore {}, before {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGCHLD, &ignore, &before) == 0);
  recfuse::SweepResult result;
  try {
    result = sweep.run();
  } catch (...) {
    ::sigaction(SIGCHLD, &before, nullptr);
    throw;
  }
  ::sigaction(SIGCHLD, &before, nullptr);
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].at("status") == "ok");  // the child wrote its record before it was reaped
}

TEST_CASE("a trial killed while writing its record leaves no temporary beside it") {
  // The temporary is write_file_atomic's "<record>.tmp.<pid>", the pid the
  // child's; the sweep removes it when it reaps the child. Written here while
  // the trial waits in fit, then the time limit kills the trial.
  const auto dir = temp_dir("sweep_tmp_left");
  const auto go = dir / "go";  // never created
  const auto s = write_text(dir, "s.toml",
                            tiny_scenario("threads = 1\n", "[[algorithms]]\nplugin = \"test_slow\"\n[algorithms.params]\n"
                                                           "seconds = 0.0\nwait_for = \"" + go.string() + "\"\n"));
  Sweep sweep(s, dir);
  REQUIRE(sweep.trials.size() == 1);
  sweep.opt.trial_args.insert(sweep.opt.trial_args.end(), {"--plugin-path", bad_plugin_dir().string()});
  sweep.opt.time_limit_s = 3;
  const fs::path record = recfuse::record_path(sweep.opt.output_dir, sweep.trials[0]);
  recfuse::SweepResult result;
  std::thread runner([&] { result = sweep.run(); });
  std::vector<pid_t> trial;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (trial.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    trial = children_of(::getpid(), sweep.opt.output_dir.string());
  }
  if (trial.size() == 1) {
    const std::string pid = std::to_string(trial[0]);
    write_text(record.parent_path(), record.filename().string() + ".tmp." + pid, "{\"status\": \"o");
    // Another writer's temporary, another trial's, and a name that merely starts alike stay.
    write_text(record.parent_path(), record.filename().string() + ".tmp.1", "{");
    write_text(record.parent_path(), "other.json.tmp." + pid, "{");
    write_text(record.parent_path(), record.filename().string() + ".tmpfile", "{");
  }
  runner.join();
  REQUIRE(trial.size() == 1);
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].at("status") == "timeout");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(record.parent_path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{record.filename().string(), record.filename().string() + ".tmp.1",
                                          record.filename().string() + ".tmpfile",
                                          "other.json.tmp." + std::to_string(trial[0])});
}

TEST_CASE("a trial process does not outlive its run, killed or terminated") {
  for (const int sig : {SIGKILL, SIGTERM}) {
    DYNAMIC_SECTION("signal " << sig) {
      const auto dir = temp_dir("sweep_orphan");
      const auto go = dir / "go";  // never created: the trial waits in fit
      const auto s = write_text(
          dir, "s.toml",
          tiny_scenario("threads = 1\n", "[[algorithms]]\nplugin = \"test_slow\"\n[algorithms.params]\n"
                                         "seconds = 0.0\nwait_for = \"" + go.string() + "\"\n"));
      const auto out = dir / "out";
      const pid_t run = start_recfuse({"run", s.string(), "-o", out.string(), "--plugin-path",
                                       bad_plugin_dir().string(), "--no-cache", "-q"},
                                      dir / "run.log");
      std::vector<pid_t> trial;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (trial.empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        trial = children_of(run, out.string());
      }
      INFO(read_text(dir / "run.log"));
      REQUIRE(trial.size() == 1);
      // Let the trial get past its start-up into fit.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      REQUIRE(::kill(run, sig) == 0);
      int status = 0;
      REQUIRE(::waitpid(run, &status, 0) == run);
      CHECK(WIFSIGNALED(status));
      // The orphan would wait a minute for `go`; a trial that follows its
      // run is gone (or a zombie nobody reaps) well before.
      std::string state = process_state(trial[0]);
      const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!state.empty() && state != "Z" && std::chrono::steady_clock::now() < gone_by) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        state = process_state(trial[0]);
      }
      CHECK((state.empty() || state == "Z"));
      if (!state.empty() && state != "Z") ::kill(trial[0], SIGKILL);  // the test's own orphan
      // Nothing half-written: no record for the stopped trial, only whole files.
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(out / "trials", ec))
        CHECK(e.path().extension() != ".json");
      // The rerun runs the trial (now free to go) and reports it.
      std::ofstream(go) << "go\n";
      const auto r = run_recfuse("run " + s.string() + " -o " + out.string() + " --plugin-path " +
                                 bad_plugin_dir().string() + " --no-cache");
      INFO(r.output);
      CHECK(r.exit_code == 0);
      CHECK_THAT(r.output, !Catch::Contains("resuming"));
    }
  }
}

TEST_CASE("threads per trial default to the cores this run may use, shared by its jobs") {
  const auto dir = temp_dir("sweep_threads");
  const auto s = write_text(dir, "s.toml", tiny_scenario("", "[[algorithms]]\nplugin = \"popularity\"\n"));
  // Confined to one core (as by taskset, or a job scheduler's cpuset), the
  // run must not give each trial every core of the machine.
  cpu_set_t saved, one;
  REQUIRE(::sched_getaffinity(0, sizeof saved, &saved) == 0);
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &saved)) {
      CPU_SET(c, &one);
      break;
    }
  REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);
  const auto r = run_recfuse("run " + s.string() + " -o " + (dir / "out").string() + " --no-cache -q");
  ::sched_setaffinity(0, sizeof saved, &saved);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json report = read_report(dir / "out");
  REQUIRE(report.at("trials").size() == 1);
  CHECK(report.at("trials")[0].at("threads") == 1);
  // Unconfined, with as many jobs as cores: one thread each.
  const int cores = CPU_COUNT(&saved);
  const auto r2 = run_recfuse("run " + s.string() + " -o " + (dir / "out2").string() + " --no-cache -q --jobs " +
                              std::to_string(cores));
  REQUIRE(r2.exit_code == 0);
  CHECK(read_report(dir / "out2").at("trials")[0].at("threads") == 1);
}

TEST_CASE("a resumed record takes its trial's place in the edited scenario: indices stay distinct") {
  const auto dir = temp_dir("sweep_index");
  const auto out = dir / "out";
  const std::string pop = "[[algorithms]]\nplugin = \"popularity\"\n";
  auto s = write_text(dir, "s.toml", tiny_scenario("threads = 1\n", pop));
  auto r = run_recfuse("run " + s.string() + " -o " + out.string() + " --no-cache -q");
  REQUIRE(r.exit_code == 0);
  // An algorithm added in front: popularity is now trial 1, same id, resumed.
  s = write_text(dir, "s.toml", tiny_scenario("threads = 1\n", "[[algorithms]]\nplugin = \"random\"\n" + pop));
  r = run_recfuse("run " + s.string() + " -o " + out.string() + " --no-cache");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("resuming: 1 of 2"));
  const json report = read_report(out);
  REQUIRE(report.at("trials").size() == 2);
  for (const auto& t : report.at("trials"))
    CHECK(t.at("index") == (t.at("plugin") == "random" ? 0 : 1));
}
