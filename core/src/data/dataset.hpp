// The host's in-memory dataset: interactions with dense ids plus side
// information, as every reader produces it and the cache stores it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recfuse/train_data.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

struct Interaction {
  UserId user = 0;
  ItemId item = 0;
  float value = 1.0f;          // rating, count or 1 for implicit
  std::int64_t timestamp = 0;  // Unix seconds; 0 when unknown
};

struct Dataset {
  std::string name;    // e.g. "ml-100k"
  std::string format;  // reader that produced it
  std::string source;  // file or directory read
  std::string sha256;  // of the source bytes (files in a fixed order)
  bool explicit_ratings = false;
  bool has_timestamps = false;
  /// Without timestamps: each user's rows are listed oldest first (the
  /// sequence formats), so their order within a user is time order.
  bool rows_in_time_order = false;
  std::vector<std::string> user_ids;  // original id of dense user u
  std::vector<std::string> item_ids;  // original id of dense item i
  /// In source order; a record's position is its tie-breaking ordinal for
  /// time-ordered sequences (files without timestamps list items in order).
  std::vector<Interaction> interactions;
  std::vector<std::string> item_titles;  // size n_items() or empty
  AttributeMatrix item_features;         // rows = items (genres, ...)
  AttributeMatrix user_features;         // rows = users (age, gender, ...)
  /// Per-interaction part for sources that ship their own split
  /// (two-file train/test): empty, or 0 = train, 1 = test.
  std::vector<std::uint8_t> source_part;
  std::int64_t skipped_rows = 0;  // malformed rows skipped on request

  std::int32_t n_users() const { return static_cast<std::int32_t>(user_ids.size()); }
  std::int32_t n_items() const { return static_cast<std::int32_t>(item_ids.size()); }
};

/// The three parts a split produces; `validation` may be empty.
struct Split {
  std::vector<Interaction> train;
  std::vector<Interaction> validation;
  std::vector<Interaction> test;
  std::string label;  // e.g. "leave_last_one_out", "fixed u1", "kfold 2/5"
  bool ties_by_item = false;  // SplitSpec::ties == "item": equal timestamps by item id
};

}  // namespace recfuse
