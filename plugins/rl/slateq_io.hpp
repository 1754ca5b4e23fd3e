// Model files of SlateQ (slateq.hpp, which includes this file after the
// class; kCapSaveLoad). save writes the whole state a deployment continues
// from, so that a loaded policy scores, acts (the same exploration draws)
// and, after the same feedback, learns bit for bit as the saved one: the
// item features, the profiles and open sessions with their waiting n-step
// targets, the choice model, W and its target copy, the replay buffer, the
// updates owed, both random streams and the update count.
#pragma once

#include <string>

#include "slateq.hpp"

namespace recfuse::rl {

inline void SlateQ::save(std::ostream& out) const {
  ModelWriter w(out);
  write_policy_head(w, name_, n_users(), n_items(), items_);
  book_.save(w, [](ModelWriter& to, const Pending& p) {
    to.value<std::uint64_t>(p.steps.size());
    for (const Waiting& x : p.steps) {
      to.values(x.phi);
      to.value(x.action);
      to.value(x.reward);
    }
  });
  choice_.save(w);
  w.matrix(w_);
  w.matrix(w_target_);
  const Replay& b = replay_;
  w.value<std::uint64_t>(b.capacity);
  w.value<std::uint64_t>(b.size);
  w.value<std::uint64_t>(b.next);
  w.value<std::int32_t>(b.k);
  w.values(b.phi);
  w.values(b.next_phi);
  w.values(b.action);
  w.values(b.next_slate);
  w.values(b.ret);
  w.values(b.discount);
  w.value(owed_);
  w.value(explore_);
  w.value(sample_);
  w.value(updates_);
}

// In place: after an Error the instance holds part of the file; fit or load again.
inline void SlateQ::load(std::istream& in) {
  ModelReader r(in, name_);
  const auto [users, n] = read_policy_head(r, name_, items_);
  set_shape(users, n);
  book_.reset(&items_, users, history_, count_scale_);
  const auto d = static_cast<std::size_t>(book_.dim());
  book_.load(r, [&](ModelReader& from, Pending& p) {
    const auto waiting = from.value<std::uint64_t>("the number of a session's waiting steps");
    if (waiting > n_step_) from.fail("the number of a session's waiting steps", "exceeds n_step");
    for (std::uint64_t t = 0; t < waiting; ++t) {
      Waiting x;
      x.phi = from.values<double>("a waiting step's state");
      x.action = from.value<ItemId>("a waiting step's action");
      x.reward = from.value<double>("a waiting step's reward");
      expect_size(from, "the width of a waiting step's state", x.phi.size(), d);
      if (x.action != kNoItem && (x.action < 0 || x.action >= n))
        from.fail("a waiting step's action", std::to_string(x.action) + " is outside the catalogue");
      p.steps.push_back(std::move(x));
    }
  });
  score_.reset(&items_, item_bias_);
  choice_.reset(&items_, book_.dim(), choice_prior_, item_bias_, choice_item_weights_ ? choice_item_prior_ : 0.0);
  choice_.load(r);
  w_ = r.matrix<Eigen::VectorXd>("the item-wise values W");
  w_target_ = r.matrix<Eigen::VectorXd>("the target copy of W");
  r.expect("the size of W", w_.size(), off_b() + score_.bias_size());
  r.expect("the size of the target copy of W", w_target_.size(), w_.size());
  Replay b;
  b.capacity = static_cast<std::size_t>(r.value<std::uint64_t>("the replay capacity"));
  b.size = static_cast<std::size_t>(r.value<std::uint64_t>("the replay size"));
  b.next = static_cast<std::size_t>(r.value<std::uint64_t>("the next replay entry"));
  b.k = r.value<std::int32_t>("the replay's slate size");
  b.phi = r.values<double>("the replay states");
  b.next_phi = r.values<double>("the replay next states");
  b.action = r.values<ItemId>("the replay actions");
  b.next_slate = r.values<ItemId>("the replay next slates");
  b.ret = r.values<double>("the replay returns");
  b.discount = r.values<double>("the replay discounts");
  owed_ = r.value<double>("the updates owed");
  explore_ = read_rng(r, "the exploration stream");
  sample_ = read_rng(r, "the replay sampling stream");
  updates_ = r.value<std::int64_t>("the update count");
  r.finish();
  expect_size(r, "the replay capacity", b.capacity, capacity_);
  if (b.size > b.capacity || b.next >= b.capacity || b.k < 0 || (b.k == 0 && b.size > 0))
    r.fail("the replay buffer", "has size " + std::to_string(b.size) + ", next " + std::to_string(b.next) +
                                    " and slate size " + std::to_string(b.k) + " for a capacity of " +
                                    std::to_string(b.capacity));
  const std::size_t rows = b.k > 0 ? b.capacity : 0;  // allocated on the first feedback
  expect_size(r, "the size of the replay states", b.phi.size(), rows * d);
  expect_size(r, "the size of the replay next states", b.next_phi.size(), rows * d);
  expect_size(r, "the number of replay actions", b.action.size(), rows);
  expect_size(r, "the size of the replay next slates", b.next_slate.size(),
              rows * static_cast<std::size_t>(b.k));
  expect_size(r, "the number of replay returns", b.ret.size(), rows);
  expect_size(r, "the number of replay discounts", b.discount.size(), rows);
  for (const ItemId a : b.action)
    if (a != kNoItem && (a < 0 || a >= n)) r.fail("a replay action", std::to_string(a) + " is outside the catalogue");
  for (const ItemId i : b.next_slate)
    if (i < 0 || i >= n) r.fail("a replay next slate item", std::to_string(i) + " is outside the catalogue");
  replay_ = std::move(b);
}

}  // namespace recfuse::rl
