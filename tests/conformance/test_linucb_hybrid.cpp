// LinUCB with hybrid linear models (plugins/bandit/linucb_hybrid.hpp): its
// incremental estimates against the joint ridge regression solved directly,
// its bonus against the joint posterior variance, the warm start against
// online replay, and learning in worlds that need the shared part, the
// per-item part, or both.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "bandit_worlds.hpp"
#include "conformance_support.hpp"
#include "plugins/bandit/linucb_hybrid.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::bandits;

namespace {

/// The joint ridge regression Li et al.'s Algorithm 2 maintains: parameters
/// w = (β, θ_0, …, θ_{n−1}); an observation (s, a, r) has the feature row
/// φ = (h_{s,a}, 0, …, s in block a, …, 0); W = λI + Σ φφᵀ, ŵ = W⁻¹ Σ rφ.
struct JointRidge {
  int k, d, n;
  Eigen::MatrixXd w;
  Eigen::VectorXd b;
  JointRidge(int k_, int d_, int n_, double lambda) : k(k_), d(d_), n(n_) {
    w = lambda * Eigen::MatrixXd::Identity(k + d * n, k + d * n);
    b = Eigen::VectorXd::Zero(k + d * n);
  }
  Eigen::VectorXd row(const Eigen::VectorXd& h, const Eigen::VectorXd& s, ItemId a) const {
    Eigen::VectorXd phi = Eigen::VectorXd::Zero(k + d * n);
    phi.head(k) = h;
    phi.segment(k + d * a, d) = s;
    return phi;
  }
  void add(const Eigen::VectorXd& phi, double r) {
    w += phi * phi.transpose();
    b += r * phi;
  }
};

}  // namespace

TEST_CASE("linucb_hybrid's beta and theta_a are the joint ridge solution, its bonus the joint variance", "[bandit]") {
  const double lambda = 0.8, alpha = 0.6;
  auto p = fitted<LinUcbHybrid>(TopicWorld::train(), 1, {{"lambda", lambda}, {"alpha", alpha}});
  const int k = p->shared_dim(), d = p->arm_dim(), n = TopicWorld::kItems;
  REQUIRE(k == 6);
  REQUIRE(d == 4);
  JointRidge joint(k, d, n, lambda);
  Rng rng(17);
  Eigen::VectorXd s(d), h;
  for (int t = 0; t < 300; ++t) {
    for (int j = 0; j < d - 1; ++j) s[j] = rng.uniform();
    s[d - 1] = 1.0;
    const ItemId a = static_cast<ItemId>(rng.below(5));  // items 5..11 never observed
    const double r = rng.uniform() < 0.3 ? 1.0 : 0.0;
    p->update(s, a, r);
    p->shared_features(a, s, h);
    joint.add(joint.row(h, s, a), r);
  }
  const Eigen::VectorXd w_hat = joint.w.ldlt().solve(joint.b);
  CHECK((p->beta() - w_hat.head(k)).cwiseAbs().maxCoeff() < 1e-9);
  for (ItemId a = 0; a < n; ++a) {
    INFO("item " << a);
    CHECK((p->theta(a) - w_hat.segment(k + d * a, d)).cwiseAbs().maxCoeff() < 1e-9);
  }
  // p_a = φᵀŵ + α sqrt(φᵀW⁻¹φ) for fresh contexts, observed items or not.
  const Eigen::MatrixXd w_inv = joint.w.inverse();
  for (ItemId a : {0, 3, 7}) {
    for (int j = 0; j < d - 1; ++j) s[j] = rng.uniform();
    p->shared_features(a, s, h);
    const Eigen::VectorXd phi = joint.row(h, s, a);
    const double expected = phi.dot(w_hat) + alpha * std::sqrt(phi.dot(w_inv * phi));
    INFO("item " << a);
    CHECK(p->acting_score(a, s) == Approx(expected).epsilon(1e-9));
  }
}

TEST_CASE("linucb_hybrid's warm start equals observing the logged clicks online in time order", "[bandit]") {
  auto warm = fitted<LinUcbHybrid>(TopicWorld::train(kTimedLogs), 1, {{"lambda", 2.0}});
  auto cold = fitted<LinUcbHybrid>(TopicWorld::train(), 1, {{"lambda", 2.0}});
  observe_clicks_online(*cold, kTimedClicks);
  CHECK((warm->beta() - cold->beta()).cwiseAbs().maxCoeff() < 1e-12);
  for (ItemId a = 0; a < TopicWorld::kItems; ++a) CHECK((warm->theta(a) - cold->theta(a)).cwiseAbs().maxCoeff() < 1e-12);
  Eigen::VectorXd zw, zc;
  warm->context(0, zw);
  cold->context(0, zc);
  CHECK(zw.isApprox(zc));
  CHECK(zw.isApprox(Eigen::Vector4d(0, 2.0 / 3, 1.0 / 3, 1)));  // user 0 clicked topics 2, 1, 1
}

TEST_CASE("linucb_hybrid learns both per-user topic tastes and per-item rates", "[bandit]") {
  const TrainData d = TopicWorld::train();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    auto topics = fitted<LinUcbHybrid>(d, seed, {{"alpha", 0.3}});
    auto items = fitted<LinUcbHybrid>(d, seed, {{"alpha", 0.3}});
    const double r_topics = simulate(topics.get(), 400, seed).regret;
    const double r_items = simulate_with(items.get(), 400, seed, good_item_prob).regret;
    const double random_topics = simulate(nullptr, 400, seed).regret;
    const double random_items = simulate_with(nullptr, 400, seed, good_item_prob).regret;
    INFO("regret: topic world " << r_topics << " (random " << random_topics << "), item world " << r_items
                                << " (random " << random_items << ")");
    CHECK(r_topics < 0.5 * random_topics);
    CHECK(r_items < 0.5 * random_items);
  }
}

TEST_CASE("linucb_hybrid: propensity 1 for its own slate, 0 otherwise, and the same seed gives the same actions", "[bandit]") {
  auto p = fitted<LinUcbHybrid>(TopicWorld::train(kTimedLogs), 1, {{"alpha", 0.5}});
  const std::vector<UserId> users{0, 2};
  const std::vector<ItemId> cands{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<ItemId> slates(4);
  p->act(users, cands, 4, 2, slates);
  std::vector<double> prop(2);
  p->propensity(users, cands, 4, 2, slates, prop);
  CHECK(prop == std::vector<double>{1.0, 1.0});
  std::swap(slates[0], slates[1]);
  p->propensity(users, cands, 4, 2, slates, prop);
  CHECK(prop[0] == 0.0);
  CHECK(prop[1] == 1.0);
  const Run a = simulate(fitted<LinUcbHybrid>(TopicWorld::train(), 7).get(), 50, 7);
  const Run b = simulate(fitted<LinUcbHybrid>(TopicWorld::train(), 7).get(), 50, 7);
  CHECK(a.actions == b.actions);
}

TEST_CASE("linucb_hybrid from clicks only ranks a never-clicked two-attribute item first and warm_negatives ranks it below both popular items", "[bandit]") {
  // Items 0, 2, 3 have attribute A, 1, 4, 5 attribute B, 6 both. Every user
  // clicks 0 then 1; users 0-3 also one of 2-5 each; nobody clicks 6.
  std::vector<Interaction> logs;
  for (UserId u = 0; u < 8; ++u) {
    logs.push_back({u, 0, 1.0f, 10 * u + 1});
    logs.push_back({u, 1, 1.0f, 10 * u + 2});
    if (u < 4) logs.push_back({u, 2 + u, 1.0f, 10 * u + 3});
  }
  TrainData d = make_train_data(8, 7, logs, false);
  CsrMatrix& f = d.item_features.matrix;
  f.rows = 7;
  f.cols = 2;
  f.indptr.assign(1, 0);
  for (const std::vector<std::int32_t>& attrs : std::vector<std::vector<std::int32_t>>{{0}, {1}, {0}, {0}, {1}, {1}, {0, 1}}) {
    for (const std::int32_t j : attrs) f.indices.push_back(j), f.values.push_back(1.0f);
    f.indptr.push_back(f.nnz());
  }
  d.item_features.names = {"A", "B"};
  const std::vector<UserId> user{7};
  std::vector<float> s(7);
  // Positive targets only: items 0 and 1 are held at ~1 by their own θ̂, item
  // 6 gets β̂_A + β̂_B (joint ridge solution: 1.02, 0.94 and 1.28).
  fitted<LinUcbHybrid>(d, 1)->score_all(user, s);
  CHECK(s[6] > s[0]);
  CHECK(s[6] > s[1]);
  // Non-clicks teach that item 6 is not clicked (margin >= 0.49 over 300
  // draws of the negatives in a direct solve).
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    fitted<LinUcbHybrid>(d, seed, {{"warm_negatives", std::int64_t{2}}})->score_all(user, s);
    CHECK(s[0] > s[6]);
    CHECK(s[1] > s[6]);
  }
}

TEST_CASE("linucb_hybrid's warm start with negatives equals observing each click with its draws shown", "[bandit]") {
  const TrainData logged = TopicWorld::train(kTimedLogs);
  auto warm = fitted<LinUcbHybrid>(logged, 6, {{"lambda", 2.0}, {"warm_negatives", std::int64_t{2}}});
  auto cold = fitted<LinUcbHybrid>(TopicWorld::train(), 6, {{"lambda", 2.0}});
  UnclickedSampler sampler(logged, 2, 6, "linucb_hybrid");
  observe_with_negatives(*cold, sampler, 2, kTimedClicks);
  CHECK((warm->beta() - cold->beta()).cwiseAbs().maxCoeff() < 1e-12);
  for (ItemId a = 0; a < TopicWorld::kItems; ++a) CHECK((warm->theta(a) - cold->theta(a)).cwiseAbs().maxCoeff() < 1e-12);
  auto plain = fitted<LinUcbHybrid>(logged, 6, {{"lambda", 2.0}});
  CHECK((plain->beta() - warm->beta()).cwiseAbs().maxCoeff() > 1e-6);
}

TEST_CASE("linucb_hybrid without item features is refused by name", "[bandit]") {
  TrainData d = TopicWorld::train();
  d.item_features = {};
  auto p = make<LinUcbHybrid>();
  CHECK_THROWS_WITH(p->fit(d, FitContext{}), Catch::Contains("linucb_hybrid: needs item features"));
}
