#include "runner/record_json.hpp"

#include <ctime>
#include <fstream>
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
  // VmHWM: the high-water mark of this process's address space since its
  // exec. Not getrusage's ru_maxrss, which also holds the peak of the
  // process that spawned this one (the kernel keeps the old address space's
  // mark across exec, and after posix_spawn that is the parent's).
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace recfuse::record_json
