// recfuse-mpi: `recfuse run` across the ranks of an MPI job (OpenMPI),
//
//   mpirun -n N recfuse-mpi run SCENARIO -o DIR [--threads T ...]
//
// with the options of `recfuse run`. Why a coordinator rank: trials differ in
// cost by orders of magnitude (a popularity baseline next to a SASRec grid
// point), so a static split such as --shard leaves ranks idle while one grinds
// through its share; rank 0 instead keeps a queue and gives the next trial to
// whichever worker asks. Rank 0 alone decides what to resume, writes the
// records and builds the report from what the workers send, so no shared
// file system is needed; each worker still writes its trial's record and log
// under the same output path on its own node (the trial process does), and
// a record's "log" names that node's file. What travels over MPI: two
// collectives on the command line (rank 0's outcome, and whether any rank's
// parse failed), one broadcast at start (rank 0 accepted the scenario or
// not), trial orders {index, id} from rank 0, each finished record's JSON
// text back to it, a stop, and the exit code at the end.
// Nothing else is shared: every rank reads the scenario, plugins and datasets
// at the same paths (the trial process needs them there anyway), and each
// trial runs as a plain `recfuse trial` child process, as under `recfuse run`.
// With -n 1 rank 0 runs the trials itself, exactly like `recfuse run`.
#include <mpi.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

#include "run_setup.hpp"
#include "trial_queue.hpp"
#include "util/fs.hpp"

namespace {

using namespace recfuse;
using namespace recfuse::cli;

const char* kUsage = R"(usage: mpirun -n N recfuse-mpi run [SCENARIO] [options]
   or: mpirun -n N recfuse sweep [SCENARIO] [options]   (the same job)

Runs a scenario like `recfuse run`, with its trials spread over the ranks of an
MPI job. `recfuse-mpi run --help` lists the options (those of `recfuse run`).
)";

const char* kRunCaption =
    "usage: mpirun -n N recfuse-mpi run [SCENARIO] [options]\n"
    "   or: mpirun -n N recfuse sweep [SCENARIO] [options]   (the same job)\n"
    "Runs every trial of SCENARIO (default: the embedded default scenario) like\n"
    "`recfuse run`, spread over the ranks of an MPI job. Rank 0 coordinates: it\n"
    "skips trials that already have a record (resume; --retry-failed reruns the\n"
    "failed ones) and hands the others one at a time to whichever worker rank asks\n"
    "next. A worker runs its trial as a `recfuse trial` child process (the plain\n"
    "recfuse binary next to recfuse-mpi) and sends the record back over MPI; rank 0\n"
    "writes every record and the report (report.json, .md, .html, .csv) to the\n"
    "output directory; no shared file system is needed, but every rank must be\n"
    "able to create the output path (a trial's log, and with --save-models its\n"
    "model file, stay on the node that ran it) and see the scenario file, plugins,\n"
    "datasets and the --load-models and --fit-cache directories at the same paths\n"
    "(a --fit-cache directory on each node's own disk is that node's cache). With\n"
    "-n 1, rank 0 runs the trials itself (--jobs side by side); with more ranks\n"
    "each worker runs one trial at a time and --jobs is ignored. Default threads\n"
    "per trial: scenario `threads`, else the node's cores / the worker ranks on that\n"
    "node, or the cores a rank is bound to. mpirun binds each rank to a core or\n"
    "socket by default and the trial processes inherit it: with more than one\n"
    "thread per trial, start mpirun with --bind-to none (or --map-by slot:PE=T to\n"
    "give each rank T cores).\n"
    "Exit codes as `recfuse run`: 0 all trials ok, 1 bad input, 2 some failed, 3\n"
    "internal error; a rank that dies (killed, out of memory) makes mpirun end the\n"
    "job with its own non-zero code, and a rerun resumes.\n\n"
    "options";

/// Number of trial processes that share this rank's node: the worker ranks
/// on it (rank 0 only coordinates when there are workers) or, alone, --jobs.
int sharing_on_node(int rank, int size, int jobs) {
  if (size == 1) return jobs;
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  int local = 1, has_root = 0, is_root = rank == 0 ? 1 : 0;
  MPI_Comm_size(node, &local);
  MPI_Allreduce(&is_root, &has_root, 1, MPI_INT, MPI_SUM, node);
  MPI_Comm_free(&node);
  return std::max(1, local - has_root);
}

/// Threads per trial when neither --threads nor the scenario sets them: the
/// node's cores shared by the ranks on it, or the cores this rank is bound to.
/// (mpirun binds ranks to a core or a socket by default, and the trial
/// processes inherit the binding.)
int default_threads(int sharing, int side_by_side) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int bound = usable_cores();
  if (bound > 0 && bound < cores) return std::max(1, bound / side_by_side);
  return std::max(1, cores / sharing);
}

/// The plain recfuse binary next to this one: trials must not start another
/// MPI process, and only `recfuse` knows the `trial` command. Without it the
/// installation is broken, not the input: SetupError (exit 3).
std::filesystem::path trial_binary() {
  const auto exe = self_executable().parent_path() / "recfuse";
  if (!std::filesystem::exists(exe))
    throw SetupError(exe.string() + ": not found: recfuse-mpi runs each trial with the recfuse "
                     "binary installed next to it");
  return exe;
}

/// Collective: rank 0 names the ranks whose trials want more threads than the
/// cores the rank is bound to (they would share those cores, slowly).
void warn_binding(const SweepOptions& sw, int rank, int side_by_side) {
  const int bound = usable_cores();
  int mine = side_by_side > 0 && bound > 0 && side_by_side * sw.threads > bound ? 1 : 0;
  int total = 0;
  MPI_Reduce(&mine, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0 && total > 0)
    std::cerr << "recfuse-mpi: warning: " << total << " rank(s) run more trial threads at once "
              << "than the cores mpirun bound them to; start mpirun with --bind-to none "
              << "(see recfuse-mpi run --help)\n";
}

int run_main(const Args& args, int rank, int size) {
  RunOptions o;
  std::string command_line = "recfuse-mpi run";
  for (const auto& a : args) command_line += " " + a;
  int parsed;
  std::ostringstream said;  // what a worker's parse printed
  {
    // Every rank parses the same command line; only rank 0 speaks, unless a
    // worker fails where rank 0 did not (below).
    auto* out = std::cout.rdbuf();
    auto* err = std::cerr.rdbuf();
    if (rank != 0) {
      std::cout.rdbuf(said.rdbuf());
      std::cerr.rdbuf(said.rdbuf());
    }
    const std::string program =
        "recfuse-mpi run" + (rank == 0 ? std::string() : ": rank " + std::to_string(rank));
    parsed = parse_run_options(args, kRunCaption, program.c_str(), o);
    std::cout.rdbuf(out);
    std::cerr.rdbuf(err);
  }
  // Collective: the ranks go on together or stop together. The checks read
  // this node's files (--load-models, --fit-cache, --plugin-path), so a
  // worker's may fail where rank 0's passed; alone, it would leave the others
  // waiting for it forever.
  int root = parsed, worst = parsed;
  MPI_Bcast(&root, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Allreduce(&parsed, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (root >= 0) return root;  // rank 0 printed its help or its error
  if (worst >= 0) {
    if (parsed >= 0) std::cerr << said.str() << std::flush;
    return kExitBadInput;
  }

  const auto t0 = std::chrono::steady_clock::now();
  const int sharing = sharing_on_node(rank, size, o.jobs);
  const int side_by_side = size == 1 ? o.jobs : 1;  // trials this rank runs at once
  PreparedRun run;
  // Rank 0 checks plugins, parameters and data paths; the workers trust it.
  const auto prepare = [&](bool check) {
    PreparedRun r = prepare_run(o, sharing, check);
    r.sweep.executable = trial_binary();
    if (o.threads == 0 && r.scenario.threads == 0) r.sweep.threads = default_threads(sharing, side_by_side);
    return r;
  };
  int refused = kExitOk;  // rank 0's verdict: 0 go on, else the exit code
  if (rank == 0) {
    try {
      run = prepare(/*check=*/true);
      // Rank 0 writes the records and the report (with -n 1 it runs the
      // trials too): an output directory it cannot make is bad input, as
      // under `recfuse run`.
      make_output_dirs(run.sweep.output_dir, "recfuse-mpi run");
    } catch (const SetupError& e) {
      std::cerr << "recfuse-mpi: internal error: " << e.what() << "\n";
      refused = kExitInternal;
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      refused = kExitBadInput;
    }
  }
  MPI_Bcast(&refused, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (refused != kExitOk) return refused;
  if (rank != 0) {
    // Rank 0 accepted the scenario, so this node sees different files: the
    // whole job stops rather than waiting on a worker that cannot run.
    try {
      run = prepare(/*check=*/false);
    } catch (const SetupError& e) {
      std::cerr << "recfuse-mpi: rank " << rank << ": internal error: " << e.what() << "\n";
      MPI_Abort(MPI_COMM_WORLD, kExitInternal);
    } catch (const std::exception& e) {
      std::cerr << "recfuse-mpi: rank " << rank << ": " << e.what() << "\n";
      MPI_Abort(MPI_COMM_WORLD, kExitBadInput);
    }
    warn_binding(run.sweep, rank, side_by_side);
    mpi::work(run);
    return mpi::broadcast_exit_code(kExitOk);
  }

  const SweepOptions& sw = run.sweep;
  const int workers = size - 1;
  warn_binding(sw, rank, workers > 0 ? 0 : side_by_side);
  if (!o.quiet) {
    std::cout << "recfuse-mpi: scenario '" << run.scenario.name << "': " << run.trials.size()
              << " trials, ";
    if (workers > 0)
      std::cout << workers << " worker rank(s)";
    else
      std::cout << "1 rank, " << sw.jobs << " job(s)";
    std::cout << " x " << sw.threads << " thread(s) -> " << sw.output_dir.string() << std::endl;
    if (workers > 0 && o.jobs > 1)
      std::cout << "recfuse-mpi: --jobs " << o.jobs
                << " ignored: each worker rank runs one trial at a time" << std::endl;
  }
  SweepResult result;
  int code = kExitOk;
  try {
    if (o.scenario_file.empty())
      write_file_atomic(sw.output_dir / "scenario.toml", default_scenario_text());
    result = workers > 0 ? mpi::coordinate(run, workers, std::cout)
                         : run_sweep(run.scenario, run.trials, sw, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "recfuse-mpi run: " << e.what() << "\n";
    MPI_Abort(MPI_COMM_WORLD, kExitInternal);
  }
  code = report_run(run, result, command_line, workers > 0 ? workers : sw.jobs, t0);
  return workers > 0 ? mpi::broadcast_exit_code(code) : code;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = kExitBadInput;
  const std::string command = argc >= 2 ? argv[1] : "";
  try {
    if (command == "run") {
      code = run_main(Args(argv + 2, argv + argc), rank, size);
    } else if (command == "--help" || command == "-h" || command == "help") {
      if (rank == 0) std::cout << kUsage;
      code = kExitOk;
    } else if (command == "--version") {
      if (rank == 0) std::cout << "recfuse-mpi " << RECFUSE_VERSION_STRING << "\n";
      code = kExitOk;
    } else if (rank == 0) {
      if (!command.empty()) std::cerr << "recfuse-mpi: unknown command '" << command << "'\n\n";
      std::cerr << kUsage;
    }
  } catch (const std::exception& e) {
    std::cerr << "recfuse-mpi: rank " << rank << ": internal error: " << e.what() << "\n";
    MPI_Abort(MPI_COMM_WORLD, kExitInternal);
  }
  MPI_Finalize();
  return code;
}
