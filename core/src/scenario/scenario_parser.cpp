// Scenario files (TOML) to typed Scenario; the schema is scenarios/SCHEMA.md
// and scenario/schema.cpp. Every table is checked for unknown keys before it
// is read, so a typo never silently falls back to a default.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

#include "scenario/planned_comparisons.hpp"
#include "scenario/trial_count.hpp"
#include "scenario/scenario.hpp"
#include "scenario/schema.hpp"
#include "scenario/toml_reader.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

using scenario_detail::Section;
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

void parse_split(const Section& s, SplitSpec& p) {
  s.read_enum("method", p.method, schema::split_methods());
  s.read_float("test_ratio", p.test_ratio, 0.0, 1.0, true);
  s.read_float("validation_ratio", p.validation_ratio, 0.0, 1.0, true);
  s.read("validation", p.validation);
  s.read_enum("ties", p.ties, schema::split_ties());
  s.read_int("folds", p.folds, 2);
  s.read_int("seed", p.seed);
  const toml::array* folds = s.array("fold");
  if (!folds) return;
  if (p.method != "kfold" && p.method != "fixed") {
    s.fail("fold", "only applies to method = \"kfold\" or \"fixed\", not \"" + p.method + "\"");
  }
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
      if (name->empty()) s.fail_at(e, "fold", "fold names must not be empty");
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
  s.read_float("head_fraction", e.head_fraction, 0.0, 1.0);
  if (e.head_fraction <= 0) s.fail("head_fraction", "expected a number in (0, 1], got 0");
  scenario_detail::parse_compare(s, e.compare);
}

ParamValue scalar(const Section& s, const toml::node& n, const std::string& key) {
  auto v = scenario_detail::to_param_value(n);
  if (!v) {
    s.fail_at(n, key, std::string("expected a scalar (int, float, bool or string), got ") +
                          scenario_detail::node_type_name(n));
  }
  return *v;
}

/// `params = { ... }` of an [[algorithms]] or [environment] table, with the
/// location of each value for the host's parameter validation.
void read_params_table(const std::string& file, const Section& s, const toml::table& t,
                       const std::string& path, const std::string& schema_table,
                       std::map<std::string, ParamValue>& params,
                       std::map<std::string, std::string>& locations) {
  if (!s.has("params")) return;
  const toml::table* p = t.get("params")->as_table();
  if (!p) s.fail("params", std::string("expected a table, got ") +
                               scenario_detail::node_type_name(*t.get("params")));
  const Section ps(file, t, path, schema_table);
  for (const auto& [key, value] : *p) {
    const std::string k(key.str());
    params[k] = scalar(ps, value, "params." + k);
    locations[k] = scenario_detail::location(file, value.source());
  }
}

void parse_environment(const std::string& file, const Section& s, EnvironmentSpec& e) {
  e.location = s.location();
  s.read("plugin", e.plugin);
  if (!s.has("plugin")) s.fail_table("missing required key 'plugin'");
  if (e.plugin.empty()) s.fail("plugin", "must not be empty");
  read_params_table(file, s, s.table(), "environment", "environment", e.params, e.locations);
  e.locations["plugin"] = s.location_of("plugin");
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

/// protocols = [...]: checked against the tables the scenario has.
void parse_protocols(const Section& root, Scenario& sc) {
  if (!root.has("protocols")) {
    if (sc.environment.plugin.empty()) {
      sc.protocols = {"offline"};
    } else {
      if (sc.has_dataset) sc.protocols.push_back("offline");
      sc.protocols.push_back("online");
      sc.protocols.push_back("off_policy");
    }
    return;
  }
  std::vector<std::string> list;
  root.read_string_array("protocols", list);
  if (list.empty()) root.fail("protocols", "expected at least one of offline, online, off_policy");
  std::set<std::string> seen;
  for (const auto& p : list) {
    const auto& known = schema::protocols();
    if (std::find(known.begin(), known.end(), p) == known.end())
      root.fail("protocols", "unknown protocol '" + p + "'; known: offline, online, off_policy");
    if (!seen.insert(p).second) root.fail("protocols", "protocol '" + p + "' is listed twice");
    if (p != "offline" && sc.environment.plugin.empty())
      root.fail("protocols", "protocol '" + p + "' needs an [environment] table");
    if (p == "offline" && !sc.has_dataset)
      root.fail("protocols", "protocol 'offline' needs a [dataset] table");
    sc.protocols.push_back(p);
  }
}

void parse_children(const std::string& file, const Section& s, const toml::table& t,
                    const std::string& path, AlgorithmSpec& a);

AlgorithmSpec parse_algorithm(const std::string& file, const toml::table& t,
                              const std::string& parent = "algorithms") {
  const Section s(file, t, parent, "algorithms");
  AlgorithmSpec a;
  a.key_path = parent;
  a.location = s.location();
  s.read("plugin", a.plugin);
  if (!s.has("plugin")) s.fail_table("missing required key 'plugin'");
  if (a.plugin.empty()) s.fail("plugin", "must not be empty");
  // The runner reports an unknown plugin at its value. A parameter named
  // "plugin" overwrites this below, which is right for parameter errors.
  a.locations["plugin"] = s.location_of("plugin");
  a.name = a.plugin;
  s.read("name", a.name);
  if (a.name.empty()) s.fail("name", "must not be empty");
  // Report labels add "[key=value,...]" for grid points and " (online)" /
  // " (off-policy)" for simulated protocols: a name spelt like one would
  // merge two configurations into one report row.
  if (a.name.find_first_of("[]") != std::string::npos)
    s.fail("name", "must not contain '[' or ']' (grid points are labelled name[key=value])");
  for (const char* suffix : {" (online)", " (off-policy)"})
    if (a.name.ends_with(suffix))
      s.fail("name", std::string("must not end with '") + suffix + "' (the report's label of a simulated protocol)");

  const std::string path = parent + "." + a.name;
  read_params_table(file, s, t, path, "algorithms", a.params, a.locations);
  if (s.has("grid")) {
    const toml::table* g = t.get("grid")->as_table();
    if (!g) s.fail("grid", std::string("expected a table, got ") +
                               scenario_detail::node_type_name(*t.get("grid")));
    const Section gs(file, t, path, "algorithms");
    for (const auto& [key, value] : *g) {
      const std::string k(key.str());
      const std::string kp = "grid." + k;
      const toml::array* arr = value.as_array();
      if (!arr) {
        gs.fail_at(value, kp, std::string("expected an array of values to sweep, got ") +
                                  scenario_detail::node_type_name(value));
      }
      if (arr->empty()) gs.fail_at(value, kp, "expected at least one value to sweep");
      if (a.params.count(k)) {
        gs.fail_at(value, kp, "'" + k + "' is also set in [" + path +
                                  ".params]; a key is either fixed or swept");
      }
      std::vector<ParamValue> values;
      for (const toml::node& e : *arr) {
        ParamValue v = scalar(gs, e, kp);
        // A repeated value is the same trial twice: one id, one record, but
        // two rows in the report's summary (counted twice in its mean).
        if (std::find(values.begin(), values.end(), v) != values.end()) {
          std::ostringstream shown;
          std::visit([&](const auto& x) {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) {
              shown << '"' << x << '"';
            } else {
              shown << std::boolalpha << x;
            }
          }, v);
          gs.fail_at(e, kp, "value " + shown.str() + " is listed twice");
        }
        values.push_back(std::move(v));
      }
      a.grid[k] = std::move(values);
      a.locations[k] = scenario_detail::location(file, value.source());
    }
  }
  if (s.has("children")) parse_children(file, s, t, path, a);
  return a;
}

/// [[<path>.children]]: nested algorithm tables handed to a fusion strategy.
void parse_children(const std::string& file, const Section& s, const toml::table& t,
                    const std::string& path, AlgorithmSpec& a) {
  const toml::array* arr = t.get("children")->as_array();
  if (!arr || arr->empty()) {
    s.fail("children", std::string("expected one or more tables ([[") + path +
                           ".children]]), got " + scenario_detail::node_type_name(*t.get("children")));
  }
  std::set<std::string> names;
  for (const toml::node& e : *arr) {
    const toml::table* ct = e.as_table();
    if (!ct) {
      s.fail_at(e, "children", std::string("expected tables ([[") + path + ".children]]), got " +
                                   scenario_detail::node_type_name(e));
    }
    AlgorithmSpec c = parse_algorithm(file, *ct, path + ".children");
    const Section cs(file, *ct, path + ".children", "algorithms");
    if (!c.grid.empty()) cs.fail("grid", "a child cannot sweep a grid; sweep the parent instead");
    if (!names.insert(c.name).second) {
      cs.fail(cs.has("name") ? "name" : "plugin",
              "duplicate child name '" + c.name + "'; give each child a distinct 'name'");
    }
    a.children.push_back(std::move(c));
  }
}

void parse_algorithms(const std::string& file, const Section& root,
                      std::vector<AlgorithmSpec>& out) {
  if (!root.has("algorithms")) {
    root.fail_table("no [[algorithms]]: a scenario runs at least one algorithm");
  }
  const toml::array* arr = root.array("algorithms");
  if (arr->empty()) root.fail("algorithms", "expected at least one algorithm");
  std::map<std::string, std::string> first_at;
  for (const toml::node& e : *arr) {
    const toml::table* t = e.as_table();
    if (!t) {
      root.fail_at(e, "algorithms", std::string("expected tables ([[algorithms]]), got ") +
                                        scenario_detail::node_type_name(e));
    }
    AlgorithmSpec a = parse_algorithm(file, *t);
    if (auto it = first_at.find(a.name); it != first_at.end()) {
      const Section s(file, *t, "algorithms", "algorithms");
      const std::string msg = "duplicate algorithm name '" + a.name + "' (first at " +
                              it->second + "); give each entry a distinct 'name'";
      if (s.has("name")) s.fail("name", msg);
      s.fail_table(msg);
    }
    first_at[a.name] = a.location;
    out.push_back(std::move(a));
  }
}

void parse_top_level(const Section& root, Scenario& sc) {
  if (!root.has("name")) root.fail_table("missing required key 'name'");
  root.read("name", sc.name);
  if (sc.name.empty()) root.fail("name", "must not be empty");
  if (sc.name.find('/') != std::string::npos) root.fail("name", "must not contain '/'");
  // The default output is results/<name>: "." or ".." would write into
  // results/ itself or the working directory.
  if (sc.name == "." || sc.name == "..") root.fail("name", "must not be \"" + sc.name + "\"");
  root.read("description", sc.description);
  std::vector<std::int64_t> seeds;
  root.read_int_array("seeds", seeds, 0);
  if (root.has("seeds")) {
    if (seeds.empty()) root.fail("seeds", "expected at least one seed");
    sc.seeds.clear();
    std::set<std::int64_t> seen;
    for (auto v : seeds) {
      if (!seen.insert(v).second) {
        root.fail("seeds", "seed " + std::to_string(v) + " is listed twice");
      }
      sc.seeds.push_back(static_cast<std::uint64_t>(v));
    }
  }
  root.read_int("threads", sc.threads, 0);
  root.read_float("time_limit_s", sc.time_limit_s, 0.0);
  sc.output = "results/" + sc.name;
  root.read("output", sc.output);
  if (sc.output.empty()) root.fail("output", "must not be empty");
}

}  // namespace

Scenario parse_scenario(std::string_view text, const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    throw Error(scenario_detail::location(path, err.source()) + ": " +
                std::string(err.description()));
  }
  Scenario sc;
  sc.file = path;
  sc.text_sha256 = sha256_hex(text);
  const Section root(path, doc, "", "");
  parse_top_level(root, sc);
  sc.has_dataset = root.has("dataset");
  if (auto s = root.sub("dataset")) parse_dataset(*s, sc.dataset);
  if (auto s = root.sub("filter")) parse_filter(*s, sc.filter);
  if (auto s = root.sub("split")) parse_split(*s, sc.split);
  if (auto s = root.sub("filter"); s && sc.split.method == "fixed") {
    // The fixed folds are the source's own files, read row by row: a row
    // filter or k-core on the dataset would not reach them (implicit does:
    // the fold rows take the dataset's values).
    const std::pair<const char*, bool> filters[] = {{"min_rating", sc.filter.min_rating.has_value()},
                                                    {"min_user_interactions", sc.filter.min_user_interactions > 0},
                                                    {"min_item_interactions", sc.filter.min_item_interactions > 0}};
    for (const auto& [key, on] : filters)
      if (on)
        s->fail(key, "does not apply to split method \"fixed\" (its folds are the dataset's own files, "
                     "read as they are); filter after choosing another method");
  }
  if (auto s = root.sub("evaluation")) parse_evaluation(*s, sc.evaluation);
  if (auto s = root.sub("environment")) parse_environment(path, *s, sc.environment);
  if (auto s = root.sub("online")) {
    if (sc.environment.plugin.empty())
      s->fail_table("needs an [environment] table to run against");
    parse_online(*s, sc.online);
  }
  // Without [dataset] and [environment] the scenario runs offline on the
  // synthetic default dataset, as before.
  if (sc.environment.plugin.empty()) sc.has_dataset = true;
  parse_protocols(root, sc);
  parse_algorithms(path, root, sc.algorithms);
  scenario_detail::check_trial_count(root, sc);
  if (auto s = root.sub("evaluation")) scenario_detail::check_compare_labels(*s, sc);
  return sc;
}

Scenario load_scenario(const std::string& path) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || !std::filesystem::is_regular_file(path, ec)) throw Error(path + ": cannot read scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(path + ": cannot read scenario file");
  return parse_scenario(text.str(), path);
}

}  // namespace recfuse
