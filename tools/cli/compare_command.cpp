// `recfuse compare BASELINE CANDIDATE`: deltas between two runs with
// significance; exits 4 on a regression so it can gate CI.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <iostream>
#include <iterator>
#include <set>

#include "cli.hpp"
#include "reports/compare.hpp"

namespace po = boost::program_options;

namespace recfuse::cli {
namespace {

/// The metrics of one report's summary rows.
std::set<std::string> reported_metrics(const nlohmann::json& report) {
  std::set<std::string> out;
  const auto summary = report.find("summary");
  if (summary == report.end() || !summary->is_array()) return out;
  for (const auto& row : *summary) {
    const auto metrics = row.find("metrics");  // end() for a row that is no object
    if (metrics == row.end() || !metrics->is_object()) continue;
    for (const auto& [name, value] : metrics->items()) out.insert(name);
  }
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return names.empty() ? "none" : out;
}

/// Why the comparison has nothing to gate on, or "": a --metric that no
/// algorithm of both runs reports (a typo), or no row at all (unrelated runs,
/// or none of the default metrics).
std::string nothing_compared(const CompareResult& res, const CompareOptions& opt,
                             const nlohmann::json& base, const nlohmann::json& cand) {
  const auto in_base = reported_metrics(base), in_cand = reported_metrics(cand);
  std::vector<std::string> both;
  std::set_intersection(in_base.begin(), in_base.end(), in_cand.begin(), in_cand.end(),
                        std::back_inserter(both));
  for (const std::string& m : opt.metrics)
    if (std::none_of(res.rows.begin(), res.rows.end(), [&](const CompareRow& r) { return r.metric == m; }))
      return "--metric " + m + ": no algorithm of both runs reports it (they report: " + joined(both) + ")";
  if (!res.rows.empty()) return "";
  if (res.only_in_base.size() == base.value("summary", nlohmann::json::array()).size())
    return "nothing to compare: the runs share no algorithm (only in baseline: " + joined(res.only_in_base) +
           "; only in candidate: " + joined(res.only_in_candidate) + ")";
  return "nothing to compare: the algorithms of both runs report none of the default metrics; pass "
         "--metric (they report: " + joined(both) + ")";
}

}  // namespace

int compare_command(const Args& args) {
  po::options_description desc(
      "usage: recfuse compare BASELINE CANDIDATE [--metric M]... [--threshold T] [--alpha A]\n"
      "Compares two runs (run directories or report.json files) algorithm by\n"
      "algorithm. Where both runs kept their trial records (<dir>/trials), trials\n"
      "pair on (dataset, fold, seed) and the test is a paired t-test: per user\n"
      "(each user's values averaged over the matched folds and seeds) when\n"
      "per-user values were kept; for rmse and mae, on each user's squared or\n"
      "absolute errors summed over the matched trials, the row showing rmse and\n"
      "mae over the paired ratings; else per trial (records written before\n"
      "per-user values); the row then\n"
      "shows the means the test compared. Without records, or without two paired\n"
      "units: Welch's t from the two summary rows. A regression is a change for\n"
      "the worse larger than T (relative) with a Holm-adjusted p < A over every\n"
      "tested row. An algorithm\n"
      "only in the baseline, or a metric the candidate lost (its trials failed),\n"
      "fails the gate too, unless --allow-missing. Exit status: 0 no regression,\n"
      "4 regression or loss, 1 bad input (a report that cannot be read,\n"
      "a --metric that no algorithm of both runs reports, or nothing to compare).\n\noptions");
  std::string base, cand;
  CompareOptions opt;
  desc.add_options()("help,h", "show this help")(
      "metric,m", po::value(&opt.metrics)->composing(),
      "metric to compare (repeatable; default: the headline metric, rmse, mae, return, regret)")(
      "threshold", po::value(&opt.threshold)->default_value(0.01, "0.01"), "relative change that counts")(
      "alpha", po::value(&opt.alpha)->default_value(0.05, "0.05"), "significance level")(
      "allow-missing", po::bool_switch(&opt.allow_missing),
      "do not fail on an algorithm only in the baseline or a metric missing in the candidate");
  po::options_description positional;  // not listed by --help
  positional.add_options()("baseline", po::value(&base))("candidate", po::value(&cand));
  po::options_description all;
  all.add(desc).add(positional);
  po::positional_options_description pos;
  pos.add("baseline", 1).add("candidate", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (!(opt.alpha > 0 && opt.alpha < 1)) throw po::error("--alpha must be in (0, 1)");
    if (!(std::isfinite(opt.threshold) && opt.threshold >= 0))
      throw po::error("--threshold must be a finite number >= 0");
  } catch (const po::error& e) {
    std::cerr << "recfuse compare: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  if (base.empty() || cand.empty()) {
    std::cerr << "recfuse compare: missing " << (base.empty() ? "BASELINE and CANDIDATE" : "CANDIDATE")
              << "\n\n" << desc << "\n";
    return kExitBadInput;
  }
  try {
    const RunForCompare b = load_run(base), c = load_run(cand);
    for (const RunForCompare* run : {&b, &c})
      for (const std::string& f : run->unreadable)
        std::cerr << "recfuse compare: warning: " << f
                  << " is not a whole record (torn?) and is skipped: the comparison reads the other records and the summaries\n";
    const CompareResult res = compare_runs(b, c, opt);
    // A gate that compared nothing must not pass: a --metric typo, or two
    // unrelated runs, gave an empty table and exit 0.
    if (const std::string why = nothing_compared(res, opt, b.report, c.report); !why.empty()) {
      std::cerr << "recfuse compare: " << why << "\n";
      return kExitBadInput;
    }
    write_compare_markdown(std::cout, res, opt);
    return res.regressions > 0 || (res.lost > 0 && !opt.allow_missing) ? kExitRegression : kExitOk;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  }
}

}  // namespace recfuse::cli
