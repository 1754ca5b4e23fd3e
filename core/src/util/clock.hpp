// Wall and process CPU clocks in seconds, for the timings of a trial.
#pragma once

#include <chrono>
#include <ctime>

namespace recfuse {

inline double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// CPU time of the whole process (all threads), as `time` reports user+sys.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace recfuse
