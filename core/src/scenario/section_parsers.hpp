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

}  // namespace recfuse::scenario_detail
