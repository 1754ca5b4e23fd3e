// Algorithm-specific checks of the `mf_explicit` library's sgd_mf and svdpp,
// on the classes from the plugin headers directly (als_explicit:
// test_als_explicit.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <omp.h>
#include <tuple>

#include "conformance_support.hpp"
#include "mf_explicit_support.hpp"
#include "plugins/mf_explicit/sgd_mf.hpp"
#include "plugins/mf_explicit/svdpp.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::mf;


TEST_CASE("sgd_mf: one epoch on a 2x2 example matches the updates worked by hand", "[mf_explicit]") {
  // Ratings (u0,i0)=4, (u0,i1)=2, (u1,i0)=5, visited in that order
  // (shuffle = false); f = 1, p = q = 0.1 (init_std 0), γ = λ = 0.1, μ = 11/3.
  //  (u0,i0): e = 4 − (11/3 + 0.01) = 0.3233333
  //           b_u0 = b_i0 = 0.1·e = 0.0323333;  p0 = q0 = 0.1 + 0.1(0.1e − 0.01) = 0.1022333
  //  (u0,i1): e = 2 − (11/3 + 0.0323333 + 0 + 0.1022333·0.1) = −1.7092233
  //           b_u0 = 0.0323333 + 0.1(e − 0.1·0.0323333) = −0.1389123
  //           b_i1 = 0.1e = −0.1709223
  //           p0 = 0.1022333 + 0.1(0.1e − 0.1·0.1022333) = 0.0841188
  //           q1 = 0.1 + 0.1(0.1022333e − 0.01) = 0.0815260
  //  (u1,i0): e = 5 − (11/3 + 0 + 0.0323333 + 0.1·0.1022333) = 1.2907767
  //           b_u1 = 0.1e = 0.1290777;  b_i0 = 0.0323333 + 0.1(e − 0.00323333) = 0.1610877
  //           p1 = 0.1 + 0.1(0.1022333e − 0.01) = 0.1121960
  //           q0 = 0.1022333 + 0.1(0.1e − 0.01022333) = 0.1141188
  const TrainData d = make_train_data(2, 2, {{0, 0, 4}, {0, 1, 2}, {1, 0, 5}}, true);
  auto m = fitted<SgdMfRecommender>(d, {{"factors", std::int64_t{1}}, {"epochs", std::int64_t{1}},
                                        {"lr", 0.1}, {"reg", 0.1}, {"init_std", 0.0},
                                        {"init_mean", 0.1}, {"shuffle", false}});
  CHECK(m.user_bias()[0] == Approx(-0.1389123).margin(1e-6));
  CHECK(m.user_bias()[1] == Approx(0.1290777).margin(1e-6));
  CHECK(m.item_bias()[0] == Approx(0.1610877).margin(1e-6));
  CHECK(m.item_bias()[1] == Approx(-0.1709223).margin(1e-6));
  CHECK(m.user_factors()(0, 0) == Approx(0.0841188).margin(1e-6));
  CHECK(m.user_factors()(1, 0) == Approx(0.1121960).margin(1e-6));
  CHECK(m.item_factors()(0, 0) == Approx(0.1141188).margin(1e-6));
  CHECK(m.item_factors()(1, 0) == Approx(0.0815260).margin(1e-6));
  // r̂(u1, i1) = μ + b_u1 + b_i1 + p1 q1, unseen in training.
  CHECK(m.predict_one(1, 1) ==
        Approx(11.0 / 3 + 0.1290777 - 0.1709223 + 0.1121960 * 0.0815260).margin(1e-5));
}

TEST_CASE("sgd_mf: training RMSE falls over epochs to near the noise floor", "[mf_explicit]") {
  const TrainData d = low_rank(80, 60, 0.5, 0.1, 3);
  const std::map<std::string, ParamValue> base{{"factors", std::int64_t{8}}, {"lr", 0.02},
                                               {"reg", 0.005}, {"init_std", 0.1}};
  double previous = 1e9;
  for (std::int64_t epochs : {1, 10, 50, 300}) {
    auto params = base;
    params["epochs"] = epochs;
    auto m = fitted<SgdMfRecommender>(d, params);
    const double rmse = train_rmse(m, d);
    CHECK(rmse < previous);
    previous = rmse;
  }
  // The noise is N(0, 0.1²): a rank-3 fit leaves about 0.1 on the training set.
  CHECK(previous < 0.15);
}

TEST_CASE("sgd_mf: the unbiased variant keeps zero biases and predicts p·q", "[mf_explicit]") {
  const TrainData d = synthetic_train_data();
  auto m = fitted<SgdMfRecommender>(d, {{"biased", false}, {"factors", std::int64_t{4}},
                                        {"epochs", std::int64_t{5}}});
  for (float b : m.user_bias()) CHECK(b == 0.0f);
  for (float b : m.item_bias()) CHECK(b == 0.0f);
  const float pq = m.user_factors().row(3).dot(m.item_factors().row(5));
  std::vector<float> s(1);
  m.score(std::vector<UserId>{3}, std::vector<ItemId>{5}, s);
  CHECK(s[0] == Approx(pq).margin(1e-6));
}

TEST_CASE("sgd_mf and svdpp: the same seed gives the same model, another seed another",
          "[mf_explicit]") {
  const TrainData d = synthetic_train_data();
  const std::map<std::string, ParamValue> p{{"factors", std::int64_t{6}}, {"epochs", std::int64_t{4}}};
  auto a = fitted<SgdMfRecommender>(d, p, 5), b = fitted<SgdMfRecommender>(d, p, 5),
       c = fitted<SgdMfRecommender>(d, p, 6);
  CHECK(a.user_factors() == b.user_factors());
  CHECK(a.item_bias() == b.item_bias());
  CHECK(a.user_factors() != c.user_factors());
  auto x = fitted<SvdppRecommender>(d, p, 5), y = fitted<SvdppRecommender>(d, p, 5);
  CHECK(x.implicit_factors() == y.implicit_factors());
  CHECK(x.user_bias() == y.user_bias());
}

TEST_CASE("sgd_epoch: the paired kernel equals one rating at a time in double precision",
          "[mf_explicit]") {
  // Runs of ratings that share a user (never paired), that share an item
  // (never paired) and that share neither (paired): a pair computed with a
  // stale row would be off by about γ e q ≈ 1e-3 here.
  const int f = 21, n_users = 7, n_items = 9;
  std::vector<Rating> ratings;
  Rng rng(3);
  for (int k = 0; k < 400; ++k) {
    const auto u = static_cast<std::int32_t>(k % 40 < 10 ? 2 : rng.below(n_users));
    const auto i = static_cast<std::int32_t>(k % 40 >= 10 && k % 40 < 20 ? 4 : rng.below(n_items));
    ratings.push_back({u, i, static_cast<float>(1 + rng.below(5))});
  }
  RowMatrixF P0(n_users, f), Q0(n_items, f);
  normal_init(P0, 0.0, 0.3, 1);
  normal_init(Q0, 0.0, 0.3, 2);
  PaddedRows P(P0), Q(Q0);
  std::vector<float> bu(n_users, 0.1f), bi(n_items, -0.2f);
  SgdStep step;
  step.lr = 0.05f;
  step.reg = 0.1f;
  step.lr_bias = 0.03f;
  step.reg_bias = 0.2f;
  step.mu = 3.5f;
  step.factors = f;
  step.stride = P.stride();
  CHECK(P.stride() == 32);
  const double se = sgd_epoch(step, ratings.data(), ratings.size(), P.data(), Q.data(), bu.data(), bi.data());

  Eigen::MatrixXd p = P0.cast<double>(), q = Q0.cast<double>();
  std::vector<double> rbu(n_users, 0.1), rbi(n_items, -0.2);
  double rse = 0.0;
  for (const Rating& t : ratings) {
    const double e = t.r - (3.5 + rbu[t.u] + rbi[t.i] + p.row(t.u).dot(q.row(t.i)));
    rse += e * e;
    rbu[t.u] += 0.03 * (e - 0.2 * rbu[t.u]);
    rbi[t.i] += 0.03 * (e - 0.2 * rbi[t.i]);
    const Eigen::RowVectorXd pu = p.row(t.u), qi = q.row(t.i);
    p.row(t.u) += 0.05 * (e * qi - 0.1 * pu);
    q.row(t.i) += 0.05 * (e * pu - 0.1 * qi);
  }
  CHECK(se == Approx(rse).epsilon(1e-4));
  RowMatrixF got_p, got_q;
  P.copy_to(got_p);
  Q.copy_to(got_q);
  CHECK((got_p.cast<double>() - p).cwiseAbs().maxCoeff() < 2e-5);
  CHECK((got_q.cast<double>() - q).cwiseAbs().maxCoeff() < 2e-5);
  for (int u = 0; u < n_users; ++u) CHECK(bu[static_cast<std::size_t>(u)] == Approx(rbu[u]).margin(2e-5));
  for (int i = 0; i < n_items; ++i) CHECK(bi[static_cast<std::size_t>(i)] == Approx(rbi[i]).margin(2e-5));
  for (int c = f; c < P.stride(); ++c) CHECK(P.row(3)[c] == 0.0f);  // padding untouched
}

TEST_CASE("make_sgd_grid: contiguous balanced id ranges, every rating in its one block",
          "[mf_explicit]") {
  const TrainData d = low_rank(50, 40, 0.4, 0.1, 8);
  RatingStats stats;
  const std::vector<Rating> ratings = collect_ratings(d.by_user, stats);
  const int k = 4;
  const SgdGrid g = make_sgd_grid(ratings, 50, 40, k);
  REQUIRE(g.offset.size() == static_cast<std::size_t>(k * k + 1));
  REQUIRE(g.ratings.size() == ratings.size());
  std::vector<int> row_of(50, -1), col_of(40, -1);
  std::vector<std::size_t> row_total(k), col_total(k);
  for (int b = 0; b < k * k; ++b)
    for (std::size_t j = g.offset[b]; j < g.offset[b + 1]; ++j) {
      const Rating& t = g.ratings[j];
      // A user (item) lives in one row (column) block only.
      CHECK((row_of[t.u] == -1 || row_of[t.u] == b / k));
      CHECK((col_of[t.i] == -1 || col_of[t.i] == b % k));
      row_of[t.u] = b / k;
      col_of[t.i] = b % k;
      ++row_total[b / k];
      ++col_total[b % k];
    }
  for (int u = 1; u < 50; ++u)
    if (row_of[u] >= 0 && row_of[u - 1] >= 0) CHECK(row_of[u] >= row_of[u - 1]);  // contiguous
  for (int i = 1; i < 40; ++i)
    if (col_of[i] >= 0 && col_of[i - 1] >= 0) CHECK(col_of[i] >= col_of[i - 1]);
  // Each range closes within one id's ratings of its share n/k.
  const double share = static_cast<double>(ratings.size()) / k;
  for (int r = 0; r < k; ++r) {
    CHECK(std::abs(static_cast<double>(row_total[r]) - share) <= 40);
    CHECK(std::abs(static_cast<double>(col_total[r]) - share) <= 50);
  }
  auto sorted = [](std::vector<Rating> v) {
    std::sort(v.begin(), v.end(), [](const Rating& a, const Rating& b) { return std::tie(a.u, a.i) < std::tie(b.u, b.i); });
    return v;
  };
  const auto a = sorted(ratings), b = sorted(g.ratings);
  for (std::size_t j = 0; j < a.size(); ++j) {
    CHECK(a[j].u == b[j].u);
    CHECK(a[j].i == b[j].i);
    CHECK(a[j].r == b[j].r);
  }
}

TEST_CASE("sgd_mf parallel: the same model for 1, 2 and 3 threads, and it learns", "[mf_explicit]") {
  const TrainData d = low_rank(80, 60, 0.5, 0.1, 3);
  for (bool shuffle : {true, false}) {
    const std::map<std::string, ParamValue> p{{"factors", std::int64_t{8}}, {"lr", 0.02},
                                              {"reg", 0.005}, {"epochs", std::int64_t{300}},
                                              {"parallel", true}, {"blocks", std::int64_t{4}},
                                              {"shuffle", shuffle}};
    auto one = fitted<SgdMfRecommender>(d, p, 5, 1), two = fitted<SgdMfRecommender>(d, p, 5, 2),
         three = fitted<SgdMfRecommender>(d, p, 5, 3);
    CHECK(one.user_factors() == two.user_factors());
    CHECK(one.item_factors() == three.item_factors());
    CHECK(one.user_bias() == two.user_bias());
    CHECK(one.item_bias() == three.item_bias());
    // Every rating is visited each epoch: the fit reaches the noise floor
    // as the serial one does (test above).
    CHECK(train_rmse(two, d) < 0.15);
  }
}

TEST_CASE("normal_init: N(mean, std²) moments, the same values for any thread count",
          "[mf_explicit]") {
  RowMatrixF a(300, 101), b(300, 101);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  normal_init(a, 0.5, 2.0, 9);
  omp_set_num_threads(2);
  normal_init(b, 0.5, 2.0, 9);
  omp_set_num_threads(threads);
  CHECK(a == b);
  const double n = static_cast<double>(a.size());
  const double mean = a.cast<double>().sum() / n;
  const double var = (a.cast<double>().array() - mean).square().sum() / n;
  CHECK(mean == Approx(0.5).margin(0.03));  // 4 standard errors of 2/sqrt(30300)
  CHECK(std::sqrt(var) == Approx(2.0).margin(0.04));
  // The two values of a Box–Muller pair are uncorrelated: columns 0 and 1.
  const Eigen::VectorXd c0 = a.col(0).cast<double>().array() - 0.5, c1 = a.col(1).cast<double>().array() - 0.5;
  CHECK(std::abs(c0.dot(c1) / (c0.norm() * c1.norm())) < 0.25);
}

TEST_CASE("sgd_mf and svdpp: a user or item without training ratings has zero factors, so it scores μ + b_u",
          "[mf_explicit]") {
  // User 2 and item 3 have no training rating: SGD never moves their rows,
  // which would otherwise keep their N(0, 0.1²) initial values.
  const TrainData d = make_train_data(3, 4, {{0, 0, 4}, {0, 1, 2}, {1, 0, 5}, {1, 2, 3}, {0, 2, 1}}, true);
  const double mu = (4.0 + 2 + 5 + 3 + 1) / 5;
  const std::map<std::string, ParamValue> p{{"factors", std::int64_t{4}}, {"epochs", std::int64_t{3}}};
  const auto check = [&](auto& m) {
    CHECK(m.user_factors().row(2).isZero(0.0f));
    CHECK(m.item_factors().row(3).isZero(0.0f));
    CHECK(!m.user_factors().row(0).isZero(0.0f));
    CHECK(!m.item_factors().row(2).isZero(0.0f));
    CHECK(m.item_bias()[3] == 0.0f);
    std::vector<float> s(2);
    m.score(std::vector<UserId>{0, 2}, std::vector<ItemId>{3, 3}, s);
    CHECK(s[0] == Approx(mu + m.user_bias()[0]).margin(1e-6));
    CHECK(s[1] == Approx(mu).margin(1e-6));
  };
  auto sgd = fitted<SgdMfRecommender>(d, p);
  check(sgd);
  auto pp = fitted<SvdppRecommender>(d, p);
  check(pp);
  CHECK(pp.implicit_factors().row(3).isZero(0.0f));
}

TEST_CASE("predict_rating clips to the training rating range, score does not", "[mf_explicit]") {
  // With γ = 0 the model stays at its initialisation: unbiased, f = 1 and
  // p = q = c everywhere gives r̂ = c², outside the training range [1, 5].
  const TrainData d = make_train_data(2, 3, {{0, 0, 1}, {0, 1, 5}, {1, 2, 3}}, true);
  for (const auto& [c, expect] : std::vector<std::pair<double, float>>{{3.0, 5.0f}, {0.5, 1.0f}}) {
    auto m = fitted<SgdMfRecommender>(d, {{"factors", std::int64_t{1}}, {"epochs", std::int64_t{1}},
                                          {"lr", 0.0}, {"biased", false}, {"init_std", 0.0},
                                          {"init_mean", c}});
    std::vector<UserId> users{0, 1};
    std::vector<ItemId> items{2, 0};
    std::vector<float> raw(2), clipped(2);
    m.score(users, items, raw);
    m.predict_rating(users, items, clipped);
    CHECK(raw[0] == Approx(c * c));
    CHECK(raw[1] == Approx(c * c));
    CHECK(clipped == std::vector<float>{expect, expect});
  }
}

TEST_CASE("svdpp: two epochs equal Koren's per-rating updates done directly", "[mf_explicit]") {
  // The reference is Surprise's SVDpp.sgd loop in double precision: for
  // every rating it recomputes the implicit sum from the y_j and steps every
  // y_j of the user at once, y_j += γ(e s q_i − λ y_j). The plugin carries
  // the sum along and writes the y_j once per user; a plugin that froze the
  // sum for the user's pass, or batched the y_j steps, differs by ~1e-3.
  const TrainData d = make_train_data(3, 4,
                                      {{0, 0, 4}, {0, 1, 2}, {0, 3, 5}, {1, 1, 3}, {1, 2, 1},
                                       {2, 0, 5}, {2, 2, 2}, {2, 3, 4}},
                                      true);
  const int f = 3, epochs = 2;
  const double lr = 0.05, reg = 0.1;
  const std::uint64_t seed = 9;
  auto m = fitted<SvdppRecommender>(d, {{"factors", std::int64_t{f}}, {"epochs", std::int64_t{epochs}},
                                        {"lr", lr}, {"reg", reg}, {"shuffle", false}},
                                    seed);
  RowMatrixF P0(3, f), Q0(4, f), Y0(4, f);
  normal_init(P0, 0.0, 0.1, derive_seed(seed, "svdpp_init_p"));
  normal_init(Q0, 0.0, 0.1, derive_seed(seed, "svdpp_init_q"));
  normal_init(Y0, 0.0, 0.1, derive_seed(seed, "svdpp_init_y"));
  Eigen::MatrixXd P = P0.cast<double>(), Q = Q0.cast<double>(), Y = Y0.cast<double>();
  std::vector<double> bu(3, 0.0), bi(4, 0.0);
  const double mu = 26.0 / 8;
  for (int epoch = 0; epoch < epochs; ++epoch)
    for (std::int32_t u = 0; u < 3; ++u) {
      const auto items = d.by_user.row(u);
      const auto values = d.by_user.row_values(u);
      const double s = 1.0 / std::sqrt(static_cast<double>(items.size()));
      for (std::size_t k = 0; k < items.size(); ++k) {
        const ItemId i = items[k];
        double pred = mu + bu[static_cast<std::size_t>(u)] + bi[static_cast<std::size_t>(i)];
        for (int c = 0; c < f; ++c) {
          double implicit = 0.0;
          for (ItemId j : items) implicit += Y(j, c);
          pred += Q(i, c) * (P(u, c) + s * implicit);
        }
        const double e = values[k] - pred;
        Eigen::VectorXd z = Eigen::VectorXd::Zero(f);
        for (ItemId j : items) z += s * Y.row(j).transpose();
        bu[static_cast<std::size_t>(u)] += lr * (e - reg * bu[static_cast<std::size_t>(u)]);
        bi[static_cast<std::size_t>(i)] += lr * (e - reg * bi[static_cast<std::size_t>(i)]);
        const Eigen::VectorXd p_old = P.row(u).transpose(), q_old = Q.row(i).transpose();
        P.row(u) += lr * (e * q_old - reg * p_old).transpose();
        Q.row(i) += lr * (e * (p_old + z) - reg * q_old).transpose();
        for (ItemId j : items) Y.row(j) += lr * (e * s * q_old - reg * Y.row(j).transpose()).transpose();
      }
    }
  for (int r = 0; r < 3; ++r) {
    CHECK(m.user_bias()[static_cast<std::size_t>(r)] == Approx(bu[static_cast<std::size_t>(r)]).margin(1e-5));
    for (int c = 0; c < f; ++c) CHECK(m.user_factors()(r, c) == Approx(P(r, c)).margin(1e-5));
  }
  for (int i = 0; i < 4; ++i) {
    CHECK(m.item_bias()[static_cast<std::size_t>(i)] == Approx(bi[static_cast<std::size_t>(i)]).margin(1e-5));
    for (int c = 0; c < f; ++c) {
      CHECK(m.item_factors()(i, c) == Approx(Q(i, c)).margin(1e-5));
      CHECK(m.implicit_factors()(i, c) == Approx(Y(i, c)).margin(1e-5));
    }
  }
  // Scoring uses p_u + |N(u)|^-½ Σ y_j: r̂(u1, i0), an unseen pair.
  const double z0 = (Y(1, 0) + Y(2, 0)) / std::sqrt(2.0), z1 = (Y(1, 1) + Y(2, 1)) / std::sqrt(2.0),
               z2 = (Y(1, 2) + Y(2, 2)) / std::sqrt(2.0);
  const double expect = mu + bu[1] + bi[0] + Q(0, 0) * (P(1, 0) + z0) + Q(0, 1) * (P(1, 1) + z1) +
                        Q(0, 2) * (P(1, 2) + z2);
  std::vector<float> s(1);
  m.score(std::vector<UserId>{1}, std::vector<ItemId>{0}, s);
  CHECK(s[0] == Approx(expect).margin(1e-5));
}
