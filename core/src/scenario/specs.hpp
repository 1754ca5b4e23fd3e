// Typed pieces of a scenario, shared by the scenario parser (which fills
// them), the data layer (which reads datasets and splits by them) and the
// runner. Every key is documented in scenarios/SCHEMA.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recfuse/params.hpp"

namespace recfuse {

/// Column mapping of the generic delimited reader (0-based columns; -1 = absent).
struct DelimitedSpec {
  std::string separator = ",";  // one character, or "\t", or "::"
  bool header = false;
  int user_column = 0;
  int item_column = 1;
  int rating_column = -1;
  int timestamp_column = -1;
};

/// Seeded latent-factor world for the embedded default scenario.
struct SyntheticSpec {
  std::int32_t users = 1000;
  std::int32_t items = 800;
  std::int32_t factors = 8;
  std::int32_t genres = 12;
  double interactions_per_user = 40.0;  // mean; per-user counts vary
  double popularity_skew = 1.0;         // Zipf-like exponent on item popularity
  double noise = 0.5;                   // rating noise sd
  std::uint64_t seed = 42;
};

struct DatasetSpec {
  /// ml-100k | ml-latest-small | ml-1m | implicit-train-test | sequence |
  /// sequence-pairs | recbole | delimited | synthetic
  std::string format = "synthetic";
  std::string path;              // file or directory; relative to the data root
  std::string name;              // defaults to the path's last component
  bool skip_bad_rows = false;
  bool cache = true;             // binary cache keyed by the source's sha256
  DelimitedSpec delimited;       // format = "delimited"
  SyntheticSpec synthetic;       // format = "synthetic"
  /// "file:line:col" of the scenario's `path` key (else of [dataset]), so
  /// that a path that does not resolve is reported where it was written.
  std::string path_location;
};

struct FilterSpec {
  std::optional<double> min_rating;  // keep value >= min_rating, then implicit
  bool implicit = false;             // drop rating values (all 1)
  std::int32_t min_user_interactions = 0;  // iterative k-core: users
  std::int32_t min_item_interactions = 0;  // iterative k-core: items
};

struct SplitSpec {
  /// random | temporal_global | temporal_user | leave_last_one_out | kfold | fixed | source.
  /// Which methods read each key: scenario_schema::split_key_methods().
  std::string method = "leave_last_one_out";
  double test_ratio = 0.2;        // random, temporal_*
  double validation_ratio = 0.0;  // carved from train (every method but leave_last_one_out)
  bool validation = true;         // leave_last_one_out: hold out a validation item
  /// leave_last_one_out's validation item: "second_last" (the item before the
  /// test item), or "before_test_time" (the latest item timed strictly
  /// before the test item, chosen among its equal timestamps by `ties` as
  /// the test item is among its own; the second-last when none is).
  std::string validation_item = "second_last";
  /// What leave_last_one_out's training part keeps of each user's timeline
  /// when a validation item is held out: "all" (every interaction but the
  /// validation and test items), or "before_validation_item" (only those
  /// before the validation item in time order, so that validation stands one
  /// step back in time as test does; needs validation_item
  /// "before_test_time" and evaluation.target "validation").
  std::string validation_train = "all";
  /// Equal timestamps in a user's time order (leave_last_one_out,
  /// temporal_*, sequences): "source" keeps the file's order (a stable sort
  /// by time), "item" puts the lower item id first.
  std::string ties = "source";
  std::int32_t folds = 5;         // kfold
  /// Which folds to run (1-based) for kfold; names for fixed ("u1".."u5","ua","ub").
  std::vector<std::string> fold_names;
  std::vector<std::int32_t> fold_numbers;
  std::uint64_t seed = 0;         // 0 = derive from the trial seed
};

/// The fold files of ml-100k that split method "fixed" reads (uN.base and
/// uN.test); the first five are the folds it runs by default.
inline const std::vector<std::string>& fixed_split_folds() {
  static const std::vector<std::string> folds = {"u1", "u2", "u3", "u4", "u5", "ua", "ub"};
  return folds;
}

/// Labels of the folds a split expands into — the one rule both the trial
/// expansion and the data layer follow: {""} for single-fold methods,
/// "1".."k" (or the listed fold numbers) for kfold, "u1".."u5" (or the listed
/// names) for fixed.
inline std::vector<std::string> split_fold_labels(const SplitSpec& spec) {
  std::vector<std::string> out;
  if (spec.method == "kfold") {
    if (spec.fold_numbers.empty()) {
      for (std::int32_t k = 1; k <= spec.folds; ++k) out.push_back(std::to_string(k));
    } else {
      for (std::int32_t k : spec.fold_numbers) out.push_back(std::to_string(k));
    }
  } else if (spec.method == "fixed") {
    out = spec.fold_names.empty()
              ? std::vector<std::string>(fixed_split_folds().begin(), fixed_split_folds().begin() + 5)
              : spec.fold_names;
  } else {
    out.push_back("");
  }
  return out;
}

/// One pre-registered comparison of `[evaluation] compare`: report labels
/// (grid points and protocol suffixes included), mean diff = treatment -
/// baseline.
struct PlannedComparison {
  std::string treatment, baseline;
  bool operator==(const PlannedComparison&) const = default;
};

/// The metric names `[evaluation] metrics` may list (each reported at every
/// cutoff where it has one): the parser refuses others at their line, and
/// the evaluator computes only the listed ones (eval/evaluator.cpp).
inline const std::vector<std::string>& evaluation_metric_names() {
  static const std::vector<std::string> names = {"precision", "recall", "f1",  "hr",       "ndcg",
                                                 "map",       "mrr",    "auc", "novelty",  "arp",
                                                 "ild",       "coverage", "gini", "rmse", "mae"};
  return names;
}

struct EvaluationSpec {
  std::string protocol = "full";  // full | sampled
  std::int32_t sampled_negatives = 100;
  std::vector<std::string> metrics;  // empty = all applicable
  std::vector<std::int32_t> cutoffs{10};
  std::int32_t bootstrap = 1000;     // resamples for 95% CIs
  double relevance_threshold = 0.0;  // test items with value >= threshold are relevant
  std::int32_t max_latency_users = 0;  // 0 = all test users
  /// Segments (eval/segments.hpp): users with at most this many training
  /// interactions are "users:cold"; the top head_fraction of the catalogue
  /// by training popularity is "items:head".
  std::int32_t cold_user_max = 5;
  double head_fraction = 0.2;
  /// "test", or "validation" for model selection: the split's validation
  /// part is evaluated and the test part is never read.
  std::string target = "test";
  /// With target "validation": the algorithm's own validation part
  /// (TrainData::validation, which stacking, switching, rating_blend and
  /// early stopping fit on) is carved once more from the training part, so
  /// nothing the trial scores is ever seen by the algorithm
  /// (nested_validation_split in data/splits.hpp). Off: the algorithm's
  /// validation part is the one scored.
  bool nested_validation = false;
  /// The first this many evaluated users (by id) get their evaluated list,
  /// its first min(10, largest cutoff) items, with the plugin's reasons in
  /// the record's "explanations" (runner/explanations.hpp); 0 = none. Part
  /// of trial ids when not 0 (the records differ; the metrics do not).
  std::int32_t explain_users = 0;
  /// Pairs the report tests as one Holm family per metric (reports/
  /// comparisons.cpp), declared before the run; not part of trial ids.
  std::vector<PlannedComparison> compare;
};

/// [environment]: the simulated users the online and off-policy protocols
/// run against (an environment plugin and its parameters).
struct EnvironmentSpec {
  std::string plugin;  // empty = the scenario has no environment
  std::map<std::string, ParamValue> params;
  std::map<std::string, std::string> locations;  // key -> "file:line:col"
  std::string location;                          // the [environment] table
};

/// [online]: how the simulated protocols run (runner/online.hpp).
struct OnlineSpec {
  /// Episodes logged by the logging policy; learners are fitted on them.
  std::int32_t log_episodes = 1000;
  /// uniform | epsilon_oracle (the myopic oracle's slate with probability
  /// 1 - logging_epsilon, else a uniformly random slate) | epsilon_softmax
  /// (a uniformly random slate with probability logging_epsilon, else a
  /// Plackett-Luce draw over oracle utility / logging_temperature);
  /// runner/policies.hpp.
  std::string logging_policy = "uniform";
  double logging_epsilon = 0.2;
  double logging_temperature = 1.0;  // > 0
  /// Which of the two the logging policy reads (uniform: neither).
  bool logging_reads_epsilon() const { return logging_policy != "uniform"; }
  bool logging_reads_temperature() const { return logging_policy == "epsilon_softmax"; }
  std::int32_t episodes = 1000;      // deployment episodes (online) / true-value episodes (off_policy)
  std::int32_t ope_episodes = 1000;  // fresh logged episodes the off-policy estimates read
  std::int32_t batch = 256;          // sessions stepped together
  std::int32_t window = 100;         // episodes per point of the learning curve
  double weight_cap = 0.0;           // clip importance weights at this value; 0 = no clipping
};

/// One algorithm entry; `grid` keys expand into several parameter points.
struct AlgorithmSpec {
  std::string name;    // label in reports
  std::string plugin;  // algorithm name as registered by a plugin
  std::map<std::string, ParamValue> params;
  std::map<std::string, std::vector<ParamValue>> grid;
  /// Where each key came from, for error messages: key -> "file:line:col".
  std::map<std::string, std::string> locations;
  std::string location;  // the [[algorithms]] table itself
  /// Child recommenders of a fusion strategy ([[algorithms.children]],
  /// nesting allowed); each is built and fitted by the host first.
  std::vector<AlgorithmSpec> children;
  std::string key_path = "algorithms";  // "algorithms" or "<parent path>.children"
};

}  // namespace recfuse
