// recfuse: run recommender scenarios, list plugins, inspect datasets.
#include <exception>
#include <iostream>
#include <string>

#include "cli.hpp"

namespace {

const char* kUsage = R"(usage: recfuse <command> [options]

commands:
  run [SCENARIO]     run a scenario (the embedded default when none is given) and
                     write report.json, report.md, report.html and report.csv
  plugins            list every plugin found, with its parameter table
  data info PATH     statistics of a dataset as the readers see it
  compare A B        deltas between two runs, with significance (exit 4 on regression)
  sweep [SCENARIO]   under `mpirun -n N`: run, its trials spread over the MPI ranks
                     (recfuse-mpi run, built where OpenMPI is found; same options)
  trial              run one trial (internal: used by `run` in a child process)

`recfuse <command> --help` describes each command's options; `recfuse --version`
prints the version.

exit codes:
  0  success: every trial succeeded
  1  bad input: command line, scenario, dataset path or plugin (error names file:line:column);
     sweep in a build without recfuse-mpi
  2  the run finished and wrote its report, but some trials failed, crashed or timed out
  3  internal error
  4  compare: the candidate regressed significantly beyond the threshold, or lost an
     algorithm or metric of the baseline (unless --allow-missing)

environment:
  RECFUSE_DATA         root of the datasets (default ../shared/data)
  RECFUSE_PLUGIN_PATH  extra plugin directories, ':'-separated
  RECFUSE_CACHE        dataset cache directory (default $XDG_CACHE_HOME/recfuse,
                       else ~/.cache/recfuse; also --cache-dir)
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace recfuse::cli;
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitBadInput;
  }
  const std::string command = argv[1];
  Args args(argv + 2, argv + argc);
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (command == "--version") {
      std::cout << "recfuse " << RECFUSE_VERSION_STRING << "\n";
      return kExitOk;
    }
    if (command == "run") return run_command(args);
    if (command == "trial") return trial_command(args);
    if (command == "plugins") return plugins_command(args);
    if (command == "data") return data_command(args);
    if (command == "compare") return compare_command(args);
    if (command == "sweep") return sweep_command(args);
    std::cerr << "recfuse: unknown command '" << command << "'\n\n" << kUsage;
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "recfuse: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
