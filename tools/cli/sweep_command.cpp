// `recfuse sweep`: DESIGN.md's name for the MPI sweep. It is `recfuse-mpi
// run` (tools/mpi/main.cpp), which links MPI where this binary does not:
// each rank that mpirun starts replaces itself with recfuse-mpi, next to
// this binary, before anything MPI is touched, so that
//   mpirun -n N recfuse sweep SCENARIO -o DIR [options of run]
// and `mpirun -n N recfuse-mpi run …` are the same job.
#include <cerrno>
#include <cstring>
#include <iostream>
#include <unistd.h>

#include "cli.hpp"

namespace recfuse::cli {

int sweep_command(const Args& args) {
  const std::filesystem::path mpi = self_executable().parent_path() / "recfuse-mpi";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(mpi, ec)) {
    std::cerr << "recfuse sweep: " << mpi.string()
              << " not found: `mpirun -n N recfuse sweep SCENARIO` runs recfuse-mpi, which is built "
                 "only where OpenMPI is found (tools/setup.sh installs libopenmpi-dev and openmpi-bin; "
                 "then build again). Without MPI, `recfuse run SCENARIO --shard i/N` splits a sweep "
                 "into job-array tasks (README.md, \"Sweeps on several machines\").\n";
    return kExitBadInput;
  }
  std::vector<std::string> words{mpi.string(), "run"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  ::execv(mpi.c_str(), argv.data());
  std::cerr << "recfuse sweep: cannot start " << mpi.string() << ": " << std::strerror(errno) << "\n";
  return kExitInternal;
}

}  // namespace recfuse::cli
