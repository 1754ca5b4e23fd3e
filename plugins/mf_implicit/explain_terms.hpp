// The reason EASE and iALS give for a score that is a sum of one term per
// training item of the user (ease.hpp: X_uj·B_ji; ials.hpp: s^u_ij·c_uj,
// Hu, Koren & Volinsky 2008, §5):
//
//   "31 of your 40 training items raise its score: Fargo (1996) (+0.34, 41%), item 172 (+0.1, 12%)"
//
// how many terms are positive out of the user's training items, and the (at
// most) two largest, each with its value and its share of the sum of all the
// terms (shown while that sum is positive), named by title where the data
// has one, else by dense id. No term positive: nothing to say.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "recfuse/types.hpp"

namespace recfuse {

/// One training item's term of a user's score.
struct ItemTerm {
  ItemId item;
  double value;
};

/// Locale-independent text of x with 3 significant digits ("0.0523", "1.5e-05").
inline std::string three_digits(double x) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 3);
  return std::string(buf, res.ptr);
}

/// The reason above, from every term of the sum (one per training item).
/// Items are named by `titles` (item_labels: the title, else "item <dataset
/// id>") when it has them, else "item <dense id>".
inline std::string explain_item_terms(std::vector<ItemTerm> terms, const std::vector<std::string>& titles = {}) {
  double total = 0.0;
  for (const ItemTerm& t : terms) total += t.value;
  const std::size_t history = terms.size();
  std::erase_if(terms, [](const ItemTerm& t) { return !(t.value > 0.0); });
  if (terms.empty()) return {};
  std::sort(terms.begin(), terms.end(), [](const ItemTerm& a, const ItemTerm& b) {
    return a.value > b.value || (a.value == b.value && a.item < b.item);  // largest first, then smaller id
  });
  std::string text = std::to_string(terms.size()) + " of your " + std::to_string(history) +
                     (history == 1 ? " training item" : " training items") +
                     (terms.size() == 1 ? " raises" : " raise") + " its score: ";
  for (std::size_t k = 0; k < terms.size() && k < 2; ++k) {
    const auto j = static_cast<std::size_t>(terms[k].item);
    text += (k > 0 ? ", " : "") +
            (j < titles.size() && !titles[j].empty() ? titles[j] : "item " + std::to_string(terms[k].item)) + " (+" +
            three_digits(terms[k].value);
    if (total > 0.0) text += ", " + std::to_string(static_cast<long long>(std::lround(100.0 * terms[k].value / total))) + "%";
    text += ")";
  }
  return text;
}

}  // namespace recfuse
