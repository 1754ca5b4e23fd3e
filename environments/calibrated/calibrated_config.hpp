// Parameters of the calibrated environment: one TOML key per constant of the
// fit (calibrated_fit.hpp), the choice model and the dynamics
// (calibrated_model.hpp) and the catalogue (calibrated_catalogue.hpp). The
// choice and leaving defaults were chosen on ml-100k (world seed 1): at the
// first step a uniformly random slate is clicked with probability 0.21 and
// the myopic oracle's with 0.64 (the diagnostics report both for the world
// built); sessions last ~9 steps with 2.3 clicks under random slates and
// ~21 steps with 14 clicks under the oracle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recfuse/params.hpp"

namespace recfuse::calibrated {

struct CalConfig {
  // The fit (implicit ALS).
  int factors = 32;
  int als_iterations = 10;
  double als_reg = 0.1;
  double als_alpha = 2.0;
  // The choice model.
  double temperature = 0.5;
  double no_click_preference = 2.5;
  double examination_decay = 1.0;
  // The dynamics.
  double fatigue = 0.7;
  double fatigue_recovery = 0.1;
  double drift = 0.02;
  double leave_base = 0.02;
  double leave_per_miss = 0.05;
  double disappointment = 0.0;
  double disappointment_slope = 2.0;
  double quality_prior = 10.0;
  int max_steps = 100;
  // The catalogue.
  int slate_size = 5;
  int num_candidates = 20;
  double popular_share = 0.5;
  double new_item_fraction = 0.1;
  int arrival_steps = 20;

  static std::vector<ParamSpec> params() {
    const CalConfig d;
    return {
        ParamSpec::integer("factors", d.factors, 1, 1024,
                           "latent factors of the implicit-ALS fit that defines the true "
                           "preferences"),
        ParamSpec::integer("als_iterations", d.als_iterations, 1, 1000,
                           "ALS sweeps (users then items) of the fit"),
        ParamSpec::real("als_reg", d.als_reg, 1e-9, 1e9, "L2 regularisation lambda of the fit"),
        ParamSpec::real("als_alpha", d.als_alpha, 0.0, 1e9,
                        "confidence of an observed pair: c = 1 + als_alpha * value (the rating, or "
                        "1 for implicit data; Hu, Koren & Volinsky 2008 eq. 5)"),
        ParamSpec::real("temperature", d.temperature, 1e-6, 1e6,
                        "attractiveness = exp(preference / temperature); preferences are in "
                        "standard deviations of the fitted scores over all user-item pairs"),
        ParamSpec::real("no_click_preference", d.no_click_preference, -1e6, 1e6,
                        "preference of the no-click option: its weight is "
                        "exp(no_click_preference / temperature)"),
        ParamSpec::real("examination_decay", d.examination_decay, 0.0, 100.0,
                        "eta: slate position j (0-based) is examined with probability "
                        "1 / (1 + j)^eta, independently of the others"),
        ParamSpec::real("fatigue", d.fatigue, 0.0, 1.0,
                        "a click multiplies the session's appeal of each of the clicked item's "
                        "genres by this factor (1 = no fatigue)"),
        ParamSpec::real("fatigue_recovery", d.fatigue_recovery, 0.0, 1.0,
                        "each step every genre recovers this share of its lost appeal: "
                        "m <- 1 - (1 - m)(1 - fatigue_recovery)"),
        ParamSpec::real("drift", d.drift, 0.0, 1e3,
                        "interest drift: each step the session's user factor takes a Gaussian "
                        "random-walk step of this sd, in units of the fitted user factors' rms "
                        "entry"),
        ParamSpec::real("leave_base", d.leave_base, 0.0, 1.0,
                        "probability of leaving after a step with a click (n = 0 in "
                        "leave_per_miss's formula)"),
        ParamSpec::real("leave_per_miss", d.leave_per_miss, 0.0, 1.0,
                        "after n consecutive steps without a click the user leaves with "
                        "probability 1 - (1 - leave_base)(1 - leave_per_miss)^n"),
        ParamSpec::real("disappointment", d.disappointment, 0.0, 1.0,
                        "largest chance of leaving right after a click on a poor item: a click "
                        "on item i adds an independent chance disappointment / (1 + exp("
                        "disappointment_slope * q_i)) of leaving, q_i the item's standardised shrunk mean "
                        "rating (needs explicit ratings; 0 = clicks never disappoint)"),
        ParamSpec::real("disappointment_slope", d.disappointment_slope, 0.0, 1e3,
                        "how sharply disappointment falls with the clicked item's quality q_i "
                        "(in standard deviations of the items' shrunk mean ratings)"),
        ParamSpec::real("quality_prior", d.quality_prior, 0.0, 1e9,
                        "pseudo-ratings at the mean of all ratings added to each item's mean "
                        "rating before it becomes the quality q_i"),
        ParamSpec::integer("max_steps", d.max_steps, 1, 1e9,
                           "horizon: a session still going after this many steps is truncated"),
        ParamSpec::integer("slate_size", d.slate_size, 1, 64, "items shown per step"),
        ParamSpec::integer("num_candidates", d.num_candidates, 1, 1e6,
                           "distinct available items offered per step, among which the policy "
                           "chooses the slate"),
        ParamSpec::real("popular_share", d.popular_share, 0.0, 1.0,
                        "each candidate is drawn popularity-weighted (weight 1 + the item's "
                        "interactions in the dataset) with this probability, else uniformly, "
                        "among the items available at that step; repeats are redrawn"),
        ParamSpec::real("new_item_fraction", d.new_item_fraction, 0.0, 0.9,
                        "share of the catalogue held back as new items: the items seen last in "
                        "the dataset (by first interaction time)"),
        ParamSpec::integer("arrival_steps", d.arrival_steps, 1, 1e9,
                           "the held-back items arrive, oldest first and evenly spread, over "
                           "session steps 1..arrival_steps; none is a candidate before its step"),
    };
  }

  /// Reads validated parameters and checks the constraints between them.
  static CalConfig from(const ParamSet& p) {
    CalConfig c;
    c.factors = static_cast<int>(p.get_int("factors"));
    c.als_iterations = static_cast<int>(p.get_int("als_iterations"));
    c.als_reg = p.get_float("als_reg");
    c.als_alpha = p.get_float("als_alpha");
    c.temperature = p.get_float("temperature");
    c.no_click_preference = p.get_float("no_click_preference");
    c.examination_decay = p.get_float("examination_decay");
    c.fatigue = p.get_float("fatigue");
    c.fatigue_recovery = p.get_float("fatigue_recovery");
    c.drift = p.get_float("drift");
    c.leave_base = p.get_float("leave_base");
    c.leave_per_miss = p.get_float("leave_per_miss");
    c.disappointment = p.get_float("disappointment");
    c.disappointment_slope = p.get_float("disappointment_slope");
    c.quality_prior = p.get_float("quality_prior");
    c.max_steps = static_cast<int>(p.get_int("max_steps"));
    c.slate_size = static_cast<int>(p.get_int("slate_size"));
    c.num_candidates = static_cast<int>(p.get_int("num_candidates"));
    c.popular_share = p.get_float("popular_share");
    c.new_item_fraction = p.get_float("new_item_fraction");
    c.arrival_steps = static_cast<int>(p.get_int("arrival_steps"));
    c.check();
    return c;
  }

  /// Throws Error when keys contradict each other (the catalogue's size is
  /// checked by build, which knows it).
  void check() const {
    if (slate_size > num_candidates)
      throw Error("calibrated: slate_size (" + std::to_string(slate_size) +
                  ") exceeds num_candidates (" + std::to_string(num_candidates) + ")");
  }
};

}  // namespace recfuse::calibrated
