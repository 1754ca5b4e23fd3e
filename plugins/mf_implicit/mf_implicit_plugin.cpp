// The `mf_implicit` plugin library: ials, bpr and ease.
#include <memory>

#include "bpr.hpp"
#include "ease.hpp"
#include "ials.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_ials(const ParamSet& p) { return std::make_unique<IalsRecommender>(p); }
std::unique_ptr<Recommender> make_bpr(const ParamSet& p) { return std::make_unique<BprRecommender>(p); }
std::unique_ptr<Recommender> make_ease(const ParamSet& p) { return std::make_unique<EaseRecommender>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"ials", PluginKind::kRecommender,
       "implicit ALS (Hu, Koren & Volinsky 2008) by conjugate gradient (Takács et al. 2011) or Cholesky; "
       "optional online fold-in of clicks (online_updates)",
       kCapExplain | kCapSaveLoad | kCapObserve, &IalsRecommender::params, &make_ials},
      {"bpr", PluginKind::kRecommender,
       "BPR-MF (Rendle et al. 2009): pairwise SGD with uniform or popularity negatives, optional Hogwild",
       kCapSaveLoad,
       &BprRecommender::params, &make_bpr},
      {"ease", PluginKind::kRecommender,
       "EASE^R (Steck 2019): closed-form item-item model, dense n_items x n_items", kCapExplain | kCapSaveLoad,
       &EaseRecommender::params, &make_ease},
  };
  static const PluginDescriptor d = make_descriptor(
      "mf_implicit", "1.7.0", "mf", "matrix factorisation and linear models for implicit feedback", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
