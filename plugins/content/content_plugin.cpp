// The `content` plugin library: content_tfidf.
#include <memory>

#include "content_tfidf.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Recommender> make_content(const ParamSet& p) { return std::make_unique<ContentTfidf>(p); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"content_tfidf", PluginKind::kRecommender,
       "TF-IDF profiles of item attributes and title words, cosine to the user's profile",
       kCapExplain | kCapSaveLoad, &ContentTfidf::params, &make_content},
  };
  static const PluginDescriptor d =
      make_descriptor("content", "1.1.0", "content", "content-based recommenders", algos);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
