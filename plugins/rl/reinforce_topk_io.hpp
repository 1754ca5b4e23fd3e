// Model files of top-K REINFORCE (reinforce_topk.hpp, which includes this
// file after the class; kCapSaveLoad). save writes the whole state a
// deployment continues from, so that a loaded policy scores, acts (the same
// draws), reports the same propensities and, after the same feedback,
// learns bit for bit as the saved one: the item features, the profiles and
// open sessions with their episodes, the weights of both heads, Adam's
// moments, the baseline's regression, the ended sessions not yet learned
// from, both random streams, the diagnostics' counters, and the last act
// call (observe matches its feedback against it).
#pragma once

#include <string>

#include "reinforce_topk.hpp"

namespace recfuse::rl {

inline void ReinforceTopK::save(std::ostream& out) const {
  ModelWriter w(out);
  write_policy_head(w, name_, n_users(), n_items(), items_);
  book_.save(w, [](ModelWriter& to, const Episode& ep) { save_episode(to, ep); });
  w.matrix(net_.theta);
  adam_.save(w);
  w.matrix(v_);
  w.matrix(base_a_);
  w.matrix(base_b_);
  w.value<std::uint64_t>(done_.size());
  for (const Episode& ep : done_) save_episode(w, ep);
  w.value<std::uint64_t>(pending_events_);
  w.value<std::int32_t>(k_);
  w.value(act_rng_);
  w.value(shuffle_rng_);
  w.value(updates_);
  w.value(capped_);
  w.value(clipped_);
  w.value(weights_);
  w.value(weight_sum_);
  w.values(last_users_);
  w.values(last_cands_);
  w.values(last_probs_);
  w.value<std::int32_t>(last_c_);
}

// In place: after an Error the instance holds part of the file; fit or load again.
inline void ReinforceTopK::load(std::istream& in) {
  ModelReader r(in, name_);
  const auto [users, n] = read_policy_head(r, name_, items_);
  set_shape(users, n);
  book_.reset(&items_, users, history_, count_scale_);
  book_.load(r, [&](ModelReader& from, Episode& ep) { ep = load_episode(from, n_items(), book_.dim()); });
  const int d = book_.dim();
  net_.reset(&items_, d, hidden_, init_scale_, 0, item_bias_, item_embeddings_);  // the shape; weights follow
  Eigen::VectorXd theta = r.matrix<Eigen::VectorXd>("the policy weights");
  r.expect("the number of policy weights", theta.size(), net_.size());
  net_.theta = std::move(theta);
  adam_ = Adam(lr_, 0.9, 0.999, adam_eps_);
  adam_.load(r, net_.size());
  v_ = r.matrix<Eigen::VectorXd>("the baseline weights");
  base_a_ = r.matrix<Eigen::MatrixXd>("the baseline's Gram matrix");
  base_b_ = r.matrix<Eigen::VectorXd>("the baseline's right-hand side");
  r.expect("the number of baseline weights", v_.size(), d);
  r.expect("the rows of the baseline's Gram matrix", base_a_.rows(), d);
  r.expect("the columns of the baseline's Gram matrix", base_a_.cols(), d);
  r.expect("the size of the baseline's right-hand side", base_b_.size(), d);
  done_.clear();
  const auto ended = r.value<std::uint64_t>("the number of ended sessions");
  for (std::uint64_t e = 0; e < ended; ++e) done_.push_back(load_episode(r, n_items(), book_.dim()));
  pending_events_ = static_cast<std::size_t>(r.value<std::uint64_t>("the pending events"));
  k_ = r.value<std::int32_t>("the slate size");
  act_rng_ = read_rng(r, "the acting stream");
  shuffle_rng_ = read_rng(r, "the shuffling stream");
  updates_ = r.value<std::int64_t>("the update count");
  capped_ = r.value<std::int64_t>("the capped weight count");
  clipped_ = r.value<std::int64_t>("the clipped term count");
  weights_ = r.value<std::int64_t>("the weight count");
  weight_sum_ = r.value<double>("the weight sum");
  last_users_ = r.values<UserId>("the last act's users");
  last_cands_ = r.values<ItemId>("the last act's candidates");
  last_probs_ = r.values<double>("the last act's probabilities");
  last_c_ = r.value<std::int32_t>("the last act's number of candidates");
  r.finish();
  if (k_ < 0) r.fail("the slate size", "is negative");
  if (last_c_ < 0) r.fail("the last act's number of candidates", "is negative");
  // observe forgets the last act's users only (the rest is read when they
  // match the feedback's): a file saved after observe holds the candidates still.
  if (!last_users_.empty()) {
    const std::size_t acted = last_users_.size() * static_cast<std::size_t>(last_c_);
    expect_size(r, "the number of the last act's candidates", last_cands_.size(), acted);
    expect_size(r, "the number of the last act's probabilities", last_probs_.size(), acted);
  }
  for (const UserId u : last_users_)
    if (u < 0 || u >= users) r.fail("a user of the last act", std::to_string(u) + " is outside the users");
  for (const ItemId i : last_cands_)
    if (i < 0 || i >= n) r.fail("a candidate of the last act", std::to_string(i) + " is outside the catalogue");
  catalogue_.resize(static_cast<std::size_t>(n));
  std::iota(catalogue_.begin(), catalogue_.end(), 0);
}

}  // namespace recfuse::rl
