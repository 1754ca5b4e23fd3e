// `[evaluation] compare`: the comparisons a scenario plans before its run
// (reports/comparisons.cpp tests them as one Holm family per metric).
//
//   [evaluation]
//   compare = [["stacking", "bpr"], ["bpr[lr=0.05]", "popularity"]]   # treatment, baseline
#pragma once

#include <vector>

#include "scenario/scenario.hpp"
#include "scenario/toml_reader.hpp"

namespace recfuse::scenario_detail {

/// Reads the pairs of `evaluation` (the [evaluation] section) into `out`:
/// an array of two-string arrays, no empty label, no pair of one label, no
/// pair twice in either order. Throws recfuse::Error at the offending value.
void parse_compare(const Section& evaluation, std::vector<PlannedComparison>& out);
/// Checks the labels of the parsed pairs against the labels the report
/// prints (expand_trials: grid points and protocol suffixes included); both
/// sides of a pair must run under one protocol. Call once `sc` is complete.
void check_compare_labels(const Section& evaluation, const Scenario& sc);

}  // namespace recfuse::scenario_detail
