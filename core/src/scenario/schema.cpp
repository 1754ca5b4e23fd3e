#include "scenario/schema.hpp"

#include <stdexcept>

namespace recfuse::scenario_schema {

const std::vector<TableKeys>& tables() {
  static const std::vector<TableKeys> t = {
      {"", {"name", "description", "seeds", "threads", "time_limit_s", "output", "dataset",
            "filter", "split", "evaluation", "algorithms", "environment", "online",
            "protocols"}},
      {"dataset", {"format", "path", "name", "skip_bad_rows", "cache", "delimited", "synthetic"}},
      {"dataset.delimited", {"separator", "header", "user", "item", "rating", "timestamp"}},
      {"dataset.synthetic", {"users", "items", "factors", "genres", "interactions_per_user",
                             "popularity_skew", "noise", "seed"}},
      {"filter", {"min_rating", "implicit", "min_user_interactions", "min_item_interactions"}},
      {"split", {"method", "test_ratio", "validation_ratio", "validation", "validation_item",
                 "validation_train", "folds", "fold", "seed", "ties"}},
      {"evaluation", {"protocol", "sampled_negatives", "metrics", "cutoffs", "bootstrap",
                      "relevance_threshold", "max_latency_users", "target", "nested_validation",
                      "cold_user_max", "head_fraction", "explain_users", "compare"}},
      {"algorithms", {"name", "plugin", "params", "grid", "children"}},
      {"environment", {"plugin", "params"}},
      {"online", {"log_episodes", "logging_policy", "logging_epsilon", "logging_temperature", "episodes",
                  "ope_episodes", "batch", "window", "weight_cap"}},
  };
  return t;
}

const std::vector<std::string>& keys_of(const std::string& table) {
  for (const auto& t : tables()) {
    if (t.table == table) return t.keys;
  }
  throw std::out_of_range("scenario schema has no table '" + table + "'");
}

std::vector<std::string> all_key_paths() {
  std::vector<std::string> out;
  for (const auto& t : tables()) {
    for (const auto& k : t.keys) out.push_back(t.table.empty() ? k : t.table + "." + k);
  }
  return out;
}

const std::vector<std::string>& dataset_formats() {
  static const std::vector<std::string> v = {
      "ml-100k",        "ml-latest-small", "ml-1m",     "implicit-train-test", "sequence",
      "sequence-pairs", "recbole",         "delimited", "synthetic"};
  return v;
}

const std::vector<std::string>& split_methods() {
  static const std::vector<std::string> v = {"random",    "temporal_global", "temporal_user",
                                             "leave_last_one_out", "kfold", "fixed", "source"};
  return v;
}

// What data/splits.cpp reads: test_ratio the methods that hold out a share
// (checked_ratio); validation_ratio carve_validation, which every method but
// leave_last_one_out reaches; validation leave_last_one_out's second-last
// item; folds kfold; fold the methods with several folds; seed the shuffles
// of random and kfold and the random carving of validation_ratio (kfold,
// random, fixed, source: the temporal methods carve the latest interactions,
// leave_last_one_out's nested part is each user's latest). ties orders
// equal timestamps in every method's training sequences
// (train_data_builder.cpp), so it is not listed.
const std::vector<SplitKeyMethods>& split_key_methods() {
  static const std::vector<SplitKeyMethods> v = {
      {"test_ratio", {"random", "temporal_global", "temporal_user"}, {}},
      {"validation_ratio", {"random", "temporal_global", "temporal_user", "kfold", "fixed", "source"}, {}},
      {"validation", {"leave_last_one_out"}, {}},
      {"validation_item", {"leave_last_one_out"}, {}},
      {"validation_train", {"leave_last_one_out"}, {}},
      {"folds", {"kfold"}, {}},
      {"fold", {"kfold", "fixed"}, {}},
      {"seed", {"random", "kfold"}, {"fixed", "source"}},
  };
  return v;
}

// Who reads each [evaluation] key: the offline trial (runner/trial.cpp:
// target, nested_validation; runner/explanations.cpp: explain_users), its evaluator (eval/evaluator.cpp) and record
// (runner/eval_json.cpp) read them all; the simulated trials
// (runner/online.cpp) only bootstrap, for their intervals; compare the
// report, over the labels of every protocol.
const std::vector<EvaluationKeyProtocols>& evaluation_key_protocols() {
  static const std::vector<std::string> all = {"offline", "online", "off_policy"};
  static const std::vector<EvaluationKeyProtocols> v = {
      {"protocol", {"offline"}},        {"sampled_negatives", {"offline"}}, {"metrics", {"offline"}},
      {"cutoffs", {"offline"}},         {"bootstrap", all},                 {"relevance_threshold", {"offline"}},
      {"max_latency_users", {"offline"}}, {"target", {"offline"}},          {"nested_validation", {"offline"}},
      {"cold_user_max", {"offline"}},   {"head_fraction", {"offline"}},     {"explain_users", {"offline"}},
      {"compare", all},
  };
  return v;
}

const std::vector<std::string>& split_ties() {
  static const std::vector<std::string> v = {"source", "item"};
  return v;
}

const std::vector<std::string>& split_validation_items() {
  static const std::vector<std::string> v = {"second_last", "before_test_time"};
  return v;
}

const std::vector<std::string>& split_validation_trains() {
  static const std::vector<std::string> v = {"all", "before_validation_item"};
  return v;
}

const std::vector<std::string>& evaluation_targets() {
  static const std::vector<std::string> v = {"test", "validation"};
  return v;
}

const std::vector<std::string>& evaluation_protocols() {
  static const std::vector<std::string> v = {"full", "sampled"};
  return v;
}

const std::vector<std::string>& protocols() {
  static const std::vector<std::string> v = {"offline", "online", "off_policy"};
  return v;
}

const std::vector<std::string>& logging_policies() {
  static const std::vector<std::string> v = {"uniform", "epsilon_oracle", "epsilon_softmax"};
  return v;
}

}  // namespace recfuse::scenario_schema
