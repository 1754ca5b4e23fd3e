// The `mf_explicit` plugin library: rating-prediction matrix factorization
// (biased SGD MF, SVD++, ALS-WR). One header per algorithm.
#include <memory>

#include "als_explicit.hpp"
#include "recfuse/plugin.hpp"
#include "sgd_mf.hpp"
#include "svdpp.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_sgd_mf(const ParamSet& p) {
  return std::make_unique<SgdMfRecommender>(p);
}
std::unique_ptr<Recommender> make_svdpp(const ParamSet& p) {
  return std::make_unique<SvdppRecommender>(p);
}
std::unique_ptr<Recommender> make_als_explicit(const ParamSet& p) {
  return std::make_unique<AlsExplicitRecommender>(p);
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"sgd_mf", PluginKind::kRecommender,
       "biased matrix factorization by SGD (Funk; Koren, Bell & Volinsky 2009; Surprise SVD)",
       kCapPredictRating | kCapSaveLoad, &SgdMfRecommender::params, &make_sgd_mf},
      {"svdpp", PluginKind::kRecommender,
       "SVD++ with implicit feedback of rated items (Koren 2008, eq. 15; Surprise SVDpp)",
       kCapPredictRating | kCapSaveLoad, &SvdppRecommender::params, &make_svdpp},
      {"als_explicit", PluginKind::kRecommender,
       "ALS for ratings with weighted-lambda regularisation (Zhou et al. 2008, ALS-WR)",
       kCapPredictRating | kCapSaveLoad, &AlsExplicitRecommender::params, &make_als_explicit},
  };
  static const PluginDescriptor d = make_descriptor(
      "mf_explicit", "1.6.0", "mf", "matrix factorization for explicit ratings", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
