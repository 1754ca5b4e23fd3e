// The `rl` plugin library: slateq, reinforce_topk and dqn, reinforcement-
// learning policies that learn online through observe (DESIGN.md "Environments").
#include <memory>

#include "dqn.hpp"
#include "recfuse/plugin.hpp"
#include "reinforce_topk.hpp"
#include "slateq.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_slateq(const ParamSet& p) { return std::make_unique<rl::SlateQ>(p); }
std::unique_ptr<Recommender> make_reinforce_topk(const ParamSet& p) { return std::make_unique<rl::ReinforceTopK>(p); }
std::unique_ptr<Recommender> make_dqn(const ParamSet& p) { return std::make_unique<rl::Dqn>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"slateq", PluginKind::kRecommender,
       "SlateQ: item-wise long-term values under a learned conditional-logit choice model, SARSA TD, "
       "greedy slates (Ie et al., IJCAI 2019)",
       kCapObserve | kCapSaveLoad, &rl::SlateQ::params, &make_slateq},
      {"reinforce_topk", PluginKind::kRecommender,
       "REINFORCE with the top-K off-policy correction: a softmax policy sampled without replacement, "
       "capped importance weights (Chen et al., WSDM 2019)",
       kCapObserve | kCapPropensity | kCapSaveLoad, &rl::ReinforceTopK::params, &make_reinforce_topk},
      {"dqn", PluginKind::kRecommender,
       "DQN over slates: Q(s, i) from a tanh encoder of the session state, experience replay, a target "
       "network, Huber loss, ε-greedy top-k slates (Mnih et al., Nature 2015)",
       kCapObserve | kCapSaveLoad, &rl::Dqn::params, &make_dqn},
  };
  static const PluginDescriptor d = make_descriptor(
      "rl", "1.12.0", "rl", "reinforcement-learning recommenders that learn online from simulated users", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
