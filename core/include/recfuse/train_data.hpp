// What a recommender sees at fit time: training interactions in several
// layouts, side features and an optional validation view. Built once by the
// host; plugins read it and must not keep references past `fit` unless they
// copy what they need.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "recfuse/sparse.hpp"

namespace recfuse {

/// Categorical attributes as a sparse 0/1 (or weighted) matrix:
/// rows = entities (items or users), cols = attribute vocabulary.
struct AttributeMatrix {
  CsrMatrix matrix;                 // values hold weights (1 for flags)
  std::vector<std::string> names;   // size matrix.cols, e.g. "genre=Comedy"
};

struct TrainData {
  std::int32_t n_users = 0;
  std::int32_t n_items = 0;
  /// True when `by_user.values` are explicit ratings (else implicit, all 1).
  bool explicit_ratings = false;
  /// users x items, columns sorted by item id; values = rating (or 1),
  /// timestamps = Unix seconds (0 when the source has none).
  CsrMatrix by_user;
  /// items x users: the transpose of `by_user` (same values/timestamps).
  CsrMatrix by_item;
  /// users x (time-ordered item sequence): row u lists u's training items
  /// in interaction order (timestamp ties as the scenario's `split.ties`
  /// says: file order by default, or item id). `indices` are items.
  CsrMatrix sequences;
  /// Item side features (genres, tokens of titles ...); may be empty.
  AttributeMatrix item_features;
  std::vector<std::string> item_titles;  // size n_items or 0
  /// The dataset's own ids ("196", "B00004TUBL"), size n_users / n_items,
  /// or empty (hand-built data): what explanations call users and items.
  std::vector<std::string> user_ids;
  std::vector<std::string> item_ids;
  /// User side features (age bucket, gender, occupation ...); may be empty.
  AttributeMatrix user_features;
  /// Held-out validation interactions carved from training data by the
  /// split (users x items); empty when the scenario asks for none. Never
  /// the test set.
  CsrMatrix validation;
};

/// How an explanation names item j: its title, else "item <dataset id>",
/// else (no ids) "item <j>".
inline std::string item_label(const TrainData& d, std::int32_t j) {
  const auto k = static_cast<std::size_t>(j);
  if (k < d.item_titles.size() && !d.item_titles[k].empty()) return d.item_titles[k];
  return "item " + (k < d.item_ids.size() ? d.item_ids[k] : std::to_string(j));
}

/// item_label of every item, for a plugin to keep (and save) for explain.
inline std::vector<std::string> item_labels(const TrainData& d) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(std::max(d.n_items, 0)));
  for (std::int32_t j = 0; j < d.n_items; ++j) out.push_back(item_label(d, j));
  return out;
}

/// How an explanation names user u: "user <dataset id>", else "user <u>".
inline std::string user_label(const TrainData& d, std::int32_t u) {
  const auto k = static_cast<std::size_t>(u);
  return "user " + (k < d.user_ids.size() ? d.user_ids[k] : std::to_string(u));
}

}  // namespace recfuse
