// Segments of an evaluation: the evaluated users split by training history
// length, and the test items split by training popularity, because a model
// (a fusion above all) can win on heavy users and lose on cold ones.
//
//   users:cold   history <= cold_user_max
//   users:q1..q4 history quartiles of the EVALUATED users: with edges
//                e1 <= e2 <= e3 (nearest-rank 25/50/75th percentiles of
//                their history lengths), q1: h <= e1, q2: e1 < h <= e2,
//                q3: e2 < h <= e3, q4: h > e3. Users with equal history
//                always share a quartile, so quartiles may differ in size
//                (and some may be empty when lengths tie heavily).
//   items:head   test items whose training popularity (interacting users)
//                is >= head_min_popularity: the popularity of the item at
//                rank ceil(head_fraction * n_items) of the catalogue sorted
//                by popularity, at least 1. Ties with that item join the
//                head, so the head can hold slightly more than the fraction;
//                an item nobody trained on is never head.
//   items:tail   every other test item.
// A user's relevant set may mix head and tail items: an item segment's
// per-user value ranks the same top-k list against the user's relevant
// items OF THAT SEGMENT only (the others count as ordinary misses), and users
// with no relevant item in the segment are not in it.
//
// Reports re-derive user-segment membership from per-user "history" and the
// definition with in_user_segment(), so the rule exists once, here.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recfuse {

struct SegmentDefinition {
  std::int32_t cold_user_max = 5;
  std::array<std::int64_t, 3> history_edges{};  // e1, e2, e3
  double head_fraction = 0.2;
  std::int32_t head_min_popularity = 1;
  std::int64_t head_items = 0;  // catalogue items with popularity >= head_min_popularity
};

/// Every segment name in display order: users:cold, users:q1..q4, items:head, items:tail.
const std::vector<std::string>& segment_names();
/// Position of `name` in segment_names(); names not listed sort after, by name.
bool segment_less(const std::string& a, const std::string& b);
/// True for "items:..." segments (per-user values of their own).
bool is_item_segment(std::string_view name);

/// Nearest-rank 25/50/75th percentiles (sorted[ceil(q n) - 1]) of `history`
/// (any order); zeros when empty.
std::array<std::int64_t, 3> history_quartile_edges(std::vector<std::int64_t> history);

/// Whether a user with `history` training interactions belongs to the user
/// segment `name` (users:cold, users:q1..q4) under `def`; false for any
/// other name.
bool in_user_segment(std::string_view name, std::int64_t history, const SegmentDefinition& def);

/// The head threshold for per-item training popularity (users per item,
/// one entry per catalogue item) and `head_fraction` in (0, 1]: fills
/// def.head_min_popularity and def.head_items.
void define_head(std::span<const std::int32_t> popularity, SegmentDefinition& def);

}  // namespace recfuse
