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
#include <optional>
#include <variant>

#include "scenario/planned_comparisons.hpp"
#include "scenario/section_parsers.hpp"
#include "scenario/trial_count.hpp"
#include "scenario/scenario.hpp"
#include "scenario/schema.hpp"
#include "scenario/toml_reader.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

using scenario_detail::Section;
using namespace scenario_detail;  // the section parsers
namespace schema = scenario_schema;

ParamValue scalar(const Section& s, const toml::node& n, const std::string& key) {
  auto v = scenario_detail::to_param_value(n);
  if (!v) {
    s.fail_at(n, key, std::string("expected a scalar (int, float, bool or string), got ") +
                          scenario_detail::node_type_name(n));
  }
  return *v;
}

/// Equal values, ints and floats compared as the number a float parameter
/// reads (host/params_validation.cpp converts an int to double).
bool same_grid_value(const ParamValue& a, const ParamValue& b) {
  const auto number = [](const ParamValue& v) -> std::optional<double> {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    return std::nullopt;
  };
  // Exact within a type: two ints beyond 2^53 differ though their doubles agree.
  if (a.index() == b.index()) return a == b;
  if (const auto x = number(a), y = number(b); x && y) return *x == *y;
  return false;
}

/// A value as the scenario spells it in TOML (10.0, "a", true).
std::string toml_text(const toml::node& n) {
  std::ostringstream os;
  n.visit([&](const auto& v) { os << v; });
  return os.str();
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
      std::vector<const toml::node*> nodes;
      for (const toml::node& e : *arr) {
        ParamValue v = scalar(gs, e, kp);
        // A repeated value is the same trial twice: one id, one record, but
        // two rows in the report's summary (counted twice in its mean). 10
        // and 10.0 are repeats too: a float parameter reads both as 10.0
        // (an int one refuses 10.0), yet their labels and ids differ.
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (!same_grid_value(values[i], v)) continue;
          std::string msg = "value " + toml_text(e) + " is listed twice";
          if (values[i].index() != v.index())
            msg += " (" + toml_text(*nodes[i]) + " and " + toml_text(e) +
                   " are one number to a float parameter)";
          gs.fail_at(e, kp, msg);
        }
        values.push_back(std::move(v));
        nodes.push_back(&e);
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
  check_split_against_scenario(root, sc);
  check_evaluation_against_protocols(root, sc);
  check_split_time_order(root, sc);
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
