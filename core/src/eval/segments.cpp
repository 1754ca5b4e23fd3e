// Segment rules (see segments.hpp): the only place that decides who is a
// cold user, which quartile a user falls in and which item is head.
#include "eval/segments.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace recfuse {

const std::vector<std::string>& segment_names() {
  static const std::vector<std::string> kNames = {"users:cold", "users:q1", "users:q2",
                                                  "users:q3",   "users:q4", "items:head",
                                                  "items:tail"};
  return kNames;
}

bool segment_less(const std::string& a, const std::string& b) {
  const auto& names = segment_names();
  const auto rank = [&](const std::string& s) {
    return std::find(names.begin(), names.end(), s) - names.begin();
  };
  const auto ra = rank(a), rb = rank(b);
  return ra != rb ? ra < rb : a < b;
}

bool is_item_segment(std::string_view name) { return name.rfind("items:", 0) == 0; }

std::array<std::int64_t, 3> history_quartile_edges(std::vector<std::int64_t> history) {
  std::array<std::int64_t, 3> edges{};
  if (history.empty()) return edges;
  std::sort(history.begin(), history.end());
  const auto n = static_cast<double>(history.size());
  for (int q = 1; q <= 3; ++q) {
    // Nearest rank, as the latency percentiles: always an observed length.
    const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n / 4 - 1e-9)));
    edges[static_cast<std::size_t>(q - 1)] = history[std::min(rank, history.size()) - 1];
  }
  return edges;
}

bool in_user_segment(std::string_view name, std::int64_t history, const SegmentDefinition& def) {
  const auto& e = def.history_edges;
  if (name == "users:cold") return history <= def.cold_user_max;
  if (name == "users:q1") return history <= e[0];
  if (name == "users:q2") return history > e[0] && history <= e[1];
  if (name == "users:q3") return history > e[1] && history <= e[2];
  if (name == "users:q4") return history > e[2];
  return false;
}

void define_head(std::span<const std::int32_t> popularity, SegmentDefinition& def) {
  def.head_min_popularity = 1;
  def.head_items = 0;
  if (popularity.empty()) return;
  std::vector<std::int32_t> sorted(popularity.begin(), popularity.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(def.head_fraction * n - 1e-9)));
  def.head_min_popularity = std::max<std::int32_t>(1, sorted[std::min(rank, sorted.size()) - 1]);
  def.head_items = std::count_if(sorted.begin(), sorted.end(),
                                 [&](std::int32_t p) { return p >= def.head_min_popularity; });
}

}  // namespace recfuse
