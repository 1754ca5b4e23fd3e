// Paired comparisons on one metric: each algorithm against the best one,
// and the planned comparisons a scenario declares ([evaluation] compare);
// `recfuse compare` (reports/compare.cpp) pairs two runs with the same code.
//
// Pairing: two trials are comparable when they share (dataset, fold, seed):
// same training data, same test users (the dataset's sha256 matters only
// between two runs, as `recfuse compare` pairs them: user ids number each
// dataset's users from 0, so user 3 of other data is someone else). With
// per-user vectors on both sides the unit is the user: its value is the
// mean over every (fold, seed) both algorithms ran in which the user was
// tested, so neither repeated seeds nor folds count one user several times
// (users are the independent replications; seeds are not independent of
// them, and k-fold or ml-100k's u1..u5 folds test the same users again on
// overlapping training data).
// RMSE and MAE (paired_user_errors) pair users on their rating errors: a
// user's value on each side is the sum of its squared (absolute) errors over
// every matched trial, n_u its test ratings there (the same on both sides).
// The t-test is on d_u = SSE_a,u - SSE_b,u: since Σ_u d_u / Σ_u n_u =
// MSE_a - MSE_b, it is the user-clustered test of the MSE difference (the
// ratio estimator's linearised residual under H0 is d_u itself), so its sign
// is the sign of the RMSE delta the row shows. Pairing a per-user RMSE
// instead would weigh a user with one rating as one with a hundred and can
// point the other way. Repeats of a user over seeds of one split (or over
// folds) are summed into one unit: users are assumed independent of each
// other; a user's ratings, seeds and folds are not. A deterministic
// algorithm's seeds then add nothing (each d_u is S times one seed's, t
// unchanged) instead of S identical trial differences with sd 0 and p = 0;
// sums rather than means keep Σ d / Σ n the pooled MSE difference when users
// are tested in different numbers of trials (random splits). The test
// generalises over users for the seeds run: a shift that one seed's training
// gives every user alike is not a source of error it counts. The row's
// means are the metric over the paired ratings (RMSE = sqrt(Σ SSE / Σ n),
// MAE = Σ SAE / Σ n); the t-interval of mean d scales by users / ratings
// to the MSE (MAE) difference, and for rmse to RMSE units by dividing by
// RMSE_a + RMSE_b (exact at the point, first order at the ends: it excludes
// 0 exactly when p < 0.05); d_z and Wilcoxon stay those of d.
// Without per-user vectors (records before the rating sums) the unit is the
// (fold, seed) trial, and at least two pairs are needed.
// Tests: recfuse::paired_compare (paired t, Wilcoxon signed-rank, Cohen's
// d_z); Holm (1979) step-down adjustment of the t p-values over the rows of
// one metric. The families differ: vs-best, every "is X worse than the best"
// question the table asks; planned, exactly the pairs declared before the
// run, so a pre-registered claim is neither diluted by the vs-best rows nor
// picked from them.
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "eval/stats.hpp"
#include "reports/format.hpp"
#include "reports/summary.hpp"

namespace recfuse::report_detail {
namespace {

using nlohmann::json;
using report_format::number;
using report_format::text;
using TrialKey = std::tuple<std::string, std::string, std::string>;  // (dataset sha256, fold, seed)

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// record["metrics"][metric]["mean"], NaN when any level is missing.
double metric_mean(const json& record, const std::string& metric) {
  auto metrics = record.find("metrics");
  if (metrics == record.end() || !metrics->is_object()) return std::nan("");
  auto m = metrics->find(metric);
  return m == metrics->end() ? std::nan("") : number(*m, "mean");
}

std::map<TrialKey, const json*> ok_trials_of(const std::vector<json>& records,
                                             const std::string& label) {
  std::map<TrialKey, const json*> trials;
  for (const auto& r : records) {
    if (is_ok(r) && text(r, "algorithm") == label) {
      trials.emplace(TrialKey{text(report_format::child(r, "dataset"), "sha256"), text(r, "fold"),
                              text(r, "seed")},
                     &r);  // first one wins
    }
  }
  return trials;
}

}  // namespace

std::map<std::int64_t, double> per_user_values(const json& record, const std::string& metric) {
  std::map<std::int64_t, double> values;
  auto pu = record.find("per_user");
  if (pu == record.end() || !pu->is_object()) return values;
  auto users = pu->find("users");
  auto vals = pu->find(metric);
  if (users == pu->end() || vals == pu->end() || !users->is_array() || !vals->is_array() ||
      users->size() != vals->size()) {
    return values;
  }
  for (std::size_t i = 0; i < users->size(); ++i) {
    const json& u = (*users)[i];
    const json& v = (*vals)[i];
    if (u.is_number_integer() && v.is_number()) values[u.get<std::int64_t>()] = v.get<double>();
  }
  return values;
}

std::map<std::int64_t, UserErrorSum> rating_error_sums(const json& record, const std::string& sums) {
  std::map<std::int64_t, UserErrorSum> out;
  const json& pu = report_format::child(record, "per_user");
  const json& users = report_format::child(pu, "rating_users");
  const json& n = report_format::child(pu, "rating_n");
  const json& s = report_format::child(pu, sums.c_str());
  if (!users.is_array() || !n.is_array() || !s.is_array() || users.size() != n.size() ||
      users.size() != s.size())
    return out;
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (!users[i].is_number_integer() || !n[i].is_number_integer() || !s[i].is_number()) continue;
    const auto count = n[i].get<std::int64_t>();
    if (count >= 1) out[users[i].get<std::int64_t>()] = {s[i].get<double>(), count};
  }
  return out;
}

MetricView metric_view(const std::string& metric) {
  MetricView view{[metric](const json& r) { return per_user_values(r, metric); },
                  [metric](const json& r) { return metric_mean(r, metric); }, nullptr};
  if (metric == "rmse" || metric == "mae") {
    const std::string sums = metric == "rmse" ? "rating_sse" : "rating_sae";
    view.rating_errors = [sums](const json& r) { return rating_error_sums(r, sums); };
    view.sqrt_of_mean = metric == "rmse";
  }
  return view;
}

namespace {

struct PairedSamples {
  std::vector<double> a, b;
  std::string method, note;
  std::int64_t matched_trials = 0;
  double ratings = 0;  // paired_user_errors: Σ n over the paired users and trials
};

/// rmse / mae on the users' error sums (the file comment); matched_trials = 0
/// when no matched pair of trials kept them on both sides.
PairedSamples pair_rating_errors(const std::map<TrialKey, const json*>& algo,
                                 const std::map<TrialKey, const json*>& baseline,
                                 const MetricView& view) {
  struct Totals {
    double a = 0, b = 0, n = 0;
  };
  std::map<std::int64_t, Totals> users;  // user -> error sums over the matched trials
  PairedSamples out;
  std::int64_t without = 0, unequal = 0;
  for (const auto& [key, record] : algo) {
    auto other = baseline.find(key);
    if (other == baseline.end()) continue;
    const auto ea = view.rating_errors(*record), eb = view.rating_errors(*other->second);
    if (ea.empty() || eb.empty()) {
      without += std::isfinite(view.trial_mean(*record)) && std::isfinite(view.trial_mean(*other->second));
      continue;
    }
    ++out.matched_trials;
    for (const auto& [user, a] : ea) {
      auto b = eb.find(user);
      if (b == eb.end() || !std::isfinite(a.sum) || !std::isfinite(b->second.sum)) continue;
      if (a.n != b->second.n) {  // not the same test ratings: nothing to pair
        ++unequal;
        continue;
      }
      Totals& t = users[user];
      t.a += a.sum, t.b += b->second.sum, t.n += static_cast<double>(a.n);
    }
  }
  for (const auto& [user, t] : users) out.a.push_back(t.a), out.b.push_back(t.b), out.ratings += t.n;
  out.method = "paired_user_errors";
  const bool rmse = view.sqrt_of_mean;
  out.note = std::string("t on each user's ") + (rmse ? "SSE_a - SSE_b" : "SAE_a - SAE_b") +
             " summed over the matched trials (its mean has the sign of the " + (rmse ? "MSE" : "MAE") +
             " difference; users independent, a user's seeds and folds pooled); means: " +
             (rmse ? "RMSE" : "MAE") + " over the paired ratings";
  if (without > 0)
    out.note += "; " + std::to_string(without) + " matched trial(s) without per-user rating errors left out";
  if (unequal > 0)
    out.note += "; " + std::to_string(unequal) + " (trial, user) pair(s) with unequal rating counts left out";
  return out;
}

/// A comparison of error sums restated in the metric's units (the file
/// comment): Σ_u x_u / Σ n = mean_u x_u * users / ratings. The interval is
/// the t interval of mean_u d_u scaled by users / ratings (and, for RMSE,
/// divided by RMSE_a + RMSE_b): it excludes 0 exactly when p < alpha, but
/// away from 0 its width is approximate when users' rating counts vary (the
/// ratio estimator's interval would use the residuals d_u - (Σd/Σn)·n_u).
void to_metric_units(PairedComparison& c, double ratings, bool sqrt_of_mean) {
  const double scale = static_cast<double>(c.n) / ratings;
  double a = c.mean_a * scale, b = c.mean_b * scale;
  double low = c.diff_low * scale, high = c.diff_high * scale;
  if (sqrt_of_mean) {
    a = std::sqrt(a), b = std::sqrt(b);
    if (a + b > 0) low /= a + b, high /= a + b;  // a + b = 0: every error 0, so is the interval
  }
  c.mean_a = a, c.mean_b = b, c.mean_diff = a - b, c.diff_low = low, c.diff_high = high;
}

PairedSamples pair_samples(const std::map<TrialKey, const json*>& algo,
                           const std::map<TrialKey, const json*>& baseline,
                           const MetricView& view) {
  if (view.rating_errors) {
    PairedSamples rated = pair_rating_errors(algo, baseline, view);
    if (rated.matched_trials > 0) return rated;
  }
  struct Sums {
    double a = 0, b = 0;
    int n = 0;
  };
  std::map<std::int64_t, Sums> units;  // user -> sums over the matched trials
  PairedSamples trial_level, out;
  std::int64_t user_level_trials = 0, without_vectors = 0;
  for (const auto& [key, record] : algo) {
    auto other = baseline.find(key);
    if (other == baseline.end()) continue;
    double ma = view.trial_mean(*record), mb = view.trial_mean(*other->second);
    auto ua = view.per_user(*record), ub = view.per_user(*other->second);
    if (!ua.empty() && !ub.empty()) {
      ++user_level_trials;
      for (const auto& [user, va] : ua) {
        auto vb = ub.find(user);
        if (vb == ub.end() || !std::isfinite(va) || !std::isfinite(vb->second)) continue;
        Sums& s = units[user];
        s.a += va, s.b += vb->second, ++s.n;
      }
    } else if (std::isfinite(ma) && std::isfinite(mb)) {
      ++without_vectors;
      trial_level.a.push_back(ma), trial_level.b.push_back(mb);
    }
  }
  if (user_level_trials > 0) {
    out.method = "paired_users";
    out.matched_trials = user_level_trials;
    for (const auto& [unit, s] : units) {
      out.a.push_back(s.a / s.n), out.b.push_back(s.b / s.n);
    }
    if (without_vectors > 0) {
      out.note = std::to_string(without_vectors) +
                 " matched trial(s) without per-user vectors left out";
    }
    return out;
  }
  trial_level.method = "paired_trials";
  trial_level.matched_trials = without_vectors;
  if (without_vectors < 2) {
    trial_level.note = "skipped: no per-user vectors and " + std::to_string(without_vectors) +
                       " matched (fold, seed) trial(s); a paired test over trials needs 2";
  }
  return trial_level;
}

}  // namespace

std::string best_algorithm(const json& summary, const std::string& metric) {
  const bool lower = report_format::lower_is_better(metric);
  std::string best_label;
  double best_mean = std::numeric_limits<double>::quiet_NaN();
  for (const auto& row : summary) {
    double m = metric_mean(row, metric);
    if (!std::isfinite(m)) continue;
    if (best_label.empty() || (lower ? m < best_mean : m > best_mean)) {
      best_label = row["algorithm"].get<std::string>(), best_mean = m;
    }
  }
  return best_label;
}

json compare_pair(const std::vector<json>& records, const std::string& label,
                  const std::string& baseline, const std::string& metric,
                  const MetricView& view) {
  return compare_pair(records, label, records, baseline, metric, view);
}

json compare_pair(const std::vector<json>& label_records, const std::string& label,
                  const std::vector<json>& baseline_records, const std::string& baseline,
                  const std::string& metric, const MetricView& view) {
  PairedSamples samples = pair_samples(ok_trials_of(label_records, label),
                                       ok_trials_of(baseline_records, baseline), view);
  json out = json::object();
  out["metric"] = metric;
  out["direction"] = report_format::lower_is_better(metric) ? "lower_is_better"
                                                            : "higher_is_better";
  out["algorithm"] = label;
  out["baseline"] = baseline;
  out["method"] = samples.method;
  out["matched_trials"] = samples.matched_trials;
  out["n"] = samples.a.size();
  if (samples.a.size() >= 2) {
    PairedComparison c = paired_compare(samples.a, samples.b);
    if (samples.ratings > 0) to_metric_units(c, samples.ratings, view.sqrt_of_mean);
    out["n"] = c.n;
    out["mean_a"] = number_or_null(c.mean_a);
    out["mean_b"] = number_or_null(c.mean_b);
    out["mean_diff"] = number_or_null(c.mean_diff);
    out["diff_low"] = number_or_null(c.diff_low);
    out["diff_high"] = number_or_null(c.diff_high);
    out["t"] = number_or_null(c.t);
    out["t_p"] = number_or_null(c.t_p);
    out["w"] = number_or_null(c.w);
    out["w_p"] = number_or_null(c.w_p);
    out["effect_size"] = number_or_null(c.effect_size);
  } else if (samples.note.rfind("skipped", 0) != 0) {
    samples.note = "skipped: fewer than 2 paired units" + (samples.note.empty() ? "" : "; " + samples.note);
  }
  out["p_holm"] = nullptr;
  out["significant"] = nullptr;
  out["note"] = samples.note;
  return out;
}

void holm_over_rows(json& rows) {
  std::vector<double> p_values;
  std::vector<std::size_t> tested_rows;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double p = number(rows[i], "t_p");
    if (std::isfinite(p)) p_values.push_back(p), tested_rows.push_back(i);
  }
  std::vector<double> adjusted = holm_adjust(p_values);
  for (std::size_t i = 0; i < tested_rows.size(); ++i) {
    rows[tested_rows[i]]["p_holm"] = adjusted[i];
    rows[tested_rows[i]]["significant"] = adjusted[i] < 0.05;
  }
}

json build_comparisons(const std::vector<json>& records, const json& summary,
                       const std::string& metric) {
  json rows = json::array();
  const std::string best_label = best_algorithm(summary, metric);
  if (best_label.empty()) return rows;
  for (const auto& row : summary) {
    const std::string label = row["algorithm"].get<std::string>();
    if (label == best_label) continue;
    if (!std::isfinite(metric_mean(row, metric))) continue;
    rows.push_back(compare_pair(records, label, best_label, metric, metric_view(metric)));
  }
  holm_over_rows(rows);
  return rows;
}

json build_planned_comparisons(const std::vector<json>& records, const json& summary,
                               const std::vector<PlannedComparison>& planned,
                               const std::string& metric) {
  std::map<std::string, double> means;  // summary mean of `metric` per label
  for (const auto& row : summary) {
    means[row["algorithm"].get<std::string>()] = metric_mean(row, metric);
  }
  const auto reports_metric = [&](const std::string& label) {
    auto it = means.find(label);
    return it != means.end() && std::isfinite(it->second);
  };
  json rows = json::array();
  for (const auto& p : planned) {
    const bool treatment = reports_metric(p.treatment), baseline = reports_metric(p.baseline);
    if (!treatment && !baseline) continue;  // not a question about this metric
    json row = compare_pair(records, p.treatment, p.baseline, metric, metric_view(metric));
    if (!treatment || !baseline) {
      row["note"] = "skipped: no ok trial of '" + (treatment ? p.baseline : p.treatment) +
                    "' reports " + metric;
    }
    rows.push_back(std::move(row));
  }
  holm_over_rows(rows);
  return rows;
}

std::vector<PlannedComparison> planned_comparisons_of(const json& context) {
  std::vector<PlannedComparison> out;
  const json& pairs = report_format::child(report_format::child(context, "scenario"), "compare");
  if (!pairs.is_array()) return out;
  for (const auto& p : pairs) {
    if (p.is_array() && p.size() == 2 && p[0].is_string() && p[1].is_string()) {
      out.push_back({p[0].get<std::string>(), p[1].get<std::string>()});
    }
  }
  return out;
}

}  // namespace recfuse::report_detail
