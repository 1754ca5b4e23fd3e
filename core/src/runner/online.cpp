#include "runner/online.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <omp.h>
#include <unordered_set>

#include "data/readers.hpp"
#include "data/train_data_builder.hpp"
#include "eval/ope.hpp"
#include "eval/stats.hpp"
#include "host/params_validation.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/slates.hpp"
#include "runner/model_tree.hpp"
#include "runner/policies.hpp"
#include "runner/record_json.hpp"
#include "util/clock.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;
using record_json::finite_or_null;
using record_json::mean_ci;

/// One step of a batch, restricted to the sessions still running (rows).
struct StepView {
  std::span<const UserId> users;        // rows
  std::span<const ItemId> candidates;   // rows x C
  std::span<const ItemId> slates;       // rows x k
  std::span<const double> propensity;   // rows; empty when the policy gives none
  std::span<const std::int32_t> choice;
  std::span<const float> reward;
  std::span<const float> engagement;
  std::span<const std::uint8_t> done;
};

using StepSink = std::function<void(const StepView&)>;

struct Episodes {
  std::vector<double> ret, steps, clicks, engagement;
  std::vector<double> first;  // reward of the session's first step
  explicit Episodes(int n)
      : ret(n, 0.0), steps(n, 0.0), clicks(n, 0.0), engagement(n, 0.0), first(n, 0.0) {}
};

/// Runs `episodes` episodes in batches; every step of every live session
/// goes through `policy`, then `sink` (may be empty). With `max_steps` > 0
/// each batch stops after that many steps (its sessions cut short).
Episodes run_episodes(Environment& env, const OnlineSpec& o, int episodes, std::uint64_t seed,
                      const Policy& policy, const StepSink& sink, const std::string& who, int max_steps = 0) {
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

/// A log of logged steps (the rows of every StepView), flat.
struct Log {
  int C = 0, k = 0;
  std::vector<UserId> users;
  std::vector<ItemId> candidates, slates;
  std::vector<double> propensity;
  std::vector<std::int32_t> choice;
  std::vector<float> reward;
  std::vector<std::size_t> step_start{0};  // rows of step s: [step_start[s], step_start[s+1])
  std::size_t rows() const { return users.size(); }
};

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

/// What learners see of the logs: one interaction per clicked (user, item)
/// (value 1, time = log order; repeated clicks merge), and the
/// environment's item features.
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
  for (std::size_t r = 0; r < log.rows(); ++r) {
    if (log.choice[r] < 0) continue;
    const ItemId item = log.slates[r * static_cast<std::size_t>(log.k) + static_cast<std::size_t>(log.choice[r])];
    split.train.push_back({log.users[r], item, 1.0f, static_cast<std::int64_t>(r)});
  }
  d.interactions = split.train;
  return build_train_data(d, split);
}

/// Direct-method reward model for the doubly robust estimator: each item's
/// reward per impression in the training log, shrunk toward the mean with
/// one pseudo-impression; a slate's value is the sum over its items.
struct RewardModel {
  std::vector<double> per_item;
  double slate_value(const ItemId* s, int k) const {
    double v = 0;
    for (int j = 0; j < k; ++j) v += per_item[static_cast<std::size_t>(s[j])];
    return v;
  }
};

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

/// Mean of each window of `w` consecutive episodes.
std::vector<double> learning_curve(const std::vector<double>& ret, int w) {
  std::vector<double> out;
  for (std::size_t a = 0; a < ret.size(); a += static_cast<std::size_t>(w)) {
    const std::size_t b = std::min(ret.size(), a + static_cast<std::size_t>(w));
    out.push_back(std::accumulate(ret.begin() + static_cast<std::ptrdiff_t>(a),
                                  ret.begin() + static_cast<std::ptrdiff_t>(b), 0.0) /
                  static_cast<double>(b - a));
  }
  return out;
}

/// Intra-slate diversity: 1 - cosine similarity of the items' feature
/// vectors, averaged over the pairs of a slate.
class Diversity {
 public:
  explicit Diversity(const AttributeMatrix& f) : f_(f.matrix) {}
  bool available() const { return f_.rows > 0 && f_.nnz() > 0; }
  void add(const ItemId* s, int k) {
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) sum_ += 1.0 - cosine(s[a], s[b]), ++pairs_;
  }
  double value() const { return pairs_ ? sum_ / static_cast<double>(pairs_) : std::nan(""); }

 private:
  double cosine(ItemId a, ItemId b) const {
    if (a >= f_.rows || b >= f_.rows) return 0.0;
    double dot = 0, na = 0, nb = 0;
    const auto ra = f_.row(a), rb = f_.row(b);
    const auto va = f_.row_values(a), vb = f_.row_values(b);
    for (std::size_t x = 0; x < ra.size(); ++x) na += va[x] * va[x];
    for (std::size_t y = 0; y < rb.size(); ++y) nb += vb[y] * vb[y];
    for (std::size_t x = 0, y = 0; x < ra.size() && y < rb.size();) {
      if (ra[x] == rb[y]) dot += va[x] * vb[y], ++x, ++y;
      else if (ra[x] < rb[y]) ++x;
      else ++y;
    }
    return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
  }
  const CsrMatrix& f_;
  double sum_ = 0;
  std::int64_t pairs_ = 0;
};

json interval_of(const std::vector<double>& v, const Scenario& sc, std::uint64_t seed) {
  return record_json::interval(mean_ci(v, sc.evaluation.bootstrap, derive_seed(seed, "bootstrap")));
}

json estimate_json(const OpeEstimate& e, double truth) {
  return {{"mean", finite_or_null(e.value)},
          {"low", finite_or_null(e.low)},
          {"high", finite_or_null(e.high)},
          {"se", finite_or_null(e.std_error)},
          {"ci", "normal"},  // value ± 1.96 SE (eval/ope.hpp)
          {"error", finite_or_null(e.value - truth)}};
}

}  // namespace

namespace {
void run_simulated_trial(const Scenario& scenario, const TrialSpec& trial,
                         const TrialOptions& options, ProgressSink* progress,
                         const PluginRegistry& registry, json& rec, json& timing);
}  // namespace

CheckedEnvironment check_environment(const EnvironmentSpec& es, const PluginRegistry& registry) {
  CheckedEnvironment out;
  try {
    out.handle = registry.find_environment(es.plugin);
  } catch (const Error& e) {
    const auto it = es.locations.find("plugin");
    throw Error((it != es.locations.end() ? it->second + ": " : std::string()) + "[environment] " +
                e.what());
  }
  out.params = validate_params(out.handle.environment->params(), es.params, es.locations,
                               es.location, "environment");
  return out;
}

void execute_simulated_trial(const Scenario& scenario, const TrialSpec& trial,
                             const TrialOptions& options, ProgressSink* progress, json& rec,
                             json& timing) {
  // The libraries stay loaded until the message of anything a plugin threw
  // (whose code may live in the library) has been copied into a host Error.
  PluginRegistry registry;
  registry.scan(options.plugin_dirs);
  try {
    run_simulated_trial(scenario, trial, options, progress, registry, rec, timing);
  } catch (const std::exception& e) {
    throw Error(std::string(e.what()));
  }
}

namespace {

void run_simulated_trial(const Scenario& scenario, const TrialSpec& trial,
                         const TrialOptions& options, ProgressSink* progress,
                         const PluginRegistry& registry, json& rec, json& timing) {
  const OnlineSpec& o = scenario.online;
  const AlgorithmHandle handle = check_trial_algorithm(scenario, trial, registry, rec);

  // The environment, with its parameters validated like an algorithm's.
  const EnvironmentSpec& es = scenario.environment;
  const CheckedEnvironment checked = check_environment(es, registry);
  const EnvironmentHandle& eh = checked.handle;
  const ParamSet& env_params = checked.params;
  EnvironmentPtr env = create_environment(eh, env_params);

  double t0 = wall_seconds();
  WorldContext world;
  world.seed = derive_seed(trial.seed, "world");
  world.threads = options.threads;
  TrainData dataset_view;
  if (scenario.has_dataset) {
    Dataset data = load_dataset(scenario.dataset, options.cache_dir);
    apply_filters(data, scenario.filter);
    Split all;
    all.train = data.interactions;
    all.label = "all";
    dataset_view = build_train_data(data, all);
    world.data = &dataset_view;
    rec["dataset"] = {{"name", data.name}, {"sha256", data.sha256}, {"users", data.n_users()},
                      {"items", data.n_items()}, {"interactions", data.interactions.size()}};
  }
  env->build(world);
  timing["world_s"] = wall_seconds() - t0;
  json env_json = {{"plugin", es.plugin},
                   {"library", eh.plugin->descriptor->name},
                   {"version", eh.plugin->descriptor->version},
                   {"users", env->n_users()},
                   {"items", env->n_items()},
                   {"slate_size", env->slate_size()},
                   {"candidates", env->num_candidates()},
                   {"max_steps", env->max_steps()}};
  env_json["params"] = params_json(env_params);
  for (const auto& [name, value] : env->diagnostics()) env_json[name] = finite_or_null(value);
  rec["environment"] = std::move(env_json);
  const int C = env->num_candidates(), k = env->slate_size();
  if (C < k || k < 1) throw Error("environment '" + es.plugin + "' offers fewer candidates than its slate size");

  // Logs from the logging policy; learners are fitted on them.
  t0 = wall_seconds();
  Log train_log;
  train_log.C = C, train_log.k = k;
  const Episodes logged = run_episodes(*env, o, o.log_episodes, derive_seed(trial.seed, "log"),
                                       logging_policy(*env, o, derive_seed(trial.seed, "log"), es.plugin),
                                       append_to(train_log), "the logging policy of environment '" + es.plugin + "'");
  const TrainData train = train_data_from_log(train_log, *env);
  timing["log_s"] = wall_seconds() - t0;
  rec["logs"] = {{"policy", o.logging_policy},
                 {"episodes", o.log_episodes},
                 {"steps", train_log.rows()},
                 {"clicks", train.by_user.nnz()},
                 {"mean_return", std::accumulate(logged.ret.begin(), logged.ret.end(), 0.0) /
                                     std::max<std::size_t>(1, logged.ret.size())}};

  FittedModel fitted =
      fit_trial_model(scenario, trial, registry, train, options, progress, rec, timing);
  Recommender& model = *fitted.model;
  const std::string who = "plugin '" + trial.plugin + "' (" + handle.plugin->file.string() + ")";
  const bool observes = (handle.algorithm->capabilities & kCapObserve) != 0;
  const bool has_propensity = (handle.algorithm->capabilities & kCapPropensity) != 0;

  json metrics = json::object();
  json per_episode = json::object();
  std::vector<std::int64_t> episode_ids;
  t0 = wall_seconds();
  if (trial.protocol == "online") {
    std::vector<double> act_ms;
    std::unordered_set<ItemId> shown;
    Diversity diversity(env->item_features());
    const Policy act = model_policy(model, C, k);
    const Policy timed = [&](std::span<const UserId> u, std::span<const ItemId> c,
                             std::span<const int> rows, std::span<ItemId> s, std::span<double> p) {
      const double a = wall_seconds();
      act(u, c, rows, s, p);
      act_ms.push_back((wall_seconds() - a) * 1e3 / static_cast<double>(u.size()));
    };
    const StepSink learn = [&](const StepView& v) {
      shown.insert(v.slates.begin(), v.slates.end());
      for (std::size_t r = 0; r < v.users.size(); ++r)
        diversity.add(v.slates.data() + r * static_cast<std::size_t>(k), k);
      if (observes) model.observe({v.users, k, v.slates, v.choice, v.reward, v.done});
    };
    const std::uint64_t episodes_seed = derive_seed(trial.seed, "deploy");
    const Episodes ep = run_episodes(*env, o, o.episodes, episodes_seed, timed, learn, who);
    timing["deploy_wall_s"] = wall_seconds() - t0;
    std::vector<double> ctr(ep.ret.size());
    for (std::size_t e = 0; e < ctr.size(); ++e) ctr[e] = ep.steps[e] > 0 ? ep.clicks[e] / ep.steps[e] : 0.0;
    metrics["return"] = interval_of(ep.ret, scenario, trial.seed);
    metrics["ctr"] = interval_of(ctr, scenario, trial.seed);
    metrics["session_length"] = interval_of(ep.steps, scenario, trial.seed);
    metrics["engagement"] = interval_of(ep.engagement, scenario, trial.seed);
    metrics["coverage"] = {{"mean", static_cast<double>(shown.size()) / env->n_items()}};
    if (diversity.available()) metrics["diversity"] = {{"mean", finite_or_null(diversity.value())}};
    per_episode["return"] = ep.ret;
    per_episode["ctr"] = ctr;
    // The same episodes under the myopic oracle: regret per episode.
    std::vector<ItemId> probe(static_cast<std::size_t>(k));
    env->reset(derive_seed(episodes_seed, "probe"), 1);
    if (env->oracle_slates(probe)) {
      const Episodes best = run_episodes(*env, o, o.episodes, episodes_seed, oracle_policy(*env), {},
                                         "the oracle of environment '" + es.plugin + "'");
      std::vector<double> regret(ep.ret.size());
      for (std::size_t e = 0; e < regret.size(); ++e) regret[e] = best.ret[e] - ep.ret[e];
      metrics["regret"] = interval_of(regret, scenario, trial.seed);
      metrics["oracle_return"] = interval_of(best.ret, scenario, trial.seed);
      per_episode["regret"] = regret;
    }
    rec["learning_curve"] = {{"window", o.window}, {"return", learning_curve(ep.ret, o.window)}};
    std::vector<double> sorted = act_ms;
    std::sort(sorted.begin(), sorted.end());
    auto q = [&](double p) {
      return sorted.empty() ? std::nan("")
                            : sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
    };
    timing["latency_ms"] = {{"p50", finite_or_null(q(0.5))}, {"p99", finite_or_null(q(0.99))},
                            {"max", finite_or_null(q(1.0))}, {"n", sorted.size()},
                            {"unit", "act per session, batched"}};
  } else {
    // A fresh log the estimators read; the frozen policy's slate (or its
    // propensity of the logged slate) gives each logged step its weight.
    // The estimand is the expected reward of the policy's first slate of a
    // session. Both shipped worlds carry state from step to step (interest,
    // budget, fatigue, leaving), so a later logged step stands in a state the
    // logging policy led to, not one the policy would reach: weighting it
    // estimates another value than the policy earns on-policy. A first step
    // starts from the environment's reset on both sides, so the estimates
    // and the truth below are of one quantity.
    Log log;
    log.C = C, log.k = k;
    run_episodes(*env, o, o.ope_episodes, derive_seed(trial.seed, "ope_log"),
                 logging_policy(*env, o, derive_seed(trial.seed, "ope_log"), es.plugin), append_to(log),
                 "the logging policy of environment '" + es.plugin + "'", 1);  // first steps only
    const RewardModel dm = fit_reward_model(train_log, env->n_items());
    const std::size_t uk = static_cast<std::size_t>(k), uC = static_cast<std::size_t>(C);
    std::vector<double> r, q_logged, v_target, target_p, logging_p, p;
    std::vector<ItemId> mine;
    for (std::size_t s = 0; s + 1 < log.step_start.size(); ++s) {  // one act call per batch's first step
      const std::size_t a = log.step_start[s], m = log.step_start[s + 1] - a;
      const auto rows = [&](const auto& v, std::size_t width) { return std::span(v.data() + a * width, m * width); };
      mine.resize(m * uk);
      p.assign(m, 0.0);
      model.act(rows(log.users, 1), rows(log.candidates, uC), C, k, mine);
      if (has_propensity) model.propensity(rows(log.users, 1), rows(log.candidates, uC), C, k, rows(log.slates, uk), p);
      for (std::size_t j = 0; j < m; ++j) {
        const ItemId* logged_slate = log.slates.data() + (a + j) * uk;
        const ItemId* own = mine.data() + j * uk;
        target_p.push_back(has_propensity ? p[j] : std::equal(own, own + k, logged_slate) ? 1.0 : 0.0);
        logging_p.push_back(log.propensity[a + j]);
        r.push_back(log.reward[a + j]);
        q_logged.push_back(dm.slate_value(logged_slate, k));
        v_target.push_back(dm.slate_value(own, k));
      }
    }
    // The truth: the same frozen policy on-policy, the reward of its first
    // slate of each session.
    const Episodes truth = run_episodes(*env, o, o.episodes, derive_seed(trial.seed, "truth"),
                                        model_policy(model, C, k), {}, who);
    timing["ope_wall_s"] = wall_seconds() - t0;
    const double value = std::accumulate(truth.first.begin(), truth.first.end(), 0.0) /
                         static_cast<double>(std::max<std::size_t>(1, truth.first.size()));
    const std::vector<double> w = importance_weights(target_p, logging_p);
    const double cap = o.weight_cap > 0 ? o.weight_cap : kNoClip;
    const OpeEstimate est_ips = ips(w, r, cap);
    metrics["true_value"] = {{"mean", value}, {"n", truth.first.size()}};
    metrics["ips"] = estimate_json(est_ips, value);
    metrics["snips"] = estimate_json(snips(w, r, cap), value);
    metrics["dr"] = estimate_json(doubly_robust(w, r, q_logged, v_target, cap), value);
    metrics["ess"] = {{"mean", est_ips.ess}};
    std::int64_t matched = 0;
    for (double x : w) matched += x > 0;
    rec["off_policy"] = {{"estimand", "reward of the first slate of a session"},
                         {"first_steps", r.size()},
                         {"steps_with_weight", matched},
                         {"overlap", matched > 0},
                         {"clipped", est_ips.clipped},
                         {"propensity", has_propensity ? "policy" : "deterministic act"},
                         {"weight_cap", o.weight_cap}};
    metrics["frozen_return"] = interval_of(truth.ret, scenario, trial.seed);
    per_episode["frozen_return"] = truth.ret;
  }
  for (std::size_t e = 0; e < per_episode.begin()->size(); ++e) episode_ids.push_back(static_cast<std::int64_t>(e));
  per_episode["users"] = episode_ids;  // episodes pair across algorithms as users do offline
  rec["metrics"] = std::move(metrics);
  rec["per_user"] = std::move(per_episode);
  record_model(model, rec);
}

}  // namespace

}  // namespace recfuse
