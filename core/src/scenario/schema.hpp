// The scenario schema in one place: the keys each table accepts and the
// values of each enumeration. The parser checks documents against these and
// a test checks that scenarios/SCHEMA.md documents every one of them.
#pragma once

#include <string>
#include <vector>

namespace recfuse::scenario_schema {

struct TableKeys {
  std::string table;               // dotted path, "" for the top level
  std::vector<std::string> keys;   // in documentation order
};

/// Every table of a scenario and its keys (sub-tables appear as keys of
/// their parent too, e.g. "delimited" in "dataset").
const std::vector<TableKeys>& tables();
/// The keys of `table`; throws std::out_of_range for an unknown table.
const std::vector<std::string>& keys_of(const std::string& table);
/// Every key as a full dotted path ("split.method", "algorithms.params").
std::vector<std::string> all_key_paths();

const std::vector<std::string>& dataset_formats();
const std::vector<std::string>& split_methods();
const std::vector<std::string>& split_ties();
const std::vector<std::string>& split_validation_items();
const std::vector<std::string>& split_validation_trains();
const std::vector<std::string>& evaluation_protocols();
const std::vector<std::string>& evaluation_targets();
const std::vector<std::string>& protocols();
const std::vector<std::string>& logging_policies();

/// A [split] key that only some methods read (data/splits.cpp), and which.
struct SplitKeyMethods {
  std::string key;
  std::vector<std::string> methods;  // read it; in split_methods() order
  /// Read it only with validation_ratio > 0 (the random carving of
  /// validation data draws with split.seed).
  std::vector<std::string> with_validation_ratio;
};
/// The [split] keys that only some methods read, in documentation order; the
/// parser refuses each under the other methods, where it would change
/// nothing. The keys not listed (method, ties) apply under every method.
const std::vector<SplitKeyMethods>& split_key_methods();

/// An [evaluation] key and the protocols that read it.
struct EvaluationKeyProtocols {
  std::string key;
  std::vector<std::string> protocols;  // in protocols() order
};
/// Every [evaluation] key, in documentation order, with the protocols that
/// read it; the parser refuses a key written in a scenario none of whose
/// protocols reads it, where it would change nothing.
const std::vector<EvaluationKeyProtocols>& evaluation_key_protocols();

}  // namespace recfuse::scenario_schema
