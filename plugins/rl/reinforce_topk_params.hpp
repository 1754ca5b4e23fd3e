// The parameters of top-K REINFORCE (reinforce_topk.hpp, which includes
// this file after the class): the constructor, which reads them and refuses
// the combinations that do not apply, and their table (params()), each
// parameter with its default, range and meaning.
#pragma once

#include <string>
#include <vector>

#include "reinforce_topk.hpp"

namespace recfuse::rl {

inline ReinforceTopK::ReinforceTopK(const ParamSet& p)
    : gamma_(p.get_float("gamma")),
      gae_lambda_(p.get_float("gae_lambda")),
      lr_(p.get_float("learning_rate")),
      adam_eps_(p.get_float("adam_epsilon")),
      init_scale_(p.get_float("init_scale")),
      warm_scale_(p.get_float("warm_start_scale")),
      cap_(p.get_float("weight_cap")),
      clip_(p.get_float("clip")),
      learned_behavior_(p.get_string("behavior") == "learned"),
      inclusion_behavior_(p.get_string("behavior") == "inclusion"),
      slate_objective_(p.get_string("objective") != "topk"),
      positions_objective_(p.get_string("objective") == "positions"),
      position_ratio_(p.get_string("ratio") == "position"),
      hidden_(static_cast<int>(p.get_int("hidden"))),
      epochs_(static_cast<int>(p.get_int("epochs"))),
      history_(static_cast<int>(p.get_int("history"))),
      item_bias_(p.get_bool("item_bias")),
      log_popularity_(p.get_bool("log_popularity")),
      item_embeddings_(p.get_bool("item_embeddings")),
      update_events_(static_cast<std::size_t>(p.get_int("update_events"))),
      minibatch_(static_cast<std::size_t>(p.get_int("minibatch"))),
      count_scale_(p.get_float("count_scale")) {
  if (slate_objective_ && p.get_string("behavior") != "recorded")
    throw Error("[reinforce_topk] parameter 'behavior' = \"" + p.get_string("behavior") +
                "\" applies to objective \"topk\"; objectives \"slate\" and \"positions\" weigh by the recorded "
                "slate propensity");
  if (clip_ > 0 && !slate_objective_)
    throw Error("[reinforce_topk] parameter 'clip' applies to objectives \"slate\" and \"positions\" (their "
                "events' weights are slate ratios P_θ / P_acting)");
  if (position_ratio_ && !positions_objective_)
    throw Error("[reinforce_topk] parameter 'ratio' = \"position\" applies to objective \"positions\" (its "
                "events have a term per slate position)");
  if (warm_scale_ != 1.0 && !(log_popularity_ && item_bias_))
    throw Error("[reinforce_topk] parameter 'warm_start_scale' scales the per-item biases' warm start: it needs "
                "log_popularity = true and item_bias = true");
}

inline std::vector<ParamSpec> ReinforceTopK::params() {
  return {
      ParamSpec::real("gamma", 1.0, 0.0, 1.0,
                      "discount of the returns R_t (Chen et al. 2019); 1 = the whole session's "
                      "return, which the online protocol scores (sessions end)"),
      ParamSpec::real("gae_lambda", 1.0, 0.0, 1.0,
                      "λ of the generalized advantage estimate (Schulman et al. 2016) with the baseline b as the "
                      "critic: A_t = Σ_l (γλ)^l δ_(t+l), δ_t = r_t + γ b(s_(t+1)) − b(s_t), b = 0 after the "
                      "session's last step; 1 = the return's advantage G_t − b(s_t), 0 = the one-step TD error"),
      ParamSpec::real("learning_rate", 1e-3, 1e-9, 10.0, "Adam step size of the policy and the behaviour head"),
      ParamSpec::real("adam_epsilon", 1e-8, 1e-12, 10.0,
                      "ε of Adam's step lr · m̂ / (sqrt(v̂) + ε): a parameter whose gradients' root mean square "
                      "is far below ε moves like SGD with momentum at rate lr / ε, instead of by about lr "
                      "whatever their size"),
      ParamSpec::integer("hidden", 32, 1, 4096, "units of the state encoder h = tanh(U φ + c)"),
      ParamSpec::real("init_scale", 0.1, 0.0, 100.0, "scale of the random initial weights (normal / sqrt(fan-in))"),
      ParamSpec::real("warm_start_scale", 1.0, 0.0, 1e3,
                      "multiplies the policy head's warm start from the logs (needs log_popularity and "
                      "item_bias): 1 = the logs' add-one-smoothed softmax fit, larger = sharper, nearer "
                      "the logs' top-k; the behaviour head keeps the fit, so with behavior = \"learned\" "
                      "the first importance weights grow as exp((scale - 1) b_i)"),
      ParamSpec::choice("objective", "topk", {"topk", "slate", "positions"},
                        "the policy gradient: \"topk\" = Chen et al.'s, one event per click with the top-K "
                        "factor λ_K; \"slate\" = exact REINFORCE over the sampled slate, one event per step of "
                        "this policy's own act, ∇ of the slate's Plackett–Luce log-probability, weight "
                        "min(P_π(slate) / P_acting(slate), cap); \"positions\" = the same events with the "
                        "advantage split over the slate's positions: the clicked item's term gets the step's "
                        "target, every shown item's term loses b(s) / K (see plugins/rl/reinforce_topk.hpp)"),
      ParamSpec::real("weight_cap", 10.0, 0.0, 1e9,
                      "cap c of the importance weight min(π/β, c) (Chen et al., weight capping); 0 = uncapped"),
      ParamSpec::real("clip", 0.0, 0.0, 1e3,
                      "ε of PPO's clipped surrogate (Schulman et al. 2017), objectives \"slate\" and \"positions\": "
                      "a term whose advantage is positive and whose ratio (the slate's P_θ / P_acting, or "
                      "with ratio = \"position\" the position's own; before weight_cap) is above 1 + ε, or "
                      "negative and below 1 − ε, adds no gradient (with \"positions\", each position's term "
                      "on its own advantage), so that later epochs and "
                      "minibatches of a batch gain nothing by walking the policy far from the one that acted; "
                      "0 = off"),
      ParamSpec::choice("ratio", "slate", {"slate", "position"},
                        "objective \"positions\": the importance ratio of each position's term (weight_cap and "
                        "clip apply to it): \"slate\" = the slate's P_θ / P_acting for every term; \"position\" "
                        "= the position's own π_θ(a_p | s, a_<p) / π_acting(a_p | s, a_<p), each position a "
                        "decision given the ones before it (with clip, PPO's surrogate over those decisions); the "
                        "diagnostics capped_weights and mean_weight then count position terms, not events"),
      ParamSpec::choice("behavior", "recorded", {"recorded", "learned", "inclusion"},
                        "β of the importance weight: the acting policy's recorded probability, the "
                        "learned behaviour head β_θ' (Chen et al., 'Estimating the Behavior Policy'), or the "
                        "recorded probability's top-K inclusion 1 − (1 − β)^K (the chance the clicked item was "
                        "in the slate at all; see plugins/rl/reinforce_topk.hpp)"),
      ParamSpec::integer("update_events", 2048, 1, 1e9,
                         "events of ended sessions gathered before a policy update (an on-policy batch): "
                         "clicks, or with objective \"slate\" or \"positions\" steps of this policy's own act"),
      ParamSpec::integer("epochs", 2, 1, 1000, "passes over an on-policy batch per update"),
      ParamSpec::integer("minibatch", 128, 1, 1e6, "events per Adam step"),
      ParamSpec::integer("history", 10, 0, 100000,
                         "clicked items of earlier sessions averaged into the user's long-run profile"),
      ParamSpec::real("count_scale", 100.0, 1e-9, 1e9, "divisor of the session's step and click counts in the state"),
      item_bias_param(),
      log_popularity_param(),
      ParamSpec::boolean("item_embeddings", false,
                         "learn a per-item output embedding v_i (hidden values) in each head, added to the item's "
                         "logit as v_iᵀ h: the paper's softmax over learned item vectors, so each item gets its own "
                         "weights over the state; starts at 0 (the warm start is unchanged)"),
  };
}

}  // namespace recfuse::rl
