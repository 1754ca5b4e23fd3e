// RecSim's interest-evolution model (Ie et al. 2019, "RecSim: A Configurable
// Simulation Platform for Recommender Systems"; google-research/recsim,
// recsim/environments/interest_evolution.py and recsim/choice_model.py),
// written as pure functions of one user's state so that tests can check each
// rule on hand-made numbers. The defaults are those of RecSim's
// create_environment(): documents from UtilityModelVideoSampler, users from
// UtilityModelUserSampler, clicks from MultinomialProportionalChoiceModel,
// the transition IEvUserModel.update_state, reward clicked_watchtime_reward.
//
//   score(x)        = x_c - min_normalizer                 (x_c: interest in the topic c)
//   P(position i)   = score_i / (sum_j score_j + no_click_mass - min_normalizer)
//   on a click:   watch = min(budget, video_length)
//                 alpha = -(y0 / x0) |x_c| + y0,  update = alpha (1 - x_c)
//                 x_c <- clip(x_c + update) with probability (x_c + 1) / 2,
//                        clip(x_c - update) otherwise
//                 budget <- budget - watch + user_update_alpha * watch *
//                           (user_quality_factor * score_c + document_quality_factor * quality)
//   without one:  budget <- budget - step_penalty
//   terminated:   budget <= 0
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ie_config.hpp"

namespace recfuse::ie {

/// Mean quality of each topic (UtilityModelVideoSampler.cluster_means):
/// linspace(min_utility, 0, n_trashy) then linspace(0, max_utility, rest),
/// n_trashy = int(num_topics * trashy_fraction). RecSim sizes the second part
/// int(0.3 n), which leaves topics without a mean unless 10 divides n; here
/// it is the rest, the same for RecSim's 20 topics (14 + 6).
inline std::vector<double> topic_quality_means(const IeConfig& c) {
  const auto linspace = [](std::vector<double>& out, double a, double b, int n) {
    for (int i = 0; i < n; ++i)  // numpy.linspace: the last point is exactly b
      out.push_back(i == n - 1 && n > 1 ? b : a + (n > 1 ? (b - a) * i / (n - 1) : 0.0));
  };
  const int trashy = static_cast<int>(c.num_topics * c.trashy_fraction);
  std::vector<double> means;
  linspace(means, c.min_utility, 0.0, trashy);
  linspace(means, 0.0, c.max_utility, c.num_topics - trashy);
  return means;
}

/// MultinomialProportionalChoiceModel score of a document of a topic the
/// user's interest in which is `interest` (IEvUserState.score_document is
/// the dot product with the topic one-hot).
inline double click_score(double interest, const IeConfig& c) {
  return interest - c.min_normalizer;
}

/// Score of the no-click option.
inline double no_click_score(const IeConfig& c) { return c.no_click_mass - c.min_normalizer; }

/// NormalizableChoiceModel.choose_item: the slate position whose cumulative
/// score first exceeds u * total (numpy's choice searches the CDF the same
/// way), or -1 for the no-click option. score_at(i) is the click score of
/// position i, u ~ U[0, 1).
template <typename ScoreAt>
int choose_position(int slate_size, ScoreAt score_at, double no_click, double u) {
  double total = no_click;
  for (int i = 0; i < slate_size; ++i) total += score_at(i);
  const double target = u * total;
  double cumulative = 0.0;
  for (int i = 0; i < slate_size; ++i) {
    cumulative += score_at(i);
    if (target < cumulative) return i;
  }
  return -1;
}

/// IEvUserModel.update_state for the clicked topic's interest, flip ~ U[0, 1).
inline double updated_interest(double interest, double flip, const IeConfig& c) {
  const double alpha =
      (-c.alpha_y_intercept / c.alpha_x_intercept) * std::abs(interest) + c.alpha_y_intercept;
  const double update = alpha * (1.0 - interest);  // alpha * mask * (features - interests)
  const double moved = flip < (interest + 1.0) / 2.0 ? interest + update : interest - update;
  return std::clamp(moved, -1.0, 1.0);
}

/// IEvUserModel._generate_click_response: what a click is watched for.
inline double watch_time(double budget, const IeConfig& c) {
  return std::min(budget, c.video_length);
}

/// IEvUserModel.update_state's budget after a click watched for `watch`;
/// `score` is the clicked document's click_score (RecSim's expected_utility).
inline double budget_after_click(double budget, double watch, double score, double quality,
                                 const IeConfig& c) {
  const double received_utility =
      c.user_quality_factor * score + c.document_quality_factor * quality;
  return budget - watch + c.user_update_alpha * watch * received_utility;
}

}  // namespace recfuse::ie
