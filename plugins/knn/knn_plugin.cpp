// The `knn` plugin library: item_knn and user_knn.
#include <memory>

#include "item_knn.hpp"
#include "recfuse/plugin.hpp"
#include "user_knn.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_item_knn(const ParamSet& p) {
  return std::make_unique<ItemKnnRecommender>(p);
}
std::unique_ptr<Recommender> make_user_knn(const ParamSet& p) {
  return std::make_unique<UserKnnRecommender>(p);
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"item_knn", PluginKind::kRecommender,
       "item-based kNN over sparse co-occurrence (Deshpande & Karypis 2004; implicit)",
       kCapExplain | kCapSaveLoad, &knn_params, &make_item_knn},
      {"user_knn", PluginKind::kRecommender,
       "user-based kNN, weighted sum over the most similar users (Herlocker et al. 1999)",
       kCapExplain | kCapSaveLoad,
       &knn_params, &make_user_knn},
  };
  static const PluginDescriptor d = make_descriptor(
      "knn", "1.4.0", "cf", "neighbourhood collaborative filtering", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
