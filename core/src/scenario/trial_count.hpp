// A scenario whose trial list could not be held is refused at load time:
// folds = 2e9 or a grid of 10^10 points was otherwise expanded (and every
// trial hashed) until memory ran out, with no message.
#pragma once

#include "scenario/scenario.hpp"
#include "scenario/toml_reader.hpp"

namespace recfuse::scenario_detail {

/// Counts the trials of the parsed `sc` without expanding them (folds x grid
/// points x seeds, summed over protocols) and throws recfuse::Error above
/// 10^6, at `split.folds` or the largest grid when that is what makes it
/// large, else at the top of the file.
void check_trial_count(const Section& root, const Scenario& sc);

}  // namespace recfuse::scenario_detail
