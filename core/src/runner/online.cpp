#include "runner/online.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <omp.h>

#include "data/readers.hpp"
#include "data/train_data_builder.hpp"
#include "eval/ope.hpp"
#include "eval/stats.hpp"
#include "host/params_validation.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/slates.hpp"
#include "runner/episodes.hpp"
#include "runner/model_tree.hpp"
#include "runner/policies.hpp"
#include "runner/record_json.hpp"
#include "util/clock.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;
using record_json::finite_or_null;
using record_json::mean_ci;

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
/// vectors, averaged over the pairs of a slate. Each item's squared norm is
/// summed once, not once per pair it is in.
class Diversity {
 public:
  explicit Diversity(const AttributeMatrix& f) : f_(f.matrix), norm2_(static_cast<std::size_t>(std::max(0, f_.rows))) {
    for (std::int32_t i = 0; i < f_.rows; ++i) {
      double n2 = 0;
      for (const float v : f_.row_values(i)) n2 += v * v;
      norm2_[static_cast<std::size_t>(i)] = n2;
    }
  }
  bool available() const { return f_.rows > 0 && f_.nnz() > 0; }
  void add(const ItemId* s, int k) {
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) sum_ += 1.0 - cosine(s[a], s[b]), ++pairs_;
  }
  double value() const { return pairs_ ? sum_ / static_cast<double>(pairs_) : std::nan(""); }

 private:
  double cosine(ItemId a, ItemId b) const {
    if (a >= f_.rows || b >= f_.rows) return 0.0;
    double dot = 0;
    const double na = norm2_[static_cast<std::size_t>(a)], nb = norm2_[static_cast<std::size_t>(b)];
    const auto ra = f_.row(a), rb = f_.row(b);
    const auto va = f_.row_values(a), vb = f_.row_values(b);
    for (std::size_t x = 0, y = 0; x < ra.size() && y < rb.size();) {
      if (ra[x] == rb[y]) dot += va[x] * vb[y], ++x, ++y;
      else if (ra[x] < rb[y]) ++x;
      else ++y;
    }
    return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
  }
  const CsrMatrix& f_;
  std::vector<double> norm2_;  // per item: the squared norm of its feature vector
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

/// What the two protocols share once the model is fitted.
struct Deployment {
  const Scenario& scenario;
  const TrialSpec& trial;
  Environment& env;
  Recommender& model;
  const std::string& who;       // the plugin, for errors about its slates
  const std::string& env_name;  // the environment plugin
  const Log& train_log;
  int C, k;
};

/// What the record's "environment" holds before the world exists: the
/// plugin, its library and version, and the validated parameters.
json environment_settings(const Scenario& scenario, const CheckedEnvironment& checked) {
  const EnvironmentHandle& eh = checked.handle;
  return {{"plugin", scenario.environment.plugin},
          {"library", eh.plugin->descriptor->name},
          {"version", eh.plugin->descriptor->version},
          {"params", params_json(checked.params)}};
}

/// What the record's "logs" holds before they are collected: the logging
/// policy and its settings.
json log_settings(const OnlineSpec& o) {
  json logs = {{"policy", o.logging_policy}, {"episodes", o.log_episodes}, {"batch", o.batch}};
  if (o.logging_reads_epsilon()) logs["epsilon"] = o.logging_epsilon;
  if (o.logging_reads_temperature()) logs["temperature"] = o.logging_temperature;
  return logs;
}

/// Builds the environment's world (from the scenario's dataset when it has
/// one, which `view` then holds for the trial) and records it.
void build_world(const Scenario& scenario, const TrialSpec& trial, const TrialOptions& options,
                 const CheckedEnvironment& checked, Environment& env, TrainData& view, json& rec,
                 json& timing) {
  const double t0 = wall_seconds();
  WorldContext world;
  world.seed = derive_seed(trial.seed, "world");
  world.threads = options.threads;
  if (scenario.has_dataset) {
    Dataset data = load_dataset(scenario.dataset, options.cache_dir);
    apply_filters(data, scenario.filter);
    Split all;
    all.train = data.interactions;
    all.label = "all";
    view = build_train_data(data, all);
    world.data = &view;
    rec["dataset"] = {{"name", data.name}, {"sha256", data.sha256}, {"users", data.n_users()},
                      {"items", data.n_items()}, {"interactions", data.interactions.size()}};
  }
  env.build(world);
  timing["world_s"] = wall_seconds() - t0;
  json env_json = environment_settings(scenario, checked);
  env_json["users"] = env.n_users();
  env_json["items"] = env.n_items();
  env_json["slate_size"] = env.slate_size();
  env_json["candidates"] = env.num_candidates();
  env_json["max_steps"] = env.max_steps();
  for (const auto& [name, value] : env.diagnostics()) env_json[name] = finite_or_null(value);
  rec["environment"] = std::move(env_json);
}

/// Online: the fitted model acts for `episodes` episodes (observing each
/// step when it learns online); return, CTR, session length, engagement,
/// coverage, diversity, regret against the myopic oracle on the same
/// episodes, the learning curve and the act latency.
void deploy_online(const Deployment& d, bool observes, json& metrics, json& per_episode, json& rec,
                   json& timing) {
  const double t0 = wall_seconds();
  const OnlineSpec& o = d.scenario.online;
  const std::uint64_t seed = d.trial.seed;
  const int k = d.k;
  Recommender& model = d.model;
  std::vector<double> act_ms;
  std::vector<std::uint8_t> shown(static_cast<std::size_t>(d.env.n_items()), 0);  // per item: ever in a slate
  std::int64_t n_shown = 0;
  Diversity diversity(d.env.item_features());
  const Policy act = model_policy(model, d.C, k);
  const Policy timed = [&](std::span<const UserId> u, std::span<const ItemId> c,
                           std::span<const int> rows, std::span<ItemId> s, std::span<double> p) {
    const double a = wall_seconds();
    act(u, c, rows, s, p);
    act_ms.push_back((wall_seconds() - a) * 1e3 / static_cast<double>(u.size()));
  };
  const StepSink learn = [&](const StepView& v) {
    for (const ItemId i : v.slates) {
      if (i < 0 || static_cast<std::size_t>(i) >= shown.size())
        throw Error("environment '" + d.env_name + "' offered item " + std::to_string(i) + " outside [0, " +
                    std::to_string(shown.size()) + ")");
      std::uint8_t& seen = shown[static_cast<std::size_t>(i)];
      n_shown += !seen;
      seen = 1;
    }
    for (std::size_t r = 0; r < v.users.size(); ++r)
      diversity.add(v.slates.data() + r * static_cast<std::size_t>(k), k);
    if (observes) model.observe({v.users, k, v.slates, v.choice, v.reward, v.done});
  };
  const std::uint64_t episodes_seed = derive_seed(seed, "deploy");
  const Episodes ep = run_episodes(d.env, o, o.episodes, episodes_seed, timed, learn, d.who);
  timing["deploy_wall_s"] = wall_seconds() - t0;
  std::vector<double> ctr(ep.ret.size());
  for (std::size_t e = 0; e < ctr.size(); ++e) ctr[e] = ep.steps[e] > 0 ? ep.clicks[e] / ep.steps[e] : 0.0;
  metrics["return"] = interval_of(ep.ret, d.scenario, seed);
  metrics["ctr"] = interval_of(ctr, d.scenario, seed);
  metrics["session_length"] = interval_of(ep.steps, d.scenario, seed);
  metrics["engagement"] = interval_of(ep.engagement, d.scenario, seed);
  metrics["coverage"] = {{"mean", static_cast<double>(n_shown) / d.env.n_items()}};
  if (diversity.available()) metrics["diversity"] = {{"mean", finite_or_null(diversity.value())}};
  per_episode["return"] = ep.ret;
  per_episode["ctr"] = ctr;
  // The same episodes under the myopic oracle: regret per episode.
  std::vector<ItemId> probe(static_cast<std::size_t>(k));
  d.env.reset(derive_seed(episodes_seed, "probe"), 1);
  if (d.env.oracle_slates(probe)) {
    const Episodes best = run_episodes(d.env, o, o.episodes, episodes_seed, oracle_policy(d.env), {},
                                       "the oracle of environment '" + d.env_name + "'");
    std::vector<double> regret(ep.ret.size());
    for (std::size_t e = 0; e < regret.size(); ++e) regret[e] = best.ret[e] - ep.ret[e];
    metrics["regret"] = interval_of(regret, d.scenario, seed);
    metrics["oracle_return"] = interval_of(best.ret, d.scenario, seed);
    per_episode["regret"] = regret;
  }
  rec["learning_curve"] = {{"window", o.window}, {"return", learning_curve(ep.ret, o.window)}};
  std::sort(act_ms.begin(), act_ms.end());
  auto q = [&](double p) {
    return act_ms.empty() ? std::nan("")
                          : act_ms[static_cast<std::size_t>(p * static_cast<double>(act_ms.size() - 1))];
  };
  timing["latency_ms"] = {{"p50", finite_or_null(q(0.5))}, {"p99", finite_or_null(q(0.99))},
                          {"max", finite_or_null(q(1.0))}, {"n", act_ms.size()},
                          {"unit", "act per session, batched"}};
}

/// Off-policy: IPS, SNIPS and DR estimates of the frozen policy's value from
/// a fresh log, next to the value the same policy earns on-policy.
//
// The estimand is the expected reward of the policy's first slate of a
// session. Both shipped worlds carry state from step to step (interest,
// budget, fatigue, leaving), so a later logged step stands in a state the
// logging policy led to, not one the policy would reach: weighting it
// estimates another value than the policy earns on-policy. A first step
// starts from the environment's reset on both sides, so the estimates and
// the truth below are of one quantity.
void estimate_off_policy(const Deployment& d, bool has_propensity, json& metrics, json& per_episode,
                         json& rec, json& timing) {
  const double t0 = wall_seconds();
  const OnlineSpec& o = d.scenario.online;
  const std::uint64_t seed = d.trial.seed;
  const int C = d.C, k = d.k;
  Recommender& model = d.model;
  // A fresh log the estimators read; the frozen policy's slate (or its
  // propensity of the logged slate) gives each logged step its weight.
  Log log;
  log.C = C, log.k = k;
  run_episodes(d.env, o, o.ope_episodes, derive_seed(seed, "ope_log"),
               logging_policy(d.env, o, derive_seed(seed, "ope_log"), d.env_name), append_to(log),
               "the logging policy of environment '" + d.env_name + "'", 1);  // first steps only
  const RewardModel dm = fit_reward_model(d.train_log, d.env.n_items());
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
  const Episodes truth = run_episodes(d.env, o, o.episodes, derive_seed(seed, "truth"),
                                      model_policy(model, C, k), {}, d.who);
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
  metrics["frozen_return"] = interval_of(truth.ret, d.scenario, seed);
  per_episode["frozen_return"] = truth.ret;
}

void run_simulated_trial(const Scenario& scenario, const TrialSpec& trial,
                         const TrialOptions& options, ProgressSink* progress,
                         const PluginRegistry& registry, json& rec, json& timing) {
  const OnlineSpec& o = scenario.online;
  const AlgorithmHandle handle = check_trial_algorithm(scenario, trial, registry, rec);

  // The environment, with its parameters validated like an algorithm's.
  const EnvironmentSpec& es = scenario.environment;
  const CheckedEnvironment checked = check_environment(es, registry);
  EnvironmentPtr env = create_environment(checked.handle, checked.params);
  // A saved model (--load-models) that cannot match fails here, before the
  // world's build and the logging episodes.
  precheck_loadable_model(scenario, trial, registry, options,
                          {{"environment", environment_settings(scenario, checked)}, {"logs", log_settings(o)}});
  TrainData dataset_view;  // the world may read it until the trial ends
  build_world(scenario, trial, options, checked, *env, dataset_view, rec, timing);
  const int C = env->num_candidates(), k = env->slate_size();
  if (C < k || k < 1) throw Error("environment '" + es.plugin + "' offers fewer candidates than its slate size");

  // Logs from the logging policy; learners are fitted on them.
  double t0 = wall_seconds();
  Log train_log;
  train_log.C = C, train_log.k = k;
  const Episodes logged = run_episodes(*env, o, o.log_episodes, derive_seed(trial.seed, "log"),
                                       logging_policy(*env, o, derive_seed(trial.seed, "log"), es.plugin),
                                       append_to(train_log), "the logging policy of environment '" + es.plugin + "'");
  const TrainData train = train_data_from_log(train_log, *env);
  timing["log_s"] = wall_seconds() - t0;
  // With the environment (build_world), what a model fitted on the logs
  // depends on: a saved one is matched by these (saved_models.hpp).
  rec["logs"] = log_settings(o);
  rec["logs"]["steps"] = train_log.rows();
  rec["logs"]["clicks"] = train.by_user.nnz();
  rec["logs"]["mean_return"] =
      std::accumulate(logged.ret.begin(), logged.ret.end(), 0.0) / std::max<std::size_t>(1, logged.ret.size());
  if (options.saves_or_loads_models())
    rec["logs"]["fit_sha256"] = log_fit_fingerprint(train_log, *env);

  // Read (--load-models) or fitted, then saved (--save-models) before the
  // deployment changes it.
  FittedModel fitted = load_or_fit_trial_model(scenario, trial, registry, train, options, progress, rec, timing);
  const std::string who = "plugin '" + trial.plugin + "' (" + handle.plugin->file.string() + ")";
  const Deployment d{scenario, trial, *env, *fitted.model, who, es.plugin, train_log, C, k};
  const std::uint32_t caps = handle.algorithm->capabilities;
  json metrics = json::object();
  json per_episode = json::object();
  if (trial.protocol == "online")
    deploy_online(d, (caps & kCapObserve) != 0, metrics, per_episode, rec, timing);
  else
    estimate_off_policy(d, (caps & kCapPropensity) != 0, metrics, per_episode, rec, timing);
  std::vector<std::int64_t> episode_ids;
  for (std::size_t e = 0; e < per_episode.begin()->size(); ++e) episode_ids.push_back(static_cast<std::int64_t>(e));
  per_episode["users"] = episode_ids;  // episodes pair across algorithms as users do offline
  rec["metrics"] = std::move(metrics);
  rec["per_user"] = std::move(per_episode);
  record_model(*fitted.model, rec);
}

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
  out.params = validate_params(out.handle.params(), es.params, es.locations,
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

}  // namespace recfuse
