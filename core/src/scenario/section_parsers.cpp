// The readers of a scenario's [dataset], [filter], [split], [evaluation] and
// [online] tables; the schema is scenarios/SCHEMA.md and scenario/schema.cpp.
#include "scenario/section_parsers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "data/time_order.hpp"
#include "scenario/planned_comparisons.hpp"
#include "scenario/schema.hpp"
#include "util/text.hpp"

namespace recfuse::scenario_detail {
namespace schema = scenario_schema;

/// Upper bound for floats that must be finite (TOML allows inf).
constexpr double kMaxFinite = std::numeric_limits<double>::max();

void parse_dataset(const Section& s, DatasetSpec& d) {
  s.read_enum("format", d.format, schema::dataset_formats());
  s.read("path", d.path);
  d.path_location = s.location_of("path");
  if (s.has("path") && d.path.empty()) s.fail("path", "must not be empty");
  s.read("name", d.name);
  s.read("skip_bad_rows", d.skip_bad_rows);
  s.read("cache", d.cache);
  if (auto t = s.sub("delimited")) {
    DelimitedSpec& c = d.delimited;
    t->read("separator", c.separator);
    // One byte ("," ";" "\t" "|"), or "::" as in MovieLens 1M.
    if (c.separator.empty() || (c.separator.size() > 1 && c.separator != "::")) {
      t->fail("separator", "expected one character or \"::\", got \"" + c.separator + "\"");
    }
    t->read("header", c.header);
    t->read_int("user", c.user_column, 0);
    t->read_int("item", c.item_column, 0);
    t->read_int("rating", c.rating_column, -1);
    t->read_int("timestamp", c.timestamp_column, -1);
    if (c.user_column == c.item_column) {
      t->fail(t->has("item") ? "item" : "user", "user and item columns must differ");
    }
  }
  if (auto t = s.sub("synthetic")) {
    SyntheticSpec& y = d.synthetic;
    t->read_int("users", y.users, 1);
    t->read_int("items", y.items, 1);
    t->read_int("factors", y.factors, 1);
    t->read_int("genres", y.genres, 0);
    // inf passes a ">= lo" check but makes the generator's weights NaN
    // (inf * log 1), which breaks its sort; every float must be finite.
    t->read_float("interactions_per_user", y.interactions_per_user, 1.0, kMaxFinite);
    t->read_float("popularity_skew", y.popularity_skew, 0.0, kMaxFinite);
    t->read_float("noise", y.noise, 0.0, kMaxFinite);
    t->read_int("seed", y.seed);
  }
  if (d.format != "delimited" && s.has("delimited")) {
    s.fail("delimited", "only applies to format = \"delimited\", not \"" + d.format + "\"");
  }
  if (d.format != "synthetic" && s.has("synthetic")) {
    s.fail("synthetic", "only applies to format = \"synthetic\", not \"" + d.format + "\"");
  }
  if (!s.has("path") && d.format != "synthetic") {
    // SCHEMA.md: the default is the format's usual place under the data
    // root, which only the MovieLens formats have (shared/data/README.md).
    if (d.format == "ml-100k" || d.format == "ml-latest-small" || d.format == "ml-1m") {
      d.path = d.format;
    } else {
      s.fail_table("missing required key 'path': format \"" + d.format +
                   "\" has no usual place under the data root");
    }
  }
}

void parse_filter(const Section& s, FilterSpec& f) {
  s.read_float("min_rating", f.min_rating);
  s.read("implicit", f.implicit);
  s.read_int("min_user_interactions", f.min_user_interactions, 0);
  s.read_int("min_item_interactions", f.min_item_interactions, 0);
}

namespace {

/// "a", "b" or "c".
std::string quoted_or_list(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t k = 0; k < v.size(); ++k)
    out += (k == 0 ? "" : k + 1 == v.size() ? " or " : ", ") + ("\"" + v[k] + "\"");
  return out;
}

/// A key the method does not read would change nothing (schema.cpp,
/// split_key_methods): refused at the key, as an unknown key is.
void refuse_keys_the_method_ignores(const Section& s, const SplitSpec& p) {
  const auto has = [](const std::vector<std::string>& v, const std::string& m) {
    return std::find(v.begin(), v.end(), m) != v.end();
  };
  for (const auto& use : schema::split_key_methods()) {
    if (!s.has(use.key) || has(use.methods, p.method)) continue;
    const bool conditional = has(use.with_validation_ratio, p.method);
    if (conditional && p.validation_ratio > 0.0) continue;
    std::string what = "only applies to method = " + quoted_or_list(use.methods);
    if (!use.with_validation_ratio.empty())
      what += ", or to " + quoted_or_list(use.with_validation_ratio) + " with validation_ratio > 0";
    s.fail(use.key, what + ", not \"" + p.method + "\"" + (conditional ? " without validation_ratio > 0" : ""));
  }
}

bool runs(const Scenario& sc, const std::string& protocol) {
  return std::find(sc.protocols.begin(), sc.protocols.end(), protocol) != sc.protocols.end();
}

/// What a table or key that `readers` alone read is refused with, in a
/// scenario that runs none of them: "is read only by the offline protocol;
/// this scenario runs protocols = [\"online\"]".
std::string read_only_by(const std::vector<std::string>& readers, const Section& root, const Scenario& sc) {
  std::string who, ran;
  for (std::size_t k = 0; k < readers.size(); ++k)
    who += (k == 0 ? "" : k + 1 == readers.size() ? " and " : ", ") + readers[k];
  for (const std::string& p : sc.protocols) ran += (ran.empty() ? "\"" : ", \"") + p + "\"";
  return "is read only by the " + who + (readers.size() == 1 ? " protocol" : " protocols") +
         "; this scenario runs protocols = [" + ran + "]" +
         (root.has("protocols") ? "" : " (the default for an [environment] without a [dataset])");
}

}  // namespace

void parse_split(const Section& s, SplitSpec& p) {
  s.read_enum("method", p.method, schema::split_methods());
  // The methods that read test_ratio hold out a share of it, so 0 holds out
  // nothing (data/splits.cpp refuses it as it refuses 1); validation_ratio
  // 0 carves no validation part.
  s.read_float("test_ratio", p.test_ratio, 0.0, 1.0, Section::Open::kBoth);
  s.read_float("validation_ratio", p.validation_ratio, 0.0, 1.0, Section::Open::kHigh);
  s.read("validation", p.validation);
  s.read_enum("validation_item", p.validation_item, schema::split_validation_items());
  s.read_enum("validation_train", p.validation_train, schema::split_validation_trains());
  s.read_enum("ties", p.ties, schema::split_ties());
  s.read_int("folds", p.folds, 2);
  s.read_int("seed", p.seed);
  refuse_keys_the_method_ignores(s, p);
  if (s.has("validation_item") && !p.validation)
    s.fail("validation_item", "has no effect with validation = false (no validation item is held out)");
  if (s.has("validation_train") && !p.validation)
    s.fail("validation_train", "has no effect with validation = false (no validation item is held out)");
  if (p.validation_train != SplitSpec{}.validation_train && p.validation_item != "before_test_time")
    s.fail("validation_train", "\"" + p.validation_train + "\" has no effect with validation_item = \"" +
                                   p.validation_item + "\" (nothing lies between the second-last and the last "
                                   "item); it needs validation_item = \"before_test_time\"");
  const toml::array* folds = s.array("fold");
  if (!folds) return;
  if (folds->empty()) s.fail("fold", "expected at least one fold");
  std::set<std::string> seen;
  for (const toml::node& e : *folds) {
    if (p.method == "kfold") {
      auto k = e.value_exact<std::int64_t>();
      if (!k) {
        s.fail_at(e, "fold", std::string("expected fold numbers (integers) for kfold, got ") +
                                 scenario_detail::node_type_name(e));
      }
      if (*k < 1 || *k > p.folds) {
        s.fail_at(e, "fold", "fold " + std::to_string(*k) + " is not in [1, " +
                                 std::to_string(p.folds) + "] (folds = " +
                                 std::to_string(p.folds) + ")");
      }
      if (!seen.insert(std::to_string(*k)).second) {
        s.fail_at(e, "fold", "fold " + std::to_string(*k) + " is listed twice");
      }
      p.fold_numbers.push_back(static_cast<std::int32_t>(*k));
    } else {
      auto name = e.value_exact<std::string>();
      if (!name) {
        s.fail_at(e, "fold", std::string("expected fold names (strings) for fixed, got ") +
                                 scenario_detail::node_type_name(e));
      }
      // The names are ml-100k's files: another name failed every trial.
      const auto& known = fixed_split_folds();
      if (std::find(known.begin(), known.end(), *name) == known.end()) {
        const std::string near = closest_match(*name, known);
        s.fail_at(e, "fold", "unknown fold \"" + *name + "\"" +
                                 (near.empty() ? ";" : "; did you mean \"" + near + "\"?") +
                                 " one of: " + join(known));
      }
      if (!seen.insert(*name).second) s.fail_at(e, "fold", "fold '" + *name + "' is listed twice");
      p.fold_names.push_back(*name);
    }
  }
}

void parse_evaluation(const Section& s, EvaluationSpec& e) {
  s.read_enum("protocol", e.protocol, schema::evaluation_protocols());
  s.read_enum("target", e.target, schema::evaluation_targets());
  s.read("nested_validation", e.nested_validation);
  if (e.nested_validation && e.target != "validation")
    s.fail("nested_validation", "applies to target = \"validation\" only (got target = \"" + e.target + "\")");
  s.read_int("sampled_negatives", e.sampled_negatives, 1);
  s.read_string_array("metrics", e.metrics);
  // A misspelt name failed every trial, without a line.
  if (const toml::array* metrics = s.array("metrics")) {
    const auto& known = evaluation_metric_names();
    for (const toml::node& m : *metrics) {
      const std::string name = m.value_or(std::string());
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      const std::string near = closest_match(name, known);
      s.fail_at(m, "metrics", "unknown metric \"" + name + "\"" +
                                  (near.empty() ? ";" : "; did you mean \"" + near + "\"?") + " one of: " + join(known));
    }
  }
  std::vector<std::int64_t> cutoffs;
  s.read_int_array("cutoffs", cutoffs, 1);
  if (s.has("cutoffs")) {
    if (cutoffs.empty()) s.fail("cutoffs", "expected at least one cutoff");
    e.cutoffs.clear();
    for (auto c : cutoffs) {
      if (c > std::numeric_limits<std::int32_t>::max()) s.fail("cutoffs", "cutoff too large");
      e.cutoffs.push_back(static_cast<std::int32_t>(c));
    }
  }
  s.read_int("bootstrap", e.bootstrap, 0);
  s.read_float("relevance_threshold", e.relevance_threshold);
  s.read_int("max_latency_users", e.max_latency_users, 0);
  s.read_int("cold_user_max", e.cold_user_max, 0);
  s.read_float("head_fraction", e.head_fraction, 0.0, 1.0, Section::Open::kLow);
  s.read_int("explain_users", e.explain_users, 0);
  scenario_detail::parse_compare(s, e.compare);
}

void parse_online(const Section& s, OnlineSpec& o) {
  s.read_int("log_episodes", o.log_episodes, 1);
  s.read_enum("logging_policy", o.logging_policy, schema::logging_policies());
  s.read_float("logging_epsilon", o.logging_epsilon, 0.0, 1.0);
  s.read_float("logging_temperature", o.logging_temperature);
  if (s.has("logging_temperature") && !(o.logging_temperature > 0.0 && std::isfinite(o.logging_temperature))) {
    std::ostringstream got;
    got << o.logging_temperature;
    s.fail("logging_temperature", "expected a finite number > 0 (epsilon_softmax divides the oracle's "
                                  "utilities by it), got " + got.str());
  }
  s.read_int("episodes", o.episodes, 1);
  s.read_int("ope_episodes", o.ope_episodes, 1);
  s.read_int("batch", o.batch, 1);
  s.read_int("window", o.window, 1);
  s.read_float("weight_cap", o.weight_cap, 0.0);
  if (o.logging_policy == "epsilon_oracle" && o.logging_epsilon <= 0.0)
    s.fail("logging_epsilon", "must be > 0 with epsilon_oracle: a logging policy that never "
                              "explores gives off-policy estimators nothing to weight");
}

// Only trials of the offline protocol split the dataset (runner/trial.cpp);
// the simulated ones build their world from all of it (runner/online.cpp),
// so without offline a [split] would change nothing: refused, as a key its
// method does not read is.
void check_split_against_scenario(const Section& root, const Scenario& sc) {
  if (!runs(sc, "offline")) {
    const auto split = root.sub("split");
    if (!split) return;
    split->fail_table(read_only_by({"offline"}, root, sc));
  }
  const SplitSpec& p = sc.split;
  // The methods that read a source's own parts (without [dataset], the
  // synthetic default, which has none).
  const std::string& format = sc.dataset.format;
  if (p.method == "fixed" && format != "ml-100k")
    root.sub("split")->fail("method", "\"fixed\" reads ml-100k's own fold files (u1..u5, ua, ub, in "
                                      "u.data's format); dataset.format is \"" + format + "\"");
  if (p.method == "source" && format != "implicit-train-test")
    root.sub("split")->fail("method", "\"source\" reads the train and test parts a two-file format "
                                      "ships (implicit-train-test); dataset.format is \"" + format + "\"");
  // A test trial on such a split would train without the interactions
  // between each user's validation and test items, and score them nowhere.
  if (p.validation_train != SplitSpec{}.validation_train && sc.evaluation.target != "validation")
    root.sub("split")->fail("validation_train", "\"" + p.validation_train +
                                                    "\" leaves each user's interactions after the validation "
                                                    "item out of training, which only a validation trial "
                                                    "wants; it needs evaluation.target = \"validation\"");
  // SCHEMA.md: target = "validation" needs validation data, which only
  // these keys make (data/splits.cpp).
  if (sc.evaluation.target == "validation") {
    const bool lloo = p.method == "leave_last_one_out";
    if (lloo ? !p.validation : p.validation_ratio <= 0.0)
      root.sub("evaluation")->fail("target", "\"validation\" needs validation data, which split '" +
                                                 p.method + "' makes only with " +
                                                 (lloo ? "validation = true" : "validation_ratio > 0"));
  }
}

// An [evaluation] key that none of the scenario's protocols reads would
// change nothing (schema.cpp, evaluation_key_protocols): refused at the key,
// as a [split] without the offline protocol is at its table.
void check_evaluation_against_protocols(const Section& root, const Scenario& sc) {
  const auto evaluation = root.sub("evaluation");
  if (!evaluation) return;
  for (const auto& use : schema::evaluation_key_protocols()) {
    if (!evaluation->has(use.key)) continue;
    if (std::none_of(use.protocols.begin(), use.protocols.end(), [&](const std::string& p) { return runs(sc, p); }))
      evaluation->fail(use.key, read_only_by(use.protocols, root, sc));
  }
}

// SCHEMA.md [split.method]: the time-based methods need time order. Where the
// format and its keys say the data has none (data/time_order.hpp), every
// trial would fail; RecBole's .inter header is read only by the trial.
// Without timestamps no two interactions tie in time, so [split.ties] would
// change nothing: refused too.
void check_split_time_order(const Section& root, const Scenario& sc) {
  if (!runs(sc, "offline")) return;
  const DatasetSpec& d = sc.dataset;
  const std::optional<TimeOrder> order = declared_time_order(d);
  if (!order) return;
  const std::string format = "dataset.format \"" + d.format + "\"" +
                             (d.format == "delimited" ? " without a delimited.timestamp column" : "");
  const std::string problem = time_order_problem(sc.split.method, *order, sc.dataset.format == "implicit-train-test");
  const auto split = root.sub("split");
  if (!problem.empty()) {
    const std::string what = "\"" + sc.split.method + "\" orders interactions by time, but " + format + " " + problem;
    if (split && split->has("method")) split->fail("method", what);
    root.sub("dataset")->fail("format", "the default split method " + what);
  }
  if (!order->timestamps && split && split->has("ties"))
    split->fail("ties", "has no effect: " + format + " has no timestamps, so no two interactions tie in time");
  if (!order->timestamps && split && split->has("validation_item"))
    split->fail("validation_item", "has no effect: " + format +
                                       " has no timestamps, so only the second-last item precedes the test item");
}

}  // namespace recfuse::scenario_detail
