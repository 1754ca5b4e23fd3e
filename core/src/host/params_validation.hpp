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

/// Renders a ParamValue for messages and reports ("0.5", "true", "\"cosine\"").
std::string format_param_value(const ParamValue& v);

}  // namespace recfuse
