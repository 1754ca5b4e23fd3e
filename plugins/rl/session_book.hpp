// The user state the rl policies act on, and the bookkeeping of the
// sessions it is computed from.
//
// State vector φ(s) of a user u in a running session, D = 3F + 3 (F item
// features; "clicked" and "shown" sum the items' feature vectors x_i):
//   φ[0]             1                                  bias
//   φ[1 .. F]        mean x over u's last `history` clicked items before
//                    this session (0 when none): the long-run profile
//   φ[1+F .. 2F]     Σ_clicked x / (Σ_shown x + 1)      the session's click
//                    rate per feature: what u likes now
//   φ[1+2F .. 3F]    Σ_clicked x / count_scale          per-feature clicks,
//                    a proxy for what the session has used up (budget)
//   φ[1+3F]          steps / count_scale
//   φ[2+3F]          clicks / count_scale
// The profile is seeded from the logged sequences at fit and grows as
// sessions end; the session blocks start from 0.
//
// Sessions: Feedback and act name users, not sessions, and one user may have
// several sessions open at once (sampled with replacement). The k-th
// occurrence of a user among a step's rows is taken to be that user's k-th
// open session, oldest first: exact for the host's runner, which lists the
// live sessions of a batch in a fixed order; a session ends with its `done`.
//
// save/load (kCapSaveLoad) keep the profiles and the open sessions, each
// with the algorithm's per-session data, so that a policy saved between two
// steps of running sessions continues them after load.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rl_common.hpp"

namespace recfuse::rl {

template <typename Extra>
class SessionBook {
 public:
  struct Session {
    std::vector<double> clicked, shown;  // F each: Σ x over clicked / shown items
    double steps = 0;
    std::vector<ItemId> clicks;          // in order
    Extra extra;                         // the algorithm's per-session data
  };

  void reset(const ItemFeatures* items, std::int32_t n_users, int history, double count_scale) {
    items_ = items;
    history_len_ = static_cast<std::size_t>(history);
    count_scale_ = count_scale;
    history_.assign(static_cast<std::size_t>(n_users), {});
    open_.clear();
  }

  /// Profiles from the logged, time-ordered sequences (TrainData::sequences).
  void seed_history(const CsrMatrix& sequences) {
    for (std::int32_t u = 0; u < sequences.rows && static_cast<std::size_t>(u) < history_.size(); ++u)
      for (ItemId i : sequences.row(u)) remember(u, i);
  }

  int dim() const { return 3 * items_->dim() + 3; }

  /// The sessions of a step's rows (see the file comment); opened when
  /// `create`, else nullptr for a row whose session has not begun.
  void map(std::span<const UserId> users, bool create, std::vector<Session*>& out) {
    out.assign(users.size(), nullptr);
    seen_.clear();
    for (std::size_t r = 0; r < users.size(); ++r) {
      const std::size_t k = seen_[users[r]]++;
      auto it = open_.find(users[r]);
      if (it == open_.end()) {
        if (!create) continue;
        it = open_.emplace(users[r], std::deque<Session>()).first;
      }
      std::deque<Session>& list = it->second;
      while (create && list.size() <= k) list.push_back(fresh());
      if (k < list.size()) out[r] = &list[k];
    }
  }

  /// φ(s) into out (dim() values); s null means a session not yet begun.
  void state(UserId u, const Session* s, double* out) const {
    const int f = items_->dim();
    std::fill(out, out + dim(), 0.0);
    out[0] = 1.0;
    const auto& h = history_[static_cast<std::size_t>(u)];
    for (ItemId i : h) {
      const double* x = items_->row(i);
      for (int j = 0; j < f; ++j) out[1 + j] += x[j] / static_cast<double>(h.size());
    }
    if (!s) return;
    for (int j = 0; j < f; ++j) {
      const auto uj = static_cast<std::size_t>(j);
      out[1 + f + j] = s->clicked[uj] / (s->shown[uj] + 1.0);
      out[1 + 2 * f + j] = s->clicked[uj] / count_scale_;
    }
    out[1 + 3 * f] = s->steps / count_scale_;
    out[2 + 3 * f] = static_cast<double>(s->clicks.size()) / count_scale_;
  }

  /// Adds one step (slate of k items, clicked position or -1) to a session.
  void record(Session& s, const ItemId* slate, int k, int choice) const {
    const int f = items_->dim();
    for (int j = 0; j < k; ++j) {
      const double* x = items_->row(slate[j]);
      for (int d = 0; d < f; ++d) s.shown[static_cast<std::size_t>(d)] += x[d];
    }
    if (choice >= 0) {
      const double* x = items_->row(slate[choice]);
      for (int d = 0; d < f; ++d) s.clicked[static_cast<std::size_t>(d)] += x[d];
      s.clicks.push_back(slate[choice]);
    }
    s.steps += 1;
  }

  /// Ends the sessions of rows with done[r] (after map(users, true)): their
  /// clicks join the users' profiles.
  void close(std::span<const UserId> users, std::span<const std::uint8_t> done) {
    seen_.clear();
    std::vector<std::pair<UserId, std::size_t>> ending;
    for (std::size_t r = 0; r < users.size(); ++r) {
      const std::size_t k = seen_[users[r]]++;
      if (done[r]) ending.emplace_back(users[r], k);
    }
    for (auto e = ending.rbegin(); e != ending.rend(); ++e) {  // later occurrences first
      auto it = open_.find(e->first);
      if (it == open_.end() || e->second >= it->second.size()) continue;
      for (ItemId i : it->second[e->second].clicks) remember(e->first, i);
      it->second.erase(it->second.begin() + static_cast<std::ptrdiff_t>(e->second));
      if (it->second.empty()) open_.erase(it);
    }
  }

  /// The profiles, then the open sessions (users ascending, each user's
  /// oldest first), each session's Extra written by save_extra(w, extra).
  template <typename SaveExtra>
  void save(ModelWriter& w, SaveExtra&& save_extra) const {
    std::vector<std::int64_t> offsets{0};
    std::vector<ItemId> items;
    for (const auto& h : history_) {
      items.insert(items.end(), h.begin(), h.end());
      offsets.push_back(static_cast<std::int64_t>(items.size()));
    }
    w.values(offsets);
    w.values(items);
    std::vector<UserId> users;
    for (const auto& [u, list] : open_) users.push_back(u);
    std::sort(users.begin(), users.end());  // the file does not depend on the hash map's order
    w.value<std::uint64_t>(users.size());
    for (const UserId u : users) {
      const std::deque<Session>& list = open_.at(u);
      w.value(u);
      w.value<std::uint64_t>(list.size());
      for (const Session& s : list) {
        w.values(s.clicked);
        w.values(s.shown);
        w.value(s.steps);
        w.values(s.clicks);
        save_extra(w, s.extra);
      }
    }
  }
  /// What save wrote, after reset() with the same items, users and history;
  /// load_extra(r, extra) reads each session's Extra.
  template <typename LoadExtra>
  void load(ModelReader& r, LoadExtra&& load_extra) {
    const std::int64_t n_items = items_->n_items(), f = items_->dim();
    const std::vector<std::int64_t> offsets = r.values<std::int64_t>("the profile offsets");
    const std::vector<ItemId> items = r.values<ItemId>("the profile items");
    r.expect("the number of profiles", static_cast<std::int64_t>(offsets.size()) - 1,
             static_cast<std::int64_t>(history_.size()));
    r.expect_csr(offsets, items, n_items, "the profile offsets", "the profile items", "a profile item",
                 "is outside the catalogue");
    for (std::size_t u = 0; u < history_.size(); ++u) {
      if (static_cast<std::size_t>(offsets[u + 1] - offsets[u]) > history_len_)
        r.fail("the profile of a user", "is longer than history = " + std::to_string(history_len_));
      history_[u].assign(items.begin() + offsets[u], items.begin() + offsets[u + 1]);
    }
    open_.clear();
    const auto n_open = r.value<std::uint64_t>("the number of users in sessions");
    for (std::uint64_t e = 0; e < n_open; ++e) {
      const auto u = r.value<UserId>("a user in session");
      if (u < 0 || static_cast<std::size_t>(u) >= history_.size() || open_.count(u))
        r.fail("a user in session", std::to_string(u) + " is outside the users or repeated");
      std::deque<Session>& list = open_[u];
      const auto n = r.value<std::uint64_t>("the number of a user's sessions");
      for (std::uint64_t k = 0; k < n; ++k) {
        Session s;
        s.clicked = r.values<double>("a session's clicked features");
        s.shown = r.values<double>("a session's shown features");
        s.steps = r.value<double>("a session's steps");
        s.clicks = r.values<ItemId>("a session's clicks");
        r.expect("the width of a session's clicked features", static_cast<std::int64_t>(s.clicked.size()), f);
        r.expect("the width of a session's shown features", static_cast<std::int64_t>(s.shown.size()), f);
        for (const ItemId i : s.clicks)
          if (i < 0 || i >= n_items) r.fail("a session's click", std::to_string(i) + " is outside the catalogue");
        load_extra(r, s.extra);
        list.push_back(std::move(s));
      }
      if (list.empty()) r.fail("a user in session", std::to_string(u) + " has no session");
    }
  }

  std::size_t bytes() const {
    std::size_t b = 0;
    for (const auto& h : history_) b += h.size() * sizeof(ItemId);
    return b;
  }

 private:
  Session fresh() const {
    Session s;
    s.clicked.assign(static_cast<std::size_t>(items_->dim()), 0.0);
    s.shown.assign(s.clicked.size(), 0.0);
    return s;
  }
  void remember(UserId u, ItemId i) {
    if (history_len_ == 0) return;
    auto& h = history_[static_cast<std::size_t>(u)];
    if (h.size() == history_len_) h.erase(h.begin());
    h.push_back(i);
  }

  const ItemFeatures* items_ = nullptr;
  std::size_t history_len_ = 0;
  double count_scale_ = 1.0;
  std::vector<std::vector<ItemId>> history_;                // per user, oldest first
  std::unordered_map<UserId, std::deque<Session>> open_;    // references stay valid on insert
  std::unordered_map<UserId, std::size_t> seen_;            // map/close scratch
};

}  // namespace recfuse::rl
