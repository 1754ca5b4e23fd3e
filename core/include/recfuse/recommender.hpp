// The recommender interface every algorithm plugin implements (Faiss-style:
// batches in, caller-owned arrays out, padded with kNoItem).
//
//   class Popularity final : public recfuse::Recommender {
//     void fit(const TrainData& d, const FitContext&) override { ... }
//     void score_all(std::span<const UserId> users, std::span<float> out) override { ... }
//     std::size_t model_bytes() const override { return counts_.size() * sizeof(float); }
//   };
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <istream>
#include <memory>
#include <ostream>
#include <utility>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "recfuse/sparse.hpp"
#include "recfuse/topk.hpp"
#include "recfuse/train_data.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

/// Where a plugin reports progress (one line per epoch, say). Owned by the host.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void report(std::string_view line) = 0;
};

struct FitContext {
  std::uint64_t seed = 0;        // the trial seed; derive streams with derive_seed
  int threads = 1;               // OpenMP threads the trial may use (already set by the host)
  ProgressSink* progress = nullptr;            // may be null
  const std::atomic<bool>* cancel = nullptr;   // may be null; poll between epochs

  void log(std::string_view line) const { if (progress) progress->report(line); }
  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
};

/// Optional capabilities, declared in the algorithm descriptor.
enum Capability : std::uint32_t {
  kCapPredictRating = 1u << 0,
  kCapObserve = 1u << 1,
  kCapPropensity = 1u << 2,
  kCapExplain = 1u << 3,
  kCapSaveLoad = 1u << 4,
  kCapChildren = 1u << 5,
};

class Recommender;

/// A child recommender handed to a fusion strategy (kCapChildren). The host
/// builds it from a nested scenario table ([[algorithms.children]]), fits it
/// on the same TrainData (whose validation part it never sees), and hands it
/// over before the parent's fit. The pointer keeps the child's library loaded.
struct Child {
  std::string name;              // label from the scenario
  std::string plugin;            // registered algorithm name
  std::uint32_t capabilities = 0;
  std::shared_ptr<Recommender> model;
};

/// One step of interaction with simulated users, handed to `observe`: what
/// was shown to whom and how each user responded, for the sessions that were
/// still running at this step (finished ones are left out). Spans are valid
/// during the call only.
struct Feedback {
  std::span<const UserId> users;         // n sessions
  int slate_size = 0;
  std::span<const ItemId> slates;        // n x slate_size, row-major
  std::span<const std::int32_t> choice;  // slate position clicked, -1 = none
  std::span<const float> reward;         // n
  std::span<const std::uint8_t> done;    // the session ended with this step
};

class Recommender {
 public:
  virtual ~Recommender() = default;

  /// Learns from `data`. Called once before any scoring.
  virtual void fit(const TrainData& data, const FitContext& ctx) = 0;

  /// Scores of every item for each user. `out` has users.size() * n_items()
  /// floats, row-major (row i = users[i]). Higher is better. Excluded items
  /// are not masked here: exclusions are applied by `recommend`.
  virtual void score_all(std::span<const UserId> users, std::span<float> out) = 0;

  /// Pairwise scores: out[j] = score(users[j], items[j]). All spans have the
  /// same length. The default scores whole rows; override when cheaper.
  virtual void score(std::span<const UserId> users, std::span<const ItemId> items,
                     std::span<float> out) {
    row_.resize(static_cast<std::size_t>(n_items_));
    for (std::size_t j = 0; j < users.size(); ++j) {
      if (j == 0 || users[j] != users[j - 1]) score_all(users.subspan(j, 1), row_);
      out[j] = row_[static_cast<std::size_t>(items[j])];
    }
  }

  /// Top-k for each user: out_items / out_scores have users.size() * k
  /// entries (row i = users[i]), sorted by score then item id, padded with
  /// kNoItem / -inf. Items in `exclude.row(users[i])` are never returned.
  /// The default scores blocks of users with `score_all` into a reused buffer
  /// and runs the shared top-k. Not thread-safe; parallel inside.
  virtual void recommend(std::span<const UserId> users, int k, SparseRowsView exclude,
                         std::span<ItemId> out_items, std::span<float> out_scores) {
    const std::size_t n_items = static_cast<std::size_t>(n_items_);
    for (std::size_t b = 0; b < users.size(); b += kScoreBlock) {
      const std::size_t nb = std::min(kScoreBlock, users.size() - b);
      block_.resize(nb * n_items);
      score_all(users.subspan(b, nb), block_);
#pragma omp parallel for schedule(static) if (nb > 8)
      for (std::size_t i = 0; i < nb; ++i) {
        const std::size_t r = b + i;
        topk_exclude(block_.data() + i * n_items, n_items_, exclude.row(users[r]), k,
                     out_items.data() + r * static_cast<std::size_t>(k),
                     out_scores.data() + r * static_cast<std::size_t>(k));
      }
    }
  }

  /// Bytes of learned parameters (what a deployment would have to store).
  virtual std::size_t model_bytes() const = 0;

  /// kCapPredictRating: predicted ratings for (users[j], items[j]).
  virtual void predict_rating(std::span<const UserId>, std::span<const ItemId>,
                              std::span<float>) {
    throw Error("this recommender does not predict ratings");
  }

  /// Acting as a policy in a simulated session: for each user (row r), pick
  /// `slate_size` distinct items from candidates[r*n_candidates ...] (distinct
  /// items; 1 <= slate_size <= n_candidates) into slates[r*slate_size ...]. The default ranks the candidates by `score`
  /// (ties by item id); stochastic policies (bandits, softmax RL) override it.
  virtual void act(std::span<const UserId> users, std::span<const ItemId> candidates,
                   int n_candidates, int slate_size, std::span<ItemId> slates) {
    const std::size_t n = users.size(), c = static_cast<std::size_t>(n_candidates);
    pair_users_.resize(n * c);
    pair_scores_.resize(n * c);
    for (std::size_t r = 0; r < n; ++r)
      std::fill_n(pair_users_.begin() + static_cast<std::ptrdiff_t>(r * c), c, users[r]);
    score(pair_users_, candidates, pair_scores_);
    std::vector<float> top_scores(static_cast<std::size_t>(slate_size));
    for (std::size_t r = 0; r < n; ++r)
      topk_candidates(pair_scores_.data() + r * c, candidates.subspan(r * c, c), slate_size,
                      slates.data() + r * static_cast<std::size_t>(slate_size),
                      top_scores.data());
  }

  /// kCapObserve: learns online from one step of feedback.
  virtual void observe(const Feedback& /*feedback*/) {}

  /// kCapPropensity: out[r] = probability that `act` would choose exactly
  /// slate r (in that order) from candidate row r.
  virtual void propensity(std::span<const UserId> /*users*/, std::span<const ItemId> /*candidates*/,
                          int /*n_candidates*/, int /*slate_size*/,
                          std::span<const ItemId> /*slates*/, std::span<double> /*out*/) {
    throw Error("this recommender does not report propensities");
  }

  /// kCapSaveLoad: writes the fitted model (what scoring needs) to `out`
  /// with ModelWriter (model_io.hpp). Called after fit. With kCapChildren,
  /// the children's models too (throws, naming the child, when one cannot
  /// be saved).
  virtual void save(std::ostream& /*out*/) const {
    throw Error("this recommender does not save models");
  }
  /// kCapSaveLoad: restores, in place of fit, what save wrote, on an object
  /// built with the same parameters; sets the shape. With kCapChildren it is
  /// called after set_children handed over the same children unfitted, and
  /// loads them too. Throws Error (via ModelReader) on a truncated or
  /// foreign stream.
  virtual void load(std::istream& /*in*/) {
    throw Error("this recommender does not load models");
  }

  /// kCapExplain: a short human-readable reason for recommending `item`.
  virtual std::string explain(UserId, ItemId) { return {}; }

  /// kCapChildren: receives the fitted children, in scenario order, before fit.
  virtual void set_children(std::vector<Child> /*children*/) {
    throw Error("this recommender does not take children");
  }

  /// Named figures the model wants in its trial record after evaluation
  /// (e.g. a cascade's retrieval recall and per-stage latency). Optional.
  virtual std::vector<std::pair<std::string, double>> diagnostics() const { return {}; }

  std::int32_t n_items() const { return n_items_; }
  std::int32_t n_users() const { return n_users_; }

 protected:
  /// Plugins call this from `fit` so the default methods know the shape.
  void set_shape(std::int32_t n_users, std::int32_t n_items) {
    n_users_ = n_users;
    n_items_ = n_items;
  }
  static constexpr std::size_t kScoreBlock = 256;

 private:
  std::int32_t n_users_ = 0;
  std::int32_t n_items_ = 0;
  std::vector<float> block_;  // reused scoring tile of kScoreBlock x n_items
  std::vector<float> row_;
  std::vector<UserId> pair_users_;   // act: users repeated per candidate
  std::vector<float> pair_scores_;
};

}  // namespace recfuse
