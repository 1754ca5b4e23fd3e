// The `baseline` plugin library: random, popularity and baseline_only.
#include <memory>

#include "baseline_only.hpp"
#include "popularity.hpp"
#include "random.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::vector<ParamSpec> no_params() { return {}; }

std::unique_ptr<Recommender> make_random(const ParamSet&) {
  return std::make_unique<RandomRecommender>();
}
std::unique_ptr<Recommender> make_popularity(const ParamSet& p) {
  return std::make_unique<PopularityRecommender>(p);
}
std::unique_ptr<Recommender> make_baseline_only(const ParamSet& p) {
  return std::make_unique<BaselineOnlyRecommender>(p);
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"random", PluginKind::kRecommender,
       "uniform random scores, a deterministic hash of (seed, user, item)", 0, &no_params,
       &make_random},
      {"popularity", PluginKind::kRecommender,
       "most popular items by number of training users (MostPop)", kCapSaveLoad,
       &PopularityRecommender::params, &make_popularity},
      {"baseline_only", PluginKind::kRecommender,
       "user + item rating biases fitted by ALS (Koren 2010; Surprise BaselineOnly)",
       kCapPredictRating | kCapSaveLoad, &BaselineOnlyRecommender::params, &make_baseline_only},
  };
  static const PluginDescriptor d =
      make_descriptor("baseline", "1.2.0", "baseline", "non-personalised and bias baselines", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
