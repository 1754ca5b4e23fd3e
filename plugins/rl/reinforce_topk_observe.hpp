// Recording feedback for top-K REINFORCE (reinforce_topk.hpp, which
// includes this file after the class): observe turns each row of feedback
// into a step of its session's Episode (the slate, its propensity and the
// clicked position with objectives "slate" and "positions", the clicked
// item with its candidates and recorded π, or a logged step over the whole
// catalogue), ends the sessions that are done and starts an update once
// enough events have gathered.
#pragma once

#include <algorithm>
#include <cmath>

#include "reinforce_topk.hpp"

namespace recfuse::rl {

inline void ReinforceTopK::observe(const Feedback& fb) {
  check_feedback(name_, fb, n_users(), n_items());
  const auto k = static_cast<std::size_t>(fb.slate_size), c = static_cast<std::size_t>(last_c_);
  k_ = fb.slate_size;
  const bool from_act = last_users_.size() == fb.users.size() &&
                        std::equal(last_users_.begin(), last_users_.end(), fb.users.begin());
  book_.map(fb.users, true, rows_);
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  for (std::size_t r = 0; r < fb.users.size(); ++r) {
    auto& s = *rows_[r];
    Episode& ep = s.extra;
    const ItemId* slate = fb.slates.data() + r * k;
    book_.state(fb.users[r], &s, phi_.data());
    ep.phi.insert(ep.phi.end(), phi_.begin(), phi_.end());
    Step st;
    st.reward = fb.reward[r];
    // objectives "slate", "positions": log P(slate) under the acting π; −inf
    // when the slate is not one this policy's act could have drawn (an item
    // off its row, a repeat), or its probability underflows: then the step
    // is no event.
    double acted = -INFINITY;
    if (slate_objective_ && from_act) {
      const ItemId* row = last_cands_.data() + r * c;
      slate_idx_.resize(k);
      for (std::size_t j = 0; j < k; ++j) slate_idx_[j] = static_cast<int>(std::find(row, row + c, slate[j]) - row);
      slate_terms_.resize(k);
      acted = slate_log_probability(std::span<const double>(last_probs_.data() + r * c, c), slate_idx_, drawn_,
                                    nullptr, {}, slate_terms_.data());
    }
    if (std::isfinite(acted)) {  // every own step is an event: the slate and its propensity
      const ItemId* row = last_cands_.data() + r * c;
      st.slate_at = static_cast<std::ptrdiff_t>(ep.slates.size());
      st.slate_k = fb.slate_size;
      st.cand_at = ep.cands.size();
      st.n_cands = last_c_;
      st.choice = fb.choice[r];
      ep.slates.insert(ep.slates.end(), slate_idx_.begin(), slate_idx_.end());
      ep.slate_terms.insert(ep.slate_terms.end(), slate_terms_.begin(), slate_terms_.end());
      ep.cands.insert(ep.cands.end(), row, row + c);
    } else if (fb.choice[r] >= 0) {
      const ItemId clicked = slate[fb.choice[r]];
      const ItemId* row = from_act ? last_cands_.data() + r * c : nullptr;
      const ItemId* at = row ? std::find(row, row + c, clicked) : nullptr;
      if (at && at != row + c) {
        st.cand_at = ep.cands.size();
        st.n_cands = last_c_;
        st.action = static_cast<int>(at - row);
        st.behavior = last_probs_[r * c + static_cast<std::size_t>(st.action)];
        ep.cands.insert(ep.cands.end(), row, row + c);
      } else {  // not from this policy's act: a logged step
        st.catalogue = true;
        st.action = clicked;
      }
    }
    ep.steps.push_back(st);
    book_.record(s, slate, fb.slate_size, fb.choice[r]);
    if (fb.done[r]) end_episode(std::move(ep));
  }
  book_.close(fb.users, fb.done);
  last_users_.clear();
  if (pending_events_ >= update_events_) update();
}

}  // namespace recfuse::rl
