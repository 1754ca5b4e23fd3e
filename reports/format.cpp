#include "reports/format.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <tuple>

namespace recfuse::report_format {

std::string fixed(double v, int precision) {
  if (!std::isfinite(v)) return "n/a";
  std::array<char, 64> buffer{};
  auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v,
                              std::chars_format::fixed, precision);
  if (result.ec != std::errc{}) {  // |v| beyond 1e60: fixed notation does not fit
    result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v,
                           std::chars_format::scientific, precision);
  }
  std::string s(buffer.data(), result.ptr);
  // A tiny negative rounds to "-0.0000", which reads as a sign that is not there.
  if (s.front() == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string shortest(double v) {
  if (!std::isfinite(v)) return "";
  std::array<char, 64> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
  return std::string(buffer.data(), end);
}

std::string mean_ci(double mean, double low, double high, int precision) {
  std::string s = fixed(mean, precision);
  if (std::isfinite(mean) && std::isfinite(low) && std::isfinite(high)) {
    s += " [" + fixed(low, precision) + ", " + fixed(high, precision) + "]";
  }
  return s;
}

std::string p_value(double p) {
  if (!std::isfinite(p)) return "n/a";
  if (p < 1e-4) return "<0.0001";
  return fixed(p, 4);
}

std::string significance(double p) {
  if (!std::isfinite(p)) return "";
  if (p < 0.001) return "***";
  if (p < 0.01) return "**";
  if (p < 0.05) return "*";
  return "ns";
}

std::string md_cell(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    if (c == '|') {
      s += "\\|";
    } else if (c == '\n' || c == '\r' || c == '\t') {
      s += ' ';
    } else {
      s += c;
    }
  }
  return s;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string s = "\"";
  for (char c : text) {
    if (c == '"') s += '"';
    s += c;
  }
  s += '"';
  return s;
}

double number(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return NAN;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return NAN;
  return it->get<double>();
}

std::string text(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_number_unsigned()) return std::to_string(it->get<std::uint64_t>());
  if (it->is_number()) return shortest(it->get<double>());
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return it->dump();
}

namespace {

// (family rank, cutoff, name): "ndcg@5" < "ndcg@10" < "recall@10" < "rmse".
std::tuple<int, long, std::string> metric_key(const std::string& name) {
  static constexpr std::array<std::string_view, 16> kFamilies = {
      "ndcg", "recall", "hr", "mrr", "map", "precision", "f1", "auc",
      "rmse", "mae", "coverage", "gini", "novelty", "arp", "ild", "diversity"};
  auto at = name.find('@');
  std::string_view family = std::string_view(name).substr(0, at);
  long cutoff = -1;
  if (at != std::string::npos) {
    const char* first = name.data() + at + 1;
    std::from_chars(first, name.data() + name.size(), cutoff);
  }
  int rank = static_cast<int>(kFamilies.size());
  for (std::size_t i = 0; i < kFamilies.size(); ++i) {
    if (family == kFamilies[i]) rank = static_cast<int>(i);
  }
  return {rank, cutoff, name};
}

}  // namespace

bool metric_display_less(const std::string& a, const std::string& b) {
  return metric_key(a) < metric_key(b);
}

const nlohmann::json& child(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

bool lower_is_better(std::string_view metric) {
  return metric == "rmse" || metric == "mae" || metric == "regret";
}

}  // namespace recfuse::report_format
