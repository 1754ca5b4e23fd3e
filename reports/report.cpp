#include "reports/report.hpp"

#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string_view>

#include <unistd.h>

#include "recfuse/types.hpp"
#include "reports/format.hpp"
#include "reports/summary.hpp"

namespace recfuse {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Canonical key order per path ("[]" = any array element, "*" = any key).
// nlohmann::json keeps keys sorted, so the order readers see is fixed here,
// in one place, following record.hpp for the trials. Keys not listed follow
// in alphabetical order.
// Rows of both segment test tables (vs the best, planned pairs).
std::vector<std::string> segment_row_order() {
  return {"metric", "segment", "direction", "algorithm", "baseline", "method", "matched_trials",
          "n", "mean_a", "mean_b", "mean_diff", "diff_low", "diff_high", "t", "t_p", "w", "w_p",
          "p_holm", "significant", "effect_size", "note"};
}

// An explained list, in a record and in the report's digest (record.hpp).
std::vector<std::string> explained_user_order() { return {"user", "user_id", "items"}; }
std::vector<std::string> explained_item_order() { return {"item", "item_id", "title", "score", "hit", "reason"}; }

const std::map<std::string, std::vector<std::string>, std::less<>>& key_orders() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> orders = {
      {"",
       {"schema_version", "context", "headline_metric", "summary", "comparisons",
        "planned_comparisons", "segment_comparisons", "planned_segment_comparisons", "explanations",
        "trials"}},
      {".context",
       {"recfuse_version", "git_commit", "build_type", "compiler", "cxx_flags", "host_name",
        "cpu_model", "logical_cores", "memory_total_bytes", "os", "date", "libraries",
        "scenario", "dataset", "seeds", "threads", "command_line", "plugins"}},
      {".context.libraries", {"eigen", "boost", "tomlplusplus", "nlohmann_json", "openmp"}},
      {".context.scenario", {"file", "name", "description", "sha256", "compare"}},
      {".context.dataset", {"name", "sha256"}},
      {".context.plugins[]", {"name", "version", "file", "fingerprint"}},
      {".summary[]",
       {"algorithm", "plugin", "trials", "ok", "failed", "metrics", "segments", "latency_ms",
        "throughput_users_per_s", "fit_wall_s", "loaded_models", "cached_fits", "peak_rss_bytes", "model_bytes"}},
      {".summary[].metrics.*", {"mean", "low", "high", "n", "trials", "ci", "sd"}},
      {".summary[].segments.*", {"n"}},
      {".summary[].segments.*.*", {"mean", "low", "high", "n", "trials", "ci", "sd"}},
      {".summary[].latency_ms", {"p50", "p99"}},
      {".comparisons[]",
       {"metric", "direction", "algorithm", "baseline", "method", "matched_trials", "n",
        "mean_a", "mean_b", "mean_diff", "diff_low", "diff_high", "t", "t_p", "w", "w_p",
        "p_holm", "significant", "effect_size", "note"}},
      {".planned_comparisons[]",
       {"metric", "direction", "algorithm", "baseline", "method", "matched_trials", "n",
        "mean_a", "mean_b", "mean_diff", "diff_low", "diff_high", "t", "t_p", "w", "w_p",
        "p_holm", "significant", "effect_size", "note"}},
      {".segment_comparisons[]", segment_row_order()},
      {".planned_segment_comparisons[]", segment_row_order()},
      {".trials[]",
       {"record_version", "trial_id", "index", "algorithm", "plugin", "plugin_library",
        "plugin_file", "plugin_version", "plugin_fingerprint", "params", "seed", "fold",
        "threads", "status", "error", "dataset", "metrics", "segments", "segment_definition",
        "per_user", "explanations", "explanations_note", "timing", "resources",
        "progress", "started_at"}},
      {".trials[].dataset",
       {"name", "sha256", "users", "items", "interactions", "skipped_rows", "split", "train",
        "validation", "test", "test_users"}},
      {".trials[].metrics.*", {"mean", "low", "high", "n"}},
      {".trials[].segments.*", {"n"}},
      {".trials[].segments.*.*", {"mean", "low", "high", "n"}},
      {".trials[].segment_definition",
       {"cold_user_max", "history_quartile_edges", "head_fraction", "head_min_popularity",
        "head_items"}},
      {".trials[].timing",
       {"load_s", "split_s", "fit_wall_s", "fit_cpu_s", "load_model_s", "eval_wall_s", "explain_s",
        "trial_wall_s", "latency_ms", "batch_s", "throughput_users_per_s"}},
      {".trials[].timing.latency_ms", {"p50", "p95", "p99", "max", "mean", "n"}},
      {".trials[].resources", {"peak_rss_bytes", "model_bytes"}},
      {".trials[].explanations[]", explained_user_order()},
      {".trials[].explanations[].items[]", explained_item_order()},
      {".explanations[]", {"algorithm", "trial_id", "seed", "fold", "note", "users"}},
      {".explanations[].users[]", explained_user_order()},
      {".explanations[].users[].items[]", explained_item_order()},
  };
  return orders;
}

// "a.*.b" matches "a.x.b": '*' stands for exactly one object key.
bool path_matches(std::string_view pattern, std::string_view path) {
  while (true) {
    const auto pd = pattern.find('.'), qd = path.find('.');
    const std::string_view p = pattern.substr(0, pd), q = path.substr(0, qd);
    if (p != "*" && p != q) return false;
    if (pd == std::string_view::npos || qd == std::string_view::npos) return pd == qd;
    pattern.remove_prefix(pd + 1), path.remove_prefix(qd + 1);
  }
}

const std::vector<std::string>* order_for(const std::string& path) {
  const auto& orders = key_orders();
  if (auto it = orders.find(path); it != orders.end()) return &it->second;
  for (const auto& [pattern, order] : orders) {
    if (pattern.find('*') != std::string::npos && path_matches(pattern, path)) return &order;
  }
  return nullptr;
}

ordered_json canonical(const json& j, const std::string& path) {
  if (j.is_array()) {
    ordered_json out = ordered_json::array();
    for (const auto& e : j) out.push_back(canonical(e, path + "[]"));
    return out;
  }
  if (!j.is_object()) return ordered_json(j);
  ordered_json out = ordered_json::object();
  if (const auto* order = order_for(path)) {
    for (const auto& key : *order) {
      if (auto it = j.find(key); it != j.end()) out[key] = canonical(*it, path + "." + key);
    }
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!out.contains(it.key())) out[it.key()] = canonical(it.value(), path + "." + it.key());
  }
  return out;
}

// Writes `body(stream)` to `path` through a temporary file in the same
// directory, so a reader never sees half a report.
template <class Body>
void write_atomically(const std::filesystem::path& path, Body&& body) {
  auto temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path.string() + ": cannot open '" + temp.string() + "' for writing");
    body(out);
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw Error(path.string() + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw Error(path.string() + ": cannot rename temporary file: " + ec.message());
  }
}

// The metrics both comparison tables cover: the headline; RMSE and MAE, the
// field's common currencies for rating prediction (ml-100k u1..u5), when
// not already the headline; and the simulated protocols' return and regret
// (episodes pair across algorithms like users offline). A metric no
// algorithm reports yields no rows.
std::vector<std::string> compared_metrics(const std::string& headline) {
  std::vector<std::string> metrics;
  if (!headline.empty()) metrics.push_back(headline);
  for (const char* m : {"rmse", "mae", "return", "regret"}) {
    if (headline != m) metrics.push_back(m);
  }
  return metrics;
}

// The report's "explanations" ([evaluation] explain_users), what report.md
// and report.html show: per algorithm label, in summary order, its first ok
// trial that has explanations (or a note), at most kShownUsers users with
// the first kShownItems items each, so the section stays a few lines per
// algorithm however many users a scenario explains. "trials" keep every
// record's whole lists. Absent when no trial has any.
constexpr std::size_t kShownUsers = 3, kShownItems = 5;

json explanation_digest(const json& summary, const std::vector<json>& records) {
  json out = json::array();
  for (const auto& row : summary) {
    const std::string label = report_format::text(row, "algorithm");
    for (const auto& r : records) {
      if (!r.is_object() || report_format::text(r, "algorithm") != label) continue;
      if (report_format::text(r, "status") != "ok") continue;
      if (!r.contains("explanations") && !r.contains("explanations_note")) continue;
      json entry = {{"algorithm", label}, {"trial_id", r.value("trial_id", json())},
                    {"seed", r.value("seed", json())}, {"fold", r.value("fold", json())}};
      if (r.contains("explanations_note")) entry["note"] = r.at("explanations_note");
      json users = json::array();
      for (const auto& list : report_format::child(r, "explanations")) {
        if (users.size() == kShownUsers) break;
        json u = list;
        if (u.is_object() && u.contains("items") && u["items"].is_array() && u["items"].size() > kShownItems)
          u["items"].erase(u["items"].begin() + static_cast<std::ptrdiff_t>(kShownItems), u["items"].end());
        users.push_back(std::move(u));
      }
      entry["users"] = std::move(users);
      out.push_back(std::move(entry));
      break;
    }
  }
  return out;
}

}  // namespace

json build_report(const json& context, const std::vector<json>& records) {
  json report = json::object();
  report["schema_version"] = kReportSchemaVersion;
  report["context"] = context;
  std::string headline = report_detail::headline_metric(records);
  report["headline_metric"] = headline.empty() ? json(nullptr) : json(headline);
  json summary = report_detail::build_summary(records);
  // One Holm family per metric in each table; the planned pairs are tested
  // on the same metrics as the vs-best table.
  const auto planned = report_detail::planned_comparisons_of(context);
  json comparisons = json::array(), planned_rows = json::array();
  for (const auto& metric : compared_metrics(headline)) {
    for (auto& row : report_detail::build_comparisons(records, summary, metric))
      comparisons.push_back(std::move(row));
    for (auto& row : report_detail::build_planned_comparisons(records, summary, planned, metric))
      planned_rows.push_back(std::move(row));
  }
  json segment_comparisons = json::array(), planned_segments = json::array();
  if (!headline.empty()) {
    segment_comparisons = report_detail::build_segment_comparisons(records, summary, headline);
    planned_segments =
        report_detail::build_planned_segment_comparisons(records, summary, planned, headline);
  }
  report["summary"] = std::move(summary);
  if (!segment_comparisons.empty()) report["segment_comparisons"] = std::move(segment_comparisons);
  if (!planned_segments.empty()) {
    report["planned_segment_comparisons"] = std::move(planned_segments);
  }
  report["comparisons"] = std::move(comparisons);
  if (!planned.empty()) report["planned_comparisons"] = std::move(planned_rows);
  json trials = json::array();
  for (const auto& r : records) {
    json t = r;
    if (t.is_object()) t.erase("per_user");
    trials.push_back(std::move(t));
  }
  report["trials"] = std::move(trials);
  if (json digest = explanation_digest(report["summary"], records); !digest.empty())
    report["explanations"] = std::move(digest);
  return report;
}

void write_json(std::ostream& out, const json& report) {
  // dump() writes NaN/Inf as null and formats numbers itself, never via the locale.
  out << canonical(report, "").dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

ReportFiles write_report_files(const std::filesystem::path& dir, const json& report) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create report directory: " + ec.message());
  ReportFiles files{dir / "report.json", dir / "report.md", dir / "report.csv",
                    dir / "report.html", {}, {}};
  write_atomically(files.json, [&](std::ostream& o) { write_json(o, report); });
  write_atomically(files.markdown, [&](std::ostream& o) { write_markdown(o, report); });
  write_atomically(files.csv, [&](std::ostream& o) { write_csv(o, report); });
  write_atomically(files.html, [&](std::ostream& o) { write_html(o, report); });
  // A rerun without a table must not leave an earlier run's file beside the report.
  const auto optional_csv = [&](const char* key, const char* name, std::filesystem::path& field,
                                void (*writer)(std::ostream&, const json&)) {
    const auto path = dir / name;
    if (report.contains(key)) {
      field = path;
      write_atomically(path, [&](std::ostream& o) { writer(o, report); });
    } else {
      std::filesystem::remove(path, ec);
    }
  };
  optional_csv("planned_comparisons", "planned_comparisons.csv", files.planned_csv,
               write_planned_csv);
  optional_csv("planned_segment_comparisons", "planned_segment_comparisons.csv",
               files.planned_segment_csv, write_planned_segment_csv);
  return files;
}

}  // namespace recfuse
