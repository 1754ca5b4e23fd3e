// What every bandit policy shares: the argument checks of act/propensity,
// turning one step of Feedback into per-item rewards, and the `target`
// parameter that chooses what a shown item earns.
//
// Per-item reward of the k items shown to one session (slate position j,
// the user clicked position c or none, c = -1):
//   target = "click":  r_j = [j == c]
//   target = "reward": r_j = [j == c] · reward   (the session's reward, e.g.
//                      watch time; credited to the clicked item only)
// Every shown item is an observation, so unclicked ones teach "0". A bandit
// is myopic: `done` (the session ended) does not change what it learns.
//
// Model files (kCapSaveLoad) of every bandit open with the algorithm's name
// (write_model_name), so that a file of another algorithm is refused by name
// before any of its bytes is taken for a model.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {


enum class BanditTarget { kClick, kReward };

inline ParamSpec bandit_target_param() {
  return ParamSpec::choice("target", "click", {"click", "reward"},
                           "what a shown item earns: 1 if clicked else 0 (click), or the "
                           "session's reward if clicked else 0 (reward)");
}

/// warm_negatives (UnclickedSampler, bandit_features.hpp): logs hold clicks
/// only, so a warm start from them alone has every target 1.
inline ParamSpec warm_negatives_param() {
  return ParamSpec::integer("warm_negatives", 0, 0, 100,
                            "with warm_start: per warm-start observation (a logged click; a user-item pair for "
                            "scope user or global), this many items the user has no logged interaction with, "
                            "drawn with replacement, as reward-0 observations under its context (logs hold no "
                            "non-clicks)");
}

inline BanditTarget parse_bandit_target(const ParamSet& p) {
  return p.get_string("target") == "reward" ? BanditTarget::kReward : BanditTarget::kClick;
}

/// Throws unless the spans of an act/propensity call have the documented
/// sizes, slate_size ≤ n_candidates, and every candidate is a known item.
inline void check_policy_args(const char* who, std::size_t n_users, std::span<const ItemId> candidates,
                              int n_candidates, int slate_size, std::size_t slates_size,
                              std::int32_t n_items) {
  const std::string w(who);
  if (n_candidates <= 0 || slate_size <= 0 || slate_size > n_candidates)
    throw Error(w + ": slate_size (" + std::to_string(slate_size) + ") must be in [1, n_candidates = " +
                std::to_string(n_candidates) + "]");
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  if (candidates.size() != n_users * c || slates_size != n_users * k)
    throw Error(w + ": expected " + std::to_string(n_users * c) + " candidates and " +
                std::to_string(n_users * k) + " slate entries, got " + std::to_string(candidates.size()) +
                " and " + std::to_string(slates_size));
  for (ItemId i : candidates)
    if (i < 0 || i >= n_items)
      throw Error(w + ": candidate item " + std::to_string(i) + " outside [0, " + std::to_string(n_items) + ")");
}

/// The propensity of a deterministic policy's slates: 1 where `slates`
/// holds what `policy.act` would choose now for the same sessions, else 0.
/// `scratch` is reused between calls.
inline void deterministic_propensity(Recommender& policy, std::span<const UserId> users,
                                     std::span<const ItemId> candidates, int n_candidates, int slate_size,
                                     std::span<const ItemId> slates, std::span<double> out,
                                     std::vector<ItemId>& scratch) {
  scratch.resize(slates.size());
  policy.act(users, candidates, n_candidates, slate_size, scratch);
  const auto k = static_cast<std::size_t>(slate_size);
  for (std::size_t r = 0; r < users.size(); ++r)
    out[r] = std::equal(scratch.begin() + static_cast<std::ptrdiff_t>(r * k),
                        scratch.begin() + static_cast<std::ptrdiff_t>((r + 1) * k),
                        slates.begin() + static_cast<std::ptrdiff_t>(r * k))
                 ? 1.0
                 : 0.0;
}

/// Calls f(session, user, item, reward, clicked) for every item shown in
/// `fb`, in session then slate order, after checking the spans, ids and
/// choices (-1 or a slate position). Padding (kNoItem) in a slate is skipped.
template <typename F>
void for_each_shown(const char* who, const Feedback& fb, BanditTarget target, std::int32_t n_users,
                    std::int32_t n_items, F&& f) {
  const std::string w(who);
  const std::size_t n = fb.users.size(), k = static_cast<std::size_t>(fb.slate_size);
  if (fb.slate_size <= 0 || fb.slates.size() != n * k || fb.choice.size() != n || fb.reward.size() != n)
    throw Error(w + ": malformed feedback (" + std::to_string(n) + " sessions, slate_size " +
                std::to_string(fb.slate_size) + ", " + std::to_string(fb.slates.size()) + " slate entries, " +
                std::to_string(fb.choice.size()) + " choices, " + std::to_string(fb.reward.size()) + " rewards)");
  for (std::size_t s = 0; s < n; ++s) {
    const UserId u = fb.users[s];
    if (u < 0 || u >= n_users)
      throw Error(w + ": feedback for user " + std::to_string(u) + " outside [0, " + std::to_string(n_users) + ")");
    if (fb.choice[s] < -1 || fb.choice[s] >= fb.slate_size)
      throw Error(w + ": feedback choice " + std::to_string(fb.choice[s]) + " of session " + std::to_string(s) +
                  " is neither -1 (no click) nor a slate position in [0, " + std::to_string(fb.slate_size) + ")");
    for (std::size_t j = 0; j < k; ++j) {
      const ItemId i = fb.slates[s * k + j];
      if (i == kNoItem) continue;
      if (i < 0 || i >= n_items)
        throw Error(w + ": feedback item " + std::to_string(i) + " outside [0, " + std::to_string(n_items) + ")");
      const bool clicked = fb.choice[s] == static_cast<std::int32_t>(j);
      const double r = !clicked ? 0.0 : target == BanditTarget::kClick ? 1.0 : static_cast<double>(fb.reward[s]);
      f(s, u, i, r, clicked);
    }
  }
}

}  // namespace recfuse
