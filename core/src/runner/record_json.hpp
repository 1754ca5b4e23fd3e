// Pieces of a trial record shared by the offline (trial.cpp) and the
// simulated (online.cpp) protocols: intervals, timestamps, peak memory.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "eval/stats.hpp"

namespace recfuse::record_json {

/// "2026-11-28T20:40:00Z"
std::string utc_now();
/// NaN and infinities as null.
nlohmann::json finite_or_null(double v);
/// {"mean", "low", "high", "n"}
nlohmann::json interval(const Interval& ci);
/// Bootstrap CI of the mean; `resamples` = 0 gives the mean alone.
Interval mean_ci(std::span<const double> values, int resamples, std::uint64_t seed);
/// This process's peak resident set so far, since its exec (not counting
/// the process that started it).
std::int64_t self_peak_rss_bytes();

}  // namespace recfuse::record_json
