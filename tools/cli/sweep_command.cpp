// `recfuse sweep`: DESIGN.md's name for the MPI sweep. It is `recfuse-mpi
// run` (tools/mpi/main.cpp), which links MPI where this binary does not:
// each rank that mpirun starts replaces itself with recfuse-mpi, next to
// this binary, before anything MPI is touched, so that
//   mpirun -n N recfuse sweep SCENARIO -o DIR [options of run]
// and `mpirun -n N recfuse-mpi run …` are the same job (its messages name
// recfuse-mpi run).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "cli.hpp"

namespace recfuse::cli {
namespace {

/// Whether this process is rank 0 of an MPI job, or not in one: only it
/// prints an error every rank would print alike.
bool first_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* v = std::getenv(var)) return std::string(v) == "0";
  return true;
}

}  // namespace

int sweep_command(const Args& args) {
  // Not self_executable(): without /proc/self/exe it falls back to a bare
  // name, and a recfuse-mpi in the working directory is not this build's.
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::cerr << "recfuse sweep: cannot locate this binary (/proc/self/exe: " << ec.message()
              << "), so not the recfuse-mpi next to it\n";
    return kExitInternal;
  }
  const std::filesystem::path mpi = self.parent_path() / "recfuse-mpi";
  const bool help = std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "-h" || a == "--help"; });
  if (!std::filesystem::is_regular_file(mpi, ec)) {
    const std::string missing =
        mpi.string() + " not found: it is built only where OpenMPI is found (tools/setup.sh installs "
                       "libopenmpi-dev and openmpi-bin; then build again). Without MPI, `recfuse run SCENARIO "
                       "--shard i/N` splits a sweep into job-array tasks (README.md, \"Sweeps on several "
                       "machines\").\n";
    if (help) {
      std::cout << "usage: mpirun -n N recfuse sweep [SCENARIO] [options]\n\n"
                   "Runs SCENARIO like `recfuse run`, its trials spread over the ranks of an MPI job: each\n"
                   "rank becomes `recfuse-mpi run` with the same arguments (its messages name it), whose\n"
                   "options are those of `recfuse run --help`.\n\n"
                << missing;
      return kExitOk;
    }
    if (first_rank()) std::cerr << "recfuse sweep: " << missing;
    return kExitBadInput;
  }
  std::vector<std::string> words{mpi.string(), "run"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  ::execv(mpi.c_str(), argv.data());
  const int err = errno;
  std::cerr << "recfuse sweep: cannot start " << mpi.string() << ": " << std::strerror(err) << "\n";
  return kExitInternal;
}

}  // namespace recfuse::cli
