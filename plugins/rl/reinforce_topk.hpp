// REINFORCE with the top-K off-policy correction (Chen, Beutel, Covington,
// Jain, Belletti & Chi, "Top-K Off-Policy Correction for a REINFORCE
// Recommender System", WSDM 2019), over the policy of policy_net.hpp.
//
//   [[algorithms]]
//   plugin = "reinforce_topk"
//   params = { gamma = 1.0, weight_cap = 10.0, hidden = 32 }
//
// Acting: the slate is K = slate_size draws without replacement from the
// softmax π(· | s) over the step's candidates (the paper's top-K policy), so
// an ordered slate (a_1 … a_K) has the exact propensity
//   Π_p π(a_p | s) / Σ_{j ∉ {a_1 … a_{p−1}}} π(j | s).
//
// Learning, in on-policy batches: each session's steps are kept until it
// ends; then every step t gets its return G_t = Σ_{t'≥t} γ^(t'−t) r_t'.
// The actions are the items the user clicked (the paper's trajectories are
// of consumed items); a no-click step adds only to the returns. Once
// update_events events (clicks; own steps with objectives "slate" and
// "positions") have ended sessions, `epochs` passes of Adam on
// minibatches follow the top-K corrected gradient:
//   ∇J ≈ (1/N) Σ_e min(π_θ(a_e|s_e) / β(a_e|s_e), weight_cap) · K (1 − π_θ(a_e|s_e))^(K−1)
//                · (G_e − b(s_e)) · ∇log π_θ(a_e|s_e)
// with the multiplier recomputed at every minibatch and held constant in
// the gradient. β(a|s) is the probability the acting policy gave a when it
// acted (behavior "recorded": the weight is 1 until θ moves, then corrects
// for the staleness of later epochs and of sessions that span an update),
// or the learned behaviour head (behavior "learned", the paper's β_θ'). Steps
// that did not follow this policy's act for the same sessions (logs of
// another policy) always use the learned head, with the whole catalogue as
// the candidate set (the paper's corpus softmax).
//
// Inclusion (behavior "inclusion", not in the paper): the events are clicked
// items, and a clicked item was one of K draws, in the slate with probability
// α_β(a) = 1 − (1 − β(a))^K (the paper's own approximation of α). The
// objective's gradient is Σ_a c_a R_a ∇α_π(a) = Σ_a c_a R_a λ_K(π_a) π_a ∇log π_a
// (c_a: the click rate of a shown); events arrive at rate α_β(a) c_a, so the
// unbiased weight is π/α_β, not π/β. With π/β, on-policy, an item's gradient
// is scaled by α(a)/π(a), from K for rare items down to 1 for sure ones: the
// estimate leans toward flatter policies. Both weights keep the paper's α,
// which is exact for K draws with replacement; the acting draw is without
// replacement, so with few candidates per step (K = 5 of 20 in `calibrated`)
// α understates how surely every item is shown (each later draw takes a
// larger share of a smaller remaining mass), the likeliest items most, and
// Σ_a α(a) is largest for a uniform π: the objective itself then favours
// flat policies.
//
// Objective "slate" (exact REINFORCE, not in the paper): every step of this
// policy's own act is an event whose action is the whole ordered slate A,
// with log π(A) its Plackett–Luce log-probability (slate_log_probability in
// policy_net.hpp), weight min(π_θ(A) / π_acting(A), weight_cap) from the
// recorded propensity, no λ_K: on-policy and uncapped, an unbiased
// estimate of the slate policy's gradient (the per-step weight corrects the
// step's slate only, not the states that later actions lead to), whatever
// the number of candidates. A no-click step is an event too (its
// advantage is mostly negative). Logged steps of another policy do not
// enter its gradient (their slates' propensities are unknown).
//
// Objective "positions" (not in the paper): the events and weights of
// "slate", with the credit split over the slate's positions. log π(A) is a
// sum of one term per position p, log π(a_p | s, a_1 … a_(p−1)); "slate"
// weighs every term by the step's advantage A_t, "positions" term p by
//   A_(t,p) = R_(t,p) − b(s_t) / K,
//   R_(t,p) = (A_t + b(s_t)) · [p clicked]    (· 1/K for every p when none was),
// so that Σ_p A_(t,p) = A_t: the step's return (or GAE target) goes to the
// item the user chose, and each shown item that was passed over is pushed
// down by its share of the baseline. Each step then gives K signed terms
// instead of one scalar for the whole slate. A step without a click gives
// every term A_t / K, the slate objective's terms scaled by 1/K: a batch
// without any click, of slates of one size, learns as "slate" does (the
// normalisation below takes the scale out), but beside clicked steps such
// a step weighs K times less than under "slate". It is biased where an
// item's click depends on the rest of the slate (a conditional-logit
// choice: a strong neighbour takes the click), which it ignores as a
// per-item click model does. In the calibrated world it learns much faster
// than "slate" (scenarios/calibrated-longterm-tuning.toml, ninth round); in
// interest_evolution, where a click's long-term worth is its item's
// quality, it learns to be clicked and does worse (scenarios/ie-rl.toml).
//
// Clipping (clip > 0, objectives "slate" and "positions"; not in the
// paper): PPO's clipped surrogate (Schulman, Wolski, Dhariwal, Radford &
// Klimov 2017). With "slate", a step's term of ratio r = P_θ(A) /
// P_acting(A) and advantage a has the gradient w a ∇log P_θ(A) (w = min(r,
// weight_cap)), as without clipping, unless a > 0 and r > 1 + clip, or
// a < 0 and r < 1 − clip: then PPO's min(r a, clip(r, 1 ± clip) a) is its
// clipped branch, constant in θ, and the term adds nothing (ppo_clipped,
// reinforce_topk_update.hpp). The clip is judged on the uncapped r, so
// that a weight_cap below 1 + clip does not switch it off. With
// "positions" the same rule is applied to each position p's term,
// w a_p ∇log π(a_p | s, a_<p), with its own advantage a_p (whose sign the
// baseline's share −b(s)/K can set) and the slate's r
// (clip_position_advantages): a trust-region rule by analogy, not the
// gradient of PPO's surrogate, which would need each position's own ratio.
// That is ratio = "position": term p weighed and clipped on its own
// r_p = π_θ(a_p | s, a_<p) / π_acting(a_p | s, a_<p), recorded per position
// when the policy acted (position_ratio_advantages): PPO's surrogate with
// each position a decision given the ones before it. The acting terms are
// recorded with every slate objective (K doubles a step, in the episode and
// its file), whatever the ratio. In the calibrated world every cell tried
// with it was below the slate ratio's chosen cell (clip 0.2: by 0.25 at
// best, at clip 0.5; calibrated-longterm-tuning.toml, fourteenth round).
// Diagnostic clipped_terms counts the terms it took away. Once a later
// epoch or minibatch of a batch has moved a slate's probability past
// 1 ± clip times what the acting policy gave it, the rule gives no
// incentive to move it further, so more, smaller Adam steps per batch can
// pay: in the calibrated world, clip 0.2 with 4 epochs
// of minibatches of 64 (scenarios/calibrated-longterm-tuning.toml, twelfth
// round) where without clipping more epochs or smaller minibatches only did
// worse (ninth round, at history 10).
//
// Variance and scale (not in the paper): b(s) = vᵀφ(s) is a linear
// baseline, the ridge regression of the returns of every step on φ over the
// batches so far (each older batch's weight halved per update), refitted
// after the policy step. The advantage is G_t − b(s_t), or with gae_lambda
// < 1 the generalized advantage estimate with b as the critic
// (gae_advantages, in reinforce_topk_update.hpp). The advantages are divided
// by their root mean square over the batch (not centred: their mean is left
// to the baseline), so the step size does not depend on the reward scale.
// Adam moves each weight by about learning_rate whatever its gradient, the
// per-item weights of rarely seen items included; adam_epsilon far above the
// gradients' root mean square makes the step SGD with momentum at rate
// learning_rate / ε instead (in the calibrated world, Adam's larger steps
// walk a sharp warm start apart on noise: scenarios/calibrated-longterm-
// tuning.toml, eighth round).
#pragma once

#include <numeric>
#include <string>
#include <vector>

#include "policy_net.hpp"
#include "reinforce_episode.hpp"
#include "session_book.hpp"

namespace recfuse::rl {

class ReinforceTopK final : public Recommender {
 public:
  explicit ReinforceTopK(const ParamSet& p);
  static std::vector<ParamSpec> params();

  void fit(const TrainData& data, const FitContext& ctx) override;
  /// log π(i | s) over the whole catalogue, s the state of the row's open
  /// session (the k-th row of a user is that user's k-th open session, as in
  /// act), else of a session not yet begun.
  void score_all(std::span<const UserId> users, std::span<float> out) override;
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override;
  void propensity(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                  int slate_size, std::span<const ItemId> slates, std::span<double> out) override;
  void observe(const Feedback& fb) override;
  /// kCapSaveLoad: everything (reinforce_topk_io.hpp).
  void save(std::ostream& out) const override;
  void load(std::istream& in) override;
  std::size_t model_bytes() const override {
    const auto weights = net_.theta.size() + v_.size() + base_a_.size() + base_b_.size();
    return static_cast<std::size_t>(weights) * sizeof(double) + items_.bytes() + book_.bytes();
  }
  std::vector<std::pair<std::string, double>> diagnostics() const override {
    return {{"policy_updates", static_cast<double>(updates_)},
            {"capped_weights", static_cast<double>(capped_)},
            {"clipped_terms", static_cast<double>(clipped_)},
            {"mean_weight", weights_ > 0 ? weight_sum_ / static_cast<double>(weights_) : 0.0}};
  }

  /// π(· | s) (or the behaviour head's β) over cands for user u in a session not yet begun.
  std::vector<double> policy_probs(UserId u, std::span<const ItemId> cands,
                                   PolicyNet::Head head = PolicyNet::kPolicy) const;

 private:
  using Step = ReinforceStep;
  using Episode = ReinforceEpisode;

  /// Mass and number of the candidates not yet drawn (p >= 0); when the
  /// mass underflows to 0 the draw is uniform over them.
  static std::pair<double, std::size_t> remaining(const std::vector<double>& p) {
    double left = 0;
    std::size_t count = 0;
    for (double x : p)
      if (x >= 0) left += x, ++count;
    return {left, count};
  }
  std::span<const ItemId> cands_of(const Episode& ep, const Step& s) const {
    return s.catalogue ? std::span<const ItemId>(catalogue_)
                       : std::span<const ItemId>(ep.cands.data() + s.cand_at, static_cast<std::size_t>(s.n_cands));
  }
  struct EventRef {  // an event of an ended session: done_[ep].steps[step]
    std::size_t ep, step;
    double adv;     // (G − b(s)) / the batch's root mean square of G − b(s);
                    // 0 with objective "positions", whose K advantages are at pos_at
    std::size_t pos_at = 0;  // objective "positions": offset of its K advantages in pos_adv_
  };
  /// Whether a step is an event of the policy gradient: a click (objective
  /// "topk"), or a step of this policy's own act (objectives "slate" and
  /// "positions").
  bool is_event(const Step& s) const { return slate_objective_ ? s.slate_at >= 0 : s.action >= 0; }
  void end_episode(Episode&& ep);
  /// The events of done_ with their normalised advantages (objective
  /// "positions": K per event, in pos_adv_, normalised together).
  std::vector<EventRef> advantages();
  /// The event of L_π with its multiplier under the current θ.
  PolicyEvent policy_event(const EventRef& r);
  void update();
  /// Ridge regression of the returns on φ, older batches' weight halved.
  void refit_baseline();

  std::string name_ = "reinforce_topk";
  double gamma_, gae_lambda_, lr_, adam_eps_, init_scale_, warm_scale_, cap_, clip_;
  bool learned_behavior_, inclusion_behavior_, slate_objective_, positions_objective_, position_ratio_;
  int hidden_, epochs_, history_;
  bool item_bias_, log_popularity_, item_embeddings_;
  std::size_t update_events_, minibatch_;
  double count_scale_;

  ItemFeatures items_;
  SessionBook<Episode> book_;
  PolicyNet net_;
  Adam adam_;
  Eigen::VectorXd v_;                    // baseline weights (D)
  Eigen::MatrixXd base_a_;               // Σ decayed φφᵀ of the baseline's regression
  Eigen::VectorXd base_b_;               // Σ decayed φG
  std::vector<ItemId> catalogue_;        // 0 .. n_items − 1
  std::vector<Episode> done_;            // ended sessions not yet learned from
  std::vector<double> pos_adv_;          // objective "positions": K advantages per event
  std::vector<double> pos_live_;         // pos_adv_, 0 where clip takes a term's gradient away
  std::size_t pending_events_ = 0;
  int k_ = 0;                            // slate size seen by observe
  Rng act_rng_, shuffle_rng_;
  std::int64_t updates_ = 0, capped_ = 0, weights_ = 0;
  std::int64_t clipped_ = 0;           // terms (a slate's, or a position's) whose gradient clip took away
  double weight_sum_ = 0;              // Σ of the (capped) importance weights of every policy event
                                       // (ratio "position": of every position's term)
  // the last act call, for observe: users, candidates and π per row
  std::vector<UserId> last_users_;
  std::vector<ItemId> last_cands_;
  std::vector<double> last_probs_;
  int last_c_ = 0;
  // scratch
  std::vector<SessionBook<Episode>::Session*> rows_;
  std::vector<double> phi_, h_, p_;
  std::vector<double> slate_terms_, pos_terms_;  // a slate's K position log-probabilities (observe; update)
  std::vector<int> slate_idx_;
  std::vector<char> drawn_;
};

inline void ReinforceTopK::fit(const TrainData& data, const FitContext& ctx) {
  set_shape(data.n_users, data.n_items);
  items_.build(data, name_, log_popularity_);
  book_.reset(&items_, data.n_users, history_, count_scale_);
  book_.seed_history(data.sequences);
  net_.reset(&items_, book_.dim(), hidden_, init_scale_, derive_seed(ctx.seed, "reinforce_topk/init"),
              item_bias_, item_embeddings_);
  if (log_popularity_) net_.set_item_bias(logged_click_bias(data), warm_scale_);
  adam_ = Adam(lr_, 0.9, 0.999, adam_eps_);
  adam_.reset(net_.size());
  v_.setZero(book_.dim());
  base_a_.setZero(book_.dim(), book_.dim());
  base_b_.setZero(book_.dim());
  catalogue_.resize(static_cast<std::size_t>(data.n_items));
  std::iota(catalogue_.begin(), catalogue_.end(), 0);
  done_.clear();
  pending_events_ = 0;
  act_rng_.reseed(derive_seed(ctx.seed, "reinforce_topk/act"));
  shuffle_rng_.reseed(derive_seed(ctx.seed, "reinforce_topk/shuffle"));
  updates_ = capped_ = weights_ = clipped_ = 0;
  weight_sum_ = 0;
  k_ = 0;
  last_users_.clear();  // and what a loaded file held, so that a refit saves as a fresh fit
  last_cands_.clear();
  last_probs_.clear();
  last_c_ = 0;
  ctx.log("reinforce_topk: D = " + std::to_string(book_.dim()) + ", H = " + std::to_string(hidden_) + ", " +
          std::to_string(net_.size()) + " weights");
}

inline std::vector<double> ReinforceTopK::policy_probs(UserId u, std::span<const ItemId> cands,
                                                       PolicyNet::Head head) const {
  std::vector<double> phi(static_cast<std::size_t>(book_.dim())), h(static_cast<std::size_t>(hidden_)),
      p(cands.size());
  book_.state(u, nullptr, phi.data());
  net_.encode(phi.data(), h.data());
  net_.probs(h.data(), head, cands, p.data());
  return p;
}

inline void ReinforceTopK::score_all(std::span<const UserId> users, std::span<float> out) {
  const auto n = static_cast<std::size_t>(n_items());
  book_.map(users, false, rows_);  // rows of open sessions are scored in their state
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  h_.resize(static_cast<std::size_t>(hidden_));
  p_.resize(n);
  for (std::size_t r = 0; r < users.size(); ++r) {
    book_.state(users[r], rows_[r], phi_.data());
    net_.encode(phi_.data(), h_.data());
    net_.probs(h_.data(), PolicyNet::kPolicy, catalogue_, p_.data());
    for (std::size_t i = 0; i < n; ++i) out[r * n + i] = static_cast<float>(std::log(std::max(p_[i], 1e-300)));
  }
}

inline void ReinforceTopK::act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                               int slate_size, std::span<ItemId> slates) {
  check_policy_args(name_, users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  book_.map(users, false, rows_);
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  h_.resize(static_cast<std::size_t>(hidden_));
  last_users_.assign(users.begin(), users.end());
  last_cands_.assign(candidates.begin(), candidates.end());
  last_probs_.resize(users.size() * c);
  last_c_ = n_candidates;
  for (std::size_t r = 0; r < users.size(); ++r) {
    book_.state(users[r], rows_[r], phi_.data());
    net_.encode(phi_.data(), h_.data());
    double* p = last_probs_.data() + r * c;
    net_.probs(h_.data(), PolicyNet::kPolicy, candidates.subspan(r * c, c), p);
    p_.assign(p, p + c);  // draws without replacement: a drawn mass becomes −1
    for (std::size_t j = 0; j < k; ++j) {
      const auto [left, count] = remaining(p_);
      double target = act_rng_.uniform() * (left > 0 ? left : static_cast<double>(count));
      std::size_t pick = c;
      for (std::size_t q = 0; q < c; ++q) {
        if (p_[q] < 0) continue;
        pick = q;  // the last remaining one if rounding runs past the end
        if ((target -= left > 0 ? p_[q] : 1.0) < 0) break;
      }
      slates[r * k + j] = candidates[r * c + pick];
      p_[pick] = -1;
    }
  }
}

inline void ReinforceTopK::propensity(std::span<const UserId> users, std::span<const ItemId> candidates,
                                      int n_candidates, int slate_size, std::span<const ItemId> slates,
                                      std::span<double> out) {
  check_policy_args(name_, users.size(), candidates, n_candidates, slate_size, slates.size(), n_items());
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  book_.map(users, false, rows_);
  phi_.resize(static_cast<std::size_t>(book_.dim()));
  h_.resize(static_cast<std::size_t>(hidden_));
  p_.resize(c);
  for (std::size_t r = 0; r < users.size(); ++r) {
    book_.state(users[r], rows_[r], phi_.data());
    net_.encode(phi_.data(), h_.data());
    const auto row = candidates.subspan(r * c, c);
    net_.probs(h_.data(), PolicyNet::kPolicy, row, p_.data());
    double prob = 1.0;
    for (std::size_t j = 0; j < k && prob > 0; ++j) {
      const auto it = std::find(row.begin(), row.end(), slates[r * k + j]);
      if (it == row.end() || p_[static_cast<std::size_t>(it - row.begin())] < 0) { prob = 0; break; }
      const auto [left, count] = remaining(p_);
      const auto q = static_cast<std::size_t>(it - row.begin());
      prob *= left > 0 ? p_[q] / left : 1.0 / static_cast<double>(count);
      p_[q] = -1;  // drawn: out of the remaining mass, and a repeat has probability 0
    }
    out[r] = prob;
  }
}

}  // namespace recfuse::rl

// The constructor and the parameter table.
#include "reinforce_topk_params.hpp"
// Recording feedback: observe.
#include "reinforce_topk_observe.hpp"
// The learning step: gae_advantages, end_episode, advantages, policy_event, update, refit_baseline.
#include "reinforce_topk_update.hpp"
// Model files: save, load.
#include "reinforce_topk_io.hpp"
