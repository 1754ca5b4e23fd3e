// Simulated users (DESIGN.md "Environments"): Gymnasium-shaped and batched.
// The host builds the world once per trial, then runs batches of sessions:
//
//   env->build({seed, threads, &train_data_or_null});
//   env->reset(episode_seed, n_sessions);        // samples one user per session
//   while (!all done) {
//     policy picks env->slate_size() items per session from env->candidates();
//     env->step(slates, outcome);                 // responses, rewards, flags
//   }
//
// Inside, an environment follows RecSim's split (Ie et al. 2019, "RecSim: A
// Configurable Simulation Platform for Recommender Systems"): user sampler,
// user state, choice model, transition, item sampler and reward, each with
// its own random stream derived from the seeds it is given (derive_seed), so
// that one component's draws never shift another's.
//
// Contract, checked by tests/conformance over every environment:
// - the same build seed, reset seed and slates give the same episode;
// - another reset seed gives another episode;
// - outcome.choice is -1 (no click) or a position inside the slate;
// - a session that is terminated or truncated stays so, and stepping it
//   again changes nothing of it (its reward is 0);
// - every session ends within max_steps() steps.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recfuse/params.hpp"
#include "recfuse/train_data.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

struct WorldContext {
  std::uint64_t seed = 0;          // builds the catalogue and the user population
  int threads = 1;
  const TrainData* data = nullptr; // the scenario's dataset, when it has one (calibrated worlds)
};

/// What one step did to each session of the batch.
struct StepOutcome {
  std::vector<std::int32_t> choice;      // slate position clicked, -1 = none
  std::vector<float> reward;             // the environment's reward
  std::vector<float> engagement;         // e.g. watch time; 0 without a click
  std::vector<std::uint8_t> terminated;  // the user left (budget spent ...)
  std::vector<std::uint8_t> truncated;   // the horizon max_steps() was reached

  void resize(std::size_t n) {
    choice.assign(n, -1);
    reward.assign(n, 0.0f);
    engagement.assign(n, 0.0f);
    terminated.assign(n, 0);
    truncated.assign(n, 0);
  }
};

class Environment {
 public:
  virtual ~Environment() = default;

  /// Builds the world: item catalogue, user population, any fitted model.
  virtual void build(const WorldContext& ctx) = 0;

  std::int32_t n_users() const { return n_users_; }
  std::int32_t n_items() const { return n_items_; }
  int slate_size() const { return slate_size_; }
  /// Candidates offered per step (the policy chooses the slate among them).
  int num_candidates() const { return num_candidates_; }
  int max_steps() const { return max_steps_; }

  /// What agents may know about the items (topic one-hot, genres ...); the
  /// host puts it into the TrainData of learners. Valid after build.
  virtual const AttributeMatrix& item_features() const = 0;

  /// Starts n_sessions sessions, one sampled user each, from `seed`.
  virtual void reset(std::uint64_t seed, int n_sessions) = 0;
  /// The user of each session (n_sessions).
  virtual std::span<const UserId> users() const = 0;
  /// This step's candidates, n_sessions x num_candidates(), row-major.
  virtual std::span<const ItemId> candidates() const = 0;
  /// Shows slates (n_sessions x slate_size(), items from that session's
  /// candidates). Sessions already done are left alone. `out` is resized.
  virtual void step(std::span<const ItemId> slates, StepOutcome& out) = 0;

  /// The myopic oracle: for each session, the slate from this step's
  /// candidates with the highest expected immediate reward under the true
  /// (hidden) user state; a session that has ended gets any valid slate
  /// (step ignores it). Returns false when the environment has none.
  virtual bool oracle_slates(std::span<ItemId> slates) { return false; }

  /// The per-item myopic utility the oracle ranks by: scores[s * C + j] for
  /// candidate j of session s at this step (n_sessions x num_candidates(),
  /// higher is better, finite). oracle_slates must return the slate_size
  /// highest of them, the highest first (ties: the earlier candidate). The
  /// host's epsilon_softmax logging policy samples slates from
  /// softmax(score / temperature). A session that has ended may get any
  /// finite scores: no policy acts for it, and the worlds skip its work
  /// (a batch runs until its longest session ends). Returns false when the
  /// environment has none.
  virtual bool oracle_scores(std::span<double> scores) { return false; }

  /// Named figures of the world for the record (e.g. mean item quality).
  virtual std::vector<std::pair<std::string, double>> diagnostics() const { return {}; }

 protected:
  /// Implementations call this from build.
  void set_shape(std::int32_t n_users, std::int32_t n_items, int slate_size, int num_candidates,
                 int max_steps) {
    n_users_ = n_users;
    n_items_ = n_items;
    slate_size_ = slate_size;
    num_candidates_ = num_candidates;
    max_steps_ = max_steps;
  }

 private:
  std::int32_t n_users_ = 0, n_items_ = 0;
  int slate_size_ = 0, num_candidates_ = 0, max_steps_ = 0;
};

using EnvironmentFactory = std::unique_ptr<Environment> (*)(const ParamSet&);

}  // namespace recfuse
