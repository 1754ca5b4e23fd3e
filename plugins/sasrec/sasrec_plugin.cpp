// The `sasrec` plugin library: SASRec (Kang & McAuley, ICDM 2018) with a hand-written
// backward pass on Eigen (no deep-learning framework).
#include <memory>

#include "recfuse/plugin.hpp"
#include "sasrec.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_sasrec(const ParamSet& p) {
  return std::make_unique<sasrec::SasrecRecommender>(p);
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"sasrec", PluginKind::kRecommender,
       "self-attentive sequential recommendation, causal Transformer over the user's recent items "
       "(Kang & McAuley, ICDM 2018)",
       kCapExplain | kCapSaveLoad, &sasrec::sasrec_params, &make_sasrec},
  };
  static const PluginDescriptor d = make_descriptor(
      "sasrec", "1.2.0", "sequential", "Transformer sequential recommenders", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
