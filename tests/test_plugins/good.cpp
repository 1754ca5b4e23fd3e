// A correct plugin: `test_good` scores items by parity; `n` shows that
// validated parameters reach the factory (it sets the shape's user count).
#include "tiny.hpp"

namespace {
using namespace recfuse;

class Good final : public test_plugins::Tiny {
 public:
  explicit Good(std::int64_t n) : n_(n) {}
  std::size_t model_bytes() const override { return static_cast<std::size_t>(n_); }

 private:
  std::int64_t n_;
};

std::vector<ParamSpec> good_params() {
  return {ParamSpec::integer("n", 3, 0, 100, "reported as model_bytes"),
          ParamSpec::choice("mode", "parity", {"parity", "constant"}, "scoring rule")};
}
std::unique_ptr<Recommender> make_good(const ParamSet& p) {
  return std::make_unique<Good>(p.get_int("n"));
}

const PluginDescriptor* describe() {
  static const AlgorithmDescriptor algos[] = {
      {"test_good", PluginKind::kRecommender, "item parity", 0, &good_params, &make_good}};
  static const PluginDescriptor d =
      make_descriptor("test_good", "1.2.3", "test", "a correct test plugin", algos);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
