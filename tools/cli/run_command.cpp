// `recfuse run`: validate a scenario up front (plugins, parameters, dataset
// paths), run every trial in a child process, then write the reports. The
// phases live in run_setup.cpp, shared with the MPI driver (tools/mpi).
#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "run_setup.hpp"
#include "util/fs.hpp"

namespace recfuse::cli {

int run_command(const Args& args) {
  RunOptions o;
  std::string command_line = "recfuse run";
  for (const auto& a : args) command_line += " " + a;
  const int parsed = parse_run_options(
      args,
      "usage: recfuse run [SCENARIO] [options]\n"
      "Runs every trial of SCENARIO (a TOML file; see scenarios/SCHEMA.md), each in\n"
      "its own process, and writes report.json, report.md, report.html and\n"
      "report.csv to the output directory. Without SCENARIO, runs the embedded\n"
      "default scenario (synthetic data, no download). A rerun resumes: trials with a\n"
      "record from this build (source hash, plugin versions and files) are skipped;\n"
      "records of another build move to trials/superseded/ and their trials run\n"
      "again.\n\noptions",
      "recfuse run", o);
  if (parsed >= 0) return parsed;

  const auto t0 = std::chrono::steady_clock::now();
  PreparedRun run;
  try {
    run = prepare_run(o, o.jobs, /*check=*/true);
  } catch (const SetupError& e) {
    std::cerr << "recfuse: internal error: " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  }
  const SweepOptions& sw = run.sweep;
  // The output directory and the trials/ and logs/ the sweep writes into:
  // bad input, named, before the run announces itself (a file in the way of
  // trials/ was an internal error, exit 3).
  try {
    make_output_dirs(sw.output_dir, "recfuse run");
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  }

  if (!o.quiet)
    std::cout << "recfuse: scenario '" << run.scenario.name << "': " << run.trials.size()
              << " trials, " << sw.jobs << " job(s) x " << sw.threads << " thread(s) -> "
              << sw.output_dir.string() << std::endl;
  SweepResult result;
  try {
    if (o.scenario_file.empty())
      write_file_atomic(sw.output_dir / "scenario.toml", default_scenario_text());
    result = run_sweep(run.scenario, run.trials, sw, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "recfuse run: " << e.what() << "\n";
    return kExitInternal;
  }
  return report_run(run, result, command_line, sw.jobs, t0);
}

}  // namespace recfuse::cli
