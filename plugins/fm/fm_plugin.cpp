// The `fm` plugin library: the factorization machine.
#include <memory>

#include "fm.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_fm(const ParamSet& p) { return std::make_unique<FmRecommender>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"fm", PluginKind::kRecommender,
       "factorization machine (Rendle 2010) over user, item, genre and demographic features; BPR or logistic",
       kCapSaveLoad, &FmRecommender::params, &make_fm},
  };
  static const PluginDescriptor d =
      make_descriptor("fm", "1.2.0", "fm", "factorization machines (feature fusion)", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
