// kCapSaveLoad of the bandit and rl policies: a policy saved in the middle
// of a deployment (sessions open, replay filled, exploration streams
// advanced, an act not yet observed) and loaded into a fresh instance
// scores, acts, reports propensities and, after the same feedback, learns
// bit for bit as the one that was saved. (Refusals of bad files:
// test_policy_save_load_refusals.cpp; the generic after-fit round trip over
// every algorithm: test_save_load.cpp.)
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "policy_save_load_support.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::policy_io;

namespace {

constexpr int kWarmup = 5, kSteps = 8;

}  // namespace

TEST_CASE("policy save/load: a policy loaded mid-deployment acts and learns bit for bit as the saved one",
          "[save_load][policy]") {
  const TrainData data = synthetic_train_data();
  int checked = 0, with_propensity = 0;
  for (const Policy& p : policies()) {
    INFO(p.label());
    const AlgorithmHandle a = plugin_registry().find(p.plugin);
    REQUIRE((a.algorithm->capabilities & kCapSaveLoad) != 0);
    const ParamSet params = params_for(a, p.params);
    const bool propensity = (a.algorithm->capabilities & kCapPropensity) != 0;
    World world(data.n_users, data.n_items, 3);
    RecommenderPtr saved = deployed(p, data, world, kWarmup);
    // Saved between act and observe: the feedback that follows is to an act
    // only the saved instance made.
    const std::vector<ItemId> pending = act(*saved, world);
    const std::string bytes = saved_bytes(*saved);
    RecommenderPtr loaded = loaded_from(a, params, bytes);
    CHECK(loaded->n_users() == saved->n_users());
    CHECK(loaded->n_items() == saved->n_items());
    CHECK(loaded->model_bytes() == saved->model_bytes());
    CHECK(saved_bytes(*loaded) == bytes);
    // The deployment changed the policy: a comparison with it can fail.
    RecommenderPtr fresh = fit_algorithm(p.plugin, data, p.params);
    CHECK(bits_differ(all_scores(*fresh), all_scores(*saved)) > 0);
    {
      const Feedback fb = world.respond(pending);
      saved->observe(fb);
      loaded->observe(fb);
      world.next();
    }
    std::size_t scores = 0, slates = 0, propensities_differ = 0;
    for (int t = 0; t < kSteps; ++t) {
      scores += bits_differ(all_scores(*loaded), all_scores(*saved));
      const std::vector<ItemId> want = act(*saved, world), got = act(*loaded, world);
      slates += bits_differ(got, want);
      if (propensity) {
        const std::vector<double> pw = propensities(*saved, world, want), pg = propensities(*loaded, world, want);
        propensities_differ += bits_differ(pg, pw);
        CHECK(pw[0] > 0.0);  // the slate act chose
      }
      const Feedback fb = world.respond(want);
      saved->observe(fb);
      loaded->observe(fb);
      world.next();
    }
    CHECK(scores == 0);
    CHECK(slates == 0);
    CHECK(propensities_differ == 0);
    CHECK(saved_bytes(*loaded) == saved_bytes(*saved));
    const auto dw = saved->diagnostics(), dg = loaded->diagnostics();
    CHECK(dg == dw);
    ++checked;
    with_propensity += propensity;
  }
  CHECK(checked == 12);
  CHECK(with_propensity == 8);  // epsilon_greedy, linucb x2, linucb_hybrid, reinforce_topk x4
}

TEST_CASE("policy save/load: the exploration draws continue the saved stream, not a reseeded one",
          "[save_load][policy]") {
  // The stochastic policies, saved right after fit (as `recfuse run
  // --save-models` does): the loaded policy's slates equal the saved
  // policy's, and differ from those of the policy fitted with another seed
  // (what the saved streams were derived from).
  const TrainData data = synthetic_train_data();
  for (const char* name : {"epsilon_greedy", "lin_ts", "reinforce_topk", "slateq", "dqn"}) {
    INFO(name);
    Policy p;
    for (const Policy& q : policies())
      if (q.plugin == name) {
        p = q;
        break;
      }
    const AlgorithmHandle a = plugin_registry().find(name);
    const ParamSet params = params_for(a, p.params);
    RecommenderPtr saved = fit_algorithm(a, data, params, 42);
    RecommenderPtr loaded = loaded_from(a, params, saved_bytes(*saved));
    RecommenderPtr other_seed = fit_algorithm(a, data, params, 43);
    World world(data.n_users, data.n_items, 9);
    std::size_t differ = 0, differ_other = 0;
    for (int t = 0; t < kSteps; ++t) {
      const std::vector<ItemId> want = act(*saved, world);
      differ += bits_differ(act(*loaded, world), want);
      differ_other += bits_differ(act(*other_seed, world), want);
      const Feedback fb = world.respond(want);
      saved->observe(fb);
      loaded->observe(fb);
      other_seed->observe(fb);
      world.next();
    }
    CHECK(differ == 0);
    CHECK(differ_other > 0);
  }
}
