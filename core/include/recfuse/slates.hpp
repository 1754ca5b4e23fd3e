// Slate helpers every environment needs (environment.hpp): checking the
// slates a policy hands to step, and the myopic oracle of a world whose
// expected immediate reward grows with each slate item's score and whose
// positions are examined no more as they go down (then the best slate is
// the k highest-scored candidates, highest first; calibrated.hpp and
// interest_evolution.hpp give the argument for theirs).
//
//   check_slates("my_env", slates, candidates(), n, num_candidates(), slate_size(), terminated, truncated);
//   top_scored_slates("my_env", scores, candidates(), num_candidates(), slate_size(), slates,
//                     terminated, truncated);
//
// Layouts are row-major per session: slates n x k, candidates and scores
// n x m.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

namespace slates_detail {

/// Whether row[0..n) holds item: a full scan whose compares do not branch,
/// faster than std::find on rows this short (a slate, ~10 candidates).
inline bool holds(const ItemId* row, std::size_t n, ItemId item) {
  bool found = false;
  for (std::size_t i = 0; i < n; ++i) found |= row[i] == item;
  return found;
}

}  // namespace slates_detail

/// Throws Error("<who>: ...") naming the session, position and item unless
/// slates holds n_sessions x slate_size entries and every session not yet
/// ended (terminated or truncated: n_sessions flags each) shows distinct
/// items of its own candidates (n_sessions x n_candidates).
inline void check_slates(std::string_view who, std::span<const ItemId> slates, std::span<const ItemId> candidates,
                         int n_sessions, int n_candidates, int slate_size, std::span<const std::uint8_t> terminated,
                         std::span<const std::uint8_t> truncated) {
  if (n_sessions < 0 || n_candidates < 1 || slate_size < 1)
    throw Error(std::string(who) + ": " + std::to_string(n_sessions) + " sessions of " +
                std::to_string(n_candidates) + " candidates and slates of " + std::to_string(slate_size));
  const auto n = static_cast<std::size_t>(n_sessions), m = static_cast<std::size_t>(n_candidates),
             k = static_cast<std::size_t>(slate_size);
  if (candidates.size() != n * m)
    throw Error(std::string(who) + ": " + std::to_string(candidates.size()) + " candidates for " +
                std::to_string(n) + " sessions of " + std::to_string(m));
  if (terminated.size() != n || truncated.size() != n)
    throw Error(std::string(who) + ": the ended flags do not have one entry per session (" + std::to_string(n) + ")");
  if (slates.size() != n * k)
    throw Error(std::string(who) + ": step got " + std::to_string(slates.size()) +
                " slate entries, expected n_sessions x slate_size = " + std::to_string(n * k));
  for (std::size_t s = 0; s < n; ++s) {
    if (terminated[s] || truncated[s]) continue;
    const ItemId* slate = slates.data() + s * k;
    const ItemId* row = candidates.data() + s * m;
    for (std::size_t j = 0; j < k; ++j) {
      const bool offered = slates_detail::holds(row, m, slate[j]);
      const bool repeated = slates_detail::holds(slate, j, slate[j]);
      if (offered && !repeated) continue;
      throw Error(std::string(who) + ": session " + std::to_string(s) + ", slate position " + std::to_string(j) +
                  ": item " + std::to_string(slate[j]) +
                  (offered ? " appears twice in the slate" : " is not among this step's candidates"));
    }
  }
}

/// slates (n x k) = each session's slate_size candidates of highest score,
/// the highest first; ties go to the earlier candidate and NaN ranks last.
/// scores and candidates: n x n_candidates; errors name `who`. Sessions
/// flagged in `terminated` or `truncated` (n entries each, or empty: none)
/// are not ranked: they get their first slate_size candidates, a valid
/// slate that step ignores (an environment's batch runs until its longest
/// session ends, so most rows of a late step have ended).
inline void top_scored_slates(std::string_view who, std::span<const double> scores,
                              std::span<const ItemId> candidates, int n_candidates, int slate_size,
                              std::span<ItemId> slates, std::span<const std::uint8_t> terminated = {},
                              std::span<const std::uint8_t> truncated = {}) {
  const auto m = static_cast<std::size_t>(std::max(n_candidates, 1));
  const std::size_t n = scores.size() / m;
  if (n_candidates < 1 || slate_size < 1 || slate_size > n_candidates || scores.size() != n * m ||
      candidates.size() != n * m || slates.size() != n * static_cast<std::size_t>(slate_size))
    throw Error(std::string(who) + ": " + std::to_string(scores.size()) + " scores, " +
                std::to_string(candidates.size()) + " candidates and " + std::to_string(slates.size()) +
                " slate entries do not make sessions of " + std::to_string(n_candidates) +
                " candidates and slates of " + std::to_string(slate_size));
  if ((!terminated.empty() && terminated.size() != n) || (!truncated.empty() && truncated.size() != n))
    throw Error(std::string(who) + ": the ended flags do not have one entry per session (" + std::to_string(n) + ")");
  const auto k = static_cast<std::size_t>(slate_size);
  std::vector<std::size_t> order(m);
  for (std::size_t s = 0; s < n; ++s) {
    if ((!terminated.empty() && terminated[s]) || (!truncated.empty() && truncated[s])) {
      std::copy_n(candidates.begin() + static_cast<std::ptrdiff_t>(s * m), k,
                  slates.begin() + static_cast<std::ptrdiff_t>(s * k));
      continue;
    }
    const double* u = scores.data() + s * m;
    auto key = [u](std::size_t a) { return std::isnan(u[a]) ? -std::numeric_limits<double>::infinity() : u[a]; };
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::size_t a, std::size_t b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
    for (std::size_t j = 0; j < k; ++j) slates[s * k + j] = candidates[s * m + order[j]];
  }
}

}  // namespace recfuse
