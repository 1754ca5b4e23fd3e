#include "reports/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "eval/stats.hpp"
#include "reports/format.hpp"

namespace recfuse::report_detail {
namespace {

using report_format::child;

using nlohmann::json;
using report_format::number;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
// Byte counts stay integers in the JSON ("123456789", not "123456789.0").
json integer_or_null(double v) {
  return std::isfinite(v) ? json(static_cast<std::int64_t>(std::llround(v))) : json(nullptr);
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }),
          v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  std::size_t n = 0;
  for (double x : v) {
    if (std::isfinite(x)) sum += x, ++n;
  }
  return n ? sum / static_cast<double>(n) : kNaN;
}

double maximum(const std::vector<double>& v) {
  double m = kNaN;
  for (double x : v) {
    if (std::isfinite(x) && !(x <= m)) m = x;
  }
  return m;
}


// The kind of a trial's own interval: the record's "ci" when it names one;
// "normal" for the off-policy estimates, which carry their standard error
// and an interval of value +- 1.96 SE (eval/ope.hpp); else the percentile
// bootstrap every other record interval is (eval/stats.hpp).
std::string single_trial_ci(const json& block) {
  if (const json& ci = child(block, "ci"); ci.is_string()) return ci.get<std::string>();
  return block.contains("se") ? "normal" : "bootstrap";
}

// The test set a trial was scored on: the record's dataset.test_sha256,
// or, for records without one (simulated protocols, whose episodes differ
// by seed; records written before it existed), the trial itself.
std::string test_set_key(const json& trial, std::size_t index) {
  const json& sha = child(child(trial, "dataset"), "test_sha256");
  return sha.is_string() ? "sha:" + sha.get<std::string>() : "trial:" + std::to_string(index);
}

// Summary of one metric over the ok trials of one algorithm.
//
// - One trial: its own interval (bootstrap over users, or an off-policy
//   estimate's normal interval).
// - Trials on two or more test sets (folds, random splits that follow the
//   seed, simulated episodes): the unit is the test set. Trials sharing one
//   (seeds of one fold) are averaged first, then the t-interval of the mean
//   over test sets, df = test sets - 1 ("t"; with one trial per test set,
//   the t over trials).
// - Several trials on one test set (seeds of a fixed split): the spread of
//   their means measures only the seeds; the users are the same sample each
//   time, and with a deterministic algorithm the spread is 0. The interval
//   adds both: SE^2 = sd^2 / k (seeds) + the trials' mean bootstrap SE^2
//   over users (half-width / 1.96, an upper bound for the seed average's),
//   df by Welch-Satterthwaite (the users' part counts as infinite), so
//   mean +- t_df SE ("t+bootstrap"), the users' part averaged over the
//   trials that have an interval; with none (catalogue measures such as
//   coverage, or bootstrap = 0) the row is the mean only ("none").
// Rows with k >= 2 carry "se" and "df" (null: infinite) for recfuse compare.
// `block(trial)` is the trial's {mean, low, high, n} object of the metric.
template <class Block>
json metric_summary(const std::vector<const json*>& trials, Block block) {
  std::vector<const json*> with;
  std::vector<double> means;
  for (const json* t : trials) {
    double m = number(block(*t), "mean");
    if (std::isfinite(m)) with.push_back(t), means.push_back(m);
  }
  json row = json::object();
  const std::size_t k = means.size();
  if (k == 0) {
    row = {{"mean", nullptr}, {"low", nullptr}, {"high", nullptr}, {"trials", 0}, {"ci", "none"}};
    return row;
  }
  if (k == 1) {
    const json& m = block(*with[0]);
    double low = number(m, "low"), high = number(m, "high");
    bool has_ci = std::isfinite(low) && std::isfinite(high);
    row = {{"mean", means[0]}, {"low", number_or_null(low)}, {"high", number_or_null(high)},
           {"trials", 1}, {"ci", has_ci ? single_trial_ci(m) : "none"}};
    if (double n = number(m, "n"); std::isfinite(n)) row["n"] = static_cast<std::int64_t>(n);
    return row;
  }
  std::map<std::string, std::vector<double>> by_test_set;
  for (std::size_t j = 0; j < k; ++j) by_test_set[test_set_key(*with[j], j)].push_back(means[j]);
  const double inf = std::numeric_limits<double>::infinity();
  double mu = mean(means), se = 0, df = 0, sd = kNaN;
  std::string kind = "t";
  if (by_test_set.size() >= 2) {
    // The estimate is the mean over test sets (with unequal seeds per set,
    // not the mean over trials), the interval's centre.
    std::vector<double> set_means;
    for (const auto& [key, v] : by_test_set) set_means.push_back(mean(v));
    mu = mean(set_means);
    sd = sample_sd(set_means);
    se = sd / std::sqrt(static_cast<double>(set_means.size()));
    df = static_cast<double>(set_means.size() - 1);
  } else {
    sd = sample_sd(means);
    const double se_seeds = sd / std::sqrt(static_cast<double>(k));
    double users_var = 0;  // mean over the trials with an interval of (half-width / 1.96)^2
    std::size_t with_interval = 0;
    for (const json* t : with) {
      const json& m = block(*t);
      const double half = (number(m, "high") - number(m, "low")) / 2;
      if (std::isfinite(half)) users_var += (half / 1.96) * (half / 1.96), ++with_interval;
    }
    if (with_interval == 0) {
      // Catalogue measures (coverage), or bootstrap = 0: no users' part to
      // add, and the seeds' spread alone would call a deterministic
      // algorithm exact. Mean only, as one such trial has.
      row = {{"mean", mu}, {"low", nullptr}, {"high", nullptr}, {"trials", k}, {"test_sets", 1},
             {"ci", "none"}, {"sd", number_or_null(sd)}, {"se", nullptr}, {"df", nullptr}};
      return row;
    }
    users_var /= static_cast<double>(with_interval);
    kind = "t+bootstrap";
    se = std::sqrt(se_seeds * se_seeds + users_var);
    const double seeds4 = se_seeds * se_seeds * se_seeds * se_seeds;
    df = seeds4 > 0 ? std::pow(se, 4) / (seeds4 / static_cast<double>(k - 1)) : inf;
  }
  const double half = (std::isinf(df) ? 1.96 : student_t_quantile(0.975, df)) * se;
  row = {{"mean", mu}, {"low", number_or_null(mu - half)}, {"high", number_or_null(mu + half)},
         {"trials", k}, {"test_sets", by_test_set.size()}, {"ci", kind}, {"sd", number_or_null(sd)},
         {"se", number_or_null(se)}, {"df", number_or_null(df)}};
  return row;
}

}  // namespace

json summarize_segments(const std::vector<const json*>& ok_trials) {
  std::map<std::string, std::set<std::string>> metrics;  // segment -> metric names
  for (const json* t : ok_trials) {
    const json& segments = child(*t, "segments");
    if (!segments.is_object()) continue;
    for (auto s = segments.begin(); s != segments.end(); ++s) {
      auto& names = metrics[s.key()];
      if (!s->is_object()) continue;
      for (auto m = s->begin(); m != s->end(); ++m) {
        if (m->is_object()) names.insert(m.key());
      }
    }
  }
  json out = json::object();
  for (const auto& [segment, names] : metrics) {
    const auto block_of = [&](const json& t) -> const json& {
      return child(child(t, "segments"), segment.c_str());
    };
    std::vector<double> sizes;
    for (const json* t : ok_trials) sizes.push_back(number(block_of(*t), "n"));
    json s = json::object();
    s["n"] = number_or_null(mean(sizes));
    for (const auto& m : names) {
      json row = metric_summary(
          ok_trials, [&](const json& t) -> const json& { return child(block_of(t), m.c_str()); });
      if (row["trials"].get<std::size_t>() > 0) s[m] = std::move(row);
    }
    out[segment] = std::move(s);
  }
  return out;
}

bool is_ok(const json& record) {
  return record.is_object() && record.value("status", std::string()) == "ok";
}

std::vector<std::string> algorithm_labels(const std::vector<json>& records) {
  std::vector<std::string> labels;
  for (const auto& r : records) {
    std::string label = report_format::text(r, "algorithm");
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
  }
  return labels;
}

std::vector<std::string> metric_names(const std::vector<json>& records) {
  std::set<std::string> names;
  for (const auto& r : records) {
    const json& metrics = child(r, "metrics");
    if (!is_ok(r) || !metrics.is_object()) continue;
    for (auto it = metrics.begin(); it != metrics.end(); ++it) names.insert(it.key());
  }
  std::vector<std::string> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end(), report_format::metric_display_less);
  return sorted;
}

std::string headline_metric(const std::vector<json>& records) {
  std::set<std::string> present;
  for (const auto& r : records) {
    const json& metrics = child(r, "metrics");
    if (!is_ok(r) || !metrics.is_object()) continue;
    for (auto it = metrics.begin(); it != metrics.end(); ++it) {
      if (std::isfinite(number(*it, "mean"))) present.insert(it.key());
    }
  }
  if (present.count("ndcg@10")) return "ndcg@10";
  std::string best;
  long best_cutoff = std::numeric_limits<long>::max();
  for (const auto& name : present) {
    if (name.rfind("ndcg@", 0) != 0) continue;
    char* end = nullptr;
    long cutoff = std::strtol(name.c_str() + 5, &end, 10);
    if (end != name.c_str() + 5 && *end == '\0' && cutoff < best_cutoff) {
      best = name, best_cutoff = cutoff;
    }
  }
  if (!best.empty()) return best;
  return present.count("rmse") ? "rmse" : "";
}

json build_summary(const std::vector<json>& records) {
  const auto metrics = metric_names(records);
  json rows = json::array();
  for (const auto& label : algorithm_labels(records)) {
    std::vector<const json*> ok;
    std::size_t total = 0;
    std::string plugin;
    for (const auto& r : records) {
      if (report_format::text(r, "algorithm") != label) continue;
      ++total;
      if (plugin.empty()) plugin = report_format::text(r, "plugin");
      if (is_ok(r)) ok.push_back(&r);
    }
    json row = json::object();
    row["algorithm"] = label;
    row["plugin"] = plugin;
    row["trials"] = total;
    row["ok"] = ok.size();
    row["failed"] = total - ok.size();
    json metric_rows = json::object();
    for (const auto& m : metrics) {
      json s = metric_summary(
          ok, [&](const json& t) -> const json& { return child(child(t, "metrics"), m.c_str()); });
      if (s["trials"].get<std::size_t>() > 0) metric_rows[m] = std::move(s);
    }
    row["metrics"] = std::move(metric_rows);
    if (json segments = summarize_segments(ok); !segments.empty()) {
      row["segments"] = std::move(segments);
    }
    std::vector<double> p50, p99, throughput, fit, rss, model;
    for (const json* t : ok) {
      const json& timing = child(*t, "timing");
      p50.push_back(number(child(timing, "latency_ms"), "p50"));
      p99.push_back(number(child(timing, "latency_ms"), "p99"));
      throughput.push_back(number(timing, "throughput_users_per_s"));
      fit.push_back(number(timing, "fit_wall_s"));
      rss.push_back(number(child(*t, "resources"), "peak_rss_bytes"));
      model.push_back(number(child(*t, "resources"), "model_bytes"));
    }
    row["latency_ms"] = {{"p50", number_or_null(median(p50))},
                         {"p99", number_or_null(median(p99))}};
    row["throughput_users_per_s"] = number_or_null(median(throughput));
    row["fit_wall_s"] = number_or_null(mean(fit));
    // Trials that read their model (--load-models) measured no fit; only
    // written when some did, so that other reports keep their shape.
    const auto loaded = std::count_if(ok.begin(), ok.end(), [](const json* t) {
      return child(child(*t, "loaded_model"), "file").is_string();
    });
    if (loaded > 0) row["loaded_models"] = loaded;
    // Trials that read some node of their model from the fit cache
    // (--fit-cache): their fit time is partly or wholly reads.
    const auto cached = std::count_if(ok.begin(), ok.end(), [](const json* t) {
      const json& read = child(child(*t, "fit_cache"), "read");
      return read.is_array() && !read.empty();
    });
    if (cached > 0) row["cached_fits"] = cached;
    row["peak_rss_bytes"] = integer_or_null(maximum(rss));
    row["model_bytes"] = integer_or_null(maximum(model));
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

/// "algo (n of m trials), ..." over the rows that have `key`; "" when none has.
std::string rows_with(const json& summary, const char* key) {
  std::string list;
  for (const auto& row : summary) {
    if (!row.contains(key)) continue;
    list += (list.empty() ? "" : ", ") + report_format::text(row, "algorithm") + " (" +
            report_format::text(row, key) + " of " + report_format::text(row, "ok") + " trials)";
  }
  return list;
}

}  // namespace

std::string loaded_models_note(const json& summary) {
  std::string note;
  if (const std::string list = rows_with(summary, "loaded_models"); !list.empty())
    note = "Models read from saved files (--load-models), not fitted, so their fit time is n/a: " + list + ".";
  if (const std::string list = rows_with(summary, "cached_fits"); !list.empty())
    note += std::string(note.empty() ? "" : " ") +
            "Fits read from the fit cache (--fit-cache), where an earlier trial had fitted the same model or "
            "fusion child on the same data: these trials read their whole model or some of its children, so "
            "their fit time and peak RSS count those reads, not fits: " + list + ".";
  return note;
}

std::set<std::string> summary_metric_names(const json& report) {
  std::set<std::string> present;
  for (const auto& row : report_format::child(report, "summary")) {
    const json& metrics = report_format::child(row, "metrics");
    if (!metrics.is_object()) continue;
    for (auto it = metrics.begin(); it != metrics.end(); ++it) present.insert(it.key());
  }
  return present;
}

std::vector<std::string> main_metrics(const json& report) {
  const std::set<std::string> present = summary_metric_names(report);
  std::vector<std::string> chosen;
  auto add = [&](const std::string& m) {
    if (present.count(m) && std::find(chosen.begin(), chosen.end(), m) == chosen.end()) {
      chosen.push_back(m);
    }
  };
  std::string headline = report_format::text(report, "headline_metric");
  if (!headline.empty()) {
    add(headline);
    auto at = headline.find('@');
    std::string cutoff = at == std::string::npos ? "" : headline.substr(at);
    for (const char* family : {"recall", "hr", "mrr"}) {
      if (!cutoff.empty()) add(family + cutoff);
    }
  } else if (present.count("return") || present.count("true_value")) {
    for (const char* m : {"return", "regret", "ctr", "true_value"}) add(m);  // simulated protocols
  } else {
    std::vector<std::string> sorted(present.begin(), present.end());
    std::sort(sorted.begin(), sorted.end(), report_format::metric_display_less);
    for (std::size_t i = 0; i < sorted.size() && i < 4; ++i) add(sorted[i]);
  }
  add("rmse");
  add("mae");
  return chosen;
}


}  // namespace recfuse::report_detail
