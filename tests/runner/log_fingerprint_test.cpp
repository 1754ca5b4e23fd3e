// What a model fitted on simulated logs is matched by (runner/episodes.hpp,
// log_fit_fingerprint): exactly what train_data_from_log gives learners,
// the clicks and the environment's item features, and nothing the learners
// never see (the log's unclicked slates, rewards, propensities).
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "runner/episodes.hpp"

using namespace recfuse;

namespace {

/// 3 users, 6 items with one feature each; never stepped.
class TinyWorld final : public Environment {
 public:
  void build(const WorldContext&) override {
    set_shape(3, 6, 2, 3, 1);
    CsrMatrix& m = features_.matrix;
    m.rows = 6;
    m.cols = 2;
    m.indptr = {0, 1, 2, 3, 4, 5, 6};
    m.indices = {0, 1, 0, 1, 0, 1};
    m.values = {1, 1, 1, 1, 1, 1};
    features_.names = {"a", "b"};
  }
  const AttributeMatrix& item_features() const override { return features_; }
  void reset(std::uint64_t, int) override {}
  std::span<const UserId> users() const override { return {}; }
  std::span<const ItemId> candidates() const override { return {}; }
  void step(std::span<const ItemId>, StepOutcome&) override {}
  void grow() { set_shape(4, 6, 2, 3, 1); }  // one user more
  AttributeMatrix features_;
};

/// Three logged steps of slates of 2: user 0 clicks position 1, user 1
/// nothing, user 2 position 0.
Log three_steps() {
  Log log;
  log.C = 3;
  log.k = 2;
  log.users = {0, 1, 2};
  log.candidates = {0, 1, 2, 3, 4, 5, 1, 2, 3};
  log.slates = {0, 1, 3, 4, 2, 1};
  log.propensity = {0.5, 0.5, 0.5};
  log.choice = {1, -1, 0};
  log.reward = {1, 0, 1};
  log.step_start = {0, 3};
  return log;
}

}  // namespace

TEST_CASE("the log fingerprint follows the clicks and item features learners see, and nothing else", "[online]") {
  TinyWorld env;
  env.build({});
  const Log log = three_steps();
  const std::string base = log_fit_fingerprint(log, env);
  CHECK(base.size() == 16);
  CHECK(log_fit_fingerprint(log, env) == base);

  // what learners see: the clicked position, the user, a clicked item, a feature
  Log other = log;
  other.choice[0] = 0;  // user 0 clicked item 0, not item 1
  CHECK(log_fit_fingerprint(other, env) != base);
  other = log;
  other.choice[1] = 0;  // a click where there was none
  CHECK(log_fit_fingerprint(other, env) != base);
  other = log;
  other.users[2] = 1;
  CHECK(log_fit_fingerprint(other, env) != base);
  other = log;
  other.slates[4] = 5;  // user 2's clicked item
  CHECK(log_fit_fingerprint(other, env) != base);
  other = log;  // the same clicks in another order (the rows are the clicks' times)
  std::swap(other.users[0], other.users[2]);
  std::swap(other.choice[0], other.choice[2]);
  std::swap(other.slates[0], other.slates[4]);
  std::swap(other.slates[1], other.slates[5]);
  CHECK(log_fit_fingerprint(other, env) != base);
  TinyWorld wider;  // another shape, the same log
  wider.build({});
  wider.grow();
  CHECK(log_fit_fingerprint(log, wider) != base);
  TinyWorld relabelled;
  relabelled.build({});
  relabelled.features_.matrix.indices[3] = 0;
  CHECK(log_fit_fingerprint(log, relabelled) != base);
  relabelled.build({});
  relabelled.features_.names[1] = "c";
  CHECK(log_fit_fingerprint(log, relabelled) != base);

  // what they do not: the unclicked slates, candidates, propensities, rewards
  other = log;
  other.slates[2] = 5;  // user 1's slate, not clicked
  other.slates[5] = 3;  // user 2's unclicked position
  other.candidates[0] = 4;
  other.propensity = {0.1, 0.2, 0.3};
  other.reward = {3, 0, 2};
  CHECK(log_fit_fingerprint(other, env) == base);
  // ... and the data they build is the same
  const TrainData a = train_data_from_log(log, env), b = train_data_from_log(other, env);
  CHECK(a.by_user.indices == b.by_user.indices);
  CHECK(a.by_user.indptr == b.by_user.indptr);
}
