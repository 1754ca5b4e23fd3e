// `recfuse compare BASELINE CANDIDATE`: deltas between two runs with
// significance; exits 4 on a regression so it can gate CI.
#include <boost/program_options.hpp>
#include <iostream>

#include "cli.hpp"
#include "reports/compare.hpp"

namespace po = boost::program_options;

namespace recfuse::cli {

int compare_command(const Args& args) {
  po::options_description desc(
      "usage: recfuse compare BASELINE CANDIDATE [--metric M]... [--threshold T] [--alpha A]\n"
      "Compares two runs (run directories or report.json files) algorithm by\n"
      "algorithm. Where both runs kept their trial records (<dir>/trials), trials\n"
      "pair on (fold, seed) and the test is a paired t-test: per user (each user's\n"
      "values averaged over the matched folds and seeds) when per-user values were\n"
      "kept, else per trial (rating metrics). Without records: Welch's t from the\n"
      "two summary rows. A regression is a change for the worse larger than T\n"
      "(relative) with a Holm-adjusted p < A over every tested row. Exit status:\n"
      "0 no regression, 4 regression, 1 bad input.\n\noptions");
  std::string base, cand;
  CompareOptions opt;
  desc.add_options()("help,h", "show this help")(
      "metric,m", po::value(&opt.metrics)->composing(),
      "metric to compare (repeatable; default: the headline metric, rmse, mae, return, regret)")(
      "threshold", po::value(&opt.threshold)->default_value(0.01), "relative change that counts")(
      "alpha", po::value(&opt.alpha)->default_value(0.05), "significance level")(
      "baseline", po::value(&base))("candidate", po::value(&cand));
  po::positional_options_description pos;
  pos.add("baseline", 1).add("candidate", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "recfuse compare: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  if (base.empty() || cand.empty()) {
    std::cerr << desc << "\n";
    return kExitBadInput;
  }
  try {
    const RunForCompare b = load_run(base), c = load_run(cand);
    for (const RunForCompare* run : {&b, &c})
      for (const std::string& f : run->unreadable)
        std::cerr << "recfuse compare: warning: " << f
                  << " is not a whole record (torn?) and is skipped: the comparison reads the other records and the summaries\n";
    const CompareResult res = compare_runs(b, c, opt);
    write_compare_markdown(std::cout, res, opt);
    return res.regressions ? kExitRegression : kExitOk;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  }
}

}  // namespace recfuse::cli
