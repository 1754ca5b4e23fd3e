// The `privacy` plugin library: fed_mf.
#include <memory>

#include "fed_mf.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_fed_mf(const ParamSet& p) { return std::make_unique<FedMfRecommender>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"fed_mf", PluginKind::kRecommender,
       "federated implicit MF (FCF, Ammad-ud-din et al. 2019): closed-form user steps on the clients, "
       "item gradients summed by the server; optional user-level DP (clipping + Gaussian noise, RDP epsilon)",
       kCapSaveLoad, &FedMfRecommender::params, &make_fed_mf},
  };
  static const PluginDescriptor d = make_descriptor(
      "privacy", "1.0.0", "mf", "privacy-preserving recommenders: federated learning, differential privacy", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
