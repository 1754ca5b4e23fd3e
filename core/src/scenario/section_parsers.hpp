// The readers of a scenario's data, split, evaluation and online tables
// (scenario_parser.cpp reads the rest and calls these). Each fails at the
// offending key, with file, line and column (toml_reader.hpp).
#pragma once

#include "scenario/scenario.hpp"
#include "scenario/toml_reader.hpp"

namespace recfuse::scenario_detail {

void parse_dataset(const Section& s, DatasetSpec& d);
void parse_filter(const Section& s, FilterSpec& f);
void parse_split(const Section& s, SplitSpec& p);
void parse_evaluation(const Section& s, EvaluationSpec& e);
void parse_online(const Section& s, OnlineSpec& o);
/// The split against the data source and the evaluation target, once the
/// protocols are known: a split that cannot run fails at its key here, not
/// in every trial.
void check_split_against_scenario(const Section& root, const Scenario& sc);
/// An [evaluation] key that none of the scenario's protocols reads
/// (scenario_schema::evaluation_key_protocols) fails at its key.
void check_evaluation_against_protocols(const Section& root, const Scenario& sc);
/// A time-based split method against what the dataset's format and keys say
/// about its time order (data/time_order.hpp), at [split.method] (or at
/// [dataset.format] under the default method).
void check_split_time_order(const Section& root, const Scenario& sc);

}  // namespace recfuse::scenario_detail
