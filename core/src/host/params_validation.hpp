// Validates a scenario's parameter table against a plugin's declared specs,
// once, at the host boundary.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recfuse/params.hpp"

namespace recfuse {

/// `values` as written in the scenario; `locations` maps a key to
/// "file:line:column" (may be missing); `table_location` locates the
/// enclosing table; `key_path` prefixes keys in messages ("algorithms.itemknn").
/// Returns every declared parameter with its value or default. Throws Error:
///   "s.toml:14:9: [algorithms.itemknn.params] unknown key 'neigbors'; did you mean
///    'neighbors'? known: neighbors, shrinkage, similarity"
/// and likewise for a wrong type (ints are accepted for floats) or a value
/// out of range / not among the choices.
ParamSet validate_params(const std::vector<ParamSpec>& specs,
                         const std::map<std::string, ParamValue>& values,
                         const std::map<std::string, std::string>& locations,
                         const std::string& table_location, const std::string& key_path);

/// Checks a plugin's own parameter table once, when the library loads: each
/// name given once, a non-empty range, choices to choose from, and a default
/// that passes the checks a scenario's value would. Throws Error naming the
/// parameter ("default 'n' = 500 is out of range [0, 100]").
void check_param_table(const std::vector<ParamSpec>& specs);

/// Renders a ParamValue for messages and reports ("0.5", "true", "\"cosine\"").
std::string format_param_value(const ParamValue& v);

/// The declared range as messages and `recfuse plugins` show it: "[1, 1048576]"
/// for an int, "[0.0, 1e+09]" for a float, "a|b" for choices, "" otherwise.
std::string format_param_range(const ParamSpec& spec);

}  // namespace recfuse
