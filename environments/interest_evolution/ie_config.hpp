// Parameters of the interest_evolution environment: one TOML key per
// constant of RecSim's interest-evolution world (google-research/recsim,
// recsim/environments/interest_evolution.py), each doc naming the RecSim
// class and field it stands for. Defaults reproduce create_environment()
// with RecSim's colab configuration (num_candidates 10, slate_size 2,
// resample_documents True).
//
// Not keys: user interests are drawn U(-1, 1) per topic as RecSim hardcodes
// (min_normalizer <= -1 relies on it), and score_scaling / attention_prob
// exist in RecSim's user state only for the cascade choice models, which
// create_environment() does not use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recfuse/params.hpp"

namespace recfuse::ie {

struct IeConfig {
  std::int32_t n_items = 10000;
  std::int32_t n_users = 10000;
  int num_topics = 20;
  int num_candidates = 10;
  int slate_size = 2;
  int max_steps = 5000;
  double min_utility = -3.0;
  double max_utility = 3.0;
  double trashy_fraction = 0.7;
  double quality_sd = 0.1;
  double video_length = 4.0;
  double time_budget = 200.0;
  double step_penalty = 0.5;
  double no_click_mass = 1.0;
  double min_normalizer = -1.0;
  double user_quality_factor = 0.0;
  double document_quality_factor = 1.0;
  double user_update_alpha = 0.9 / 3.4;
  double alpha_x_intercept = 1.0;
  double alpha_y_intercept = 0.3;

  static std::vector<ParamSpec> params() {
    const IeConfig d;
    const double inf = 1e9;  // "unbounded", as the other plugins write it
    return {
        ParamSpec::integer("n_items", d.n_items, 1, 1e8,
                           "catalogue size: documents drawn once from the world seed by RecSim's "
                           "UtilityModelVideoSampler (stands for its fresh documents per step)"),
        ParamSpec::integer("n_users", d.n_users, 1, 1e8,
                           "user population drawn once by RecSim's UtilityModelUserSampler; each "
                           "session starts from one of them, drawn uniformly with replacement"),
        ParamSpec::integer("num_topics", d.num_topics, 1, 10000,
                           "topics (RecSim IEvVideo.NUM_FEATURES = IEvUserState.NUM_FEATURES)"),
        ParamSpec::integer("num_candidates", d.num_candidates, 1, 100000,
                           "documents offered per step, drawn uniformly without replacement from "
                           "the catalogue (RecSim env_config num_candidates, resample_documents)"),
        ParamSpec::integer("slate_size", d.slate_size, 1, 100000,
                           "documents shown per step (RecSim env_config slate_size)"),
        ParamSpec::integer("max_steps", d.max_steps, 1, 1e9,
                           "horizon: a session still going after this many steps is truncated. "
                           "It does not bind under the defaults: sessions last ~83 steps under a "
                           "random policy and ~500 at most under any (a step costs the budget of "
                           "200 at least ~0.45: 0.5 without a click, 4 (1 - quality / 3.78) with)"),
        ParamSpec::real("min_utility", d.min_utility, -inf, 0.0,
                        "mean quality of the most 'trashy' topic (UtilityModelVideoSampler "
                        "min_utility)"),
        ParamSpec::real("max_utility", d.max_utility, 0.0, inf,
                        "mean quality of the most 'nutritious' topic (UtilityModelVideoSampler "
                        "max_utility)"),
        ParamSpec::real("trashy_fraction", d.trashy_fraction, 0.0, 1.0,
                        "share of topics whose mean quality is linspace(min_utility, 0); the rest "
                        "get linspace(0, max_utility) (UtilityModelVideoSampler: int(0.7 n))"),
        ParamSpec::real("quality_sd", d.quality_sd, 0.0, inf,
                        "spread of a document's quality around its topic mean (RecSim's "
                        "'quality_variance' 0.1, which it passes to normal() as the scale)"),
        ParamSpec::real("video_length", d.video_length, 1e-9, inf,
                        "length of every video in minutes (UtilityModelVideoSampler video_length)"),
        ParamSpec::real("time_budget", d.time_budget, 1e-9, inf,
                        "a user's initial time budget in minutes (UtilityModelUserSampler "
                        "time_budget)"),
        ParamSpec::real("step_penalty", d.step_penalty, 0.0, inf,
                        "budget lost on a step without a click (UtilityModelUserSampler "
                        "step_penalty)"),
        ParamSpec::real("no_click_mass", d.no_click_mass, -inf, inf,
                        "score of the no-click option (UtilityModelUserSampler no_click_mass)"),
        ParamSpec::real("min_normalizer", d.min_normalizer, -inf, -1.0,
                        "offset subtracted from every score so that all are >= 0 "
                        "(MultinomialProportionalChoiceModel min_normalizer; interests lie in "
                        "[-1, 1])"),
        ParamSpec::real("user_quality_factor", d.user_quality_factor, -inf, inf,
                        "weight of the clicked document's score in the budget update "
                        "(IEvUserState user_quality_factor)"),
        ParamSpec::real("document_quality_factor", d.document_quality_factor, -inf, inf,
                        "weight of the clicked document's quality in the budget update "
                        "(IEvUserState document_quality_factor)"),
        ParamSpec::real("user_update_alpha", d.user_update_alpha, -inf, inf,
                        "budget returned per watched minute and unit of utility "
                        "(UtilityModelUserSampler user_update_alpha = 0.9 / 3.4)"),
        ParamSpec::real("alpha_x_intercept", d.alpha_x_intercept, 1e-9, inf,
                        "interest step size alpha(x) = -(y0/x0)|x| + y0: its x intercept x0 "
                        "(IEvUserModel alpha_x_intercept)"),
        ParamSpec::real("alpha_y_intercept", d.alpha_y_intercept, -inf, inf,
                        "interest step size: its y intercept y0 (IEvUserModel alpha_y_intercept)"),
    };
  }

  /// Reads validated parameters and checks the constraints between them.
  static IeConfig from(const ParamSet& p) {
    IeConfig c;
    c.n_items = static_cast<std::int32_t>(p.get_int("n_items"));
    c.n_users = static_cast<std::int32_t>(p.get_int("n_users"));
    c.num_topics = static_cast<int>(p.get_int("num_topics"));
    c.num_candidates = static_cast<int>(p.get_int("num_candidates"));
    c.slate_size = static_cast<int>(p.get_int("slate_size"));
    c.max_steps = static_cast<int>(p.get_int("max_steps"));
    c.min_utility = p.get_float("min_utility");
    c.max_utility = p.get_float("max_utility");
    c.trashy_fraction = p.get_float("trashy_fraction");
    c.quality_sd = p.get_float("quality_sd");
    c.video_length = p.get_float("video_length");
    c.time_budget = p.get_float("time_budget");
    c.step_penalty = p.get_float("step_penalty");
    c.no_click_mass = p.get_float("no_click_mass");
    c.min_normalizer = p.get_float("min_normalizer");
    c.user_quality_factor = p.get_float("user_quality_factor");
    c.document_quality_factor = p.get_float("document_quality_factor");
    c.user_update_alpha = p.get_float("user_update_alpha");
    c.alpha_x_intercept = p.get_float("alpha_x_intercept");
    c.alpha_y_intercept = p.get_float("alpha_y_intercept");
    c.check();
    return c;
  }

  /// Throws Error when keys contradict each other.
  void check() const {
    const auto fail = [](const std::string& what) { throw Error("interest_evolution: " + what); };
    if (num_candidates > n_items)
      fail("num_candidates (" + std::to_string(num_candidates) + ") exceeds n_items (" +
           std::to_string(n_items) + ")");
    if (slate_size > num_candidates)
      fail("slate_size (" + std::to_string(slate_size) + ") exceeds num_candidates (" +
           std::to_string(num_candidates) + ")");
    if (!(no_click_mass > min_normalizer))
      fail(
          "no_click_mass must exceed min_normalizer, or a slate of users with interest -1 "
          "has no choice probabilities");
  }
};

}  // namespace recfuse::ie
