// Helpers shared by the scenario tests.
#pragma once

#include <string>

#include "scenario/scenario.hpp"

namespace recfuse::test {

/// The scenario in `text`, parsed as the file "s.toml" (errors name s.toml:line:column).
inline Scenario parse(const std::string& text) { return parse_scenario(text, "s.toml"); }

/// `body` from line 2 on (after name = "t"), then one algorithm, plugin "p".
inline std::string with_algo(const std::string& body) {
  return "name = \"t\"\n" + body + "\n[[algorithms]]\nplugin = \"p\"\n";
}

}  // namespace recfuse::test
