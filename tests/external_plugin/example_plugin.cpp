// Example out-of-tree plugin: "recency-weighted popularity". Each training
// interaction counts exp(-age / half_life * ln 2), where age is measured back
// from the newest timestamp in the training data. Built against the installed
// SDK only (find_package(recfuse)); shows the whole plugin surface.
#include <algorithm>
#include <cmath>
#include <recfuse/plugin.hpp>

namespace {

class RecentPopularity final : public recfuse::Recommender {
 public:
  explicit RecentPopularity(const recfuse::ParamSet& p)
      : half_life_s_(p.get_float("half_life_days") * 86400.0) {}

  void fit(const recfuse::TrainData& data, const recfuse::FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    const auto& m = data.by_item;
    std::int64_t newest = 0;
    for (auto t : m.timestamps) newest = std::max(newest, t);
    weights_.assign(static_cast<std::size_t>(data.n_items), 0.0f);
    for (std::int32_t i = 0; i < m.rows; ++i) {
      double w = 0;
      for (std::int64_t j = m.indptr[i]; j < m.indptr[i + 1]; ++j) {
        const double age = m.timestamps.empty() ? 0.0 : static_cast<double>(newest - m.timestamps[j]);
        w += std::exp(-age / half_life_s_ * std::log(2.0));
      }
      weights_[static_cast<std::size_t>(i)] = static_cast<float>(w);
    }
    ctx.log("recent_popularity: fitted " + std::to_string(data.n_items) + " items");
  }

  void score_all(std::span<const recfuse::UserId> users, std::span<float> out) override {
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy(weights_.begin(), weights_.end(), out.begin() + static_cast<std::ptrdiff_t>(r * weights_.size()));
  }

  std::size_t model_bytes() const override { return weights_.size() * sizeof(float); }

 private:
  double half_life_s_;
  std::vector<float> weights_;
};

std::vector<recfuse::ParamSpec> params() {
  return {recfuse::ParamSpec::real("half_life_days", 30.0, 1e-3, 1e6,
                                   "days after which an interaction counts half")};
}

std::unique_ptr<recfuse::Recommender> make(const recfuse::ParamSet& p) {
  return std::make_unique<RecentPopularity>(p);
}

const recfuse::PluginDescriptor* describe() {
  static const recfuse::AlgorithmDescriptor algos[] = {
      {"example_recent_popularity", recfuse::PluginKind::kRecommender,
       "popularity with exponential time decay (out-of-tree example)", 0, &params, &make}};
  static const recfuse::PluginDescriptor d = recfuse::make_descriptor(
      "example", "0.1.0", "baseline", "out-of-tree example plugin", algos);
  return &d;
}

}  // namespace

RECFUSE_PLUGIN(describe)
