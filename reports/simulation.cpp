// The simulated protocols in report.md: the online table (return, regret
// against the environment's myopic oracle, CTR, session length, engagement,
// coverage, diversity, learning curves) and the off-policy table (each
// estimator's value next to the frozen policy's true value, with the bias
// and RMSE of each estimator over the trials).
#include <cmath>
#include <ostream>
#include <set>

#include "reports/format.hpp"
#include "reports/summary.hpp"

namespace recfuse::report_detail {
namespace {

using nlohmann::json;
namespace rf = report_format;
using report_format::child;

std::string cell(const json& row, const char* metric, int precision) {
  const json& s = child(child(row, "metrics"), metric);
  if (s.is_null()) return "n/a";
  return rf::mean_ci(rf::number(s, "mean"), rf::number(s, "low"), rf::number(s, "high"), precision);
}

bool has_metric(const json& row, const char* metric) {
  return !child(child(row, "metrics"), metric).is_null();
}

void write_online(std::ostream& out, const json& report) {
  out << "## Simulated online\n\n"
         "Each algorithm was fitted on the logging policy's episodes, then deployed for the "
         "scenario's episodes (learning online through `observe` when it can). Return, CTR, "
         "session length and engagement are per episode, mean [95% CI] over episodes (over "
         "trials when there are several seeds). Regret = the environment's myopic oracle's return "
         "on the same episodes minus the policy's (negative: the policy beat the myopic "
         "oracle). Coverage: share of the catalogue ever shown; diversity: mean 1 - cosine "
         "similarity of item features within a slate.\n\n"
         "| algorithm | return | regret | ctr | session length | engagement | coverage | diversity |"
         "\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : child(report, "summary")) {
    if (!has_metric(row, "return") || !has_metric(row, "ctr")) continue;
    out << "| " << rf::md_cell(rf::text(row, "algorithm")) << " | " << cell(row, "return", 3)
        << " | " << cell(row, "regret", 3) << " | " << cell(row, "ctr", 4) << " | "
        << cell(row, "session_length", 2) << " | " << cell(row, "engagement", 3) << " | "
        << cell(row, "coverage", 4) << " | " << cell(row, "diversity", 4) << " |\n";
  }
  out << "\nLearning curves (mean return per window of episodes, first trial of each "
         "algorithm):\n\n";
  std::set<std::string> seen;
  for (const auto& t : child(report, "trials")) {
    const json& curve = child(t, "learning_curve");
    if (curve.is_null() || !seen.insert(rf::text(t, "algorithm")).second) continue;
    out << "- " << rf::md_cell(rf::text(t, "algorithm")) << " (window "
        << rf::text(curve, "window") << "):";
    for (const auto& v : child(curve, "return"))
      out << ' ' << rf::fixed(v.is_number() ? v.get<double>() : std::nan(""), 2);
    out << '\n';
  }
  out << '\n';
}

struct BiasRmse {
  double bias = std::nan(""), rmse = std::nan("");
  int n = 0, trials = 0;  // trials with a finite error, of the ok ones
};

/// Bias and RMSE of an estimator over the ok off-policy trials of `label`.
BiasRmse bias_rmse(const json& report, const std::string& label, const char* estimator) {
  double sum = 0, sq = 0;
  BiasRmse out;
  for (const auto& t : child(report, "trials")) {
    if (rf::text(t, "algorithm") != label || rf::text(t, "status") != "ok") continue;
    ++out.trials;
    const double e = rf::number(child(child(t, "metrics"), estimator), "error");
    if (!std::isfinite(e)) continue;
    sum += e, sq += e * e, ++out.n;
  }
  if (out.n > 0) out.bias = sum / out.n, out.rmse = std::sqrt(sq / out.n);
  return out;
}

void write_off_policy(std::ostream& out, const json& report) {
  out << "## Off-policy estimates\n\n"
         "Value = expected reward of the first slate of a session from the policy frozen after "
         "fitting (later steps stand in states the logging policy led to, so they would "
         "estimate another value). The estimators read the first steps of a fresh log of the "
         "logging policy (propensities recorded); the true value comes from running the same "
         "frozen policy in the environment. Estimates: mean [95% CI], for a single trial the "
         "estimator's normal interval (value +- 1.96 SE), over trials (t-interval) when several "
         "seeds ran; bias and RMSE of each estimator against the true value over the trials "
         "whose estimate is defined (\"of m\" when only m of the trials have one: SNIPS has none "
         "when no logged slate has weight). ESS = effective sample size of the importance "
         "weights.\n\n"
         "| algorithm | true value | IPS | SNIPS | DR | IPS bias / RMSE | SNIPS bias / RMSE | "
         "DR bias / RMSE | ESS |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : child(report, "summary")) {
    if (!has_metric(row, "true_value")) continue;
    const std::string label = rf::text(row, "algorithm");
    out << "| " << rf::md_cell(label) << " | " << cell(row, "true_value", 4) << " | "
        << cell(row, "ips", 4) << " | " << cell(row, "snips", 4) << " | " << cell(row, "dr", 4);
    for (const char* est : {"ips", "snips", "dr"}) {
      const BiasRmse b = bias_rmse(report, label, est);
      out << " | " << rf::fixed(b.bias, 4) << " / " << rf::fixed(b.rmse, 4);
      if (b.n < b.trials) out << " (of " << b.n << ")";
    }
    out << " | " << rf::fixed(rf::number(child(child(row, "metrics"), "ess"), "mean"), 1) << " |\n";
  }
  out << '\n';
}

}  // namespace

void write_simulation_markdown(std::ostream& out, const json& report) {
  bool online = false, off_policy = false;
  for (const auto& row : child(report, "summary")) {
    online = online || (has_metric(row, "return") && has_metric(row, "ctr"));
    off_policy = off_policy || has_metric(row, "true_value");
  }
  if (online) write_online(out, report);
  if (off_policy) write_off_policy(out, report);
}

}  // namespace recfuse::report_detail
