#include "reports/compare.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <ostream>
#include <set>

#include "eval/stats.hpp"
#include "recfuse/types.hpp"
#include "reports/format.hpp"
#include "reports/summary.hpp"
#include "util/fs.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;
namespace fmt = report_format;

double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

const json* summary_row(const json& report, const std::string& algorithm) {
  if (!report.contains("summary")) return nullptr;
  for (const auto& row : report["summary"])  // by reference: the pointer outlives the loop
    if (row.value("algorithm", "") == algorithm) return &row;
  return nullptr;
}

/// One side of the unpaired test: the standard error of a summary mean and
/// its degrees of freedom, from how summary.cpp built the row's interval.
struct SummarySide {
  double se = std::nan(""), df = std::nan("");
  std::int64_t n = 0;  // trials behind a t row, users behind a bootstrap row (0: unknown)
};

std::optional<SummarySide> summary_side(const json& m) {
  if (!m.is_object()) return std::nullopt;
  std::string ci = m.value("ci", "");
  // Rows written before "ci" existed held one trial's bootstrap interval.
  if (!m.contains("ci") && !(num(m, "trials") >= 2)) ci = "bootstrap";
  SummarySide side;
  if (const double se = num(m, "se"); (ci == "t" || ci == "t+bootstrap") && std::isfinite(se)) {
    // Rows written with their own SE and df (summary.cpp; df null: infinite).
    side.se = se;
    const double df = num(m, "df");
    side.df = std::isfinite(df) ? df : std::numeric_limits<double>::infinity();
    side.n = static_cast<std::int64_t>(num(m, "trials"));
  } else if (ci == "t") {  // older rows: mean +- t_{k-1} sd / sqrt(k) over k trial means
    const double sd = num(m, "sd"), k = num(m, "trials");
    if (!std::isfinite(sd) || !(k >= 2)) return std::nullopt;
    side.se = sd / std::sqrt(k);
    side.df = k - 1;
    side.n = static_cast<std::int64_t>(k);
  } else if (ci == "bootstrap" || ci == "normal") {
    // One trial's percentile bootstrap, treated as normal; or an off-policy
    // estimate's value +- 1.96 SE, normal by construction.
    const double low = num(m, "low"), high = num(m, "high");
    if (!std::isfinite(low) || !std::isfinite(high)) return std::nullopt;
    side.se = (high - low) / (2 * 1.96);
    side.df = std::numeric_limits<double>::infinity();
    if (const double n = num(m, "n"); std::isfinite(n) && n >= 0)
      side.n = static_cast<std::int64_t>(n);
  } else {
    return std::nullopt;
  }
  return side;
}

/// Welch's unequal-variance test of two summary means (Welch 1947;
/// Satterthwaite 1946 df: (s1^2 + s2^2)^2 / (s1^4 / df1 + s2^4 / df2), where
/// a side with df = infinity adds nothing to the denominator).
void unpaired_summary_test(CompareRow& row, const json& mb, const json& mc) {
  const auto sb = summary_side(mb), sc = summary_side(mc);
  if (!sb || !sc || !std::isfinite(row.delta)) return;
  const double vb = sb->se * sb->se, vc = sc->se * sc->se;
  const double se = std::sqrt(vb + vc);
  row.method = "unpaired_summary";
  // The smaller side's count; a side that does not know its count yields.
  row.n = sb->n == 0 ? sc->n : sc->n == 0 ? sb->n : std::min(sb->n, sc->n);
  if (!(se > 0)) {  // both intervals of zero width: certain if the means differ
    row.p = row.delta == 0 ? 1 : 0;
    return;
  }
  const double tz = std::abs(row.delta) / se;
  const double denom = (std::isinf(sb->df) ? 0 : vb * vb / sb->df) +
                       (std::isinf(sc->df) ? 0 : vc * vc / sc->df);
  if (denom == 0) {
    row.p = 2 * (1 - normal_cdf(tz));
  } else {
    row.p = student_t_two_sided_p(tz, (vb + vc) * (vb + vc) / denom);
  }
}

void set_means(CompareRow& row, double base, double candidate, double delta) {
  row.base = base;
  row.candidate = candidate;
  row.delta = delta;
  row.relative = base != 0 ? delta / std::abs(base) : std::nan("");
}

/// The row of one (algorithm, metric) with its raw p-value; the verdict waits
/// for the Holm adjustment over the whole compare.
CompareRow compare_metric(const RunForCompare& base, const RunForCompare& cand,
                          const std::string& algorithm, const std::string& metric) {
  CompareRow row;
  row.algorithm = algorithm;
  row.metric = metric;
  const json* rb = summary_row(base.report, algorithm);
  const json* rc = summary_row(cand.report, algorithm);
  const json mb = rb ? rb->value("metrics", json::object()).value(metric, json::object()) : json();
  const json mc = rc ? rc->value("metrics", json::object()).value(metric, json::object()) : json();
  set_means(row, num(mb, "mean"), num(mc, "mean"), num(mc, "mean") - num(mb, "mean"));
  row.method = "none";

  // Paired exactly as report.json's comparisons: candidate trials against
  // baseline trials of the same (dataset, fold, seed), per user where both kept
  // per-user vectors (rmse and mae: the users' error sums), else per trial.
  const json paired = report_detail::compare_pair(cand.records, algorithm, base.records, algorithm,
                                                  metric, report_detail::metric_view(metric));
  if (const double p = num(paired, "t_p"); std::isfinite(p)) {
    row.method = paired.value("method", "");
    row.n = paired.value("n", std::int64_t{0});
    row.p = p;
    // The means the test compared, over the paired units. They are the
    // summaries' when both runs kept the same trials and users; when one side
    // has trials or users the other lacks (a failed seed), the summaries'
    // delta can point the other way, and a verdict on it would read the
    // test's p as evidence for the opposite claim.
    set_means(row, num(paired, "mean_b"), num(paired, "mean_a"), num(paired, "mean_diff"));
  } else {
    unpaired_summary_test(row, mb, mc);
  }
  return row;
}

void decide(CompareRow& row, const CompareOptions& opt) {
  const bool beyond = std::isfinite(row.relative) ? std::abs(row.relative) > opt.threshold
                                                  : row.delta != 0;
  const bool significant = row.method != "none" && row.p_holm < opt.alpha;
  const bool up = row.delta > 0;
  const bool good = fmt::lower_is_better(row.metric) ? !up : up;
  row.better = beyond && significant && good && row.delta != 0;
  row.worse = beyond && significant && !good && row.delta != 0;
}

std::vector<std::string> labels(const json& report) {
  std::vector<std::string> out;
  for (const auto& row : report.value("summary", json::array()))
    out.push_back(row.value("algorithm", ""));
  return out;
}

}  // namespace

RunForCompare load_run(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const fs::path file = fs::is_directory(path) ? path / "report.json" : path;
  RunForCompare run;
  try {
    run.report = json::parse(read_file(file));
  } catch (const json::exception& e) {
    throw Error(file.string() + ": not a recfuse report: " + e.what());
  }
  if (!run.report.contains("schema_version") || !run.report.contains("summary"))
    throw Error(file.string() + ": not a recfuse report (no schema_version / summary)");
  // trials/ keeps the records of earlier runs into the same directory (a
  // changed parameter gives a trial a new id; the old record stays), so only
  // the trials this report lists are read: a stale record of the same label,
  // fold and seed must not stand in for the run's own.
  std::set<std::string> listed;
  for (const auto& t : run.report.value("trials", json::array())) {
    if (t.is_object() && t.contains("trial_id") && t["trial_id"].is_string())
      listed.insert(t["trial_id"].get<std::string>());
  }
  const fs::path trials = file.parent_path() / "trials";
  if (fs::is_directory(trials)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(trials))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        json record = json::parse(read_file(f));
        const bool ours = listed.empty() || (record.contains("trial_id") &&
                                             record["trial_id"].is_string() &&
                                             listed.count(record["trial_id"].get<std::string>()));
        if (ours) run.records.push_back(std::move(record));
      } catch (const json::exception&) {
        // A torn record is skipped (the summary still speaks for it), and named.
        run.unreadable.push_back(f.string());
      }
    }
  }
  return run;
}

CompareResult compare_runs(const RunForCompare& base, const RunForCompare& cand,
                           const CompareOptions& opt) {
  CompareResult res;
  std::vector<std::string> metrics = opt.metrics;
  if (metrics.empty()) {
    // A report of simulated protocols has no headline (null): its return and
    // regret are what report.json compares. A metric neither run reports
    // yields no row.
    const auto headline = base.report.find("headline_metric");
    if (headline == base.report.end()) {
      metrics.push_back("ndcg@10");
    } else if (headline->is_string()) {
      metrics.push_back(headline->get<std::string>());
    }
    for (const char* m : {"rmse", "mae", "return", "regret"})
      if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  }
  const auto lb = labels(base.report), lc = labels(cand.report);
  const std::set<std::string> sb(lb.begin(), lb.end()), sc(lc.begin(), lc.end());
  for (const auto& a : lb) {
    if (!sc.count(a)) {
      res.only_in_base.push_back(a);
      continue;
    }
    for (const auto& m : metrics) {
      CompareRow row = compare_metric(base, cand, a, m);
      if (std::isnan(row.base) && std::isnan(row.candidate)) continue;  // metric not measured
      res.rows.push_back(std::move(row));
    }
  }
  for (const auto& a : lc)
    if (!sb.count(a)) res.only_in_candidate.push_back(a);
  // One family: every tested (algorithm, metric) row of this compare, so a
  // gate over many rows does not fire on the smallest of many raw p-values.
  std::vector<double> raw;
  std::vector<std::size_t> tested;
  for (std::size_t i = 0; i < res.rows.size(); ++i)
    if (res.rows[i].method != "none") raw.push_back(res.rows[i].p), tested.push_back(i);
  const std::vector<double> adjusted = holm_adjust(raw);
  for (std::size_t i = 0; i < tested.size(); ++i) res.rows[tested[i]].p_holm = adjusted[i];
  for (auto& row : res.rows) {
    decide(row, opt);
    res.regressions += row.worse;
    res.lost += !std::isnan(row.base) && std::isnan(row.candidate);
  }
  res.lost += static_cast<int>(res.only_in_base.size());
  return res;
}

void write_compare_markdown(std::ostream& out, const CompareResult& res,
                            const CompareOptions& opt) {
  out << "| algorithm | metric | baseline | candidate | delta | relative | n | method | p | "
         "p (Holm) | verdict |\n"
      << "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|\n";
  for (const auto& r : res.rows) {
    // A side without the metric (every trial failed, or it was not measured)
    // is named: "same" would claim a comparison that was not made.
    const std::string verdict = std::isnan(r.candidate) ? "missing in candidate"
                                : std::isnan(r.base)    ? "missing in baseline"
                                : r.worse               ? "REGRESSION"
                                : r.better              ? "better"
                                                        : "same";
    out << "| " << fmt::md_cell(r.algorithm) << " | " << r.metric << " | " << fmt::fixed(r.base, 4)
        << " | " << fmt::fixed(r.candidate, 4) << " | " << fmt::fixed(r.delta, 4) << " | "
        << (std::isfinite(r.relative) ? fmt::fixed(100 * r.relative, 2) + "%" : "n/a") << " | "
        << r.n << " | " << r.method << " | "
        << (r.method == "none" ? "n/a" : fmt::p_value(r.p)) << " | "
        << (r.method == "none" ? "n/a" : fmt::p_value(r.p_holm)) << " | " << verdict << " |\n";
  }
  for (const auto& a : res.only_in_base) out << "\nonly in baseline: " << a;
  for (const auto& a : res.only_in_candidate) out << "\nonly in candidate: " << a;
  if (std::any_of(res.rows.begin(), res.rows.end(), [](const CompareRow& r) { return r.method.rfind("paired_", 0) == 0; }))
    out << "\npaired rows: baseline and candidate are the means over the units the test paired (trials matched "
           "on dataset, fold and seed), which can differ from the summaries' when a side has trials or users the "
           "other lacks";
  out << "\n" << res.regressions << " regression(s) (worse by more than "
      << fmt::fixed(100 * opt.threshold, 2) << "% with Holm-adjusted p < " << fmt::shortest(opt.alpha) << ")\n";
  if (res.lost > 0)
    out << res.lost << " lost in the candidate (an algorithm only in the baseline, or a metric missing in the candidate)"
        << (opt.allow_missing ? ", allowed by --allow-missing\n" : ": the gate fails on them as on a regression\n");
}

}  // namespace recfuse
