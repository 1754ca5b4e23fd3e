// The interest_evolution environment: RecSim's interest-evolution world
// (Ie et al. 2019; google-research/recsim, recsim/environments/
// interest_evolution.py, dynamics in ie_model.hpp) behind recfuse's batched
// Environment interface.
//
//   InterestEvolutionEnv env(IeConfig{});
//   env.build({seed, threads});
//   env.reset(episode_seed, 1024);
//   env.step(slates, outcome);   // slates: 1024 x slate_size items from env.candidates()
//
// Mapping onto RecSim. RecSim draws fresh documents each step and a fresh
// user each episode; here both come from fixed sets drawn once by build()
// with RecSim's samplers, so that items and users recur and learners can
// personalise: a catalogue of n_items documents (UtilityModelVideoSampler)
// and a population of n_users users (UtilityModelUserSampler). reset()
// draws each session's user uniformly with replacement; each step offers
// num_candidates documents drawn uniformly without replacement from the
// catalogue (RecSim's resample_documents=True). Agents see the topic
// one-hot (IEvVideo.create_observation); quality and interests stay hidden.
//
// Randomness: build() derives the catalogue and population streams from the
// world seed; reset() derives the user draw from the episode seed and, per
// session, separate candidate, choice and transition streams, so sessions
// are independent of each other and of the thread count.
//
// Cost per session step: num_candidates draws for the next candidates, one
// for the choice, one more on a click; no allocation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "ie_config.hpp"
#include "ie_model.hpp"
#include "recfuse/environment.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/slates.hpp"

namespace recfuse::ie {

class InterestEvolutionEnv final : public Environment {
 public:
  explicit InterestEvolutionEnv(const IeConfig& config) : cfg_(config) { cfg_.check(); }

  void build(const WorldContext& ctx) override {
    threads_ = std::max(1, ctx.threads);
    const std::vector<double> means = topic_quality_means(cfg_);
    Rng docs(derive_seed(ctx.seed, "interest_evolution/documents"));
    topic_.resize(static_cast<std::size_t>(cfg_.n_items));
    quality_.resize(topic_.size());
    for (std::size_t i = 0; i < topic_.size(); ++i) {  // UtilityModelVideoSampler.sample_document
      topic_[i] =
          static_cast<std::int32_t>(docs.below(static_cast<std::uint64_t>(cfg_.num_topics)));
      quality_[i] = docs.normal(means[static_cast<std::size_t>(topic_[i])], cfg_.quality_sd);
    }
    Rng users(derive_seed(ctx.seed, "interest_evolution/users"));
    population_.resize(static_cast<std::size_t>(cfg_.n_users) * topics());
    for (double& x : population_) x = users.uniform(-1.0, 1.0);  // UtilityModelUserSampler
    build_features();
    sessions_ = 0;
    set_shape(cfg_.n_users, cfg_.n_items, cfg_.slate_size, cfg_.num_candidates, cfg_.max_steps);
  }

  const AttributeMatrix& item_features() const override { return features_; }

  void reset(std::uint64_t seed, int n_sessions) override {
    if (topic_.empty()) throw Error("interest_evolution: reset before build");
    if (n_sessions < 0) throw Error("interest_evolution: negative number of sessions");
    const auto n = static_cast<std::size_t>(n_sessions);
    sessions_ = n_sessions;
    user_.resize(n);
    interests_.resize(n * topics());
    budget_.assign(n, cfg_.time_budget);
    steps_.assign(n, 0);
    terminated_.assign(n, 0);
    truncated_.assign(n, 0);
    candidates_.resize(n * static_cast<std::size_t>(cfg_.num_candidates));
    streams_.resize(n);
    Rng pick(derive_seed(seed, "interest_evolution/user_sampler"));
    for (std::size_t s = 0; s < n; ++s) {
      user_[s] = static_cast<UserId>(pick.below(static_cast<std::uint64_t>(cfg_.n_users)));
      std::copy_n(population_.begin() +
                      static_cast<std::ptrdiff_t>(static_cast<std::size_t>(user_[s]) * topics()),
                  topics(), interests_.begin() + static_cast<std::ptrdiff_t>(s * topics()));
      streams_[s].candidates.reseed(derive_seed(seed, "interest_evolution/candidates", s));
      streams_[s].choice.reseed(derive_seed(seed, "interest_evolution/choice", s));
      streams_[s].transition.reseed(derive_seed(seed, "interest_evolution/transition", s));
      draw_candidates(s);
    }
  }

  std::span<const UserId> users() const override { return user_; }
  std::span<const ItemId> candidates() const override { return candidates_; }

  void step(std::span<const ItemId> slates, StepOutcome& out) override {
    check_slates("interest_evolution", slates, candidates_, sessions_, cfg_.num_candidates, cfg_.slate_size,
                 terminated_, truncated_);
    const int n = sessions_;
    out.resize(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static) num_threads(threads_) if (threads_ > 1 && n >= 512)
    for (int s = 0; s < n; ++s) step_session(static_cast<std::size_t>(s), slates, out);
  }

  /// The click score of each candidate, score(x_c) = x_c − min_normalizer
  /// (the user's interest in its topic, shifted as the choice model does);
  /// 0 for every candidate of a session that has ended.
  bool oracle_scores(std::span<double> scores) override {
    const auto m = static_cast<std::size_t>(cfg_.num_candidates);
    if (scores.size() != static_cast<std::size_t>(sessions_) * m)
      throw Error("interest_evolution: oracle_scores needs n_sessions x num_candidates entries");
    for (std::size_t s = 0; s < static_cast<std::size_t>(sessions_); ++s) {
      if (terminated_[s] || truncated_[s]) {
        std::fill_n(scores.begin() + static_cast<std::ptrdiff_t>(s * m), m, 0.0);
        continue;
      }
      const ItemId* row = candidates_.data() + s * m;
      const double* x = interests_.data() + s * topics();
      for (std::size_t j = 0; j < m; ++j)
        scores[s * m + j] = click_score(x[topic_[static_cast<std::size_t>(row[j])]], cfg_);
    }
    return true;
  }

  /// Exact myopic optimum: every video has the same length, so a slate's
  /// expected immediate reward min(budget, video_length) * S / (S + no_click_score)
  /// grows with S, the sum of its click scores; the best slate is the
  /// slate_size candidates of highest click score (oracle_scores; ties:
  /// earlier candidate). A session that has ended gets its first
  /// slate_size candidates.
  bool oracle_slates(std::span<ItemId> slates) override {
    const auto m = static_cast<std::size_t>(cfg_.num_candidates);
    if (slates.size() != static_cast<std::size_t>(sessions_) * static_cast<std::size_t>(cfg_.slate_size))
      throw Error("interest_evolution: oracle_slates needs n_sessions x slate_size entries");
    oracle_score_.resize(static_cast<std::size_t>(sessions_) * m);
    oracle_scores(oracle_score_);
    top_scored_slates("interest_evolution", oracle_score_, candidates_, cfg_.num_candidates, cfg_.slate_size,
                      slates, terminated_, truncated_);
    return true;
  }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    const double q = std::accumulate(quality_.begin(), quality_.end(), 0.0) /
                     static_cast<double>(std::max<std::size_t>(1, quality_.size()));
    const double x = std::accumulate(population_.begin(), population_.end(), 0.0) /
                     static_cast<double>(std::max<std::size_t>(1, population_.size()));
    return {{"mean_item_quality", q}, {"mean_user_interest", x}};
  }

  // The hidden world, read-only, for tests and analyses.
  const IeConfig& config() const { return cfg_; }
  std::int32_t item_topic(ItemId i) const { return topic_[static_cast<std::size_t>(i)]; }
  double item_quality(ItemId i) const { return quality_[static_cast<std::size_t>(i)]; }
  /// Initial interests of user u (num_topics).
  std::span<const double> user_interests(UserId u) const {
    return {population_.data() + static_cast<std::size_t>(u) * topics(), topics()};
  }
  /// Current interests of session s (num_topics).
  std::span<const double> session_interests(int s) const {
    return {interests_.data() + static_cast<std::size_t>(s) * topics(), topics()};
  }
  double budget(int s) const { return budget_[static_cast<std::size_t>(s)]; }
  int steps(int s) const { return steps_[static_cast<std::size_t>(s)]; }

 private:
  struct SessionStreams {  // one session's independent random streams
    Rng candidates, choice, transition;
  };

  std::size_t topics() const { return static_cast<std::size_t>(cfg_.num_topics); }

  void build_features() {
    CsrMatrix& m = features_.matrix;
    m.rows = cfg_.n_items;
    m.cols = cfg_.num_topics;
    m.indptr.resize(topic_.size() + 1);
    std::iota(m.indptr.begin(), m.indptr.end(), std::int64_t{0});
    m.indices.assign(topic_.begin(), topic_.end());
    m.values.assign(topic_.size(), 1.0f);
    m.timestamps.clear();
    features_.names.clear();
    for (int t = 0; t < cfg_.num_topics; ++t)
      features_.names.push_back("topic=" + std::to_string(t));
  }

  /// Uniform without replacement by rejection: num_candidates is small
  /// next to n_items in every intended use, so repeats are rare and the
  /// membership test runs without early exits (no mispredicted branches).
  void draw_candidates(std::size_t s) {
    const auto m = static_cast<std::size_t>(cfg_.num_candidates);
    ItemId* row = candidates_.data() + s * m;
    Rng& rng = streams_[s].candidates;
    for (std::size_t j = 0; j < m; ++j) {
      ItemId c;
      do {
        c = static_cast<ItemId>(rng.below(static_cast<std::uint64_t>(cfg_.n_items)));
      } while (contains(row, j, c));
      row[j] = c;
    }
  }

  static bool contains(const ItemId* row, std::size_t n, ItemId item) {
    bool found = false;
    for (std::size_t i = 0; i < n; ++i) found |= row[i] == item;
    return found;
  }

  /// IEvUserModel.simulate_response then update_state for session s.
  void step_session(std::size_t s, std::span<const ItemId> slates, StepOutcome& out) {
    if (terminated_[s] || truncated_[s]) {
      out.terminated[s] = terminated_[s];
      out.truncated[s] = truncated_[s];
      return;
    }
    const ItemId* slate = slates.data() + s * static_cast<std::size_t>(cfg_.slate_size);
    double* x = interests_.data() + s * topics();
    const auto score_at = [&](int j) {
      return click_score(x[topic_[static_cast<std::size_t>(slate[j])]], cfg_);
    };
    const int pos = choose_position(cfg_.slate_size, score_at, no_click_score(cfg_),
                                    streams_[s].choice.uniform());
    double& budget = budget_[s];
    if (pos >= 0) {
      const auto item = static_cast<std::size_t>(slate[pos]);
      double& interest = x[topic_[item]];
      const double watch = watch_time(budget, cfg_);
      const double score = click_score(interest, cfg_);  // before the interest moves
      interest = updated_interest(interest, streams_[s].transition.uniform(), cfg_);
      budget = budget_after_click(budget, watch, score, quality_[item], cfg_);
      out.choice[s] = pos;
      out.reward[s] = static_cast<float>(watch);  // clicked_watchtime_reward
      out.engagement[s] = static_cast<float>(watch);
    } else {
      budget -= cfg_.step_penalty;
    }
    ++steps_[s];
    terminated_[s] = budget <= 0.0;  // IEvUserModel.is_terminal
    truncated_[s] = !terminated_[s] && steps_[s] >= cfg_.max_steps;
    out.terminated[s] = terminated_[s];
    out.truncated[s] = truncated_[s];
    if (!terminated_[s] && !truncated_[s]) draw_candidates(s);
  }

  IeConfig cfg_;
  int threads_ = 1;
  // The world (build): item topic and quality, initial user interests.
  std::vector<std::int32_t> topic_;
  std::vector<double> quality_;
  std::vector<double> population_;  // n_users x num_topics
  AttributeMatrix features_;
  // The sessions (reset): one sampled user each.
  int sessions_ = 0;
  std::vector<UserId> user_;
  std::vector<double> interests_;  // n_sessions x num_topics
  std::vector<double> budget_;
  std::vector<std::int32_t> steps_;
  std::vector<std::uint8_t> terminated_, truncated_;
  std::vector<ItemId> candidates_;  // n_sessions x num_candidates
  std::vector<SessionStreams> streams_;
  std::vector<double> oracle_score_;  // oracle_slates' scratch, n_sessions x num_candidates
};

}  // namespace recfuse::ie
