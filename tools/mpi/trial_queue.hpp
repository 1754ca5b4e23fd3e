// The MPI trial queue of recfuse-mpi: rank 0 hands out trial indices one at
// a time, workers run them and send the records back (see main.cpp for why).
#pragma once

#include <iosfwd>

#include "run_setup.hpp"

namespace recfuse::mpi {

/// Rank 0 with `workers` (>= 1) worker ranks: skips the trials that already
/// have a record (run_sweep's resume rule), answers every worker's request
/// with the next trial or a stop, and writes each record it receives
/// atomically into the output directory. Returns when every worker is stopped.
SweepResult coordinate(const cli::PreparedRun& run, int workers, std::ostream& log);

/// A worker rank: asks rank 0 for trials until told to stop, runs each with
/// run_sweep (child process, time limit; a crash becomes a failed record) and
/// returns its record with the next request.
void work(const cli::PreparedRun& run);

/// Collective: rank 0's `code` on every rank. Waits by polling, asleep
/// between polls: a worker whose trials are done waits here while the others
/// run theirs, and a blocking MPI call would spin on a core they need.
int broadcast_exit_code(int code);

}  // namespace recfuse::mpi
