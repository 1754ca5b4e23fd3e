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

// Summary of one metric over the ok trials of one algorithm. With several
// trials the unit is the trial (seeds/folds are the replications), so the CI
// is the t-interval of the mean of per-trial means; a single trial keeps its
// bootstrap CI over users.
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
  } else if (k == 1) {
    const json& m = block(*with[0]);
    double low = number(m, "low"), high = number(m, "high");
    bool has_ci = std::isfinite(low) && std::isfinite(high);
    row = {{"mean", means[0]}, {"low", number_or_null(low)}, {"high", number_or_null(high)},
           {"trials", 1}, {"ci", has_ci ? single_trial_ci(m) : "none"}};
    if (double n = number(m, "n"); std::isfinite(n)) row["n"] = static_cast<std::int64_t>(n);
  } else {
    double mu = mean(means), ss = 0;
    for (double x : means) ss += (x - mu) * (x - mu);
    double sd = std::sqrt(ss / static_cast<double>(k - 1));
    double half = student_t_quantile(0.975, static_cast<double>(k - 1)) * sd /
                  std::sqrt(static_cast<double>(k));
    row = {{"mean", mu}, {"low", number_or_null(mu - half)}, {"high", number_or_null(mu + half)},
           {"trials", k}, {"ci", "t"}, {"sd", sd}};
  }
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
    row["peak_rss_bytes"] = integer_or_null(maximum(rss));
    row["model_bytes"] = integer_or_null(maximum(model));
    rows.push_back(std::move(row));
  }
  return rows;
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
