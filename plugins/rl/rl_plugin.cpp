// The `rl` plugin library: slateq and reinforce_topk, reinforcement-learning
// policies that learn online through observe (DESIGN.md "Environments").
#include <memory>

#include "recfuse/plugin.hpp"
#include "reinforce_topk.hpp"
#include "slateq.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_slateq(const ParamSet& p) { return std::make_unique<rl::SlateQ>(p); }
std::unique_ptr<Recommender> make_reinforce_topk(const ParamSet& p) { return std::make_unique<rl::ReinforceTopK>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"slateq", PluginKind::kRecommender,
       "SlateQ: item-wise long-term values under a learned conditional-logit choice model, SARSA TD, "
       "greedy slates (Ie et al., IJCAI 2019)",
       kCapObserve, &rl::SlateQ::params, &make_slateq},
      {"reinforce_topk", PluginKind::kRecommender,
       "REINFORCE with the top-K off-policy correction: a softmax policy sampled without replacement, "
       "capped importance weights (Chen et al., WSDM 2019)",
       kCapObserve | kCapPropensity, &rl::ReinforceTopK::params, &make_reinforce_topk},
  };
  static const PluginDescriptor d = make_descriptor(
      "rl", "1.0.0", "rl", "reinforcement-learning recommenders that learn online from simulated users", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
