#include "runner/record_json.hpp"

#include <ctime>
#include <sys/resource.h>

namespace recfuse::record_json {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json interval(const Interval& ci) {
  return {{"mean", finite_or_null(ci.mean)},
          {"low", finite_or_null(ci.low)},
          {"high", finite_or_null(ci.high)},
          {"n", ci.n}};
}

Interval mean_ci(std::span<const double> values, int resamples, std::uint64_t seed) {
  if (resamples > 0) return bootstrap_mean_ci(values, resamples, seed);
  Interval ci;
  ci.low = ci.high = std::nan("");
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) sum += v, ++ci.n;
  ci.mean = ci.n ? sum / static_cast<double>(ci.n) : std::nan("");
  return ci;
}

std::int64_t self_peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace recfuse::record_json
