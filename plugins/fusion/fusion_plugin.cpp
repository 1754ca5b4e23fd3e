// The `fusion` plugin library: strategies that combine child recommenders
// the host builds from nested [[algorithms.children]] tables. Each saves
// and loads its model (children included, fusion_io.hpp) when all of its
// children do.
#include <memory>

#include "cascade.hpp"
#include "rank_fusion.hpp"
#include "rating_blend.hpp"
#include "recfuse/plugin.hpp"
#include "score_fusion.hpp"
#include "stacking.hpp"
#include "switching.hpp"

namespace recfuse {
namespace {

template <typename T>
std::unique_ptr<Recommender> make(const ParamSet& p) {
  return std::make_unique<T>(p);
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"score_fusion", PluginKind::kRecommender,
       "weighted sum / CombSUM / CombMNZ of per-user normalised child scores (Fox & Shaw 1994)",
       kCapChildren | kCapObserve | kCapSaveLoad | kCapExplain, &ScoreFusion::params, &make<ScoreFusion>},
      {"rank_fusion", PluginKind::kRecommender,
       "reciprocal rank fusion (Cormack et al. 2009), Borda count or weighted voting",
       kCapChildren | kCapObserve | kCapSaveLoad | kCapExplain,
       &RankFusion::params, &make<RankFusion>},
      {"stacking", PluginKind::kRecommender,
       "learned linear fusion of child scores and user/item features, fitted on validation",
       kCapChildren | kCapObserve | kCapSaveLoad | kCapExplain,
       &Stacking::params, &make<Stacking>},
      {"switching", PluginKind::kRecommender,
       "one child per user, by history length or the best child per segment on validation",
       kCapChildren | kCapObserve | kCapSaveLoad | kCapExplain, &Switching::params, &make<Switching>},
      {"cascade", PluginKind::kRecommender,
       "child 0 retrieves candidates, child 1 re-ranks only those",
       kCapChildren | kCapObserve | kCapSaveLoad | kCapExplain, &Cascade::params,
       &make<Cascade>},
      {"rating_blend", PluginKind::kRecommender,
       "ridge blend of child rating predictions with meta-features (Sill et al. 2009), fitted on "
       "validation, children then refitted on train + validation",
       kCapChildren | kCapObserve | kCapSaveLoad | kCapPredictRating, &RatingBlend::params, &make<RatingBlend>},
  };
  static const PluginDescriptor d = make_descriptor(
      "fusion", "1.8.0", "fusion", "fusion strategies over child recommenders", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
