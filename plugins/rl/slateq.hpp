// SlateQ (Ie, Jain, Wang, Narvekar, Agarwal, Wu, Cheng, Chandra & Boutilier,
// "SlateQ: A Tractable Decomposition for Reinforcement Learning with
// Recommendation Sets", IJCAI 2019).
//
//   [[algorithms]]
//   plugin = "slateq"
//   params = { gamma = 0.99, slate_optimizer = "greedy", epsilon = 0.02 }
//
// Decomposition (the paper's SlateQ decomposition): the value of slate A in state s is
//   Q(s, A) = Σ_{i∈A∪{⊥}} P(i | s, A) Q̄(s, i),
// P the conditional-logit choice model of choice_model.hpp and Q̄(s, i) the
// long-term value of the user consuming i. The no-click option ⊥ is always
// on the slate with its own learned Q̄(s, ⊥) (RecSim's implementation fixes
// it at 0; a no-click step that keeps the session going is worth more).
// Q̄ is bilinear in the item and the state of session_book.hpp, plus a
// per-item bias (ItemScore, rl_common.hpp; b = 0 when item_bias is off):
//   Q̄(s, i) = x̂_iᵀ W φ(s) + b_i,  x̂_i = (x_i, 1, 0),  Q̄(s, ⊥) = x̂_⊥ᵀ W φ(s),  x̂_⊥ = (0, …, 0, 1),
// W of (F + 2) x D. The choice model has its own per-item bias.
// W starts with Q̄(s, i) = 1 for every item and Q̄(s, ⊥) = 0 (the entry of
// x̂'s item bias and φ's constant is 1), so that before its first TD
// update SlateQ prefers a click to none and ranks by the choice model, its
// warm start from the logs; from all zeros every slate was worth 0 and the
// first slates were the candidates of smallest id.
//
// Learning (the paper's SARSA-style TD on the consumed item): step t of a session
// becomes the transition (s_t, c_t, R, s_{t+n}, A_{t+n}), c_t the clicked
// item or ⊥, kept in a replay buffer, with the n-step target
//   y = Σ_{j<n} γ^j r_{t+j} + γ^n Σ_{i∈A∪{⊥}} P(i | s_{t+n}, A) Q̄_target(s_{t+n}, i),
// A = A_{t+n} the slate then shown (expected SARSA over the user's choice).
// n = n_step; n = 1 is the paper's one-step target. The sum stops at the
// session's last step (terminated or truncated) without a bootstrap.
// Q̄_target is a copy of W refreshed every target_update updates. An
// update draws `minibatch` transitions and takes, one transition after the
// other, the normalised LMS step of linear TD (its size free of the scale
// of features and rewards) on Q̄'s joint features (x̂_c ⊗ φ(s), e_c):
//   n = |x̂_c|² |φ(s)|² + [c ≠ ⊥],
//   W += learning_rate · (y − Q̄(s, c)) x̂_c φ(s)ᵀ / n,  b_c += learning_rate · (y − Q̄(s, c)) / n,
// which moves Q̄(s, c) that share of the way to y. replay_ratio sets how
// many sampled transitions each observed one pays for.
// The choice model is fitted on every observed (s, A, choice) (maximum a
// posteriori with prior precision choice_prior, diagonal Newton steps, and
// an examination weight w_p per slate position; choice_model.hpp).
//
// Acting (the paper's slate optimisation): with v_j = v(s, j), q_j = Q̄(s, j)
// and w_p the weight of position p, the greedy optimizer fills positions
// p = 0, 1, … with the candidate maximising
//   (v⊥q⊥ + Σ_{placed} w v q + w_p v_j q_j) / (v⊥ + Σ_{placed} w v + w_p v_j)
// (the paper's greedy, as RecSim's select_slate_greedy with ⊥ included);
// top_k takes the k largest v_j q_j. Each position is instead a uniform
// remaining candidate with probability epsilon. Ties go to the smaller id.
// score_all / score return v(s, i)·Q̄(s, i) in the state of the row's open
// session (session_book.hpp's rule: a user's k-th row in the call is that
// user's k-th open session), else of a session not yet begun; so a fusion
// strategy acting over SlateQ sees the state SlateQ's own act would.
//
// In the calibrated ml-100k world (scenarios/ml100k-calibrated-rl.toml,
// tuning seeds 101-103, 3000 episodes each) the greedy optimizer is level
// with popularity (−0.09 ± 0.12 return per episode, paired) and top_k with
// epsilon 0 ahead of it (+0.21 ± 0.11): the world holds little long-term
// structure (seed 101: its myopic oracle loses 0.06 of 14.4 by ignoring
// fatigue), so the item values are nearly equal, and the greedy, which weighs each
// candidate by q_j minus the slate's value so far, turns their estimation
// error into ranking noise that top_k, weighing by q_j, mostly ignores. In
// interest_evolution (scenarios/ie-rl.toml, same seeds) greedy leads
// popularity by 79 and top_k by 10: the default stays greedy. On the
// scenario's own seeds 1-10, paired over seeds against popularity (8.10):
// greedy −0.24 [−0.29, −0.19], top_k with epsilon 0 +0.19 [+0.11, +0.28]
// (10 of 10 seeds; γ = 0 does as well, the gain is the click model's).
// choice_item_weights: per-item choice weights (choice_model.hpp); results
// where foresight pays in scenarios/calibrated-longterm.toml.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "choice_model.hpp"
#include "recfuse/rng.hpp"
#include "replay_ring.hpp"
#include "session_book.hpp"

namespace recfuse::rl {

class SlateQ final : public Recommender {
 public:
  explicit SlateQ(const ParamSet& p);
  static std::vector<ParamSpec> params();

  void fit(const TrainData& data, const FitContext& ctx) override;
  void score_all(std::span<const UserId> users, std::span<float> out) override;
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override;
  void observe(const Feedback& fb) override;
  /// kCapSaveLoad: everything (slateq_io.hpp).
  void save(std::ostream& out) const override;
  void load(std::istream& in) override;
  std::size_t model_bytes() const override {
    return static_cast<std::size_t>(w_.size() + w_target_.size()) * sizeof(double) + choice_.bytes() +
           replay_.bytes() + items_.bytes() + book_.bytes();
  }
  std::vector<std::pair<std::string, double>> diagnostics() const override {
    return {{"td_updates", static_cast<double>(updates_)}, {"replay_size", static_cast<double>(replay_.size)}};
  }

  /// Q̄(s, i) for each item of `items`, then Q̄(s, ⊥), in the state of a
  /// session of user u not yet begun.
  std::vector<double> item_values(UserId u, std::span<const ItemId> items) const;

 private:
  struct Waiting {  // a step of a session whose n-step target is not complete
    std::vector<double> phi;
    ItemId action = kNoItem;  // kNoItem = ⊥
    double reward = 0;
  };
  struct Pending {
    std::deque<Waiting> steps;  // at most n_step, oldest first
  };
  int e() const { return items_.dim() + 2; }  // rows of W
  Eigen::Index off_b() const { return static_cast<Eigen::Index>(e()) * book_.dim(); }
  /// q = W φ (F + 2 values), w = [W | b]; Q̄(s, i) = x̃_iᵀ q[0..F] + b_i, Q̄(s, ⊥) = q[F + 1].
  void project(const Eigen::VectorXd& w, const double* phi, double* q) const;
  double value(const Eigen::VectorXd& w, ItemId i, const double* q) const {
    return i == kNoItem ? q[items_.dim() + 1] : score_(i, q, w.data() + off_b());
  }
  /// Moves the oldest waiting step of p into the buffer, bootstrapped from
  /// (next_phi, next_slate), or not at all when they are null.
  void flush_oldest(Pending& p, const double* next_phi, const ItemId* next_slate);
  void train_step();
  /// Fills slate (k) from cands (c) in state phi.
  void choose(const double* phi, std::span<const ItemId> cands, int k, ItemId* slate);

  std::string name_ = "slateq";
  double gamma_, lr_, choice_prior_, choice_item_prior_, epsilon_;
  bool greedy_;
  std::size_t capacity_, minibatch_;
  double replay_ratio_, owed_ = 0;  // updates due, fractional
  int target_update_, history_;
  bool item_bias_, choice_item_weights_, log_popularity_;
  std::size_t n_step_;
  double count_scale_;

  ItemFeatures items_;
  ItemScore score_;
  SessionBook<Pending> book_;
  ChoiceModel choice_;
  Eigen::VectorXd w_, w_target_;  // [W, (F + 2) x D row-major | b]
  SlateQReplay replay_;
  Rng explore_, sample_;
  std::int64_t updates_ = 0;
  // scratch
  using Session = SessionBook<Pending>::Session;
  std::vector<Session*> rows_;
  std::vector<double> phi_, q_, qt_, g_, v_, qv_;
  std::vector<std::size_t> left_;
  Eigen::VectorXd xhat_;
};

inline SlateQ::SlateQ(const ParamSet& p)
    : gamma_(p.get_float("gamma")),
      lr_(p.get_float("learning_rate")),
      choice_prior_(p.get_float("choice_prior")),
      choice_item_prior_(p.get_float("choice_item_prior")),
      epsilon_(p.get_float("epsilon")),
      greedy_(p.get_string("slate_optimizer") == "greedy"),
      capacity_(static_cast<std::size_t>(p.get_int("replay_capacity"))),
      minibatch_(static_cast<std::size_t>(p.get_int("minibatch"))),
      replay_ratio_(p.get_float("replay_ratio")),
      target_update_(static_cast<int>(p.get_int("target_update"))),
      history_(static_cast<int>(p.get_int("history"))),
      item_bias_(p.get_bool("item_bias")),
      choice_item_weights_(p.get_bool("choice_item_weights")),
      log_popularity_(p.get_bool("log_popularity")),
      n_step_(static_cast<std::size_t>(p.get_int("n_step"))),
      count_scale_(p.get_float("count_scale")) {}

inline std::vector<ParamSpec> SlateQ::params() {
  return {
      ParamSpec::real("gamma", 0.99, 0.0, 1.0, "discount of the TD target (Ie et al. 2019)"),
      ParamSpec::real("learning_rate", 0.1, 1e-9, 2.0,
                      "normalised LMS step of the item-wise values Q̄: the share of its TD error "
                      "each sampled transition corrects"),
      ParamSpec::real("choice_prior", 50.0, 1e-6, 1e9,
                      "precision of the Gaussian prior of each choice-model weight around its start, in "
                      "observations of unit curvature (the diagonal Newton steps of choice_model.hpp)"),
      ParamSpec::boolean("choice_item_weights", false,
                         "give the choice model each item's own weights over the user's profile "
                         "(Li et al. 2010's per-arm model inside the logit; choice_model.hpp)"),
      ParamSpec::real("choice_item_prior", 1.0, 1e-6, 1e9,
                      "precision of the Gaussian prior of each per-item choice weight "
                      "(choice_item_weights; ignored without them), in observations of unit curvature"),
      ParamSpec::real("epsilon", 0.02, 0.0, 1.0,
                      "probability that a slate position holds a uniform remaining candidate (exploration)"),
      ParamSpec::choice("slate_optimizer", "greedy", {"greedy", "top_k"},
                        "greedy (the paper's adaptive greedy over the decomposed value) or top_k "
                        "(the k largest v(s,i)·Q̄(s,i)); Ie et al. 2019"),
      ParamSpec::integer("replay_capacity", 50000, 1, 1e8, "transitions kept in the replay buffer (oldest dropped)"),
      ParamSpec::integer("minibatch", 64, 1, 1e6, "transitions per TD update, drawn uniformly from the buffer"),
      ParamSpec::real("replay_ratio", 4.0, 0.0, 1e6,
                      "transitions drawn from the buffer per observed transition (TD updates = "
                      "replay_ratio x rows / minibatch)"),
      ParamSpec::integer("n_step", 1, 1, 1e6,
                         "steps of observed rewards before the TD target bootstraps (1: the paper's "
                         "one-step SARSA target)"),
      ParamSpec::integer("target_update", 100, 1, 1e9, "TD updates between copies of W into the target network"),
      ParamSpec::integer("history", 10, 0, 100000,
                         "clicked items of earlier sessions averaged into the user's long-run profile"),
      ParamSpec::real("count_scale", 100.0, 1e-9, 1e9, "divisor of the session's step and click counts in the state"),
      item_bias_param(),
      log_popularity_param(),
  };
}

inline void SlateQ::fit(const TrainData& data, const FitContext& ctx) {
  set_shape(data.n_users, data.n_items);
  items_.build(data, name_, log_popularity_);
  book_.reset(&items_, data.n_users, history_, count_scale_);
  book_.seed_history(data.sequences);
  const int d = book_.dim();
  score_.reset(&items_, item_bias_);
  w_.setZero(off_b() + score_.bias_size());
  w_[static_cast<Eigen::Index>(items_.dim()) * d] = 1.0;  // Q̄(s, i) = 1 = x̂_i's bias entry times φ[0] = 1
  w_target_ = w_;
  owed_ = 0;
  choice_.reset(&items_, d, choice_prior_, item_bias_, choice_item_weights_ ? choice_item_prior_ : 0.0);
  if (log_popularity_) choice_.set_item_bias(logged_click_bias(data));
  replay_ = SlateQReplay{};
  replay_.capacity = capacity_;
  explore_.reseed(derive_seed(ctx.seed, "slateq/explore"));
  sample_.reseed(derive_seed(ctx.seed, "slateq/replay"));
  updates_ = 0;
  ctx.log("slateq: F = " + std::to_string(items_.dim()) + " item features, D = " + std::to_string(d) +
          " state features; profiles from " + std::to_string(data.sequences.nnz()) + " logged clicks");
}

inline void SlateQ::project(const Eigen::VectorXd& w, const double* phi, double* q) const {
  const int d = book_.dim();
  Eigen::Map<Eigen::VectorXd>(q, e()).noalias() =
      Eigen::Map<const RowMatrix>(w.data(), e(), d) * Eigen::Map<const Eigen::VectorXd>(phi, d);
}

inline std::vector<double> SlateQ::item_values(UserId u, std::span<const ItemId> items) const {
  std::vector<double> phi(static_cast<std::size_t>(book_.dim())), q(static_cast<std::size_t>(e())), out;
  book_.state(u, nullptr, phi.data());
  project(w_, phi.data(), q.data());
  for (ItemId i : items) out.push_back(value(w_, i, q.data()));
  out.push_back(value(w_, kNoItem, q.data()));
  return out;
}

inline void SlateQ::score_all(std::span<const UserId> users, std::span<float> out) {
  const auto n = static_cast<std::size_t>(n_items());
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  q_.resize(static_cast<std::size_t>(e()));
  g_.resize(static_cast<std::size_t>(items_.dim() + 1));
  book_.map(users, false, rows_);
  for (std::size_t r = 0; r < users.size(); ++r) {
    book_.state(users[r], rows_[r], phi_.data());
    project(w_, phi_.data(), q_.data());
    choice_.project(phi_.data(), g_.data());
    for (std::size_t i = 0; i < n; ++i) {
      const auto item = static_cast<ItemId>(i);
      const double v = choice_.attraction(item, g_.data(), phi_.data());
      out[r * n + i] = static_cast<float>(v * value(w_, item, q_.data()));
    }
  }
}

inline void SlateQ::act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                        int slate_size, std::span<ItemId> slates) {
  check_policy_args(name_, users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  book_.map(users, false, rows_);
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  for (std::size_t r = 0; r < users.size(); ++r) {
    book_.state(users[r], rows_[r], phi_.data());
    choose(phi_.data(), candidates.subspan(r * c, c), slate_size, slates.data() + r * k);
  }
}

inline void SlateQ::choose(const double* phi, std::span<const ItemId> cands, int k, ItemId* slate) {
  q_.resize(static_cast<std::size_t>(e()));
  g_.resize(static_cast<std::size_t>(items_.dim() + 1));
  project(w_, phi, q_.data());
  choice_.project(phi, g_.data());
  v_.resize(cands.size());
  qv_.resize(cands.size());
  for (std::size_t j = 0; j < cands.size(); ++j) {
    v_[j] = choice_.attraction(cands[j], g_.data(), phi);
    qv_[j] = value(w_, cands[j], q_.data());
  }
  double num = value(w_, kNoItem, q_.data()), den = 1.0;  // v⊥ = 1
  int position = 0;  // of the next pick: candidate j weighs w_position v_j there
  epsilon_greedy_slate(
      cands, k, epsilon_, explore_,
      [&](std::size_t j) {
        const double v = choice_.position_weight(position) * v_[j];
        return greedy_ ? (num + v * qv_[j]) / (den + v) : v * qv_[j];
      },
      [&](std::size_t j) {
        const double v = choice_.position_weight(position++) * v_[j];
        num += v * qv_[j], den += v;
      },
      left_, slate);
}

}  // namespace recfuse::rl

// The learning step: observe, flush_oldest, train_step.
#include "slateq_update.hpp"
// Model files: save, load.
#include "slateq_io.hpp"
