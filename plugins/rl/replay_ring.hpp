// The replay buffers of DQN (dqn.hpp) and SlateQ (slateq.hpp): rings of
// transitions stored as structs of arrays. ReplayRing is what every entry
// has, the state φ (d values), the action taken, the next state φ' and the
// discount of the bootstrap from it (0 after a session's last step), with the
// ring's bookkeeping and its part of the model file; DqnReplay and
// SlateQReplay add what their targets need. Rows are allocated on the first
// feedback (SlateQ learns its slate size there), so a fitted model that has
// seen none saves empty arrays.
//
// load reads what save wrote without judging it; check, after the whole file
// is read, refuses any value that would index outside the ring, the state
// width or the catalogue when train_step samples an entry.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rl_common.hpp"

namespace recfuse::rl {

struct ReplayRing {
  std::size_t capacity = 0, size = 0, next = 0;
  std::vector<double> phi, next_phi;  // capacity x d each
  std::vector<double> discount;       // γ (DQN) or γⁿ (SlateQ's n-step), 0 at the end
  std::vector<ItemId> action;         // kNoItem = SlateQ's ⊥ (no click)

  void allocate(std::size_t d) {
    phi.resize(capacity * d);
    next_phi.resize(capacity * d);
    discount.resize(capacity);
    action.resize(capacity);
  }
  /// The entry the next transition goes to (the oldest once the ring is
  /// full); counts it in.
  std::size_t claim() {
    const std::size_t at = next;
    next = (at + 1) % capacity;
    size = std::min(size + 1, capacity);
    return at;
  }
  double* phi_at(std::size_t e, std::size_t d) { return phi.data() + e * d; }
  const double* phi_at(std::size_t e, std::size_t d) const { return phi.data() + e * d; }
  double* next_phi_at(std::size_t e, std::size_t d) { return next_phi.data() + e * d; }
  const double* next_phi_at(std::size_t e, std::size_t d) const { return next_phi.data() + e * d; }

  std::size_t bytes() const {
    return (phi.size() + next_phi.size() + discount.size()) * sizeof(double) + action.size() * sizeof(ItemId);
  }

  void save(ModelWriter& w) const {
    w.value<std::uint64_t>(capacity);
    w.value<std::uint64_t>(size);
    w.value<std::uint64_t>(next);
    w.values(phi);
    w.values(next_phi);
    w.values(discount);
    w.values(action);
  }
  void load(ModelReader& r) {
    capacity = static_cast<std::size_t>(r.value<std::uint64_t>("the replay capacity"));
    size = static_cast<std::size_t>(r.value<std::uint64_t>("the replay size"));
    next = static_cast<std::size_t>(r.value<std::uint64_t>("the next replay entry"));
    phi = r.values<double>("the replay states");
    next_phi = r.values<double>("the replay next states");
    discount = r.values<double>("the replay discounts");
    action = r.values<ItemId>("the replay actions");
  }
  /// Refuses another capacity than `want`, a size above `rows` (capacity
  /// once allocated, else 0), a next entry outside the capacity, arrays that
  /// are not `rows` entries of d values, and actions outside [0, n), kNoItem
  /// allowed when `none_action`.
  void check(const ModelReader& r, std::size_t want, std::size_t rows, std::size_t d, ItemId n,
             bool none_action) const {
    expect_size(r, "the replay capacity", capacity, want);
    if (size > rows || next >= capacity)
      r.fail("the replay buffer", "has size " + std::to_string(size) + " and next " + std::to_string(next) +
                                      " for " + std::to_string(rows) + " allocated entries of a capacity of " +
                                      std::to_string(capacity));
    expect_size(r, "the size of the replay states", phi.size(), rows * d);
    expect_size(r, "the size of the replay next states", next_phi.size(), rows * d);
    expect_size(r, "the number of replay discounts", discount.size(), rows);
    expect_size(r, "the number of replay actions", action.size(), rows);
    for (const ItemId a : action)
      if (!(none_action && a == kNoItem) && (a < 0 || a >= n))
        r.fail("a replay action", std::to_string(a) + " is outside the catalogue");
  }
};

/// DQN's entries add the reward and the candidates of the next step, whose
/// best Q under the target network bootstraps the target: the first n_next
/// of `width` slots (after them kNoItem, or a reused entry's older items).
struct DqnReplay : ReplayRing {
  std::size_t width = 0;  // next-candidate slots per entry
  std::vector<double> reward;
  std::vector<ItemId> next_cands;  // capacity x width
  std::vector<std::int32_t> n_next;

  void allocate(std::size_t d) {
    ReplayRing::allocate(d);
    reward.resize(capacity);
    n_next.resize(capacity);
  }
  /// Room for w next candidates per entry (the first call, or a larger set).
  void widen(std::size_t w) {
    if (w <= width) return;
    std::vector<ItemId> wider(capacity * w, kNoItem);
    for (std::size_t e = 0; e < size; ++e)
      std::copy_n(next_cands.begin() + static_cast<std::ptrdiff_t>(e * width), n_next[e],
                  wider.begin() + static_cast<std::ptrdiff_t>(e * w));
    next_cands.swap(wider);
    width = w;
  }
  const ItemId* next_cands_at(std::size_t e) const { return next_cands.data() + e * width; }
  std::size_t bytes() const {
    return ReplayRing::bytes() + reward.size() * sizeof(double) +
           next_cands.size() * sizeof(ItemId) + n_next.size() * sizeof(std::int32_t);
  }

  void save(ModelWriter& w) const {
    ReplayRing::save(w);
    w.value<std::uint64_t>(width);
    w.values(reward);
    w.values(next_cands);
    w.values(n_next);
  }
  void load(ModelReader& r) {
    ReplayRing::load(r);
    width = static_cast<std::size_t>(r.value<std::uint64_t>("the replay's next-candidate width"));
    reward = r.values<double>("the replay rewards");
    next_cands = r.values<ItemId>("the replay next candidates");
    n_next = r.values<std::int32_t>("the replay next-candidate counts");
  }
  /// ReplayRing::check, and an entry's first n_next candidates must be items
  /// of [0, n) (train_step scores each), the rest kNoItem or items.
  void check(const ModelReader& r, std::size_t want, std::size_t d, ItemId n) const {
    const std::size_t rows = phi.empty() ? 0 : capacity;
    ReplayRing::check(r, want, rows, d, n, false);
    expect_size(r, "the number of replay rewards", reward.size(), rows);
    expect_size(r, "the number of replay next-candidate counts", n_next.size(), rows);
    if (width != 0 && capacity > next_cands.max_size() / width)
      r.fail("the replay's next-candidate width", std::to_string(width) + " is too large");
    expect_size(r, "the size of the replay next candidates", next_cands.size(), capacity * width);
    for (const ItemId i : next_cands)
      if (i != kNoItem && (i < 0 || i >= n))
        r.fail("a replay next candidate", std::to_string(i) + " is outside the catalogue");
    for (std::size_t e = 0; e < n_next.size(); ++e) {
      const bool fits = n_next[e] >= 0 && static_cast<std::size_t>(n_next[e]) <= width;
      if (!fits || std::find(next_cands_at(e), next_cands_at(e) + n_next[e], kNoItem) != next_cands_at(e) + n_next[e])
        r.fail("a replay next-candidate count", std::to_string(n_next[e]) + " does not fit its candidates");
    }
  }
};

/// SlateQ's entries add the n-step return and the next slate (k items),
/// over which the user's choice model weighs the bootstrap.
struct SlateQReplay : ReplayRing {
  int k = 0;                          // the slate size, known from the first feedback
  std::vector<ItemId> next_slate;     // capacity x k
  std::vector<double> ret;            // Σ γ^j r over the n steps

  void allocate(std::size_t d, int slate_size) {
    k = slate_size;
    ReplayRing::allocate(d);
    next_slate.resize(capacity * static_cast<std::size_t>(k));
    ret.resize(capacity);
  }
  const ItemId* next_slate_at(std::size_t e) const { return next_slate.data() + e * static_cast<std::size_t>(k); }
  ItemId* next_slate_at(std::size_t e) { return next_slate.data() + e * static_cast<std::size_t>(k); }
  std::size_t bytes() const {
    return ReplayRing::bytes() + ret.size() * sizeof(double) + next_slate.size() * sizeof(ItemId);
  }

  void save(ModelWriter& w) const {
    ReplayRing::save(w);
    w.value<std::int32_t>(k);
    w.values(next_slate);
    w.values(ret);
  }
  void load(ModelReader& r) {
    ReplayRing::load(r);
    k = r.value<std::int32_t>("the replay's slate size");
    next_slate = r.values<ItemId>("the replay next slates");
    ret = r.values<double>("the replay returns");
  }
  /// ReplayRing::check (⊥ is an action), a slate size of at least 1 once
  /// allocated, and next slates of items of [0, n).
  void check(const ModelReader& r, std::size_t want, std::size_t d, ItemId n) const {
    if (k < 0) r.fail("the replay's slate size", "is " + std::to_string(k));
    const std::size_t rows = k > 0 ? capacity : 0;
    ReplayRing::check(r, want, rows, d, n, true);
    expect_size(r, "the size of the replay next slates", next_slate.size(), rows * static_cast<std::size_t>(k));
    expect_size(r, "the number of replay returns", ret.size(), rows);
    for (const ItemId i : next_slate)
      if (i < 0 || i >= n) r.fail("a replay next slate item", std::to_string(i) + " is outside the catalogue");
  }
};

}  // namespace recfuse::rl
