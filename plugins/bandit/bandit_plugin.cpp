// The `bandit` plugin library: epsilon_greedy, linucb, linucb_hybrid and lin_ts, policies
// that learn online through observe (DESIGN.md "Environments").
#include <memory>

#include "epsilon_greedy.hpp"
#include "lin_ts.hpp"
#include "linucb.hpp"
#include "linucb_hybrid.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_epsilon_greedy(const ParamSet& p) { return std::make_unique<EpsilonGreedy>(p); }
std::unique_ptr<Recommender> make_linucb(const ParamSet& p) { return std::make_unique<LinUcb>(p); }
std::unique_ptr<Recommender> make_linucb_hybrid(const ParamSet& p) { return std::make_unique<LinUcbHybrid>(p); }
std::unique_ptr<Recommender> make_lin_ts(const ParamSet& p) { return std::make_unique<LinTs>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"epsilon_greedy", PluginKind::kRecommender,
       "per-item mean reward, uniform exploration with probability epsilon per slate position",
       kCapObserve | kCapPropensity | kCapSaveLoad, &EpsilonGreedy::params, &make_epsilon_greedy},
      {"linucb", PluginKind::kRecommender,
       "LinUCB: ridge models per user over item features, shared, or per item over user context (Li et al. 2010)",
       kCapObserve | kCapPropensity | kCapSaveLoad, &LinUcb::params, &make_linucb},
      {"linucb_hybrid", PluginKind::kRecommender,
       "LinUCB with hybrid linear models: shared over item attributes and their match with the user, per item over "
       "the user's context (Li et al. 2010, Alg. 2)",
       kCapObserve | kCapPropensity | kCapSaveLoad, &LinUcbHybrid::params, &make_linucb_hybrid},
      {"lin_ts", PluginKind::kRecommender,
       "linear Thompson sampling over item features (Agrawal & Goyal 2013)", kCapObserve | kCapSaveLoad, &LinTs::params,
       &make_lin_ts},
  };
  static const PluginDescriptor d =
      make_descriptor("bandit", "1.4.0", "bandit", "contextual and multi-armed bandit policies", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
