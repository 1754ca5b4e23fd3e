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
  replay_.save(w);
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
  SlateQReplay b;
  b.load(r);
  owed_ = r.value<double>("the updates owed");
  explore_ = read_rng(r, "the exploration stream");
  sample_ = read_rng(r, "the replay sampling stream");
  updates_ = r.value<std::int64_t>("the update count");
  r.finish();
  b.check(r, capacity_, d, n);
  replay_ = std::move(b);
}

}  // namespace recfuse::rl
