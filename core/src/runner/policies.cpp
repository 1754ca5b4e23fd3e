#include "runner/policies.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "recfuse/rng.hpp"

namespace recfuse {
namespace {

/// The myopic oracle's slate of every session of the environment's batch.
std::span<const ItemId> oracle_slates(Environment& env, std::vector<ItemId>& buf) {
  buf.resize(env.users().size() * static_cast<std::size_t>(env.slate_size()));
  if (!env.oracle_slates(buf)) throw Error("the environment has no oracle");
  return buf;
}

/// The oracle's utilities of every session's candidates (sessions x C).
std::span<const double> oracle_scores(Environment& env, std::vector<double>& buf,
                                      const std::string& env_name) {
  buf.resize(env.users().size() * static_cast<std::size_t>(env.num_candidates()));
  if (!env.oracle_scores(buf))
    throw Error("[online] logging_policy = \"epsilon_softmax\" needs the environment's oracle scores "
                "(Environment::oracle_scores), and environment '" + env_name +
                "' has none; use \"uniform\" or \"epsilon_oracle\"");
  for (double u : buf)
    if (!std::isfinite(u)) throw Error("environment '" + env_name + "' gave a non-finite oracle score");
  return buf;
}

/// Positions pos[0..k) of a uniformly random ordered slate (partial
/// Fisher-Yates over the C positions; `pool` is scratch).
void uniform_positions(Rng& rng, int C, int k, std::vector<std::size_t>& pool, std::size_t* pos) {
  pool.resize(static_cast<std::size_t>(C));
  std::iota(pool.begin(), pool.end(), std::size_t{0});
  for (int j = 0; j < k; ++j) {
    const auto uj = static_cast<std::size_t>(j);
    std::swap(pool[uj], pool[uj + rng.below(pool.size() - uj)]);
    pos[j] = pool[uj];
  }
}

/// Largest logit among the candidates not yet drawn.
double max_left(std::span<const double> z, const std::vector<char>& taken) {
  double top = -INFINITY;
  for (std::size_t j = 0; j < z.size(); ++j)
    if (!taken[j]) top = std::max(top, z[j]);
  return top;
}

/// A Plackett–Luce draw of k positions from the logits z: slot by slot,
/// j among the candidates not yet drawn with probability ∝ exp(z_j).
void plackett_luce_draw(std::span<const double> z, int k, Rng& rng, std::vector<char>& taken,
                        std::size_t* pos) {
  taken.assign(z.size(), 0);
  for (int p = 0; p < k; ++p) {
    const double top = max_left(z, taken);
    double total = 0;
    for (std::size_t j = 0; j < z.size(); ++j)
      if (!taken[j]) total += std::exp(z[j] - top);
    double target = rng.uniform() * total;
    std::size_t pick = z.size();
    for (std::size_t j = 0; j < z.size(); ++j) {
      if (taken[j]) continue;
      pick = j;  // the last one left if rounding runs past the end
      if ((target -= std::exp(z[j] - top)) < 0) break;
    }
    pos[p] = pick;
    taken[pick] = 1;
  }
}

/// log PL(pos[0..k) | z): each slot's softmax over what is left (in log
/// space: exp(z) overflows at small temperatures).
double plackett_luce_log_probability(std::span<const double> z, const std::size_t* pos, int k,
                                     std::vector<char>& taken) {
  taken.assign(z.size(), 0);
  double lp = 0;
  for (int p = 0; p < k; ++p) {
    const double top = max_left(z, taken);
    double total = 0;
    for (std::size_t j = 0; j < z.size(); ++j)
      if (!taken[j]) total += std::exp(z[j] - top);
    lp += z[pos[p]] - top - std::log(total);
    taken[pos[p]] = 1;
  }
  return lp;
}

/// A logging policy's buffers, reused from step to step.
struct Scratch {
  std::vector<ItemId> oracle;           // the oracle's slates, sessions x k
  std::vector<double> scores, z;        // oracle scores (sessions x C); one row's logits (C)
  std::vector<std::size_t> pool, pos;   // positions: Fisher-Yates pool (C); the slate's (k)
  std::vector<char> taken;              // Plackett-Luce: candidates drawn (C)
};

/// uniform and epsilon_oracle (see policies.hpp).
Policy uniform_or_oracle(Environment& env, const OnlineSpec& o, std::uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  auto buf = std::make_shared<Scratch>();
  const int C = env.num_candidates(), k = env.slate_size();
  const double p_uniform = 1.0 / ordered_slates(C, k);
  const bool oracle = o.logging_policy == "epsilon_oracle";
  const double eps = o.logging_epsilon;
  return [&env, rng, buf, C, k, p_uniform, oracle, eps](
             std::span<const UserId> users, std::span<const ItemId> cand,
             std::span<const int> sessions, std::span<ItemId> slates, std::span<double> prop) {
    const std::size_t uC = static_cast<std::size_t>(C), uk = static_cast<std::size_t>(k);
    const std::span<const ItemId> best_all = oracle ? oracle_slates(env, buf->oracle) : std::span<const ItemId>();
    std::vector<std::size_t>& pool = buf->pool;
    std::vector<std::size_t>& pos = buf->pos;
    pos.resize(uk);
    for (std::size_t r = 0; r < users.size(); ++r) {
      ItemId* s = slates.data() + r * uk;
      const ItemId* best = oracle ? best_all.data() + static_cast<std::size_t>(sessions[r]) * uk : nullptr;
      if (oracle && rng->uniform() >= eps) {
        std::copy_n(best, k, s);
      } else {
        uniform_positions(*rng, C, k, pool, pos.data());
        for (std::size_t j = 0; j < uk; ++j) s[j] = cand[r * uC + pos[j]];
      }
      double p = oracle ? eps * p_uniform : p_uniform;
      if (oracle && std::equal(s, s + k, best)) p += 1.0 - eps;
      prop[r] = p;
    }
  };
}

/// epsilon_softmax (see policies.hpp).
Policy epsilon_softmax(Environment& env, const OnlineSpec& o, std::uint64_t seed, const std::string& env_name) {
  auto rng = std::make_shared<Rng>(seed);
  auto buf = std::make_shared<Scratch>();
  const int C = env.num_candidates(), k = env.slate_size();
  const double p_uniform = 1.0 / ordered_slates(C, k);
  const double eps = o.logging_epsilon, temperature = o.logging_temperature;
  return [&env, rng, buf, env_name, C, k, p_uniform, eps, temperature](
             std::span<const UserId> users, std::span<const ItemId> cand,
             std::span<const int> sessions, std::span<ItemId> slates, std::span<double> prop) {
    const std::size_t uC = static_cast<std::size_t>(C), uk = static_cast<std::size_t>(k);
    const std::span<const double> all = oracle_scores(env, buf->scores, env_name);
    std::vector<double>& z = buf->z;
    std::vector<std::size_t>& pool = buf->pool;
    std::vector<std::size_t>& pos = buf->pos;
    std::vector<char>& taken = buf->taken;
    z.resize(uC);
    pos.resize(uk);
    for (std::size_t r = 0; r < users.size(); ++r) {
      const double* u = all.data() + static_cast<std::size_t>(sessions[r]) * uC;
      for (std::size_t j = 0; j < uC; ++j) z[j] = u[j] / temperature;
      if (rng->uniform() < eps) {
        uniform_positions(*rng, C, k, pool, pos.data());
      } else {
        plackett_luce_draw(z, k, *rng, taken, pos.data());
      }
      for (std::size_t j = 0; j < uk; ++j) slates[r * uk + j] = cand[r * uC + pos[j]];
      prop[r] = eps * p_uniform + (1.0 - eps) * std::exp(plackett_luce_log_probability(z, pos.data(), k, taken));
    }
  };
}

}  // namespace

double ordered_slates(int C, int k) {
  double n = 1;
  for (int j = 0; j < k; ++j) n *= C - j;
  return n;
}

Policy logging_policy(Environment& env, const OnlineSpec& o, std::uint64_t seed,
                      const std::string& env_name) {
  const std::uint64_t stream = derive_seed(seed, "logging_policy");
  if (o.logging_policy == "epsilon_softmax") return epsilon_softmax(env, o, stream, env_name);
  return uniform_or_oracle(env, o, stream);
}

Policy model_policy(Recommender& model, int C, int k) {
  return [&model, C, k](std::span<const UserId> users, std::span<const ItemId> cand,
                        std::span<const int>, std::span<ItemId> slates, std::span<double>) {
    model.act(users, cand, C, k, slates);
  };
}

Policy oracle_policy(Environment& env) {
  auto buf = std::make_shared<std::vector<ItemId>>();
  return [&env, buf](std::span<const UserId> users, std::span<const ItemId>,
                     std::span<const int> sessions, std::span<ItemId> slates, std::span<double>) {
    const std::size_t k = static_cast<std::size_t>(env.slate_size());
    const auto all = oracle_slates(env, *buf);
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy_n(all.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(sessions[r]) * k), k,
                  slates.begin() + static_cast<std::ptrdiff_t>(r * k));
  };
}

}  // namespace recfuse
