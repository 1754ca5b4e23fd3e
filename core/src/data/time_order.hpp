// Which split methods order interactions by time, and what a dataset's format
// and keys say about its time order before a byte of it is read. One rule for
// both checks: data/splits.cpp applies it to the data a trial read, and the
// scenario check (scenario/section_parsers.cpp, check_split_time_order)
// applies it to the format at load time, so a split that cannot run fails
// at [split.method] instead of in every trial. Header-only, so the scenario
// library uses it without linking the data library.
#pragma once

#include <optional>
#include <string>

#include "scenario/specs.hpp"

namespace recfuse {

/// What orders a dataset's interactions in time (Dataset::has_timestamps,
/// Dataset::rows_in_time_order).
struct TimeOrder {
  bool timestamps = false;        // every interaction has a timestamp
  bool rows_within_user = false;  // without them: each user's rows listed oldest first
};

/// The time order `spec`'s format and keys promise, as its reader (readers.hpp)
/// produces it: MovieLens and synthetic data have timestamps; sequence and
/// sequence-pairs files list each user's items oldest first; implicit-train-test
/// has neither; delimited has timestamps exactly when delimited.timestamp names
/// a column. nullopt where only the data can tell (recbole: its .inter header)
/// or the format is unknown.
inline std::optional<TimeOrder> declared_time_order(const DatasetSpec& spec) {
  const std::string& f = spec.format;
  if (f == "ml-100k" || f == "ml-latest-small" || f == "ml-1m" || f == "synthetic") return TimeOrder{true, false};
  if (f == "sequence" || f == "sequence-pairs") return TimeOrder{false, true};
  if (f == "implicit-train-test") return TimeOrder{false, false};
  if (f == "delimited") return TimeOrder{spec.delimited.timestamp_column >= 0, false};
  return std::nullopt;
}

/// Empty when split `method` can run on data with `order`: a method that does
/// not read time, timestamps, or for the per-user methods (leave_last_one_out,
/// temporal_user) rows in time order within each user. Otherwise why not, as
/// the words that follow the dataset's name in an error ("has no timestamps
/// ...; use ..."), naming the methods that do run: `source` only for a
/// format that ships its own train and test parts (`own_parts`). Without
/// time a "latest" interaction would only be the file's last row (a sorted
/// file makes it the largest id).
inline std::string time_order_problem(const std::string& method, TimeOrder order, bool own_parts = false) {
  const bool per_user = method == "leave_last_one_out" || method == "temporal_user";
  if (method != "temporal_global" && !per_user) return {};
  if (order.timestamps || (per_user && order.rows_within_user)) return {};
  return std::string("has no timestamps") +
         (order.rows_within_user ? " (its rows are in time order within a user only)"
                                 : " and does not list each user's rows in time order") +
         "; use split " + (order.rows_within_user ? "'random', 'kfold', 'leave_last_one_out' or 'temporal_user'"
                           : own_parts            ? "'random', 'kfold' or 'source' (the dataset's own train and test parts)"
                                                  : "'random' or 'kfold'") +
         ", or a source with a timestamp column";
}

}  // namespace recfuse
