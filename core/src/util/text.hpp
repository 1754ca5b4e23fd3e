// Small text helpers used by error messages across the host.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace recfuse {

/// Edit distance with adjacent swaps (optimal string alignment), case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The closest candidate within a sensible distance, or "" if none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);
/// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace recfuse
