#include "scenario/toml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "scenario/schema.hpp"
#include "util/text.hpp"

namespace recfuse::scenario_detail {
namespace {

std::string number(double v) {
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string show(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return "\"" + *s + "\"";
  if (auto i = n.value_exact<std::int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) return number(*d);
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  return std::string("a ") + node_type_name(n);
}

}  // namespace

std::string location(const std::string& file, const toml::source_region& where) {
  if (where.begin.line == 0) return file;
  return file + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

const char* node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "int";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "bool";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

std::optional<ParamValue> to_param_value(const toml::node& node) {
  if (auto i = node.value_exact<std::int64_t>()) return ParamValue(*i);
  if (auto d = node.value_exact<double>()) return ParamValue(*d);
  if (auto b = node.value_exact<bool>()) return ParamValue(*b);
  if (auto s = node.value_exact<std::string>()) return ParamValue(*s);
  return std::nullopt;
}

Section::Section(const std::string& file, const toml::table& table, std::string path,
                 const std::string& schema_table)
    : file_(file), table_(table), path_(std::move(path)) {
  const auto& known = scenario_schema::keys_of(schema_table);
  for (const auto& [key, value] : table_) {
    const std::string k(key.str());
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string msg = (path_.empty() ? std::string() : "[" + path_ + "] ") + "unknown key '" + k +
                      "'";
    if (const std::string near = closest_match(k, known); !near.empty()) {
      msg += "; did you mean '" + near + "'?";
    } else {
      msg += ";";
    }
    // The key's own position, so the caret lands on the typo.
    const toml::source_region& where =
        key.source().begin.line != 0 ? key.source() : value.source();
    throw Error(scenario_detail::location(file_, where) + ": " + msg + " known: " + join(known));
  }
}

const toml::node& Section::node(const std::string& key) const { return *table_.get(key); }

std::string Section::location_of(const std::string& key) const {
  const toml::node* n = table_.get(key);
  return n ? scenario_detail::location(file_, n->source()) : location();
}

void Section::fail(const std::string& key, const std::string& what) const {
  fail_at(node(key), key, what);
}

void Section::fail_at(const toml::node& n, const std::string& key, const std::string& what) const {
  const std::string full = path_.empty() ? key : path_ + "." + key;
  throw Error(scenario_detail::location(file_, n.source()) + ": [" + full + "] " + what);
}

void Section::fail_table(const std::string& what) const {
  throw Error(location() + ": " + (path_.empty() ? std::string() : "[" + path_ + "] ") + what);
}

void Section::wrong_type(const std::string& key, const char* expected) const {
  fail(key, std::string("expected ") + expected + ", got " + node_type_name(node(key)));
}

void Section::read(const std::string& key, std::string& out) const {
  if (!has(key)) return;
  auto v = node(key).value_exact<std::string>();
  if (!v) wrong_type(key, "a string");
  out = *v;
}

void Section::read(const std::string& key, bool& out) const {
  if (!has(key)) return;
  auto v = node(key).value_exact<bool>();
  if (!v) wrong_type(key, "a bool");
  out = *v;
}

void Section::read_enum(const std::string& key, std::string& out,
                        const std::vector<std::string>& choices) const {
  if (!has(key)) return;
  std::string v;
  read(key, v);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    std::string msg = "unknown value \"" + v + "\"";
    if (const std::string near = closest_match(v, choices); !near.empty()) {
      msg += "; did you mean \"" + near + "\"?";
    } else {
      msg += ";";
    }
    fail(key, msg + " one of: " + join(choices));
  }
  out = v;
}

void Section::read_int(const std::string& key, std::int64_t& out, std::int64_t lo,
                       std::int64_t hi) const {
  if (!has(key)) return;
  auto v = node(key).value_exact<std::int64_t>();
  if (!v) wrong_type(key, "an integer");
  if (*v < lo || *v > hi) {
    // An int32 key's implicit top is shown only to a value above it.
    const bool open_top = hi == std::numeric_limits<std::int64_t>::max() ||
                          (hi == std::numeric_limits<std::int32_t>::max() && *v <= hi);
    fail(key, (open_top ? "expected an integer >= " + std::to_string(lo)
                        : "expected an integer in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "]") +
                  ", got " + std::to_string(*v));
  }
  out = *v;
}

void Section::read_int(const std::string& key, std::int32_t& out, std::int64_t lo,
                       std::int64_t hi) const {
  std::int64_t v = out;
  read_int(key, v, lo, hi);
  out = static_cast<std::int32_t>(v);
}

void Section::read_int(const std::string& key, std::uint64_t& out) const {
  std::int64_t v = static_cast<std::int64_t>(out);
  read_int(key, v, 0);
  out = static_cast<std::uint64_t>(v);
}

void Section::read_float(const std::string& key, double& out, double lo, double hi, Open open) const {
  if (!has(key)) return;
  const toml::node& n = node(key);
  double v = 0;
  if (auto d = n.value_exact<double>()) {
    v = *d;
  } else if (auto i = n.value_exact<std::int64_t>()) {
    v = static_cast<double>(*i);
  } else {
    wrong_type(key, "a number");
  }
  // TOML spells inf and nan, but no scenario number means either: an
  // infinite ratio, skew or threshold only turns into NaN further on.
  const bool lo_open = open == Open::kLow || open == Open::kBoth;
  const bool hi_open = open == Open::kHigh || open == Open::kBoth;
  const bool below = lo_open ? v <= lo : v < lo;
  const bool above = hi_open ? v >= hi : v > hi;
  if (!std::isfinite(v) || below || above) {
    const bool open_top = std::isinf(hi) || hi == std::numeric_limits<double>::max();
    std::string range;
    if (open_top && std::isinf(lo)) {
      range = "a finite number";
    } else if (open_top) {
      range = "a finite number " + std::string(lo_open ? "> " : ">= ") + number(lo);
    } else {
      range = "a number in " + std::string(lo_open ? "(" : "[") + number(lo) + ", " + number(hi) +
              (hi_open ? ")" : "]");
    }
    fail(key, "expected " + range + ", got " + show(n));
  }
  out = v;
}

void Section::read_float(const std::string& key, std::optional<double>& out) const {
  if (!has(key)) return;
  double v = 0;
  read_float(key, v);
  out = v;
}

const toml::array* Section::array(const std::string& key) const {
  if (!has(key)) return nullptr;
  const toml::array* a = node(key).as_array();
  if (!a) wrong_type(key, "an array");
  return a;
}

void Section::read_int_array(const std::string& key, std::vector<std::int64_t>& out,
                             std::int64_t lo) const {
  if (!has(key)) return;
  const toml::array* a = node(key).as_array();
  if (!a) wrong_type(key, "an array of integers");
  std::vector<std::int64_t> values;
  for (const toml::node& e : *a) {
    auto v = e.value_exact<std::int64_t>();
    if (!v) {
      fail_at(e, key, std::string("expected an array of integers, got an element of type ") +
                          node_type_name(e));
    }
    if (*v < lo) {
      fail_at(e, key, "expected integers >= " + std::to_string(lo) + ", got " +
                          std::to_string(*v));
    }
    values.push_back(*v);
  }
  out = std::move(values);
}

void Section::read_string_array(const std::string& key, std::vector<std::string>& out) const {
  if (!has(key)) return;
  const toml::array* a = node(key).as_array();
  if (!a) wrong_type(key, "an array of strings");
  std::vector<std::string> values;
  for (const toml::node& e : *a) {
    auto v = e.value_exact<std::string>();
    if (!v) {
      fail_at(e, key, std::string("expected an array of strings, got an element of type ") +
                          node_type_name(e));
    }
    values.push_back(*v);
  }
  out = std::move(values);
}

std::optional<Section> Section::sub(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const toml::table* t = node(key).as_table();
  if (!t) wrong_type(key, "a table");
  const std::string p = path_.empty() ? key : path_ + "." + key;
  return Section(file_, *t, p, p);
}

}  // namespace recfuse::scenario_detail
