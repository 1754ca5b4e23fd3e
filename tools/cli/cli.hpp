// The recfuse command line: one function per subcommand, shared options.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace recfuse::cli {

/// Exit codes (documented in README.md and `recfuse --help`).
enum ExitCode : int {
  kExitOk = 0,            // everything ran; every trial succeeded
  kExitBadInput = 1,      // bad command line, scenario, dataset path or plugin
  kExitTrialsFailed = 2,  // the run finished and wrote its report, but some trials failed
  kExitInternal = 3,      // an unexpected internal error
  kExitRegression = 4,    // `compare`: the candidate regressed significantly
};

using Args = std::vector<std::string>;

int run_command(const Args& args);
int trial_command(const Args& args);
int plugins_command(const Args& args);
int data_command(const Args& args);
int compare_command(const Args& args);
/// Replaces this process by `recfuse-mpi run ARGS` (sweep_command.cpp).
int sweep_command(const Args& args);

/// Absolute path of the running binary (/proc/self/exe).
std::filesystem::path self_executable();
/// Plugin search path for this binary plus --plugin-path entries.
std::vector<std::filesystem::path> plugin_dirs(const std::vector<std::string>& extra);
/// "--plugin-path X: no such directory" for the first entry (of a
/// ':'-separated list too) that is not a directory; "" when all are.
std::string missing_plugin_dir(const std::vector<std::string>& extra);
/// Dataset cache: --cache-dir, else $RECFUSE_CACHE, else $XDG_CACHE_HOME/recfuse, else ~/.cache/recfuse.
std::filesystem::path cache_dir(const std::string& option);

}  // namespace recfuse::cli
