// Splits: turn a Dataset into train / validation / test interaction lists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// Labels of the folds a split expands into: {""} for single-fold methods,
/// {"1","2",...} for kfold (spec.fold_numbers or all), {"u1",...} for fixed.
std::vector<std::string> split_folds(const SplitSpec& spec);

/// Builds one fold. Deterministic in `seed` (ignored by deterministic
/// methods). Methods:
///   random              per-interaction random test_ratio
///   temporal_global     the latest test_ratio of all interactions by time
///   temporal_user       each user's latest test_ratio (at least one kept in train)
///   leave_last_one_out  each user's last item -> test, second-last -> validation
///                       (when spec.validation; with validation_item
///                       "before_test_time" the latest item timed before the
///                       test item; with validation_train
///                       "before_validation_item" the interactions between
///                       the two are in no part); time order, equal
///                       timestamps by spec.ties (source order or item id)
///   kfold               random partition into spec.folds parts; fold i is test
///   fixed               the source's own files: ml-100k "u1".."u5", "ua", "ub"
///   source              the Dataset's source_part (two-file train/test formats)
/// validation_ratio > 0 carves a per-user part of train as validation (all
/// methods but leave_last_one_out): the latest interactions for the temporal
/// methods (each user's for temporal_user, overall for temporal_global), a
/// random draw for the others. Test and validation never share an
/// (user, item) pair with train.
Split make_split(const Dataset& data, const SplitSpec& spec, const std::string& fold,
                 std::uint64_t seed);

/// The nested split of a trial that scores `outer`'s validation part
/// (evaluation.target = "validation" with nested_validation): the split's
/// validation rule applied once more to outer.train, which it divides into
/// the returned train and validation (its test is empty). For
/// leave_last_one_out each user's latest training item (time order,
/// spec.ties) whose (user, item) pair is not repeated in train, when the
/// user has at least two (with validation_item "before_test_time" the
/// latest such item timed before the user's validation item, when one
/// is; with validation_train "before_validation_item" what follows it in
/// the user's training timeline is in neither part); for the other
/// methods validation_ratio of outer.train as make_split carves it (the latest for temporal methods, a
/// random per-user draw, pairs kept whole, from its own stream, otherwise).
/// The algorithm fits on the result; outer.validation stays unseen.
Split nested_validation_split(const Dataset& data, const SplitSpec& spec, const Split& outer,
                              std::uint64_t seed);

}  // namespace recfuse
