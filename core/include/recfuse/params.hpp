// Typed parameter declarations (after dmlc/parameter.h): a plugin declares
// name, type, default, range or choices and a doc line for each parameter;
// the host validates a scenario's table against them once and hands the
// plugin a complete ParamSet of typed values.
//
//   {ParamSpec::integer("neighbors", 50, 1, 100000, "neighbourhood size"),
//    ParamSpec::real("shrinkage", 10.0, 0.0, 1e9, "similarity shrinkage"),
//    ParamSpec::choice("similarity", "cosine", {"cosine", "jaccard"}, "...")}
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

enum class ParamType { kInt, kFloat, kBool, kString, kChoice };

inline const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kString: return "string";
    case ParamType::kChoice: return "choice";
  }
  return "?";
}

using ParamValue = std::variant<std::int64_t, double, bool, std::string>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kFloat;
  ParamValue default_value;
  double min = -std::numeric_limits<double>::infinity();  // int/float only
  double max = std::numeric_limits<double>::infinity();   // inclusive
  std::vector<std::string> choices;                       // kChoice only
  std::string doc;

  static ParamSpec integer(std::string n, std::int64_t def, double lo, double hi, std::string d) {
    return {std::move(n), ParamType::kInt, def, lo, hi, {}, std::move(d)};
  }
  static ParamSpec real(std::string n, double def, double lo, double hi, std::string d) {
    return {std::move(n), ParamType::kFloat, def, lo, hi, {}, std::move(d)};
  }
  static ParamSpec boolean(std::string n, bool def, std::string d) {
    return {std::move(n), ParamType::kBool, def, 0, 1, {}, std::move(d)};
  }
  static ParamSpec string(std::string n, std::string def, std::string d) {
    return {std::move(n), ParamType::kString, std::move(def), 0, 0, {}, std::move(d)};
  }
  static ParamSpec choice(std::string n, std::string def, std::vector<std::string> options,
                          std::string d) {
    return {std::move(n), ParamType::kChoice, std::move(def), 0, 0, std::move(options),
            std::move(d)};
  }
};

/// Complete, validated parameter values (every declared key present).
/// kChoice values are stored as strings.
class ParamSet {
 public:
  void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::map<std::string, ParamValue>& values() const { return values_; }

  std::int64_t get_int(const std::string& name) const { return get<std::int64_t>(name); }
  double get_float(const std::string& name) const {
    const ParamValue& v = at(name);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return get<double>(name);
  }
  bool get_bool(const std::string& name) const { return get<bool>(name); }
  const std::string& get_string(const std::string& name) const {
    return get<std::string>(name);
  }

 private:
  const ParamValue& at(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw Error("parameter '" + name + "' was not declared");
    return it->second;
  }
  template <typename T>
  const T& get(const std::string& name) const {
    const ParamValue& v = at(name);
    if (const auto* p = std::get_if<T>(&v)) return *p;
    throw Error("parameter '" + name + "' has another type");
  }
  std::map<std::string, ParamValue> values_;
};

}  // namespace recfuse
