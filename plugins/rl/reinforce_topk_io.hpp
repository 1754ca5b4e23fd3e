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

#include <numeric>
#include <string>

#include "reinforce_topk.hpp"

namespace recfuse::rl {

inline void ReinforceTopK::save_episode(ModelWriter& w, const Episode& ep) {
  w.values(ep.phi);
  w.values(ep.cands);
  w.values(ep.slates);
  w.value<std::uint64_t>(ep.steps.size());
  for (const Step& s : ep.steps) {  // field by field: the struct's padding is not part of the file
    w.value<std::uint64_t>(s.cand_at);
    w.value<std::int32_t>(s.n_cands);
    w.value<std::uint8_t>(s.catalogue);
    w.value<std::int32_t>(s.action);
    w.value(s.behavior);
    w.value<std::int64_t>(s.slate_at);
    w.value<std::int32_t>(s.slate_k);
    w.value(s.slate_log_behavior);
    w.value(s.reward);
    w.value(s.ret);
  }
}

inline ReinforceTopK::Episode ReinforceTopK::load_episode(ModelReader& r) const {
  Episode ep;
  ep.phi = r.values<double>("an episode's states");
  ep.cands = r.values<ItemId>("an episode's candidates");
  ep.slates = r.values<int>("an episode's slates");
  const auto n = r.value<std::uint64_t>("the number of an episode's steps");
  for (std::uint64_t t = 0; t < n; ++t) {
    Step s;
    s.cand_at = static_cast<std::size_t>(r.value<std::uint64_t>("a step's candidate offset"));
    s.n_cands = r.value<std::int32_t>("a step's number of candidates");
    s.catalogue = r.value<std::uint8_t>("a step's catalogue flag") != 0;
    s.action = r.value<std::int32_t>("a step's action");
    s.behavior = r.value<double>("a step's behaviour probability");
    s.slate_at = static_cast<std::ptrdiff_t>(r.value<std::int64_t>("a step's slate offset"));
    s.slate_k = r.value<std::int32_t>("a step's slate size");
    s.slate_log_behavior = r.value<double>("a step's slate log-probability");
    s.reward = r.value<double>("a step's reward");
    s.ret = r.value<double>("a step's return");
    // What cands_of and the slate reads of the learning step index must be inside the episode.
    const bool candidates = !s.catalogue && (s.action >= 0 || s.slate_at >= 0);
    if (s.catalogue ? s.action < 0 || s.action >= n_items() : s.action < -1 || (s.action >= 0 && s.action >= s.n_cands))
      r.fail("a step's action", std::to_string(s.action) + " is not one of its candidates");
    // Compared without sums that could wrap: a corrupt offset is any 64 bits.
    if (candidates && (s.n_cands < 1 || s.cand_at > ep.cands.size() ||
                       static_cast<std::size_t>(s.n_cands) > ep.cands.size() - s.cand_at))
      r.fail("a step's candidates", "are outside the episode's");
    if (s.slate_at >= 0) {
      const auto at = static_cast<std::size_t>(s.slate_at);
      if (s.catalogue || s.slate_k < 1 || at > ep.slates.size() ||
          static_cast<std::size_t>(s.slate_k) > ep.slates.size() - at)
        r.fail("a step's slate", "is outside the episode's");
      for (int j = 0; j < s.slate_k; ++j)
        if (const int a = ep.slates[static_cast<std::size_t>(s.slate_at + j)]; a < 0 || a >= s.n_cands)
          r.fail("a step's slate", "names " + std::to_string(a) + ", not one of its candidates");
    }
    ep.steps.push_back(s);
  }
  r.expect("the size of an episode's states", static_cast<std::int64_t>(ep.phi.size()),
           static_cast<std::int64_t>(n) * book_.dim());
  for (const ItemId i : ep.cands)
    if (i < 0 || i >= n_items()) r.fail("an episode's candidate", std::to_string(i) + " is outside the catalogue");
  return ep;
}

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
  book_.load(r, [&](ModelReader& from, Episode& ep) { ep = load_episode(from); });
  const int d = book_.dim();
  net_.reset(&items_, d, hidden_, init_scale_, 0, item_bias_, item_embeddings_);  // the shape; weights follow
  Eigen::VectorXd theta = r.matrix<Eigen::VectorXd>("the policy weights");
  r.expect("the number of policy weights", theta.size(), net_.size());
  net_.theta = std::move(theta);
  adam_ = Adam(lr_);
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
  for (std::uint64_t e = 0; e < ended; ++e) done_.push_back(load_episode(r));
  pending_events_ = static_cast<std::size_t>(r.value<std::uint64_t>("the pending events"));
  k_ = r.value<std::int32_t>("the slate size");
  act_rng_ = read_rng(r, "the acting stream");
  shuffle_rng_ = read_rng(r, "the shuffling stream");
  updates_ = r.value<std::int64_t>("the update count");
  capped_ = r.value<std::int64_t>("the capped weight count");
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
