// Model files of DQN (dqn.hpp, which includes this file after the class;
// kCapSaveLoad). save writes the whole state a deployment continues from,
// so that a loaded policy scores, acts (the same ε and exploration draws)
// and, after the same feedback, learns bit for bit as the saved one: the
// item features, the profiles and open sessions with their waiting steps,
// θ, the target network θ⁻, Adam's moments, the replay buffer, both random
// streams, the step and update counts, the updates owed, and the last act
// call (observe takes the next candidates of its transitions from it).
#pragma once

#include <string>

#include "dqn.hpp"

namespace recfuse::rl {

inline void Dqn::save(std::ostream& out) const {
  ModelWriter w(out);
  write_policy_head(w, name_, n_users(), n_items(), items_);
  book_.save(w, [](ModelWriter& to, const Pending& p) {
    to.value<std::uint8_t>(p.waiting);
    to.values(p.phi);
    to.value(p.action);
    to.value(p.reward);
  });
  w.matrix(theta_);
  w.matrix(theta_target_);
  adam_.save(w);
  replay_.save(w);
  w.value(explore_);
  w.value(sample_);
  w.value(updates_);
  w.value(steps_);
  w.value(owed_);
  w.values(last_users_);
  w.values(last_cands_);
  w.value<std::int32_t>(last_c_);
}

// In place: after an Error the instance holds part of the file; fit or load again.
inline void Dqn::load(std::istream& in) {
  ModelReader r(in, name_);
  const auto [users, n] = read_policy_head(r, name_, items_);
  set_shape(users, n);
  book_.reset(&items_, users, history_, count_scale_);
  const auto d = static_cast<std::size_t>(book_.dim());
  book_.load(r, [&](ModelReader& from, Pending& p) {
    p.waiting = from.value<std::uint8_t>("a session's waiting flag") != 0;
    p.phi = from.values<double>("a waiting step's state");
    p.action = from.value<ItemId>("a waiting step's action");
    p.reward = from.value<double>("a waiting step's reward");
    if (p.waiting && (p.phi.size() != d || p.action < 0 || p.action >= n))
      from.fail("a waiting step", "has a state of " + std::to_string(p.phi.size()) + " values, expected " +
                                      std::to_string(d) + ", or an action outside the catalogue");
  });
  net_.reset(&items_, book_.dim(), hidden_, item_bias_);
  theta_ = r.matrix<Eigen::VectorXd>("the weights");
  theta_target_ = r.matrix<Eigen::VectorXd>("the target network's weights");
  r.expect("the number of weights", theta_.size(), net_.size());
  r.expect("the number of the target network's weights", theta_target_.size(), net_.size());
  grad_.resize(theta_.size());
  adam_ = Adam(lr_);
  adam_.load(r, net_.size());
  DqnReplay b;
  b.load(r);
  explore_ = read_rng(r, "the exploration stream");
  sample_ = read_rng(r, "the replay sampling stream");
  updates_ = r.value<std::int64_t>("the update count");
  steps_ = r.value<std::int64_t>("the step count");
  owed_ = r.value<double>("the updates owed");
  last_users_ = r.values<UserId>("the last act's users");
  last_cands_ = r.values<ItemId>("the last act's candidates");
  last_c_ = r.value<std::int32_t>("the last act's number of candidates");
  r.finish();
  b.check(r, capacity_, d, n);
  if (last_c_ < 0) r.fail("the last act's number of candidates", "is negative");
  if (!last_users_.empty())  // observe forgets the users only (as reinforce_topk_io.hpp)
    expect_size(r, "the number of the last act's candidates", last_cands_.size(),
                last_users_.size() * static_cast<std::size_t>(last_c_));
  for (const UserId u : last_users_)
    if (u < 0 || u >= users) r.fail("a user of the last act", std::to_string(u) + " is outside the users");
  for (const ItemId i : last_cands_)
    if (i < 0 || i >= n) r.fail("a candidate of the last act", std::to_string(i) + " is outside the catalogue");
  replay_ = std::move(b);
}

}  // namespace recfuse::rl
