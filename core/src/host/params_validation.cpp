// The one place where a scenario's parameter table meets a plugin's declared
// specs (after dmlc/parameter.h): every key must be declared, of the declared
// type, within range or among the choices; missing keys take their default.
#include "host/params_validation.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "util/text.hpp"

namespace recfuse {
namespace {

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  // Keep floats recognisable as floats ("10.0", not "10"), as TOML writes them.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// Range bounds print as integers for int parameters ("[1, 100000]").
std::string format_bound(double v, ParamType t) {
  if (t == ParamType::kInt && std::isfinite(v) && std::abs(v) < 9e15) {
    return std::to_string(static_cast<long long>(v));
  }
  return format_double(v);
}

const char* value_type_name(const ParamValue& v) {
  switch (v.index()) {
    case 0: return "int";
    case 1: return "float";
    case 2: return "bool";
    default: return "string";
  }
}

class Checker {
 public:
  Checker(const std::map<std::string, std::string>& locations, const std::string& table_location,
          const std::string& key_path)
      : locations_(locations), table_location_(table_location) {
    path_ = key_path;
    const auto ends_with = [&](std::string_view suffix) {
      return path_.size() >= suffix.size() &&
             path_.compare(path_.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (!path_.empty() && !ends_with(".params") && !ends_with(".grid")) path_ += ".params";
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    std::string where;
    if (auto it = locations_.find(key); it != locations_.end() && !it->second.empty()) {
      where = it->second;
    } else {
      where = table_location_;
    }
    std::string msg = where.empty() ? std::string() : where + ": ";
    if (!path_.empty()) msg += "[" + path_ + "] ";
    throw Error(msg + what);
  }

  ParamValue check(const ParamSpec& spec, const ParamValue& v) const {
    const std::string& key = spec.name;
    switch (spec.type) {
      case ParamType::kInt:
        if (!std::holds_alternative<std::int64_t>(v)) wrong_type(spec, v);
        check_range(spec, static_cast<double>(std::get<std::int64_t>(v)), v);
        return v;
      case ParamType::kFloat: {
        double x = 0;
        if (const auto* i = std::get_if<std::int64_t>(&v)) {
          x = static_cast<double>(*i);
        } else if (const auto* d = std::get_if<double>(&v)) {
          x = *d;
        } else {
          wrong_type(spec, v);
        }
        // SCHEMA.md: every float is finite, also where the declared range
        // is unbounded (ParamSpec's own min and max are -inf and inf).
        if (!std::isfinite(x)) fail(key, "'" + key + "' must be a finite number, got " + format_double(x));
        check_range(spec, x, v);
        return x;
      }
      case ParamType::kBool:
        if (!std::holds_alternative<bool>(v)) wrong_type(spec, v);
        return v;
      case ParamType::kString:
        if (!std::holds_alternative<std::string>(v)) wrong_type(spec, v);
        return v;
      case ParamType::kChoice: {
        if (!std::holds_alternative<std::string>(v)) wrong_type(spec, v);
        const std::string& s = std::get<std::string>(v);
        if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
          std::string msg = "'" + key + "' = \"" + s + "\" is not one of the choices";
          if (const std::string near = closest_match(s, spec.choices); !near.empty()) {
            msg += "; did you mean \"" + near + "\"?";
          }
          fail(key, msg + " (" + join(spec.choices) + ")");
        }
        return v;
      }
    }
    return v;
  }

 private:
  [[noreturn]] void wrong_type(const ParamSpec& spec, const ParamValue& v) const {
    const std::string expected = spec.type == ParamType::kChoice
                                     ? "a string (one of: " + join(spec.choices) + ")"
                                     : std::string(param_type_name(spec.type));
    fail(spec.name, "'" + spec.name + "' expected " + expected + ", got " + value_type_name(v) +
                        " " + format_param_value(v));
  }

  void check_range(const ParamSpec& spec, double x, const ParamValue& v) const {
    if (x < spec.min || x > spec.max) {
      fail(spec.name, "'" + spec.name + "' = " + format_param_value(v) + " is out of range " +
                          format_param_range(spec));
    }
  }

  const std::map<std::string, std::string>& locations_;
  const std::string& table_location_;
  std::string path_;
};

}  // namespace

std::string format_param_value(const ParamValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return format_double(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "\"" + std::get<std::string>(v) + "\"";
}

std::string format_param_range(const ParamSpec& spec) {
  switch (spec.type) {
    case ParamType::kInt:
    case ParamType::kFloat:
      return "[" + format_bound(spec.min, spec.type) + ", " + format_bound(spec.max, spec.type) + "]";
    case ParamType::kChoice: return join(spec.choices, "|");
    default: return "";
  }
}

void check_param_table(const std::vector<ParamSpec>& specs) {
  const std::map<std::string, std::string> no_locations;
  const std::string no_table;
  const Checker checker(no_locations, no_table, "");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec& spec = specs[i];
    const std::string name = "parameter '" + spec.name + "'";
    if (spec.name.empty()) throw Error("parameter #" + std::to_string(i) + " has no name");
    if (!seen.insert(spec.name).second) throw Error(name + " is declared twice");
    const bool numeric = spec.type == ParamType::kInt || spec.type == ParamType::kFloat;
    if (numeric && !(spec.min <= spec.max)) throw Error(name + " has an empty range " + format_param_range(spec));
    if (spec.type == ParamType::kChoice && spec.choices.empty()) throw Error(name + " has no choices");
    // The default is what a scenario that omits the key hands the plugin:
    // it must pass the same checks as a value written in the scenario.
    try {
      checker.check(spec, spec.default_value);
    } catch (const Error& e) {
      throw Error(std::string("default ") + e.what());
    }
  }
}

ParamSet validate_params(const std::vector<ParamSpec>& specs,
                         const std::map<std::string, ParamValue>& values,
                         const std::map<std::string, std::string>& locations,
                         const std::string& table_location, const std::string& key_path) {
  const Checker checker(locations, table_location, key_path);
  std::vector<std::string> known;
  for (const auto& s : specs) known.push_back(s.name);
  std::sort(known.begin(), known.end());

  for (const auto& [key, value] : values) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string msg = "unknown key '" + key + "'";
    if (const std::string near = closest_match(key, known); !near.empty()) {
      msg += "; did you mean '" + near + "'? ";
    } else {
      msg += "; ";
    }
    checker.fail(key, msg + (known.empty() ? "this algorithm takes no parameters"
                                           : "known: " + join(known)));
  }

  ParamSet out;
  for (const auto& spec : specs) {
    auto it = values.find(spec.name);
    if (it == values.end()) {
      // Defaults are the plugin's own: stored as declared (floats as double).
      ParamValue def = spec.default_value;
      if (spec.type == ParamType::kFloat) {
        if (const auto* i = std::get_if<std::int64_t>(&def)) def = static_cast<double>(*i);
      }
      out.set(spec.name, std::move(def));
    } else {
      out.set(spec.name, checker.check(spec, it->second));
    }
  }
  return out;
}

}  // namespace recfuse
