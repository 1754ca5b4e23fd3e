// The environment contract (recfuse/environment.hpp), checked over every
// environment of every library in the built plugin directory with its
// declared defaults; then interest_evolution against RecSim's rules
// (google-research/recsim, recsim/environments/interest_evolution.py and
// recsim/choice_model.py), worked by hand and on its own trajectories (against
// the Python reference tools/reference/interest_evolution_ref.py:
// test_ie_reference.cpp).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <set>

#include "environment_support.hpp"
#include "environments/interest_evolution/interest_evolution.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

constexpr int kSessions = 64;

/// Every rule of the contract that one recorded run can show.
void check_trace(const Environment& env, const Trace& t, int n) {
  const auto n_s = static_cast<std::size_t>(n);
  const auto m = static_cast<std::size_t>(env.num_candidates());
  REQUIRE(t.users.size() == n_s);
  for (UserId u : t.users) CHECK((u >= 0 && u < env.n_users()));
  REQUIRE(t.steps >= 1);
  REQUIRE(t.steps <= env.max_steps());
  for (std::size_t row = 0; row * m < t.candidates.size(); ++row) {
    std::set<ItemId> distinct;
    for (std::size_t j = 0; j < m; ++j) {
      const ItemId c = t.candidates[row * m + j];
      CHECK((c >= 0 && c < env.n_items()));
      distinct.insert(c);
    }
    CHECK(distinct.size() == m);
  }
  for (std::size_t s = 0; s < n_s; ++s) {
    int ended_at = -1;
    for (int step = 0; step < t.steps; ++step) {
      const std::size_t i = static_cast<std::size_t>(step) * n_s + s;
      CHECK((t.choice[i] >= -1 && t.choice[i] < env.slate_size()));
      if (t.choice[i] == -1) CHECK(t.engagement[i] == 0.0f);
      if (ended_at >= 0) {  // sticky, and nothing happens any more
        const std::size_t e = static_cast<std::size_t>(ended_at) * n_s + s;
        CHECK(t.terminated[i] == t.terminated[e]);
        CHECK(t.truncated[i] == t.truncated[e]);
        CHECK(t.reward[i] == 0.0f);
        CHECK(t.engagement[i] == 0.0f);
        CHECK(t.choice[i] == -1);
      } else if (t.terminated[i] || t.truncated[i]) {
        ended_at = step;
      }
    }
    CHECK(ended_at >= 0);  // within max_steps
  }
}

}  // namespace

TEST_CASE("every environment plugin keeps the environment contract", "[environment]") {
  const std::vector<EnvironmentHandle> envs = plugin_registry().environments();
  REQUIRE_FALSE(envs.empty());
  for (const EnvironmentHandle& e : envs) {
    INFO("environment " << e.name());
    EnvironmentPtr env = built_environment(e, 11);
    CHECK(env->n_users() > 0);
    CHECK(env->n_items() > 0);
    CHECK(env->slate_size() >= 1);
    CHECK(env->slate_size() <= env->num_candidates());
    CHECK(env->num_candidates() <= env->n_items());
    CHECK(env->max_steps() >= 1);
    CHECK(env->item_features().matrix.rows == env->n_items());

    const Trace a = run_sessions(*env, 5, kSessions, 3);
    check_trace(*env, a, kSessions);
    EnvironmentPtr twin = built_environment(e, 11);
    CHECK(run_sessions(*twin, 5, kSessions, 3) == a);       // same seeds, same episode
    CHECK(run_sessions(*env, 5, kSessions, 3) == a);        // reset starts afresh
    CHECK_FALSE(run_sessions(*env, 6, kSessions, 3) == a);  // another reset seed

    env->reset(9, kSessions);
    std::vector<ItemId> oracle(static_cast<std::size_t>(kSessions * env->slate_size()));
    if (env->oracle_slates(oracle)) {
      const auto k = static_cast<std::size_t>(env->slate_size());
      const auto m = static_cast<std::size_t>(env->num_candidates());
      for (std::size_t s = 0; s < static_cast<std::size_t>(kSessions); ++s) {
        const std::span<const ItemId> row = env->candidates().subspan(s * m, m);
        std::set<ItemId> shown;
        for (std::size_t j = 0; j < k; ++j) {
          CHECK(std::find(row.begin(), row.end(), oracle[s * k + j]) != row.end());
          shown.insert(oracle[s * k + j]);
        }
        CHECK(shown.size() == k);
      }
      // oracle_scores, when given, is what oracle_slates ranks by: its slate
      // holds the k highest scores, the highest first.
      std::vector<double> scores(static_cast<std::size_t>(kSessions) * m);
      if (env->oracle_scores(scores)) {
        for (std::size_t s = 0; s < static_cast<std::size_t>(kSessions); ++s) {
          const std::span<const ItemId> row = env->candidates().subspan(s * m, m);
          const auto score_of = [&](ItemId i) {
            return scores[s * m + static_cast<std::size_t>(std::find(row.begin(), row.end(), i) - row.begin())];
          };
          std::vector<double> sorted(scores.begin() + static_cast<std::ptrdiff_t>(s * m),
                                     scores.begin() + static_cast<std::ptrdiff_t>((s + 1) * m));
          std::sort(sorted.rbegin(), sorted.rend());
          for (std::size_t j = 0; j < k; ++j) {
            INFO("session " << s << ", slate position " << j);
            CHECK(std::isfinite(score_of(oracle[s * k + j])));
            CHECK(score_of(oracle[s * k + j]) == sorted[j]);  // the j-th highest, in order
          }
        }
        int varied = 0;  // the scores do tell a session's candidates apart
        for (std::size_t s = 0; s < static_cast<std::size_t>(kSessions); ++s)
          varied += std::set<double>(scores.begin() + static_cast<std::ptrdiff_t>(s * m),
                                     scores.begin() + static_cast<std::ptrdiff_t>((s + 1) * m)).size() > 1;
        CHECK(varied > kSessions / 2);
      }
      StepOutcome out;
      CHECK_NOTHROW(env->step(oracle, out));
    } else {
      std::vector<double> scores(static_cast<std::size_t>(kSessions * env->num_candidates()));
      CHECK_FALSE(env->oracle_scores(scores));  // scores without an oracle would be unchecked
    }
  }
}

// ---------------------------------------------------------------------------
// interest_evolution

using ie::IeConfig;
using ie::InterestEvolutionEnv;

TEST_CASE("interest_evolution declares RecSim's defaults", "[environment][interest_evolution]") {
  const ParamSet p = env_params(plugin_registry().find_environment("interest_evolution"));
  CHECK(p.get_int("num_topics") == 20);  // IEvVideo.NUM_FEATURES
  CHECK(p.get_int("num_candidates") == 10);
  CHECK(p.get_int("slate_size") == 2);
  CHECK(p.get_float("min_utility") == -3.0);  // UtilityModelVideoSampler
  CHECK(p.get_float("max_utility") == 3.0);
  CHECK(p.get_float("quality_sd") == 0.1);
  CHECK(p.get_float("video_length") == 4.0);
  CHECK(p.get_float("time_budget") == 200.0);  // UtilityModelUserSampler
  CHECK(p.get_float("step_penalty") == 0.5);
  CHECK(p.get_float("no_click_mass") == 1.0);
  CHECK(p.get_float("min_normalizer") == -1.0);
  CHECK(p.get_float("user_quality_factor") == 0.0);
  CHECK(p.get_float("document_quality_factor") == 1.0);
  CHECK(p.get_float("user_update_alpha") == Approx(0.9 / 3.4));
  CHECK(p.get_float("alpha_x_intercept") == 1.0);  // IEvUserModel
  CHECK(p.get_float("alpha_y_intercept") == 0.3);
  CHECK_THROWS_WITH(
      IeConfig::from(env_params(plugin_registry().find_environment("interest_evolution"),
                                {{"slate_size", std::int64_t{11}}})),
      Catch::Contains("slate_size (11) exceeds num_candidates (10)"));
}

TEST_CASE("interest_evolution rules, worked by hand", "[environment][interest_evolution]") {
  const IeConfig c;
  // cluster_means = concat(linspace(-3, 0, 14), linspace(0, 3, 6))
  const std::vector<double> means = ie::topic_quality_means(c);
  REQUIRE(means.size() == 20);
  CHECK(means[0] == -3.0);
  CHECK(means[1] == Approx(-3.0 + 3.0 / 13));
  CHECK(means[13] == 0.0);
  CHECK(means[14] == 0.0);
  CHECK(means[15] == Approx(0.6));
  CHECK(means[19] == 3.0);

  // Interests 0.2 and -0.6: scores 1.2 and 0.4, no click 2, total 3.6.
  const double scores[] = {ie::click_score(0.2, c), ie::click_score(-0.6, c)};
  const auto at = [&](int i) { return scores[i]; };
  CHECK(ie::no_click_score(c) == 2.0);
  CHECK(ie::choose_position(2, at, 2.0, 0.30) == 0);   // 1.08 < 1.2
  CHECK(ie::choose_position(2, at, 2.0, 0.34) == 1);   // 1.224 < 1.6
  CHECK(ie::choose_position(2, at, 2.0, 0.45) == -1);  // 1.62: no click, P = 2 / 3.6

  // alpha(0.4) = 0.3 - 0.3 * 0.4 = 0.18, update = 0.18 * 0.6 = 0.108, P(+) = 0.7.
  CHECK(ie::updated_interest(0.4, 0.69, c) == Approx(0.508));
  CHECK(ie::updated_interest(0.4, 0.71, c) == Approx(0.292));
  // alpha(-0.5) = 0.15, update = 0.15 * 1.5 = 0.225, P(+) = 0.25.
  CHECK(ie::updated_interest(-0.5, 0.2, c) == Approx(-0.275));
  CHECK(ie::updated_interest(-0.5, 0.3, c) == Approx(-0.725));
  CHECK(ie::updated_interest(1.0, 0.0, c) == 1.0);  // alpha(±1) = 0
  CHECK(ie::updated_interest(-1.0, 0.9, c) == -1.0);

  CHECK(ie::watch_time(200.0, c) == 4.0);
  CHECK(ie::watch_time(3.0, c) == 3.0);
  // 200 - 4 + (0.9 / 3.4) * 4 * (0 * 1.2 + 1 * 2.5)
  CHECK(ie::budget_after_click(200.0, 4.0, 1.2, 2.5, c) == Approx(196.0 + 0.9 / 3.4 * 10.0));
  // RecSim's interest_evolution_test: 0.5 - 0.3 + 1 * 0.3 * (0.3 * 2 + 0.7 * 3) = 1.01.
  IeConfig r = c;
  r.user_quality_factor = 0.3;
  r.document_quality_factor = 0.7;
  r.user_update_alpha = 1.0;
  CHECK(ie::budget_after_click(0.5, 0.3, 2.0, 3.0, r) == Approx(1.01));
}

TEST_CASE("interest_evolution samples RecSim's catalogue and users",
          "[environment][interest_evolution]") {
  const IeConfig c;
  const InterestEvolutionEnv env = built_ie(c);
  const std::vector<double> means = ie::topic_quality_means(c);
  std::vector<double> count(20), sum(20), sq(20);
  const CsrMatrix& f = env.item_features().matrix;
  REQUIRE(f.cols == 20);
  REQUIRE(env.item_features().names[7] == "topic=7");
  for (ItemId i = 0; i < env.n_items(); ++i) {
    const auto t = static_cast<std::size_t>(env.item_topic(i));
    REQUIRE(f.row(i).size() == 1);  // the one-hot RecSim's IEvVideo observes
    CHECK(f.row(i)[0] == env.item_topic(i));
    count[t] += 1;
    sum[t] += env.item_quality(i);
    sq[t] += env.item_quality(i) * env.item_quality(i);
  }
  for (std::size_t t = 0; t < 20; ++t) {
    INFO("topic " << t);
    CHECK(std::abs(count[t] - 500.0) < 5 * std::sqrt(500 * 0.95));  // uniform topics
    const double mean = sum[t] / count[t];
    CHECK(std::abs(mean - means[t]) < 5 * 0.1 / std::sqrt(count[t]));  // N(mean_t, 0.1)
    const double sd = std::sqrt(sq[t] / count[t] - mean * mean);
    CHECK((sd > 0.085 && sd < 0.115));
  }
  double xs = 0, xx = 0, lo = 1, hi = -1;
  for (UserId u = 0; u < env.n_users(); ++u) {
    for (double x : env.user_interests(u)) {
      xs += x;
      xx += x * x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  const double n = env.n_users() * 20.0;  // U(-1, 1): mean 0, variance 1/3
  CHECK(std::abs(xs / n) < 5 * std::sqrt(1.0 / 3.0 / n));
  CHECK(xx / n == Approx(1.0 / 3.0).epsilon(0.02));
  CHECK((lo >= -1.0 && hi < 1.0));
}

TEST_CASE("interest_evolution sessions start from their user's sampled state",
          "[environment][interest_evolution]") {
  InterestEvolutionEnv env = built_ie();
  env.reset(4, 1000);
  std::set<UserId> distinct(env.users().begin(), env.users().end());
  CHECK(distinct.size() > 900);  // drawn uniformly from 10000 users
  for (int s = 0; s < 1000; ++s) {
    CHECK(env.budget(s) == 200.0);
    CHECK(env.steps(s) == 0);
    const std::span<const double> x = env.session_interests(s);
    const std::span<const double> u = env.user_interests(env.users()[static_cast<std::size_t>(s)]);
    CHECK(std::equal(x.begin(), x.end(), u.begin(), u.end()));
  }
}

TEST_CASE("interest_evolution steps follow RecSim's choice model and transition",
          "[environment][interest_evolution]") {
  InterestEvolutionEnv env = built_ie();
  const int n = 4096;
  const auto n_s = static_cast<std::size_t>(n);
  env.reset(3, n);
  Rng policy(5);
  std::vector<ItemId> slates;
  StepOutcome out;
  std::vector<double> x0(n_s * 20), b0(n_s);
  std::vector<std::uint8_t> done(n_s, 0);
  // Observed counts next to their expectations and variances under RecSim's rules.
  double no_click = 0, no_click_mean = 0, no_click_var = 0;
  double first = 0, first_mean = 0, first_var = 0;
  double plus = 0, plus_mean = 0, plus_var = 0;
  for (int live = n; live > 0;) {
    for (int s = 0; s < n; ++s) {
      const std::span<const double> x = env.session_interests(s);
      std::copy(x.begin(), x.end(), x0.begin() + s * 20);
      b0[static_cast<std::size_t>(s)] = env.budget(s);
    }
    random_slates(env, policy, slates);
    env.step(slates, out);
    live = 0;
    for (std::size_t s = 0; s < n_s; ++s) {
      if (done[s]) continue;
      const double* x = x0.data() + s * 20;
      const ItemId a = slates[2 * s], b = slates[2 * s + 1];
      const double sa = x[env.item_topic(a)] + 1, sb = x[env.item_topic(b)] + 1;
      const double p0 = 2.0 / (sa + sb + 2.0), pa = sa / (sa + sb + 2.0);
      no_click += out.choice[s] == -1;
      no_click_mean += p0;
      no_click_var += p0 * (1 - p0);
      first += out.choice[s] == 0;
      first_mean += pa;
      first_var += pa * (1 - pa);
      const std::span<const double> now = env.session_interests(static_cast<int>(s));
      double budget = b0[s] - 0.5;
      int moved_topic = -1;
      if (out.choice[s] >= 0) {
        const ItemId item = out.choice[s] == 0 ? a : b;
        const int c = env.item_topic(item);
        const double watch = std::min(b0[s], 4.0);
        CHECK(out.reward[s] == static_cast<float>(watch));
        CHECK(out.engagement[s] == out.reward[s]);
        const double update = (0.3 - 0.3 * std::abs(x[c])) * (1.0 - x[c]);
        const bool up = now[static_cast<std::size_t>(c)] == Approx(x[c] + update).epsilon(1e-12);
        CHECK((up || now[static_cast<std::size_t>(c)] == Approx(x[c] - update).epsilon(1e-12)));
        plus += up;
        plus_mean += (x[c] + 1) / 2;
        plus_var += (x[c] + 1) / 2 * (1 - x[c]) / 2;
        moved_topic = c;
        budget = b0[s] - watch + 0.9 / 3.4 * watch * env.item_quality(item);
      } else {
        CHECK(out.reward[s] == 0.0f);
      }
      for (int t = 0; t < 20; ++t)
        if (t != moved_topic) CHECK(now[static_cast<std::size_t>(t)] == x[t]);
      CHECK(env.budget(static_cast<int>(s)) == Approx(budget).epsilon(1e-12));
      CHECK(static_cast<bool>(out.terminated[s]) == (budget <= 0.0));
      done[s] = out.terminated[s] || out.truncated[s];
      live += !done[s];
    }
  }
  INFO("no click " << no_click << " expected " << no_click_mean);
  CHECK(std::abs(no_click - no_click_mean) < 5 * std::sqrt(no_click_var));
  INFO("first position " << first << " expected " << first_mean);
  CHECK(std::abs(first - first_mean) < 5 * std::sqrt(first_var));
  INFO("moves towards the topic " << plus << " expected " << plus_mean);
  CHECK(std::abs(plus - plus_mean) < 5 * std::sqrt(plus_var));
}

TEST_CASE("interest_evolution's oracle is the myopic optimum",
          "[environment][interest_evolution]") {
  InterestEvolutionEnv env = built_ie();
  env.reset(8, 512);
  std::vector<ItemId> oracle(1024);
  REQUIRE(env.oracle_slates(oracle));
  const auto expected_reward = [&](int s, ItemId a, ItemId b) {  // min(budget, 4) S / (S + 2)
    const std::span<const double> x = env.session_interests(s);
    const double score = x[static_cast<std::size_t>(env.item_topic(a))] + 1 +
                         x[static_cast<std::size_t>(env.item_topic(b))] + 1;
    return std::min(env.budget(s), 4.0) * score / (score + 2.0);
  };
  for (int s = 0; s < 512; ++s) {
    const std::span<const ItemId> row =
        env.candidates().subspan(static_cast<std::size_t>(s) * 10, 10);
    const double best = expected_reward(s, oracle[2 * s], oracle[2 * s + 1]);
    for (std::size_t i = 0; i < 10; ++i)
      for (std::size_t j = i + 1; j < 10; ++j)
        CHECK(expected_reward(s, row[i], row[j]) <= best + 1e-12);
  }
}

TEST_CASE("interest_evolution: thread count, horizon and bad slates",
          "[environment][interest_evolution]") {
  InterestEvolutionEnv one = built_ie({}, 1, 1), two = built_ie({}, 1, 2);
  CHECK(run_sessions(one, 2, 2048, 9) == run_sessions(two, 2, 2048, 9));

  IeConfig short_horizon;
  short_horizon.max_steps = 3;
  InterestEvolutionEnv env = built_ie(short_horizon);
  const Trace t = run_sessions(env, 1, 16, 1);
  CHECK(t.steps == 3);
  for (std::size_t i = 0; i < t.truncated.size(); ++i) {
    CHECK(t.truncated[i] == (i >= 32));  // the third step ends every session
    CHECK(t.terminated[i] == 0);
  }

  env.reset(1, 2);
  const std::vector<ItemId> slates = {env.candidates()[0], env.candidates()[1],
                                      env.candidates()[10], env.candidates()[11]};
  StepOutcome out;
  std::vector<ItemId> bad = slates;
  bad[3] = bad[2];
  CHECK_THROWS_WITH(env.step(bad, out), Catch::Contains("session 1, slate position 1") &&
                                            Catch::Contains("appears twice"));
  bad = slates;
  bad[0] = env.candidates()[12];
  CHECK_THROWS_WITH(env.step(bad, out), Catch::Contains("is not among this step's candidates"));
  bad.pop_back();
  CHECK_THROWS_WITH(env.step(bad, out), Catch::Contains("expected n_sessions x slate_size = 4"));
  CHECK_NOTHROW(env.step(slates, out));
}
