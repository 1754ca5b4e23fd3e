#include "reports/compare.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <set>

#include "eval/stats.hpp"
#include "recfuse/types.hpp"
#include "reports/format.hpp"
#include "util/fs.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;
namespace fmt = report_format;

double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

/// user id -> value of `metric`, for the ok trial of (algorithm, fold, seed).
using UserValues = std::map<std::int64_t, double>;
std::map<std::string, UserValues> per_user_values(const std::vector<json>& records,
                                                  const std::string& algorithm,
                                                  const std::string& metric) {
  std::map<std::string, UserValues> out;
  for (const auto& r : records) {
    if (r.value("algorithm", "") != algorithm || r.value("status", "") != "ok") continue;
    if (!r.contains("per_user") || !r["per_user"].contains(metric)) continue;
    const auto& users = r["per_user"]["users"];
    const auto& values = r["per_user"][metric];
    const std::string key = r.value("fold", "") + "#" + std::to_string(r.value("seed", 0ULL));
    for (std::size_t i = 0; i < users.size() && i < values.size(); ++i)
      if (values[i].is_number()) out[key][users[i].get<std::int64_t>()] = values[i].get<double>();
  }
  return out;
}

const json* summary_row(const json& report, const std::string& algorithm) {
  if (!report.contains("summary")) return nullptr;
  for (const auto& row : report["summary"])  // by reference: the pointer outlives the loop
    if (row.value("algorithm", "") == algorithm) return &row;
  return nullptr;
}

CompareRow compare_metric(const RunForCompare& base, const RunForCompare& cand,
                          const std::string& algorithm, const std::string& metric,
                          const CompareOptions& opt) {
  CompareRow row;
  row.algorithm = algorithm;
  row.metric = metric;
  const json* rb = summary_row(base.report, algorithm);
  const json* rc = summary_row(cand.report, algorithm);
  const json mb = rb ? rb->value("metrics", json::object()).value(metric, json::object()) : json();
  const json mc = rc ? rc->value("metrics", json::object()).value(metric, json::object()) : json();
  row.base = num(mb, "mean");
  row.candidate = num(mc, "mean");
  row.delta = row.candidate - row.base;
  row.relative = row.base != 0 ? row.delta / std::abs(row.base) : std::nan("");
  row.method = "none";

  // Paired per user where both runs kept per-user values for the same trials.
  const auto ub = per_user_values(base.records, algorithm, metric);
  const auto uc = per_user_values(cand.records, algorithm, metric);
  std::vector<double> a, b;
  for (const auto& [trial, values] : ub) {
    auto it = uc.find(trial);
    if (it == uc.end()) continue;
    for (const auto& [user, v] : values)
      if (auto jt = it->second.find(user); jt != it->second.end()) {
        a.push_back(v);
        b.push_back(jt->second);
      }
  }
  if (a.size() >= 2) {
    const PairedComparison pc = paired_compare(b, a);
    row.method = "paired_users";
    row.n = pc.n;
    row.p = std::isfinite(pc.t_p) ? pc.t_p : (pc.mean_diff == 0 ? 1.0 : 0.0);
  } else if (std::isfinite(num(mb, "low")) && std::isfinite(num(mc, "low"))) {
    // Standard errors from the 95% intervals (half-width / 1.96).
    const double sb = (num(mb, "high") - num(mb, "low")) / 3.92;
    const double sc = (num(mc, "high") - num(mc, "low")) / 3.92;
    const double se = std::sqrt(sb * sb + sc * sc);
    row.method = "unpaired_ci";
    row.n = static_cast<std::int64_t>(std::min(num(mb, "n"), num(mc, "n")));
    row.p = se > 0 ? 2 * (1 - normal_cdf(std::abs(row.delta) / se)) : (row.delta == 0 ? 1 : 0);
  }
  const bool beyond = std::isfinite(row.relative) ? std::abs(row.relative) > opt.threshold
                                                  : row.delta != 0;
  const bool significant = row.method != "none" && row.p < opt.alpha;
  const bool up = row.delta > 0;
  const bool good = fmt::lower_is_better(metric) ? !up : up;
  row.better = beyond && significant && good && row.delta != 0;
  row.worse = beyond && significant && !good && row.delta != 0;
  return row;
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
  const fs::path trials = file.parent_path() / "trials";
  if (fs::is_directory(trials)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(trials))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        run.records.push_back(json::parse(read_file(f)));
      } catch (const json::exception&) {
        // A torn record is skipped: the summary still speaks for it.
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
    metrics.push_back(base.report.value("headline_metric", "ndcg@10"));
    for (const char* m : {"rmse", "mae"})
      if (metrics.front() != m) metrics.push_back(m);
  }
  const auto lb = labels(base.report), lc = labels(cand.report);
  const std::set<std::string> sb(lb.begin(), lb.end()), sc(lc.begin(), lc.end());
  for (const auto& a : lb) {
    if (!sc.count(a)) {
      res.only_in_base.push_back(a);
      continue;
    }
    for (const auto& m : metrics) {
      CompareRow row = compare_metric(base, cand, a, m, opt);
      if (std::isnan(row.base) && std::isnan(row.candidate)) continue;  // metric not measured
      res.regressions += row.worse;
      res.rows.push_back(std::move(row));
    }
  }
  for (const auto& a : lc)
    if (!sb.count(a)) res.only_in_candidate.push_back(a);
  return res;
}

void write_compare_markdown(std::ostream& out, const CompareResult& res,
                            const CompareOptions& opt) {
  out << "| algorithm | metric | baseline | candidate | delta | relative | n | method | p | verdict |\n"
      << "|---|---|---:|---:|---:|---:|---:|---|---:|---|\n";
  for (const auto& r : res.rows) {
    const std::string verdict = r.worse ? "REGRESSION" : r.better ? "better" : "same";
    out << "| " << fmt::md_cell(r.algorithm) << " | " << r.metric << " | " << fmt::fixed(r.base, 4)
        << " | " << fmt::fixed(r.candidate, 4) << " | " << fmt::fixed(r.delta, 4) << " | "
        << (std::isfinite(r.relative) ? fmt::fixed(100 * r.relative, 2) + "%" : "n/a") << " | "
        << r.n << " | " << r.method << " | " << fmt::p_value(r.p) << " | " << verdict << " |\n";
  }
  for (const auto& a : res.only_in_base) out << "\nonly in baseline: " << a;
  for (const auto& a : res.only_in_candidate) out << "\nonly in candidate: " << a;
  out << "\n" << res.regressions << " regression(s) (worse by more than "
      << fmt::fixed(100 * opt.threshold, 2) << "% with p < " << fmt::shortest(opt.alpha) << ")\n";
}

}  // namespace recfuse
