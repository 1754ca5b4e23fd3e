// `recfuse data info`: human-readable dataset statistics.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <numeric>
#include <sstream>

#include "data/readers.hpp"

namespace recfuse {

namespace {

std::string utc_date(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

/// "min / median / mean / max" of per-entity counts.
std::string count_summary(std::vector<std::int64_t> counts) {
  if (counts.empty()) return "n/a";
  std::sort(counts.begin(), counts.end());
  const std::size_t n = counts.size();
  const double median = n % 2 ? static_cast<double>(counts[n / 2])
                              : 0.5 * static_cast<double>(counts[n / 2 - 1] + counts[n / 2]);
  const double mean =
      static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::int64_t{0})) /
      static_cast<double>(n);
  return "min " + std::to_string(counts.front()) + ", median " + fixed(median, 1) + ", mean " +
         fixed(mean, 2) + ", max " + std::to_string(counts.back());
}

}  // namespace

std::string describe_dataset(const Dataset& data) {
  std::ostringstream out;
  const std::int64_t n = static_cast<std::int64_t>(data.interactions.size());
  const double cells = static_cast<double>(data.n_users()) * static_cast<double>(data.n_items());
  out << "dataset       " << data.name << " (" << data.format << ")\n";
  if (!data.source.empty()) out << "source        " << data.source << "\n";
  out << "users         " << data.n_users() << "\n";
  out << "items         " << data.n_items() << "\n";
  out << "interactions  " << n << "\n";
  out << "density       " << (cells > 0 ? fixed(100.0 * static_cast<double>(n) / cells, 3) : "0")
      << " %\n";
  out << "feedback      " << (data.explicit_ratings ? "explicit ratings" : "implicit") << "\n";
  if (data.explicit_ratings && n > 0) {
    std::map<float, std::int64_t> histogram;
    double sum = 0.0;
    for (const Interaction& x : data.interactions) {
      ++histogram[x.value];
      sum += x.value;
    }
    out << "ratings       mean " << fixed(sum / static_cast<double>(n), 3) << "\n";
    for (const auto& [value, count] : histogram) {
      out << "  " << fixed(value, value == static_cast<float>(static_cast<int>(value)) ? 0 : 1)
          << "  " << count << " (" << fixed(100.0 * static_cast<double>(count) / n, 1) << " %)\n";
    }
  }
  if (data.has_timestamps && n > 0) {
    const auto [lo, hi] = std::minmax_element(
        data.interactions.begin(), data.interactions.end(),
        [](const Interaction& a, const Interaction& b) { return a.timestamp < b.timestamp; });
    out << "time range    " << utc_date(lo->timestamp) << " to " << utc_date(hi->timestamp)
        << " UTC (" << lo->timestamp << " .. " << hi->timestamp << ")\n";
  } else {
    out << (data.rows_in_time_order ? "time range    none (each user's rows are in time order)\n"
                                    : "time range    none (no time order: time-based splits refuse it)\n");
  }
  std::vector<std::int64_t> per_user(static_cast<std::size_t>(data.n_users()));
  std::vector<std::int64_t> per_item(static_cast<std::size_t>(data.n_items()));
  for (const Interaction& x : data.interactions) {
    ++per_user[x.user];
    ++per_item[x.item];
  }
  out << "per user      " << count_summary(per_user) << "\n";
  out << "per item      " << count_summary(per_item) << "\n";
  out << "item features " << data.item_features.names.size() << "\n";
  out << "user features " << data.user_features.names.size() << "\n";
  if (!data.source_part.empty()) {
    const auto test = std::count(data.source_part.begin(), data.source_part.end(), 1);
    out << "source parts  train " << (n - test) << ", test " << test << "\n";
  }
  out << "skipped rows  " << data.skipped_rows << "\n";
  out << "sha256        " << data.sha256 << "\n";
  return out.str();
}

}  // namespace recfuse
