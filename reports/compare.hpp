// `recfuse compare`: the deltas between two runs of the same scenario (a
// baseline and a candidate), with significance, and a verdict that can gate
// CI: a regression is a change for the worse that is both larger than the
// threshold and significant.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace recfuse {

struct CompareOptions {
  std::vector<std::string> metrics;  // empty: the baseline's headline metric (+ rmse, mae)
  double threshold = 0.01;           // relative change that counts (0.01 = 1%)
  double alpha = 0.05;               // significance level
};

struct CompareRow {
  std::string algorithm, metric;
  double base = 0, candidate = 0, delta = 0, relative = 0;
  double p = 1;
  std::int64_t n = 0;
  /// paired_users: per-user paired t-test over the trials' kept per-user
  /// values (matched by algorithm, fold, seed, user); unpaired_ci: normal
  /// approximation from the two summary CIs; none: no test possible.
  std::string method;
  bool better = false, worse = false;  // significant and beyond the threshold
};

struct CompareResult {
  std::vector<CompareRow> rows;
  std::vector<std::string> only_in_base, only_in_candidate;  // algorithm labels
  int regressions = 0;
};

/// A run as `compare` reads it: report.json plus the trial records kept in
/// <dir>/trials (which hold the per-user values), when present.
struct RunForCompare {
  nlohmann::json report;
  std::vector<nlohmann::json> records;
};
/// `path` is a run directory or a report.json; throws Error naming the file.
RunForCompare load_run(const std::filesystem::path& path);

CompareResult compare_runs(const RunForCompare& base, const RunForCompare& candidate,
                           const CompareOptions& options);
void write_compare_markdown(std::ostream& out, const CompareResult& result,
                            const CompareOptions& options);

}  // namespace recfuse
