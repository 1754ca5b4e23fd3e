// A minimal fusion strategy for the host's composition tests: the score is
// the mean of the children's scores, and it reports how many children it got
// and what TrainData it was fitted on (pairs in train and in validation, and
// Σ (u · n_items + i) over the validation pairs, to tell validation parts apart).
#include <recfuse/plugin.hpp>

namespace {
using namespace recfuse;

class MeanFusion final : public Recommender {
 public:
  void set_children(std::vector<Child> children) override { children_ = std::move(children); }
  void fit(const TrainData& data, const FitContext&) override {
    set_shape(data.n_users, data.n_items);
    if (children_.empty()) throw Error("mean fusion got no children");
    train_pairs_ = static_cast<double>(data.by_user.nnz());
    validation_pairs_ = static_cast<double>(data.validation.nnz());
    validation_key_sum_ = 0;
    for (std::int32_t u = 0; u < data.validation.rows; ++u)
      for (const ItemId i : data.validation.row(u))
        validation_key_sum_ += static_cast<double>(u) * data.n_items + static_cast<double>(i);
  }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    std::fill(out.begin(), out.end(), 0.0f);
    scratch_.resize(out.size());
    for (auto& c : children_) {
      c.model->score_all(users, scratch_);
      for (std::size_t j = 0; j < out.size(); ++j) out[j] += scratch_[j] / children_.size();
    }
  }
  std::size_t model_bytes() const override {
    std::size_t b = 0;
    for (const auto& c : children_) b += c.model->model_bytes();
    return b;
  }
  std::vector<std::pair<std::string, double>> diagnostics() const override {
    return {{"children", static_cast<double>(children_.size())},
            {"train_pairs", train_pairs_},
            {"validation_pairs", validation_pairs_},
            {"validation_key_sum", validation_key_sum_}};
  }

 private:
  std::vector<Child> children_;
  std::vector<float> scratch_;
  double train_pairs_ = 0, validation_pairs_ = 0, validation_key_sum_ = 0;
};

std::vector<ParamSpec> params() { return {}; }
std::unique_ptr<Recommender> make(const ParamSet&) { return std::make_unique<MeanFusion>(); }

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {{"test_mean_fusion", PluginKind::kRecommender,
                                               "mean of the children's scores", kCapChildren,
                                               &params, &make}};
  static const PluginDescriptor d =
      make_descriptor("test_mean_fusion", "1.0.0", "fusion", "composition test plugin", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
