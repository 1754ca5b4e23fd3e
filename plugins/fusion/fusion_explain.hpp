// The reasons of the fusion strategies that explain (kCapExplain): each
// child's exact term of the fused score, named by the child's scenario name
// in scenario order, then the reason of the child with the largest positive
// term, when that child explains itself:
//
//   "fused score 1.09: knn +0.62, pop +0.47; knn: because you interacted with A, B"   (score_fusion)
//   "fused score 0.0298: knn +0.0159 (rank 3), pop +0.0139 (rank 12), ease (not in its top 100)"
//                                                                                      (rank_fusion)
//   "served by knn, the child for users with at least 20 training items; knn: ..."     (switching)
//   "stacked score 0.91 (popularity, history, intercept -0.12): knn +0.62, pop +0.41; knn: ..."
//                                                                                      (stacking)
//   "retrieved by knn (rank 3 of its top 100), scored 0.83 by fm; fm: ..."               (cascade)
//
// Numbers have 3 significant digits; a term's sign is always written.
// A top-k list asks about one user k times in a row, so a strategy keeps
// what it derives from the children's rows of the last user it explained
// (ExplainCache): the children score each user once, not once per item.
#pragma once

#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "fusion_common.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

/// Locale-independent text of x with 3 significant digits ("0.0159", "1.09", "187").
inline std::string fusion_number(double x) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 3);
  return std::string(buf, res.ptr);
}

/// fusion_number with its sign always written ("+0.62", "-0.2", "+0").
inline std::string signed_number(double x) { return (x < 0 ? "" : "+") + fusion_number(x); }

/// One child's part of a fused score: its term, or none (`has_term` false:
/// the child left the item out, `note` says how).
struct ChildTerm {
  double value = 0.0;
  bool has_term = true;
  std::string note;  // "" or what the term came from ("rank 3", "not in its top 100")
};

/// The children's score rows of the last user explained (children x n_items,
/// child-major, as the strategy's `derive` left them: it may transform them
/// in place) and what `derive` computed from them (`State`). The owner
/// clears it whenever its scores may change: fit, load, observe,
/// set_children (FusionStrategy::forget_explained).
template <class State>
class ExplainCache {
 public:
  struct Entry {
    std::vector<float> rows;
    State state;
  };
  /// u's entry, from derive(u, rows.data(), state) on the children's fresh
  /// rows unless u was the last user asked about; nullptr (nothing scored)
  /// when u or i is outside the n_users x n_items model.
  template <class Derive>
  const Entry* get(std::span<const Child> children, UserId u, ItemId i, std::int32_t n_users,
                   std::int32_t n_items, Derive&& derive) {
    if (u < 0 || u >= n_users || i < 0 || i >= n_items) return nullptr;
    if (u != user_) {
      user_ = -1;  // a throwing child or derive leaves nothing half-built behind
      const UserId users[] = {u};
      score_children(children, users, static_cast<std::size_t>(n_items), entry_.rows);
      derive(u, entry_.rows.data(), entry_.state);
      user_ = u;
    }
    return &entry_;
  }
  void clear() { user_ = -1; }

 private:
  UserId user_ = -1;
  Entry entry_;
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
    if (t.has_term) text += " " + signed_number(t.value);
    if (!t.note.empty()) text += " (" + t.note + ")";
    if (t.has_term && t.value > 0 && (top == terms.size() || t.value > terms[top].value)) top = c;
  }
  return top == terms.size() ? text : text + child_reason(children, top, u, i);
}

}  // namespace recfuse
