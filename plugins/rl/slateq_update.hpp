// The learning step of SlateQ (slateq.hpp, which includes this file after
// the class): observe turns each row of feedback into a step of its
// session's n-step target, flushed into the replay buffer once complete, and
// fits the choice model; train_step takes the normalised LMS steps of linear
// TD on a minibatch drawn from the buffer, with the expected-SARSA target.
#pragma once

#include <algorithm>
#include <string>

#include "slateq.hpp"

namespace recfuse::rl {

inline void SlateQ::observe(const Feedback& fb) {
  check_feedback(name_, fb, n_users(), n_items());
  const int k = fb.slate_size;
  if (replay_.k == 0) {
    replay_.allocate(static_cast<std::size_t>(book_.dim()), k);
  } else if (replay_.k != k) {
    throw Error(name_ + ": slate size changed from " + std::to_string(replay_.k) + " to " + std::to_string(k));
  }
  book_.map(fb.users, true, rows_);
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  for (std::size_t r = 0; r < fb.users.size(); ++r) {
    Session& s = *rows_[r];
    const ItemId* slate = fb.slates.data() + r * static_cast<std::size_t>(k);
    book_.state(fb.users[r], &s, phi_.data());  // the state this slate was chosen in
    Pending& p = s.extra;
    if (p.steps.size() == n_step_) flush_oldest(p, phi_.data(), slate);
    p.steps.push_back({phi_, fb.choice[r] >= 0 ? slate[fb.choice[r]] : kNoItem, fb.reward[r]});
    if (fb.done[r])
      while (!p.steps.empty()) flush_oldest(p, nullptr, nullptr);
    choice_.accumulate(phi_.data(), slate, k, fb.choice[r]);
    book_.record(s, slate, k, fb.choice[r]);
  }
  book_.close(fb.users, fb.done);
  choice_.apply();
  owed_ += replay_ratio_ * static_cast<double>(fb.users.size()) / static_cast<double>(minibatch_);
  for (; owed_ >= 1.0; owed_ -= 1.0)
    if (replay_.size >= std::min(minibatch_, capacity_)) train_step();
}

inline void SlateQ::flush_oldest(Pending& p, const double* next_phi, const ItemId* next_slate) {
  SlateQReplay& b = replay_;
  const std::size_t d = static_cast<std::size_t>(book_.dim()), k = static_cast<std::size_t>(b.k), at = b.claim();
  const Waiting& w = p.steps.front();
  double ret = 0, discount = 1;
  for (const Waiting& x : p.steps) ret += discount * x.reward, discount *= gamma_;
  std::copy_n(w.phi.begin(), d, b.phi_at(at, d));
  if (next_phi) {
    std::copy_n(next_phi, d, b.next_phi_at(at, d));
    std::copy_n(next_slate, k, b.next_slate_at(at));
  }
  b.action[at] = w.action;
  b.ret[at] = ret;
  b.discount[at] = next_phi ? discount : 0.0;
  p.steps.pop_front();
}

inline void SlateQ::train_step() {
  const SlateQReplay& b = replay_;
  const std::size_t d = static_cast<std::size_t>(book_.dim()), k = static_cast<std::size_t>(b.k);
  const int f = items_.dim();
  q_.resize(static_cast<std::size_t>(e()));
  qt_.resize(q_.size());
  g_.resize(static_cast<std::size_t>(f + 1));
  xhat_.resize(e());
  for (std::size_t m = 0; m < minibatch_; ++m) {
    const std::size_t at = static_cast<std::size_t>(sample_.below(b.size));
    const double* phi = b.phi_at(at, d);
    project(w_, phi, q_.data());
    double y = b.ret[at];
    if (b.discount[at] > 0) {  // expected SARSA over the user's choice from the next slate
      const double* next = b.next_phi_at(at, d);
      const ItemId* slate = b.next_slate_at(at);
      project(w_target_, next, qt_.data());
      choice_.project(next, g_.data());
      double num = value(w_target_, kNoItem, qt_.data()), den = 1.0;
      for (std::size_t j = 0; j < k; ++j) {
        const double v =
            choice_.position_weight(static_cast<int>(j)) * choice_.attraction(slate[j], g_.data(), next);
        num += v * value(w_target_, slate[j], qt_.data());
        den += v;
      }
      y += b.discount[at] * num / den;
    }
    const ItemId a = b.action[at];
    const double delta = y - value(w_, a, q_.data());
    xhat_.setZero();
    if (a == kNoItem) {
      xhat_[f + 1] = 1.0;
    } else {
      xhat_.head(f) = Eigen::Map<const Eigen::VectorXd>(items_.row(a), f);
      xhat_[f] = 1.0;
    }
    const Eigen::Map<const Eigen::RowVectorXd> phi_row(phi, static_cast<Eigen::Index>(d));
    const bool bias = a != kNoItem && score_.bias_size() > 0;
    const double step = lr_ * delta / (xhat_.squaredNorm() * phi_row.squaredNorm() + (bias ? 1.0 : 0.0));
    Eigen::Map<RowMatrix>(w_.data(), e(), static_cast<Eigen::Index>(d)).noalias() += step * xhat_ * phi_row;
    if (bias) w_[off_b() + a] += step;
  }
  if (++updates_ % target_update_ == 0) w_target_ = w_;
}

}  // namespace recfuse::rl
