// The tiny planted world of the calibrated environment's tests: 4 genres
// of 5 items, 24 users who each rate 4 of their own genre's 5 items, and
// helpers to build and run the environment on it (test_calibrated*.cpp).
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "environment_support.hpp"
#include "environments/calibrated/calibrated.hpp"
#include "test_support.hpp"

namespace recfuse::test::planted {

using calibrated::CalConfig;
using calibrated::CalibratedEnv;

constexpr int kGenres = 4, kPerGenre = 5, kUsers = 24;
constexpr ItemId kItems = kGenres * kPerGenre;

inline int genre_of_user(UserId u) { return u % kGenres; }
/// The one item of u's genre that u has not rated.
inline ItemId held_out(UserId u) { return genre_of_user(u) * kPerGenre + (u / kGenres) % kPerGenre; }

/// Item i is first rated at time 1000 i: the highest ids are the newest.
inline TrainData planted_world() {
  std::vector<test::Interaction> e;
  for (UserId u = 0; u < kUsers; ++u)
    for (ItemId i = genre_of_user(u) * kPerGenre; i < (genre_of_user(u) + 1) * kPerGenre; ++i)
      if (i != held_out(u)) e.push_back({u, i, 5.0f, 1000 * i + u});
  TrainData d = make_train_data(kUsers, kItems, e, true);
  AttributeMatrix& f = d.item_features;
  f.matrix.rows = kItems;
  f.matrix.cols = kGenres;
  for (ItemId i = 0; i < kItems; ++i) {
    f.matrix.indices.push_back(i / kPerGenre);
    f.matrix.values.push_back(1.0f);
    f.matrix.indptr.push_back(f.matrix.nnz());
  }
  for (int g = 0; g < kGenres; ++g) f.names.push_back("genre=" + std::to_string(g));
  return d;
}

/// The planted world with explicit ratings 1 + (i mod 5): within every genre
/// item quality rises with the id.
inline TrainData rated_world() {
  std::vector<test::Interaction> e;
  for (UserId u = 0; u < kUsers; ++u)
    for (ItemId i = genre_of_user(u) * kPerGenre; i < (genre_of_user(u) + 1) * kPerGenre; ++i)
      if (i != held_out(u)) e.push_back({u, i, static_cast<float>(1 + i % kPerGenre), 1000 * i + u});
  TrainData d = make_train_data(kUsers, kItems, e, true);
  d.item_features = planted_world().item_features;
  return d;
}

/// Small defaults for the planted world (20 items, new ones held back).
inline CalConfig small_config() {
  CalConfig c;
  c.factors = 6;
  c.als_iterations = 15;
  c.slate_size = 3;
  c.num_candidates = 8;
  c.new_item_fraction = 0.25;
  c.arrival_steps = 6;
  c.max_steps = 30;
  return c;
}

inline CalibratedEnv built(const TrainData& d, const CalConfig& c, std::uint64_t seed = 1, int threads = 1) {
  CalibratedEnv env(c);
  env.build({seed, threads, &d});
  return env;
}

/// Every rule of the environment contract one run shows (as in test_environments.cpp),
/// plus, given the catalogue: no candidate before its arrival step.
inline void check_contract(const Environment& env, const Trace& t, int n,
                    const calibrated::Catalogue* catalogue) {
  const auto n_s = static_cast<std::size_t>(n), m = static_cast<std::size_t>(env.num_candidates());
  REQUIRE(t.steps >= 1);
  REQUIRE(t.steps <= env.max_steps());
  for (std::size_t row = 0; row * m < t.candidates.size(); ++row) {
    const auto step = static_cast<int>(row / n_s);
    std::set<ItemId> distinct(t.candidates.begin() + static_cast<std::ptrdiff_t>(row * m),
                              t.candidates.begin() + static_cast<std::ptrdiff_t>((row + 1) * m));
    CHECK(distinct.size() == m);
    // a finished session's row stays that of its last step, which is earlier
    for (ItemId c : distinct) {
      CHECK((c >= 0 && c < env.n_items()));
      if (catalogue) CHECK(catalogue->arrival(c) <= step);
    }
  }
  for (std::size_t s = 0; s < n_s; ++s) {
    int ended_at = -1;
    for (int step = 0; step < t.steps; ++step) {
      const std::size_t i = static_cast<std::size_t>(step) * n_s + s;
      CHECK((t.choice[i] >= -1 && t.choice[i] < env.slate_size()));
      CHECK(t.reward[i] == (t.choice[i] >= 0 ? 1.0f : 0.0f));
      if (t.choice[i] == -1) CHECK(t.engagement[i] == 0.0f);
      if (ended_at >= 0) {
        const std::size_t e = static_cast<std::size_t>(ended_at) * n_s + s;
        CHECK(t.terminated[i] == t.terminated[e]);
        CHECK(t.truncated[i] == t.truncated[e]);
        CHECK(t.choice[i] == -1);
      } else if (t.terminated[i] || t.truncated[i]) {
        ended_at = step;
      }
    }
    CHECK(ended_at >= 0);
  }
}

/// |observed - expected| within 5 standard deviations of a sum of Bernoullis.
inline void check_count(double observed, double expected, double variance) {
  INFO("observed " << observed << ", expected " << expected << " +- " << std::sqrt(variance));
  CHECK(std::abs(observed - expected) <= 5.0 * std::sqrt(variance) + 1e-9);
}

}  // namespace recfuse::test::planted
