// Rating threshold, implicit conversion and the iterative k-core filter.
//
// The k-core (users with >= min_user_interactions and items with >=
// min_item_interactions) is computed by repeatedly deleting every
// interaction of an under-threshold user or item until nothing changes.
// Deleting never helps another vertex reach its threshold, so the fixed
// point is the unique maximal subgraph meeting both thresholds (Batagelj &
// Zaversnik 2003 for the one-threshold case). Duplicated (user, item) rows
// count once per row, as the source lists them.
//
// After any filter that removes rows, users and items left without
// interactions are dropped and the ids re-densified in their old relative
// order; side information (titles, feature rows, original ids, source_part)
// follows. A format's users with no interactions (an implicit-train-test
// line with only a user id) are dropped this way too.
#include <algorithm>
#include <sstream>

#include "data/readers.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

namespace {

/// Keeps the rows of `m` for which old_to_new[r] >= 0, in order.
CsrMatrix keep_rows(const CsrMatrix& m, const std::vector<std::int32_t>& old_to_new,
                    std::int32_t new_rows) {
  if (m.rows == 0) return m;
  CsrMatrix out;
  out.rows = new_rows;
  out.cols = m.cols;
  out.indptr.assign(1, 0);
  for (std::int32_t r = 0; r < m.rows && r < static_cast<std::int32_t>(old_to_new.size()); ++r) {
    if (old_to_new[r] < 0) continue;
    for (std::int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      out.indices.push_back(m.indices[k]);
      if (!m.values.empty()) out.values.push_back(m.values[k]);
      if (!m.timestamps.empty()) out.timestamps.push_back(m.timestamps[k]);
    }
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
  }
  return out;
}

template <class T>
std::vector<T> keep_entries(const std::vector<T>& v, const std::vector<std::int32_t>& old_to_new,
                            std::int32_t new_size) {
  if (v.empty()) return v;
  std::vector<T> out(static_cast<std::size_t>(new_size));
  for (std::size_t k = 0; k < v.size() && k < old_to_new.size(); ++k) {
    if (old_to_new[k] >= 0) out[old_to_new[k]] = v[k];
  }
  return out;
}

/// Marks used ids and numbers them densely in increasing old order.
std::int32_t densify(const std::vector<char>& used, std::vector<std::int32_t>& old_to_new) {
  old_to_new.assign(used.size(), -1);
  std::int32_t next = 0;
  for (std::size_t k = 0; k < used.size(); ++k) {
    if (used[k]) old_to_new[k] = next++;
  }
  return next;
}

}  // namespace

void apply_filters(Dataset& data, const FilterSpec& filter) {
  if (filter.min_user_interactions < 0 || filter.min_item_interactions < 0) {
    throw Error("filter: min_user_interactions and min_item_interactions must be >= 0 (got " +
                std::to_string(filter.min_user_interactions) + ", " +
                std::to_string(filter.min_item_interactions) + ")");
  }
  const std::size_t n = data.interactions.size();
  const bool was_explicit = data.explicit_ratings;
  std::vector<char> keep(n, 1);
  if (filter.min_rating) {
    // In the values' own precision: a rating read as 3.3f is below the
    // double 3.3, and min_rating = 3.3 must keep it.
    const auto threshold = static_cast<float>(*filter.min_rating);
    for (std::size_t k = 0; k < n; ++k) keep[k] = data.interactions[k].value >= threshold;
  }
  if (filter.min_rating || filter.implicit) {
    for (Interaction& x : data.interactions) x.value = 1.0f;
    data.explicit_ratings = false;
  }
  // Only a threshold or a k-core can remove rows (and so change the ids).
  if (!filter.min_rating && filter.min_user_interactions == 0 &&
      filter.min_item_interactions == 0) {
    return;
  }

  const auto n_users = static_cast<std::size_t>(data.n_users());
  const auto n_items = static_cast<std::size_t>(data.n_items());
  const auto min_u = static_cast<std::int64_t>(filter.min_user_interactions);
  const auto min_i = static_cast<std::int64_t>(filter.min_item_interactions);
  std::vector<std::int64_t> user_count(n_users), item_count(n_items);
  for (bool changed = true; changed;) {
    changed = false;
    std::fill(user_count.begin(), user_count.end(), 0);
    std::fill(item_count.begin(), item_count.end(), 0);
    for (std::size_t k = 0; k < n; ++k) {
      if (!keep[k]) continue;
      ++user_count[data.interactions[k].user];
      ++item_count[data.interactions[k].item];
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (!keep[k]) continue;
      const Interaction& x = data.interactions[k];
      if (user_count[x.user] < min_u || item_count[x.item] < min_i) {
        keep[k] = 0;
        changed = true;
      }
    }
  }

  if (n > 0 && std::find(keep.begin(), keep.end(), 1) == keep.end()) {
    // As for an empty file (read_dataset): trials would have nothing to fit or score.
    std::ostringstream what;
    if (filter.min_rating) what << " min_rating = " << *filter.min_rating;
    if (min_u > 0) what << " min_user_interactions = " << min_u;
    if (min_i > 0) what << " min_item_interactions = " << min_i;
    if (filter.min_rating && !was_explicit) what << " (implicit data: every value is 1)";
    throw Error("[filter]" + what.str() + " removed all " + std::to_string(n) +
                " interactions of dataset '" + data.name + "'");
  }

  std::vector<char> user_used(n_users, 0), item_used(n_items, 0);
  for (std::size_t k = 0; k < n; ++k) {
    if (!keep[k]) continue;
    user_used[data.interactions[k].user] = 1;
    item_used[data.interactions[k].item] = 1;
  }
  std::vector<std::int32_t> user_map, item_map;
  const std::int32_t new_users = densify(user_used, user_map);
  const std::int32_t new_items = densify(item_used, item_map);

  std::vector<Interaction> kept;
  std::vector<std::uint8_t> kept_part;
  kept.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    if (!keep[k]) continue;
    Interaction x = data.interactions[k];
    x.user = user_map[x.user];
    x.item = item_map[x.item];
    kept.push_back(x);
    if (!data.source_part.empty()) kept_part.push_back(data.source_part[k]);
  }
  data.interactions = std::move(kept);
  data.source_part = std::move(kept_part);
  data.user_ids = keep_entries(data.user_ids, user_map, new_users);
  data.item_ids = keep_entries(data.item_ids, item_map, new_items);
  data.item_titles = keep_entries(data.item_titles, item_map, new_items);
  data.item_features.matrix = keep_rows(data.item_features.matrix, item_map, new_items);
  data.user_features.matrix = keep_rows(data.user_features.matrix, user_map, new_users);
}

}  // namespace recfuse
