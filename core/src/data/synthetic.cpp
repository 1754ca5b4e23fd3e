// Seeded latent-factor world (the embedded default scenario's dataset).
//
// Generative story, every random draw from its own named stream of
// spec.seed (derive_seed), never a std distribution:
//   genres    g = 0..G-1 have centroids c_g ~ N(0, I_F)
//   items     1-3 genres each (uniform); factors v_i = 0.8 mean(c_g) + 0.6 e,
//             e ~ N(0, I_F), so genres are informative about the factors
//   users     u_u ~ N(0, I_F)
//   affinity  a_ui = <u_u, v_i> / sqrt(F)  (about unit variance)
//   popularity items get a random rank r_i; weight w_i = (r_i + 1)^-skew
//   choice    user u picks n_u distinct items by Gumbel-top-k over
//             1.5 a_ui + log w_i (sampling without replacement with
//             probability proportional to exp(score)); n_u is log-normal
//             around interactions_per_user, at least 5, at most n_items
//   rating    round(3.2 + 1.1 a_ui + noise * N(0,1)), clamped to 1..5
//   time      each user starts on a random day of 2020 and the picks follow
//             in a random order, 1 minute to 3 days apart
#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/readers.hpp"
#include "data/text_input.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/types.hpp"
#include "util/sha256.hpp"

namespace recfuse {

namespace {

/// Part of a synthetic dataset's sha256 (the spec text is its source): bumped
/// when generate_synthetic's output for one spec changes. It was the reader
/// version (3) until reader changes that leave the generator alone (4: the
/// sequence formats' ids) got a number of their own, so hashes stayed put.
constexpr std::uint32_t kGeneratorVersion = 3;

std::string spec_text(const SyntheticSpec& s) {
  return "synthetic v" + std::to_string(kGeneratorVersion) +
         " users=" + std::to_string(s.users) + " items=" + std::to_string(s.items) +
         " factors=" + std::to_string(s.factors) + " genres=" + std::to_string(s.genres) +
         " ipu=" + std::to_string(s.interactions_per_user) +
         " skew=" + std::to_string(s.popularity_skew) + " noise=" + std::to_string(s.noise) +
         " seed=" + std::to_string(s.seed);
}

void validate(const SyntheticSpec& s) {
  auto fail = [](const std::string& what) { throw Error("dataset.synthetic: " + what); };
  if (s.users < 1) fail("users must be >= 1 (got " + std::to_string(s.users) + ")");
  // SCHEMA.md's ranges (items >= 1, genres >= 0), which the scenario
  // parser checks at their keys; all floats finite (inf * log 1 is NaN).
  if (s.items < 1) fail("items must be >= 1 (got " + std::to_string(s.items) + ")");
  if (s.factors < 1) fail("factors must be >= 1 (got " + std::to_string(s.factors) + ")");
  if (s.genres < 0) fail("genres must be >= 0 (got " + std::to_string(s.genres) + ")");
  if (!(s.interactions_per_user > 0) || !std::isfinite(s.interactions_per_user))
    fail("interactions_per_user must be a finite number > 0");
  if (!(s.popularity_skew >= 0) || !std::isfinite(s.popularity_skew))
    fail("popularity_skew must be a finite number >= 0");
  if (!(s.noise >= 0) || !std::isfinite(s.noise)) fail("noise must be a finite number >= 0");
}

}  // namespace

Dataset generate_synthetic(const SyntheticSpec& spec) {
  validate(spec);
  const std::int32_t n_users = spec.users, n_items = spec.items, f = spec.factors;
  const std::int32_t n_genres = spec.genres;
  const std::uint64_t seed = spec.seed;
  const double inv_sqrt_f = 1.0 / std::sqrt(static_cast<double>(f));

  std::vector<double> centroid(static_cast<std::size_t>(n_genres) * f);
  Rng genre_rng(derive_seed(seed, "synthetic.genres"));
  for (double& c : centroid) c = genre_rng.normal();

  Dataset data;
  data.explicit_ratings = true;
  data.has_timestamps = true;
  data.format = "synthetic";
  data.name = "synthetic";
  data.sha256 = sha256_hex(spec_text(spec));

  // Items: genres, factors, titles.
  std::vector<double> item_factor(static_cast<std::size_t>(n_items) * f);
  data_detail::AttributeBuilder genres;
  for (std::int32_t g = 0; g < n_genres; ++g) genres.column("genre=g" + std::to_string(g));
  Rng item_rng(derive_seed(seed, "synthetic.items"));
  data.item_titles.resize(n_items);
  for (std::int32_t i = 0; i < n_items; ++i) {
    // genres = 0: no genres, factors from noise alone, no side features.
    const auto n_item_genres =
        n_genres == 0 ? 0
                      : static_cast<std::int32_t>(std::min<std::uint64_t>(
                            1 + item_rng.below(3), static_cast<std::uint64_t>(n_genres)));
    std::vector<std::int32_t> mine;
    while (static_cast<std::int32_t>(mine.size()) < n_item_genres) {
      const auto g = static_cast<std::int32_t>(item_rng.below(n_genres));
      if (std::find(mine.begin(), mine.end(), g) == mine.end()) mine.push_back(g);
    }
    std::sort(mine.begin(), mine.end());
    double* v = &item_factor[static_cast<std::size_t>(i) * f];
    for (std::int32_t k = 0; k < f; ++k) {
      double mean = 0.0;
      for (std::int32_t g : mine) mean += centroid[static_cast<std::size_t>(g) * f + k];
      v[k] = (mine.empty() ? 0.0 : 0.8 * mean / static_cast<double>(mine.size())) +
             0.6 * item_rng.normal();
    }
    for (std::int32_t g : mine) genres.add(i, "genre=g" + std::to_string(g));
    data.item_titles[i] = "Item " + std::to_string(i) +
                          (mine.empty() ? std::string() : " (g" + std::to_string(mine[0]) + ")");
    data.item_ids.push_back(std::to_string(i));
  }
  if (n_genres > 0) data.item_features = genres.build(n_items, false);

  // Popularity: a random permutation of ranks, Zipf-like weights.
  std::vector<std::int32_t> rank(n_items);
  std::iota(rank.begin(), rank.end(), 0);
  Rng pop_rng(derive_seed(seed, "synthetic.popularity"));
  for (std::int32_t i = n_items - 1; i > 0; --i) {
    std::swap(rank[i], rank[static_cast<std::int32_t>(pop_rng.below(i + 1))]);
  }
  std::vector<double> log_weight(n_items);
  for (std::int32_t i = 0; i < n_items; ++i) {
    log_weight[i] = -spec.popularity_skew * std::log(static_cast<double>(rank[i]) + 1.0);
  }

  // Users: each has its own stream, so user u's data does not depend on
  // how many items earlier users drew.
  std::vector<double> user_factor(f), score(n_items), affinity(n_items);
  std::vector<std::int32_t> order(n_items);
  constexpr std::int64_t kStart = 1577836800;  // 2020-01-01T00:00:00Z
  for (std::int32_t u = 0; u < n_users; ++u) {
    data.user_ids.push_back(std::to_string(u));
    Rng rng(derive_seed(seed, "synthetic.user", static_cast<std::uint64_t>(u)));
    for (double& x : user_factor) x = rng.normal();
    const double draw = spec.interactions_per_user * std::exp(0.5 * rng.normal() - 0.125);
    // At least 5 picks, or every item of a smaller catalogue (clamp needs
    // lo <= hi).
    const double n = static_cast<double>(n_items);
    const auto count =
        static_cast<std::int32_t>(std::clamp<double>(std::round(draw), std::min(5.0, n), n));
    for (std::int32_t i = 0; i < n_items; ++i) {
      const double* v = &item_factor[static_cast<std::size_t>(i) * f];
      double dot = 0.0;
      for (std::int32_t k = 0; k < f; ++k) dot += user_factor[k] * v[k];
      affinity[i] = dot * inv_sqrt_f;
      double uniform = rng.uniform();
      while (uniform <= 0.0) uniform = rng.uniform();
      const double gumbel = -std::log(-std::log(uniform));
      score[i] = 1.5 * affinity[i] + log_weight[i] + gumbel;
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + count, order.end(),
                      [&](std::int32_t a, std::int32_t b) {
                        return score[a] != score[b] ? score[a] > score[b] : a < b;
                      });
    // Consumption order: a random shuffle of the picks.
    for (std::int32_t k = count - 1; k > 0; --k) {
      std::swap(order[k], order[static_cast<std::int32_t>(rng.below(k + 1))]);
    }
    std::int64_t t = kStart + static_cast<std::int64_t>(rng.below(366)) * 86400;
    for (std::int32_t k = 0; k < count; ++k) {
      const std::int32_t i = order[k];
      const double raw = 3.2 + 1.1 * affinity[i] + spec.noise * rng.normal();
      const float rating = static_cast<float>(std::clamp(std::round(raw), 1.0, 5.0));
      t += 60 + static_cast<std::int64_t>(rng.below(3 * 86400));
      data.interactions.push_back({u, i, rating, t});
    }
  }
  return data;
}

}  // namespace recfuse
