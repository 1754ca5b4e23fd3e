// Helpers of the plugin conformance suite: hand-built TrainData (no data
// layer involved) and fitting any algorithm found in the built plugin
// directory with its declared defaults.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host/plugin_loader.hpp"
#include "recfuse/train_data.hpp"

namespace recfuse::test {

struct Interaction {
  UserId user;
  ItemId item;
  float value = 1.0f;        // rating (explicit) or 1
  std::int64_t time = 0;     // Unix seconds
};

/// TrainData with every layout filled (by_user, by_item, sequences) from a
/// list of distinct (user, item) interactions in any order.
TrainData make_train_data(std::int32_t n_users, std::int32_t n_items,
                          const std::vector<Interaction>& interactions, bool explicit_ratings);

/// 30 users x 40 items, ~25% density, ratings 1..5, timestamps, 3 genres and
/// titles; item 39 has no interactions; each user has 3..16 items.
TrainData synthetic_train_data(std::uint64_t seed = 7);

/// Registry scanned once from plugin_dir().
const PluginRegistry& plugin_registry();

/// Declared defaults of `a`, overridden by `values` (validated by the host's rules).
ParamSet params_for(const AlgorithmHandle& a, const std::map<std::string, ParamValue>& values = {});

/// A fresh instance of `a` (or of the algorithm called `name`), fitted on `data`.
RecommenderPtr fit_algorithm(const AlgorithmHandle& a, const TrainData& data, const ParamSet& params,
                             std::uint64_t seed = 42);
RecommenderPtr fit_algorithm(const std::string& name, const TrainData& data,
                             const std::map<std::string, ParamValue>& values = {},
                             std::uint64_t seed = 42);

/// score() of (users[j], items[j]) pairs.
std::vector<float> score_pairs(Recommender& r, const std::vector<UserId>& users,
                               const std::vector<ItemId>& items);

/// score_all() of users 0..n_users-1: n_users rows of r.n_items() scores.
std::vector<float> all_scores(Recommender& r, std::int32_t n_users);

/// score() of the one pair (u, i).
float score1(Recommender& r, UserId u, ItemId i);

/// Four users, four items, nine ratings 1-5 (implicit unless explicit_ratings):
///   u0: i0 5, i1 1;  u1: i0 1, i1 5, i2 2;  u2: i1 4, i2 2;  u3: i0 3, i3 4.
TrainData four_by_four(bool explicit_ratings = false);

}  // namespace recfuse::test
