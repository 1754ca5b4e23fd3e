// DQN (Mnih, Kavukcuoglu, Silver, Rusu, Veness, Bellemare et al.,
// "Human-level control through deep reinforcement learning", Nature 2015)
// adapted to slates: experience replay, a target network, ε-greedy.
//
//   [[algorithms]]
//   plugin = "dqn"
//   params = { gamma = 0.99, hidden = 32, eps_decay_steps = 10000 }
//
// Network (q_net.hpp): h = tanh(U φ(s) + c), Q(s, i) = x̃_iᵀ Pᵀ h + b_i over
// the state φ of session_book.hpp; one pass over the state gives every
// candidate's value (the paper's one output per action, actions known here
// by their features and a learned per-item bias b_i, rl_common.hpp).
//
// Acting: the slate is the top k of Q(s, ·) over the step's candidates, each
// position instead a uniformly drawn remaining candidate with probability ε
// (ties go to the smaller id). ε falls linearly from eps_start to eps_end
// over the first eps_decay_steps observed session steps (the paper's annealed
// ε, counted in experience so that a frozen policy's ε stays put).
//
// Transitions (a decision; the paper acts with one item, here a slate):
// step t of a session becomes (s_t, a_t, r_t, s_{t+1}, C_{t+1}) with a_t the
// clicked item (the consumed item, as SlateQ and top-K REINFORCE take it)
// or, without a click, the slate's top item with the step's reward (0 in the
// shipped environments), so that Q(s, i) is the return of putting i first;
// C_{t+1} the candidates of the next step (of the next act call; for steps
// this model did not act on, such as another policy's logs, the slate then
// shown). The target (the paper's eq. 3) is
//   y = r_t + γ max_{j ∈ C_{t+1}} Q(s_{t+1}, j; θ⁻),
// with no bootstrap after the session's last step (Feedback's `done` does
// not tell terminated from truncated). θ⁻, the target network, is a copy of
// θ taken every target_sync updates. Each update draws `minibatch`
// transitions uniformly from a replay buffer of the last replay_capacity
// and takes one Adam step on the Huber loss
//   L(θ) = (1/N) Σ_e huber_δ(Q(s_e, a_e; θ) − y_e),
//   huber_δ(x) = x²/2 for |x| ≤ δ, else δ (|x| − δ/2).
// The paper clips the error at δ = 1 with rewards clipped to [−1, 1]; here
// rewards are the environment's (interest_evolution's watch times are 4 a
// click), and a δ below the spread of the targets makes the loss a median
// regression, blind to clicks rarer than one in two: in interest_evolution
// (seed 1, 3000 episodes) the last 300 episodes returned 164 with δ = 1,
// 235 with δ = 3 and 262 with δ = 30 (the default). replay_ratio sets how
// many sampled transitions each observed one pays for (the paper's 32 per 4
// frames is 8).
//
// Per-item biases (item_bias) are off by default: the target's max over the
// next candidates picks up the noise of values each learned from few
// transitions (van Hasselt 2010). In interest_evolution (seeds 1-3) they
// cost 12 of 235 mean return (paired t, p = 0.002) and in the calibrated
// ml-100k world they gained nothing (5.8 vs 5.9, seeds 1-2); the logged
// popularity feature (log_popularity) is what DQN uses there.
//
// Fit: TrainData carries only the logged clicks (no slates, rewards or
// sessions), so fit seeds the users' profiles from them, as slateq does;
// the values are learned through observe.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "q_net.hpp"
#include "replay_ring.hpp"
#include "recfuse/params.hpp"
#include "session_book.hpp"

namespace recfuse::rl {

class Dqn final : public Recommender {
 public:
  explicit Dqn(const ParamSet& p);
  static std::vector<ParamSpec> params();

  void fit(const TrainData& data, const FitContext& ctx) override;
  /// Q(s, i) of every item, s the state of the row's open session (the k-th
  /// row of a user is that user's k-th open session, as in act), else of a
  /// session not yet begun.
  void score_all(std::span<const UserId> users, std::span<float> out) override;
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override;
  void observe(const Feedback& fb) override;
  /// kCapSaveLoad: everything (dqn_io.hpp).
  void save(std::ostream& out) const override;
  void load(std::istream& in) override;
  std::size_t model_bytes() const override {
    const auto weights = static_cast<std::size_t>(theta_.size() + theta_target_.size()) * sizeof(double);
    return weights + adam_.bytes() + replay_.bytes() + items_.bytes() + book_.bytes();
  }
  std::vector<std::pair<std::string, double>> diagnostics() const override {
    return {{"updates", static_cast<double>(updates_)},
            {"replay_size", static_cast<double>(replay_.size)},
            {"epsilon", epsilon()}};
  }

  /// Q(s, i) for each item of `items` in the state of a session of user u not yet begun.
  std::vector<double> item_values(UserId u, std::span<const ItemId> items) const;
  /// ε now (after the session steps observed so far).
  double epsilon() const {
    const double done = eps_decay_ > 0 ? std::min(1.0, static_cast<double>(steps_) / eps_decay_) : 1.0;
    return eps_start_ + (eps_end_ - eps_start_) * done;
  }

 private:
  struct Pending {  // a session's last step, waiting for its next state
    bool waiting = false;
    std::vector<double> phi;
    ItemId action = kNoItem;
    double reward = 0;
  };
  using Session = SessionBook<Pending>::Session;

  /// Stores p's step, bootstrapped from (next_phi, next_cands), or not at all when next_phi is null.
  void push(const Pending& p, const double* next_phi, std::span<const ItemId> next_cands);
  void train_step();

  std::string name_ = "dqn";
  double gamma_, lr_, init_scale_, delta_, eps_start_, eps_end_, eps_decay_;
  int hidden_, target_sync_, history_;
  bool item_bias_, log_popularity_;
  std::size_t capacity_, minibatch_;
  double replay_ratio_, count_scale_;

  ItemFeatures items_;
  SessionBook<Pending> book_;
  QNet net_;
  Eigen::VectorXd theta_, theta_target_, grad_;
  Adam adam_;
  DqnReplay replay_;
  Rng explore_, sample_;
  std::int64_t updates_ = 0, steps_ = 0;
  double owed_ = 0;  // updates due, fractional
  // the last act call, for observe: its users and candidates
  std::vector<UserId> last_users_;
  std::vector<ItemId> last_cands_;
  int last_c_ = 0;
  // scratch
  std::vector<Session*> rows_;
  std::vector<double> phi_, h_, g_, q_;
  std::vector<std::size_t> left_;
  std::vector<QEvent> batch_;
};

inline Dqn::Dqn(const ParamSet& p)
    : gamma_(p.get_float("gamma")),
      lr_(p.get_float("learning_rate")),
      init_scale_(p.get_float("init_scale")),
      delta_(p.get_float("huber_delta")),
      eps_start_(p.get_float("eps_start")),
      eps_end_(p.get_float("eps_end")),
      eps_decay_(static_cast<double>(p.get_int("eps_decay_steps"))),
      hidden_(static_cast<int>(p.get_int("hidden"))),
      target_sync_(static_cast<int>(p.get_int("target_sync"))),
      history_(static_cast<int>(p.get_int("history"))),
      item_bias_(p.get_bool("item_bias")),
      log_popularity_(p.get_bool("log_popularity")),
      capacity_(static_cast<std::size_t>(p.get_int("replay_capacity"))),
      minibatch_(static_cast<std::size_t>(p.get_int("minibatch"))),
      replay_ratio_(p.get_float("replay_ratio")),
      count_scale_(p.get_float("count_scale")) {}

inline std::vector<ParamSpec> Dqn::params() {
  return {
      ParamSpec::real("gamma", 0.99, 0.0, 1.0, "discount of the target r + γ max Q(s', ·; θ⁻) (Mnih et al. 2015)"),
      ParamSpec::real("learning_rate", 1e-3, 1e-9, 10.0, "Adam step size of the Q-network"),
      ParamSpec::integer("hidden", 32, 1, 4096, "units of the state encoder h = tanh(U φ + c)"),
      ParamSpec::real("init_scale", 1.0, 0.0, 100.0, "scale of the random initial weights (normal / sqrt(fan-in))"),
      ParamSpec::real("huber_delta", 30.0, 1e-9, 1e9,
                      "δ of the Huber loss, in reward units: TD errors beyond it give a constant gradient (see "
                      "dqn.hpp on why not the paper's 1)"),
      ParamSpec::real("eps_start", 1.0, 0.0, 1.0, "exploration ε at the start (probability that a slate position is a "
                                                  "uniform remaining candidate)"),
      ParamSpec::real("eps_end", 0.05, 0.0, 1.0, "exploration ε after eps_decay_steps"),
      ParamSpec::integer("eps_decay_steps", 10000, 0, 1e12,
                         "observed session steps over which ε falls linearly from eps_start to eps_end (0: eps_end "
                         "from the start)"),
      ParamSpec::integer("replay_capacity", 50000, 1, 1e8, "transitions kept in the replay buffer (oldest dropped)"),
      ParamSpec::integer("minibatch", 32, 1, 1e6, "transitions per Adam step, drawn uniformly from the buffer"),
      ParamSpec::real("replay_ratio", 8.0, 0.0, 1e6,
                      "transitions drawn from the buffer per observed transition (updates = replay_ratio x rows / "
                      "minibatch; the paper's 32 every 4 frames is 8)"),
      ParamSpec::integer("target_sync", 500, 1, 1e9, "updates between copies of θ into the target network θ⁻"),
      ParamSpec::integer("history", 10, 0, 100000,
                         "clicked items of earlier sessions averaged into the user's long-run profile"),
      ParamSpec::real("count_scale", 100.0, 1e-9, 1e9, "divisor of the session's step and click counts in the state"),
      item_bias_param("the max over noisy per-item values in the target overestimates them (van Hasselt "
                      "2010); see dqn.hpp"),
      log_popularity_param(),
  };
}

inline void Dqn::fit(const TrainData& data, const FitContext& ctx) {
  set_shape(data.n_users, data.n_items);
  items_.build(data, name_, log_popularity_);
  book_.reset(&items_, data.n_users, history_, count_scale_);
  book_.seed_history(data.sequences);
  net_.reset(&items_, book_.dim(), hidden_, item_bias_);
  theta_ = net_.init(init_scale_, derive_seed(ctx.seed, "dqn/init"));
  theta_target_ = theta_;
  grad_.resize(theta_.size());
  adam_ = Adam(lr_);
  adam_.reset(theta_.size());
  replay_ = DqnReplay{};
  replay_.capacity = capacity_;
  explore_.reseed(derive_seed(ctx.seed, "dqn/explore"));
  sample_.reseed(derive_seed(ctx.seed, "dqn/replay"));
  updates_ = steps_ = 0;
  owed_ = 0;
  last_users_.clear();
  last_cands_.clear();
  last_c_ = 0;
  ctx.log("dqn: D = " + std::to_string(book_.dim()) + ", H = " + std::to_string(hidden_) + ", " +
          std::to_string(theta_.size()) + " weights; profiles from " + std::to_string(data.sequences.nnz()) +
          " logged clicks");
}

inline std::vector<double> Dqn::item_values(UserId u, std::span<const ItemId> items) const {
  std::vector<double> phi(static_cast<std::size_t>(book_.dim())), h(static_cast<std::size_t>(hidden_)),
      g(static_cast<std::size_t>(net_.item_dim())), out;
  book_.state(u, nullptr, phi.data());
  net_.forward(theta_, phi.data(), h.data(), g.data());
  for (ItemId i : items) out.push_back(net_.value(theta_, i, g.data()));
  return out;
}

inline void Dqn::score_all(std::span<const UserId> users, std::span<float> out) {
  const auto n = static_cast<std::size_t>(n_items());
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  h_.resize(static_cast<std::size_t>(hidden_));
  g_.resize(static_cast<std::size_t>(net_.item_dim()));
  book_.map(users, false, rows_);  // rows of open sessions are scored in their state
  for (std::size_t r = 0; r < users.size(); ++r) {
    book_.state(users[r], rows_[r], phi_.data());
    net_.forward(theta_, phi_.data(), h_.data(), g_.data());
    for (std::size_t i = 0; i < n; ++i) out[r * n + i] = static_cast<float>(net_.value(theta_, static_cast<ItemId>(i), g_.data()));
  }
}

inline void Dqn::act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                     int slate_size, std::span<ItemId> slates) {
  check_policy_args(name_, users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  book_.map(users, false, rows_);
  last_users_.assign(users.begin(), users.end());
  last_cands_.assign(candidates.begin(), candidates.end());
  last_c_ = n_candidates;
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  h_.resize(static_cast<std::size_t>(hidden_));
  g_.resize(static_cast<std::size_t>(net_.item_dim()));
  q_.resize(c);
  const double eps = epsilon();
  for (std::size_t r = 0; r < users.size(); ++r) {
    const auto row = candidates.subspan(r * c, c);
    book_.state(users[r], rows_[r], phi_.data());
    net_.forward(theta_, phi_.data(), h_.data(), g_.data());
    for (std::size_t j = 0; j < c; ++j) q_[j] = net_.value(theta_, row[j], g_.data());
    epsilon_greedy_slate(
        row, slate_size, eps, explore_, [&](std::size_t j) { return q_[j]; }, [](std::size_t) {}, left_,
        slates.data() + r * k);
  }
}

inline void Dqn::observe(const Feedback& fb) {
  check_feedback(name_, fb, n_users(), n_items());
  const auto k = static_cast<std::size_t>(fb.slate_size), c = static_cast<std::size_t>(last_c_);
  const bool from_act = last_users_.size() == fb.users.size() &&
                        std::equal(last_users_.begin(), last_users_.end(), fb.users.begin());
  if (replay_.phi.empty()) replay_.allocate(static_cast<std::size_t>(book_.dim()));
  book_.map(fb.users, true, rows_);
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  for (std::size_t r = 0; r < fb.users.size(); ++r) {
    Session& s = *rows_[r];
    const ItemId* slate = fb.slates.data() + r * k;
    book_.state(fb.users[r], &s, phi_.data());  // s_{t+1} of the step waiting, s_t of this one
    Pending& p = s.extra;
    if (p.waiting)
      push(p, phi_.data(), from_act ? std::span<const ItemId>(last_cands_.data() + r * c, c)
                                    : std::span<const ItemId>(slate, k));
    p.waiting = true;
    p.phi = phi_;
    p.action = fb.choice[r] >= 0 ? slate[fb.choice[r]] : slate[0];
    p.reward = fb.reward[r];
    if (fb.done[r]) push(p, nullptr, {}), p.waiting = false;
    book_.record(s, slate, fb.slate_size, fb.choice[r]);
  }
  book_.close(fb.users, fb.done);
  last_users_.clear();
  steps_ += static_cast<std::int64_t>(fb.users.size());
  owed_ += replay_ratio_ * static_cast<double>(fb.users.size()) / static_cast<double>(minibatch_);
  for (; owed_ >= 1.0; owed_ -= 1.0)
    if (replay_.size >= std::min(minibatch_, capacity_)) train_step();
}

inline void Dqn::push(const Pending& p, const double* next_phi, std::span<const ItemId> next_cands) {
  DqnReplay& b = replay_;
  const auto d = static_cast<std::size_t>(book_.dim());
  b.widen(next_cands.size());
  const std::size_t at = b.claim();
  std::copy_n(p.phi.begin(), d, b.phi_at(at, d));
  if (next_phi) std::copy_n(next_phi, d, b.next_phi_at(at, d));
  std::copy(next_cands.begin(), next_cands.end(), b.next_cands.begin() + static_cast<std::ptrdiff_t>(at * b.width));
  b.n_next[at] = static_cast<std::int32_t>(next_cands.size());
  b.action[at] = p.action;
  b.reward[at] = p.reward;
  b.discount[at] = next_phi ? gamma_ : 0.0;
}

inline void Dqn::train_step() {
  const DqnReplay& b = replay_;
  const auto d = static_cast<std::size_t>(book_.dim());
  h_.resize(static_cast<std::size_t>(hidden_));
  g_.resize(static_cast<std::size_t>(net_.item_dim()));
  batch_.clear();
  for (std::size_t m = 0; m < minibatch_; ++m) {
    const auto at = static_cast<std::size_t>(sample_.below(b.size));
    double y = b.reward[at];
    if (b.discount[at] > 0 && b.n_next[at] > 0) {  // r + γ max_j Q(s', j; θ⁻)
      net_.forward(theta_target_, b.next_phi_at(at, d), h_.data(), g_.data());
      const ItemId* next = b.next_cands_at(at);
      double best = net_.value(theta_target_, next[0], g_.data());
      for (std::int32_t j = 1; j < b.n_next[at]; ++j) best = std::max(best, net_.value(theta_target_, next[j], g_.data()));
      y += b.discount[at] * best;
    }
    batch_.push_back({b.phi_at(at, d), b.action[at], y});
  }
  grad_.setZero();
  net_.loss(theta_, batch_, delta_, &grad_);
  adam_.step(theta_, grad_);
  if (++updates_ % target_sync_ == 0) theta_target_ = theta_;
}

}  // namespace recfuse::rl

// Model files: save, load.
#include "dqn_io.hpp"
