// Algorithm-specific checks of the `baseline` library, against values worked
// by hand or by a direct transcription of the reference implementation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <omp.h>

#include "conformance_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

std::vector<ItemId> top_items(Recommender& r, UserId u, int k, SparseRowsView exclude = {}) {
  std::vector<ItemId> items(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  r.recommend(std::vector<UserId>{u}, k, exclude, items, scores);
  return items;
}

}  // namespace

TEST_CASE("popularity ranks by training user count with ties by item id", "[baseline]") {
  // item: 0 1 2 3 4
  // users 3 1 3 2 0   -> order 0, 2 (tie, smaller id first), 3, 1, 4
  const TrainData d = make_train_data(4, 5,
                                      {{0, 0}, {1, 0}, {2, 0}, {3, 1}, {0, 2}, {1, 2}, {3, 2},
                                       {2, 3}, {3, 3}},
                                      false);
  auto r = fit_algorithm("popularity", d);
  CHECK(top_items(*r, 1, 5) == std::vector<ItemId>{0, 2, 3, 1, 4});
  CHECK(score_pairs(*r, {0, 1, 2, 3, 0}, {0, 1, 2, 3, 4}) == std::vector<float>{3, 1, 3, 2, 0});
  CHECK(r->model_bytes() == 5 * sizeof(float));
}

TEST_CASE("popularity with recent_days counts only the last days", "[baseline]") {
  constexpr std::int64_t day = 86400, t0 = 1'600'000'000;
  // Item 0 was popular long ago; item 1 holds the last two days.
  const TrainData d = make_train_data(3, 2,
                                      {{0, 0, 1, t0}, {1, 0, 1, t0 + day}, {2, 0, 1, t0 + 2 * day},
                                       {0, 1, 1, t0 + 9 * day}, {1, 1, 1, t0 + 10 * day}},
                                      false);
  auto all = fit_algorithm("popularity", d);
  CHECK(score_pairs(*all, {0, 0}, {0, 1}) == std::vector<float>{3, 2});
  // cutoff = t0 + 10d - 2d = t0 + 8d: item 0 has none, item 1 both.
  auto recent = fit_algorithm("popularity", d, {{"recent_days", std::int64_t{2}}});
  CHECK(score_pairs(*recent, {0, 0}, {0, 1}) == std::vector<float>{0, 2});
}

TEST_CASE("random scores are a pure function of seed and user and item", "[baseline]") {
  const TrainData d = synthetic_train_data();
  auto a = fit_algorithm("random", d, {}, 5);
  auto b = fit_algorithm("random", d, {}, 6);
  const std::vector<UserId> u{0, 0, 1, 29, 0};
  const std::vector<ItemId> i{0, 1, 0, 39, 0};
  const auto sa = score_pairs(*a, u, i);
  CHECK(sa == score_pairs(*a, u, i));
  CHECK(sa[0] == sa[4]);
  CHECK(sa[0] != sa[1]);
  CHECK(sa[0] != sa[2]);
  for (float s : sa) {
    CHECK(s >= 0.0f);
    CHECK(s < 1.0f);
  }
  CHECK(sa != score_pairs(*b, u, i));  // another seed, another permutation
  // Roughly uniform: the mean of 1200 scores is near 1/2.
  std::vector<float> row(static_cast<std::size_t>(30 * 40));
  std::vector<UserId> users(30);
  for (UserId k = 0; k < 30; ++k) users[static_cast<std::size_t>(k)] = k;
  a->score_all(users, row);
  double mean = 0;
  for (float s : row) mean += s;
  CHECK(mean / row.size() == Approx(0.5).margin(0.05));
  CHECK(a->model_bytes() == 0);
}

namespace {

/// Surprise's baseline_als (optimize_baselines.pyx), transcribed: items
/// first, then users, each epoch, from zero biases.
struct SurpriseBaseline {
  double mu = 0;
  std::vector<double> bu, bi;
};
SurpriseBaseline surprise_als(const std::vector<Interaction>& r, int n_users, int n_items,
                              double reg_i, double reg_u, int epochs) {
  SurpriseBaseline b;
  for (const auto& x : r) b.mu += x.value;
  b.mu /= static_cast<double>(r.size());
  b.bu.assign(static_cast<std::size_t>(n_users), 0.0);
  b.bi.assign(static_cast<std::size_t>(n_items), 0.0);
  for (int e = 0; e < epochs; ++e) {
    for (int i = 0; i < n_items; ++i) {
      double dev = 0;
      int n = 0;
      for (const auto& x : r)
        if (x.item == i) { dev += x.value - b.mu - b.bu[static_cast<std::size_t>(x.user)]; ++n; }
      b.bi[static_cast<std::size_t>(i)] = dev / (reg_i + n);
    }
    for (int u = 0; u < n_users; ++u) {
      double dev = 0;
      int n = 0;
      for (const auto& x : r)
        if (x.user == u) { dev += x.value - b.mu - b.bi[static_cast<std::size_t>(x.item)]; ++n; }
      b.bu[static_cast<std::size_t>(u)] = dev / (reg_u + n);
    }
  }
  return b;
}

}  // namespace

TEST_CASE("baseline_only matches Surprise's ALS biases and clips predictions", "[baseline]") {
  // μ = (5+5+5+3+1+1)/6 = 10/3. User 3 and item 3 have no ratings, so
  // score(3, 3) = μ exactly. With small regularisation r̂(0, 0) ≈ 5.216 > 5,
  // which predict_rating must clip to the training maximum 5.
  const std::vector<Interaction> r{{0, 0, 5}, {0, 1, 5}, {1, 0, 5}, {1, 1, 3}, {1, 2, 1}, {2, 2, 1}};
  const TrainData d = make_train_data(4, 4, r, true);
  for (auto [reg_i, reg_u, epochs] : {std::tuple{0.5, 0.5, 10}, std::tuple{10.0, 15.0, 10},
                                      std::tuple{2.0, 1.0, 1}}) {
    INFO("reg_i " << reg_i << " reg_u " << reg_u << " epochs " << epochs);
    auto m = fit_algorithm("baseline_only", d,
                           {{"reg_i", reg_i}, {"reg_u", reg_u}, {"epochs", std::int64_t{epochs}}});
    const SurpriseBaseline ref = surprise_als(r, 4, 4, reg_i, reg_u, epochs);
    CHECK(ref.mu == Approx(10.0 / 3.0));
    std::vector<UserId> us;
    std::vector<ItemId> is;
    for (UserId u = 0; u < 4; ++u)
      for (ItemId i = 0; i < 4; ++i) { us.push_back(u); is.push_back(i); }
    const auto scores = score_pairs(*m, us, is);
    std::vector<float> pred(us.size());
    m->predict_rating(us, is, pred);
    for (std::size_t p = 0; p < us.size(); ++p) {
      INFO("pair (" << us[p] << ", " << is[p] << ")");
      const double want = ref.mu + ref.bu[static_cast<std::size_t>(us[p])] +
                          ref.bi[static_cast<std::size_t>(is[p])];
      CHECK(scores[p] == Approx(want).epsilon(1e-6));
      CHECK(pred[p] == Approx(std::clamp(want, 1.0, 5.0)).epsilon(1e-6));
    }
    CHECK(scores[15] == Approx(10.0 / 3.0).epsilon(1e-7));
    if (reg_i == 0.5) {
      CHECK(scores[0] == Approx(5.2162).margin(1e-3));  // worked in Python from the same recipe
      CHECK(pred[0] == 5.0f);
    }
  }
}

TEST_CASE("learned baselines do not depend on the thread count", "[baseline][knn]") {
  const TrainData d = synthetic_train_data();
  std::vector<UserId> users(30);
  for (UserId u = 0; u < 30; ++u) users[static_cast<std::size_t>(u)] = u;
  for (const char* name : {"random", "popularity", "baseline_only", "item_knn", "user_knn"}) {
    INFO("algorithm " << name);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    auto one = fit_algorithm(name, d);
    std::vector<float> a(30 * 40), b(30 * 40);
    one->score_all(users, a);
    omp_set_num_threads(4);
    auto four = fit_algorithm(name, d);
    four->score_all(users, b);
    omp_set_num_threads(saved);
    CHECK(a == b);
  }
}

TEST_CASE("baseline and knn algorithms report one progress line per fit", "[baseline][knn]") {
  struct Lines final : ProgressSink {
    std::vector<std::string> lines;
    void report(std::string_view line) override { lines.emplace_back(line); }
  };
  const TrainData d = synthetic_train_data();
  for (const char* name : {"random", "popularity", "baseline_only", "item_knn", "user_knn"}) {
    INFO("algorithm " << name);
    const AlgorithmHandle a = plugin_registry().find(name);
    RecommenderPtr r = create_recommender(a, params_for(a));
    Lines sink;
    FitContext ctx;
    ctx.seed = 1;
    ctx.progress = &sink;
    r->fit(d, ctx);
    REQUIRE(sink.lines.size() == 1);
    CHECK(sink.lines[0].rfind(std::string(name) + ":", 0) == 0);  // names the algorithm
  }
}
