// The calibrated environment: a semi-synthetic world fitted to a real
// dataset. Implicit-ALS factors (calibrated_fit.hpp) are each user's hidden
// true preferences; clicks follow a position-biased multinomial choice with
// a no-click option; genres tire with clicks, interests drift, users
// leave after runs of misses and, when `disappointment` is on, after clicks
// on poorly rated items (calibrated_model.hpp); a share of the items
// arrives during the session (calibrated_catalogue.hpp). Users and items are
// the dataset's, agents see its item features (genres); factors, fatigue and
// drift stay hidden, and so does item quality.
//
//   CalibratedEnv env(CalConfig{});
//   env.build({seed, threads, &train_data});   // throws without a dataset
//   env.reset(episode_seed, 1024);
//   env.step(slates, outcome);                  // 1024 x slate_size from env.candidates()
//
// Randomness: build() derives the ALS start, the AUC negatives, the arrival
// tie-break and the diagnostics from the world seed; reset() draws each
// session's user (uniformly over the dataset's users) from the episode seed
// and gives every session its own candidate, choice, drift and leaving
// streams, so that sessions are independent of each other and of the
// thread count.
//
// Cost per session step: k (+1) exp and a dot product of `factors` per
// slate item, the examination and choice draws, `factors` normals of drift,
// then num_candidates draws for the next step; no allocation. The oracle
// skips sessions that have ended.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "calibrated_catalogue.hpp"
#include "calibrated_config.hpp"
#include "calibrated_fit.hpp"
#include "calibrated_model.hpp"
#include "recfuse/environment.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/slates.hpp"

namespace recfuse::calibrated {

class CalibratedEnv final : public Environment {
 public:
  explicit CalibratedEnv(const CalConfig& config) : cfg_(config) { cfg_.check(); }

  void build(const WorldContext& ctx) override {
    if (ctx.data == nullptr)
      throw Error("calibrated: the calibrated environment needs [dataset]: it fits its users and "
                  "items to the scenario's dataset");
    const TrainData& d = *ctx.data;
    if (d.n_users < 1 || d.n_items < 1 || d.by_user.nnz() == 0)
      throw Error("calibrated: the dataset has no interactions to fit");
    if (cfg_.disappointment > 0.0 && !d.explicit_ratings)  // before the fit, which takes a while
      throw Error("calibrated: disappointment needs explicit ratings (an item's quality is its "
                  "mean rating), and the scenario's dataset is implicit; set disappointment = 0");
    threads_ = std::max(1, ctx.threads);
    fit_ = fit_factors(d, {cfg_.factors, cfg_.als_iterations, cfg_.als_reg, cfg_.als_alpha},
                       ctx.seed, threads_);
    drift_sd_ = cfg_.drift * std::sqrt(fit_.users.squaredNorm() / static_cast<double>(fit_.users.size()));
    quality_ = item_quality(d, cfg_.quality_prior);
    catalogue_ = Catalogue(d, cfg_, derive_seed(ctx.seed, "calibrated/arrivals"));
    if (cfg_.num_candidates > catalogue_.available(0))
      throw Error("calibrated: num_candidates (" + std::to_string(cfg_.num_candidates) +
                  ") exceeds the " + std::to_string(catalogue_.available(0)) +
                  " items available at the first step (" + std::to_string(d.n_items) +
                  " items, new_item_fraction " + std::to_string(cfg_.new_item_fraction) + ")");
    features_ = d.item_features;
    if (features_.matrix.rows != d.n_items) {  // no features: an empty vocabulary
      features_ = AttributeMatrix{};
      features_.matrix.rows = d.n_items;
      features_.matrix.indptr.assign(static_cast<std::size_t>(d.n_items) + 1, 0);
    }
    n_genres_ = static_cast<std::size_t>(features_.matrix.cols);
    examination_.resize(static_cast<std::size_t>(cfg_.slate_size));
    examination_probabilities(cfg_.examination_decay, examination_);
    sessions_ = 0;
    set_shape(d.n_users, d.n_items, cfg_.slate_size, cfg_.num_candidates, cfg_.max_steps);
    measure_step_zero(derive_seed(ctx.seed, "calibrated/diagnostics"));
  }

  const AttributeMatrix& item_features() const override { return features_; }

  void reset(std::uint64_t seed, int n_sessions) override {
    if (fit_.users.size() == 0) throw Error("calibrated: reset before build");
    if (n_sessions < 0) throw Error("calibrated: negative number of sessions");
    const auto n = static_cast<std::size_t>(n_sessions);
    sessions_ = n_sessions;
    user_.resize(n);
    x_.resize(n_sessions, fit_.users.cols());
    appeal_.assign(n * n_genres_, 1.0);
    steps_.assign(n, 0);
    misses_.assign(n, 0);
    terminated_.assign(n, 0);
    truncated_.assign(n, 0);
    candidates_.resize(n * static_cast<std::size_t>(cfg_.num_candidates));
    streams_.resize(n);
    Rng pick(derive_seed(seed, "calibrated/user_sampler"));
    for (std::size_t s = 0; s < n; ++s) {
      user_[s] = static_cast<UserId>(pick.below(static_cast<std::uint64_t>(n_users())));
      x_.row(static_cast<Eigen::Index>(s)) = fit_.users.row(user_[s]);
      streams_[s].candidates.reseed(derive_seed(seed, "calibrated/candidates", s));
      streams_[s].choice.reseed(derive_seed(seed, "calibrated/choice", s));
      streams_[s].drift.reseed(derive_seed(seed, "calibrated/drift", s));
      streams_[s].leave.reseed(derive_seed(seed, "calibrated/leave", s));
      catalogue_.draw(0, cfg_.num_candidates, streams_[s].candidates, candidate_row(s));
    }
  }

  std::span<const UserId> users() const override { return user_; }
  std::span<const ItemId> candidates() const override { return candidates_; }

  void step(std::span<const ItemId> slates, StepOutcome& out) override {
    check_slates("calibrated", slates, candidates_, sessions_, cfg_.num_candidates, cfg_.slate_size, terminated_,
                 truncated_);
    const int n = sessions_;
    out.resize(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static) num_threads(threads_) if (threads_ > 1 && n >= 256)
    for (int s = 0; s < n; ++s) step_session(static_cast<std::size_t>(s), slates, out);
  }

  /// log a_si of each candidate (session_log_attractiveness: preference
  /// over temperature plus log genre appeal), what the oracle ranks by; 0
  /// for every candidate of a session that has ended.
  bool oracle_scores(std::span<double> scores) override {
    const auto m = static_cast<std::size_t>(cfg_.num_candidates);
    if (scores.size() != static_cast<std::size_t>(sessions_) * m)
      throw Error("calibrated: oracle_scores needs n_sessions x num_candidates entries");
    for (std::size_t s = 0; s < static_cast<std::size_t>(sessions_); ++s) {
      if (terminated_[s] || truncated_[s]) {
        std::fill_n(scores.begin() + static_cast<std::ptrdiff_t>(s * m), m, 0.0);
        continue;
      }
      const ItemId* row = candidate_row(s);
      for (std::size_t j = 0; j < m; ++j) scores[s * m + j] = session_log_attractiveness(s, row[j]);
    }
    return true;
  }

  /// The exact myopic optimum: the k candidates of highest attractiveness
  /// (oracle_scores), the most attractive first (ties: earlier candidate).
  /// Why: the expected reward E[g(Σ_{j∈E} a_j)], g(S) = S / (w_0 + S),
  /// grows with every a_j in the slate since g increases, so the best set
  /// is the top k; and for positions j, l with e_j ≥ e_l and items a ≥ b,
  /// putting a at j rather than at l changes it by (e_j − e_l)(E g(R + a) − E g(R + b)) ≥ 0
  /// (R: the rest of the slate), so the best order is by attractiveness,
  /// examination being nonincreasing in the position. A session that has
  /// ended gets its first slate_size candidates.
  bool oracle_slates(std::span<ItemId> slates) override {
    const auto m = static_cast<std::size_t>(cfg_.num_candidates);
    if (slates.size() != static_cast<std::size_t>(sessions_) * static_cast<std::size_t>(cfg_.slate_size))
      throw Error("calibrated: oracle_slates needs n_sessions x slate_size entries");
    oracle_score_.resize(static_cast<std::size_t>(sessions_) * m);
    oracle_scores(oracle_score_);
    top_scored_slates("calibrated", oracle_score_, candidates_, cfg_.num_candidates, cfg_.slate_size, slates,
                      terminated_, truncated_);
    return true;
  }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    return {{"fit_train_auc", fit_.train_auc},
            {"fit_score_mean", fit_.score_mean},
            {"fit_score_sd", fit_.score_sd},
            {"new_items", catalogue_.held_back()},
            {"random_slate_ctr_step0", random_ctr_},
            {"oracle_slate_ctr_step0", oracle_ctr_}};
  }

  // The hidden world, read-only, for tests and analyses.
  const CalConfig& config() const { return cfg_; }
  const FittedFactors& factors() const { return fit_; }
  const Catalogue& catalogue() const { return catalogue_; }
  /// z_ui of the fitted (undrifted) user u.
  double preference(UserId u, ItemId i) const {
    return (fit_.users.row(u).dot(fit_.items.row(i)) - fit_.score_mean) / fit_.score_sd;
  }
  /// z_si of session s now.
  double session_preference(std::size_t s, ItemId i) const {
    return (x_.row(static_cast<Eigen::Index>(s)).dot(fit_.items.row(i)) - fit_.score_mean) /
           fit_.score_sd;
  }
  /// log a_si of session s now (fatigue included).
  double session_log_attractiveness(std::size_t s, ItemId i) const {
    return log_attractiveness(session_preference(s, i), appeal_of(s, i), cfg_);
  }
  /// q_i: item i's quality (calibrated_fit.hpp's item_quality).
  double quality(ItemId i) const { return quality_[static_cast<std::size_t>(i)]; }
  /// m_sg: session s's appeal of genre (feature column) g.
  double genre_appeal(std::size_t s, std::size_t g) const { return appeal_[s * n_genres_ + g]; }
  int steps(std::size_t s) const { return steps_[s]; }

 private:
  struct SessionStreams {  // one session's independent random streams
    Rng candidates, choice, drift, leave;
  };

  ItemId* candidate_row(std::size_t s) {
    return candidates_.data() + s * static_cast<std::size_t>(cfg_.num_candidates);
  }
  const ItemId* candidate_row(std::size_t s) const {
    return candidates_.data() + s * static_cast<std::size_t>(cfg_.num_candidates);
  }

  /// φ_si: the mean appeal of the item's genres (1 without genres).
  double appeal_of(std::size_t s, ItemId i) const {
    const auto genres = features_.matrix.row(i);
    if (genres.empty()) return 1.0;
    double sum = 0.0;
    for (const std::int32_t g : genres) sum += appeal_[s * n_genres_ + static_cast<std::size_t>(g)];
    return sum / static_cast<double>(genres.size());
  }

  /// Response, reward and transition of session s (calibrated_model.hpp).
  void step_session(std::size_t s, std::span<const ItemId> slates, StepOutcome& out) {
    if (terminated_[s] || truncated_[s]) {
      out.terminated[s] = terminated_[s];
      out.truncated[s] = truncated_[s];
      return;
    }
    const auto k = static_cast<std::size_t>(cfg_.slate_size);
    const ItemId* slate = slates.data() + s * k;
    std::array<double, kMaxSlate> log_attr{};  // slate_size <= kMaxSlate (declared bound)
    for (std::size_t j = 0; j < k; ++j) log_attr[j] = session_log_attractiveness(s, slate[j]);
    const int pos = choose_position(std::span<const double>(log_attr.data(), k),
                                    log_no_click_weight(cfg_), examination_, streams_[s].choice);
    double* appeal = appeal_.data() + s * n_genres_;
    for (std::size_t g = 0; g < n_genres_; ++g) appeal[g] = recovered_appeal(appeal[g], cfg_);
    if (pos >= 0) {
      const ItemId item = slate[pos];
      out.choice[s] = pos;
      out.reward[s] = 1.0f;
      out.engagement[s] = static_cast<float>(watch_fraction(session_preference(s, item)));
      for (const std::int32_t g : features_.matrix.row(item))
        appeal[static_cast<std::size_t>(g)] *= cfg_.fatigue;
      misses_[s] = 0;
    } else {
      ++misses_[s];
    }
    if (drift_sd_ > 0.0)
      for (Eigen::Index f = 0; f < x_.cols(); ++f)
        x_(static_cast<Eigen::Index>(s), f) += drift_sd_ * streams_[s].drift.normal();
    ++steps_[s];
    double leave = leave_probability(misses_[s], cfg_);
    if (pos >= 0 && cfg_.disappointment > 0.0)
      leave = 1.0 - (1.0 - leave) * (1.0 - disappointment_probability(quality(slate[pos]), cfg_));
    terminated_[s] = streams_[s].leave.uniform() < leave;
    truncated_[s] = !terminated_[s] && steps_[s] >= cfg_.max_steps;
    out.terminated[s] = terminated_[s];
    out.truncated[s] = truncated_[s];
    if (!terminated_[s] && !truncated_[s])
      catalogue_.draw(steps_[s], cfg_.num_candidates, streams_[s].candidates, candidate_row(s));
  }

  /// Expected clicks of a uniformly random slate and of the oracle's at the
  /// first step, over 2000 sessions (exact per session; slates up to
  /// kMaxExactSlate, else NaN).
  void measure_step_zero(std::uint64_t seed) {
    random_ctr_ = oracle_ctr_ = std::numeric_limits<double>::quiet_NaN();
    if (cfg_.slate_size > kMaxExactSlate) return;
    constexpr int kSessions = 2000;
    reset(seed, kSessions);
    const auto k = static_cast<std::size_t>(cfg_.slate_size);
    const auto m = static_cast<std::size_t>(cfg_.num_candidates);
    std::vector<ItemId> best(static_cast<std::size_t>(kSessions) * k);
    oracle_slates(best);
    Rng shuffle(derive_seed(seed, "random_slates"));
    std::vector<ItemId> pool(m);
    std::vector<double> log_attr(k), p(k);
    double random_sum = 0.0, oracle_sum = 0.0;
    const double w0 = log_no_click_weight(cfg_);
    for (std::size_t s = 0; s < static_cast<std::size_t>(kSessions); ++s) {
      std::copy_n(candidate_row(s), m, pool.begin());
      for (std::size_t j = 0; j < k; ++j) {  // partial Fisher-Yates: a uniform slate
        std::swap(pool[j], pool[j + shuffle.below(m - j)]);
        log_attr[j] = session_log_attractiveness(s, pool[j]);
      }
      click_probabilities(log_attr, w0, cfg_.examination_decay, p);
      random_sum += std::accumulate(p.begin(), p.end(), 0.0);
      for (std::size_t j = 0; j < k; ++j) log_attr[j] = session_log_attractiveness(s, best[s * k + j]);
      click_probabilities(log_attr, w0, cfg_.examination_decay, p);
      oracle_sum += std::accumulate(p.begin(), p.end(), 0.0);
    }
    random_ctr_ = random_sum / kSessions;
    oracle_ctr_ = oracle_sum / kSessions;
    reset(seed, 0);  // no sessions until the host's reset
  }

  CalConfig cfg_;
  int threads_ = 1;
  // The world (build).
  FittedFactors fit_;
  std::vector<double> quality_;  // q_i per item
  double drift_sd_ = 0.0;
  Catalogue catalogue_;
  AttributeMatrix features_;
  std::size_t n_genres_ = 0;
  std::vector<double> examination_;  // e_j per slate position
  double random_ctr_ = 0.0, oracle_ctr_ = 0.0;
  // The sessions (reset): one sampled user each.
  int sessions_ = 0;
  std::vector<UserId> user_;
  RowMatrixD x_;                   // n_sessions x factors: drifting user factors
  std::vector<double> appeal_;     // n_sessions x genres: m_sg
  std::vector<std::int32_t> steps_, misses_;
  std::vector<std::uint8_t> terminated_, truncated_;
  std::vector<ItemId> candidates_;  // n_sessions x num_candidates
  std::vector<SessionStreams> streams_;
  std::vector<double> oracle_score_;  // oracle_slates' scratch, n_sessions x num_candidates
};

}  // namespace recfuse::calibrated
