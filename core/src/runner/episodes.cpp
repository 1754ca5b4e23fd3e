#include "runner/episodes.hpp"

#include <algorithm>

#include "data/train_data_builder.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/slates.hpp"
#include "util/sha256.hpp"

namespace recfuse {

Episodes run_episodes(Environment& env, const OnlineSpec& o, int episodes, std::uint64_t seed,
                      const Policy& policy, const StepSink& sink, const std::string& who, int max_steps) {
  const int C = env.num_candidates(), k = env.slate_size();
  const int horizon = max_steps > 0 ? std::min(max_steps, env.max_steps()) : env.max_steps();
  const std::size_t uC = static_cast<std::size_t>(C), uk = static_cast<std::size_t>(k);
  Episodes ep(episodes);
  StepOutcome out;
  std::vector<ItemId> slates, lcand, lslate;
  std::vector<UserId> lusers;
  std::vector<double> lprop;
  std::vector<std::int32_t> lchoice;
  std::vector<float> lreward, lengage;
  std::vector<std::uint8_t> ldone;
  std::vector<int> live;
  for (int first = 0, b = 0; first < episodes; first += o.batch, ++b) {
    const int n = std::min(o.batch, episodes - first);
    env.reset(derive_seed(seed, "episodes", static_cast<std::uint64_t>(b)), n);
    std::vector<std::uint8_t> done(static_cast<std::size_t>(n), 0);
    slates.assign(static_cast<std::size_t>(n) * uk, kNoItem);
    for (int t = 0; t < horizon; ++t) {
      live.clear();
      for (int r = 0; r < n; ++r)
        if (!done[static_cast<std::size_t>(r)]) live.push_back(r);
      if (live.empty()) break;
      const auto users = env.users();
      const auto cand = env.candidates();
      const std::size_t m = live.size();
      lusers.resize(m);
      lcand.resize(m * uC);
      lslate.assign(m * uk, kNoItem);
      lprop.assign(m, 1.0);
      for (std::size_t j = 0; j < m; ++j) {
        const std::size_t r = static_cast<std::size_t>(live[j]);
        lusers[j] = users[r];
        std::copy_n(cand.begin() + static_cast<std::ptrdiff_t>(r * uC), C,
                    lcand.begin() + static_cast<std::ptrdiff_t>(j * uC));
      }
      policy(lusers, lcand, live, lslate, lprop);
      for (int r = 0; r < n; ++r)  // finished sessions: any valid slate, ignored
        std::copy_n(cand.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * uC), k,
                    slates.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * uk));
      for (std::size_t j = 0; j < m; ++j)
        std::copy_n(lslate.begin() + static_cast<std::ptrdiff_t>(j * uk), k,
                    slates.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(live[j]) * uk));
      // The policy's slates, before the environment sees them, so that the
      // error names the plugin; session s of the batch is episode first + s.
      try {
        check_slates(who, slates, cand, n, C, k, done, done);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " (step " + std::to_string(t) + " of the batch of episodes " +
                    std::to_string(first) + ".." + std::to_string(first + n - 1) + "; session s is episode " +
                    std::to_string(first) + " + s)");
      }
      env.step(slates, out);
      lchoice.resize(m);
      lreward.resize(m);
      lengage.resize(m);
      ldone.resize(m);
      for (std::size_t j = 0; j < m; ++j) {
        const std::size_t r = static_cast<std::size_t>(live[j]);
        const std::size_t e = static_cast<std::size_t>(first) + r;
        if (out.choice[r] < -1 || out.choice[r] >= k)
          throw Error("the environment returned choice " + std::to_string(out.choice[r]) +
                      " outside a slate of " + std::to_string(k));
        lchoice[j] = out.choice[r];
        lreward[j] = out.reward[r];
        lengage[j] = out.engagement[r];
        ldone[j] = out.terminated[r] || out.truncated[r];
        done[r] = ldone[j];
        ep.ret[e] += out.reward[r];
        if (t == 0) ep.first[e] = out.reward[r];
        ep.steps[e] += 1;
        ep.clicks[e] += out.choice[r] >= 0;
        ep.engagement[e] += out.engagement[r];
      }
      if (sink) sink({lusers, lcand, lslate, lprop, lchoice, lreward, lengage, ldone});
    }
  }
  return ep;
}

StepSink append_to(Log& log) {
  return [&log](const StepView& v) {
    log.users.insert(log.users.end(), v.users.begin(), v.users.end());
    log.candidates.insert(log.candidates.end(), v.candidates.begin(), v.candidates.end());
    log.slates.insert(log.slates.end(), v.slates.begin(), v.slates.end());
    log.propensity.insert(log.propensity.end(), v.propensity.begin(), v.propensity.end());
    log.choice.insert(log.choice.end(), v.choice.begin(), v.choice.end());
    log.reward.insert(log.reward.end(), v.reward.begin(), v.reward.end());
    log.step_start.push_back(log.users.size());
  };
}

namespace {

/// f(user, clicked item, row) for each click of `log`, in log order.
template <typename F>
void for_each_logged_click(const Log& log, F&& f) {
  for (std::size_t r = 0; r < log.rows(); ++r)
    if (log.choice[r] >= 0)
      f(log.users[r], log.slates[r * static_cast<std::size_t>(log.k) + static_cast<std::size_t>(log.choice[r])], r);
}

}  // namespace

TrainData train_data_from_log(const Log& log, const Environment& env) {
  Dataset d;
  d.name = "simulated logs";
  d.user_ids.resize(static_cast<std::size_t>(env.n_users()));
  d.item_ids.resize(static_cast<std::size_t>(env.n_items()));
  for (std::size_t u = 0; u < d.user_ids.size(); ++u) d.user_ids[u] = std::to_string(u);
  for (std::size_t i = 0; i < d.item_ids.size(); ++i) d.item_ids[i] = std::to_string(i);
  d.has_timestamps = true;
  d.item_features = env.item_features();
  Split split;
  split.label = "logged clicks";
  for_each_logged_click(log, [&](UserId u, ItemId item, std::size_t r) {
    split.train.push_back({u, item, 1.0f, static_cast<std::int64_t>(r)});
  });
  d.interactions = split.train;
  return build_train_data(d, split);
}

std::string log_fit_fingerprint(const Log& log, const Environment& env) {
  Sha256 h;
  const std::int64_t shape[] = {env.n_users(), env.n_items()};
  h.update(shape, sizeof shape);
  for_each_logged_click(log, [&](UserId u, ItemId item, std::size_t r) {
    const std::int64_t click[] = {u, item, static_cast<std::int64_t>(r)};
    h.update(click, sizeof click);
  });
  const AttributeMatrix& f = env.item_features();
  const std::int64_t fshape[] = {f.matrix.rows, f.matrix.cols, static_cast<std::int64_t>(f.matrix.nnz())};
  h.update(fshape, sizeof fshape);
  h.update(f.matrix.indptr.data(), f.matrix.indptr.size() * sizeof(std::int64_t));
  h.update(f.matrix.indices.data(), f.matrix.indices.size() * sizeof(std::int32_t));
  h.update(f.matrix.values.data(), f.matrix.values.size() * sizeof(float));
  for (const std::string& name : f.names) h.update(name), h.update("\n");
  return h.hex_digest().substr(0, 16);
}

RewardModel fit_reward_model(const Log& log, std::int32_t n_items) {
  std::vector<double> reward(static_cast<std::size_t>(n_items), 0.0), shown(reward.size(), 0.0);
  double total_reward = 0, total_shown = 0;
  for (std::size_t r = 0; r < log.rows(); ++r) {
    for (int j = 0; j < log.k; ++j) {
      const std::size_t item = static_cast<std::size_t>(log.slates[r * static_cast<std::size_t>(log.k) + static_cast<std::size_t>(j)]);
      shown[item] += 1;
      if (log.choice[r] == j) reward[item] += log.reward[r];
    }
    total_reward += log.reward[r];
    total_shown += log.k;
  }
  const double prior = total_shown > 0 ? total_reward / total_shown : 0.0;
  RewardModel m;
  m.per_item.resize(reward.size());
  for (std::size_t i = 0; i < reward.size(); ++i) m.per_item[i] = (reward[i] + prior) / (shown[i] + 1.0);
  return m;
}

}  // namespace recfuse
