// The reasons of the fusion strategies that explain (kCapExplain): each
// child's exact term of the fused score, named by the child's scenario name
// in scenario order, then the reason of the child with the largest positive
// term, when that child explains itself:
//
//   "fused score 1.09: knn +0.62, pop +0.47; knn: because you interacted with A, B"   (score_fusion)
//   "fused score 0.0298: knn +0.0159 (rank 3), pop +0.0139 (rank 12), ease (not in its top 100)"
//                                                                                      (rank_fusion)
//   "served by knn, the child for users with at least 20 training items; knn: ..."     (switching)
//
// Numbers have 3 significant digits; a term's sign is always written.
#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <vector>

#include "recfuse/recommender.hpp"

namespace recfuse {

/// Locale-independent text of x with 3 significant digits ("0.0159", "1.09", "187").
inline std::string fusion_number(double x) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 3);
  return std::string(buf, res.ptr);
}

/// One child's part of a fused score: its term, or none (`has_term` false:
/// the child left the item out, `note` says how).
struct ChildTerm {
  double value = 0.0;
  bool has_term = true;
  std::string note;  // "" or what the term came from ("rank 3", "not in its top 100")
};

/// "; knn: because you ...": child c's own reason for (u, i), or "" when c
/// does not declare kCapExplain or has nothing to say.
inline std::string child_reason(const std::vector<Child>& children, std::size_t c, UserId u, ItemId i) {
  if (!(children[c].capabilities & kCapExplain)) return {};
  const std::string why = children[c].model->explain(u, i);
  return why.empty() ? why : "; " + children[c].name + ": " + why;
}

/// "<lead>: knn +0.62 (rank 3), pop +0.47" (terms[c] is child c's), then the
/// reason of the child whose term is the largest positive one (the first
/// such on ties).
inline std::string explain_child_terms(const std::vector<Child>& children, const std::string& lead,
                                       const std::vector<ChildTerm>& terms, UserId u, ItemId i) {
  std::string text = lead + ": ";
  std::size_t top = terms.size();
  for (std::size_t c = 0; c < terms.size(); ++c) {
    const ChildTerm& t = terms[c];
    text += (c > 0 ? ", " : "") + children[c].name;
    if (t.has_term) text += (t.value < 0 ? " " : " +") + fusion_number(t.value);
    if (!t.note.empty()) text += " (" + t.note + ")";
    if (t.has_term && t.value > 0 && (top == terms.size() || t.value > terms[top].value)) top = c;
  }
  return top == terms.size() ? text : text + child_reason(children, top, u, i);
}

}  // namespace recfuse
