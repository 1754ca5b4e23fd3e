// Algorithm-specific checks of the `mf_implicit` library (ials, bpr, ease),
// against independent dense computations in double on tiny problems.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "../../plugins/mf_implicit/bpr.hpp"
#include "../../plugins/mf_implicit/ease.hpp"
#include "recfuse/ials_solver.hpp"
#include "conformance_support.hpp"
#include "mf_test_support.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// Dense confidence (c_ui, 1 off the observed pairs) and preference matrices.
void dense_cp(const IalsRows& conf, Eigen::Index cols, Eigen::MatrixXd& c, Eigen::MatrixXd& p) {
  c = Eigen::MatrixXd::Ones(conf.rows, cols);
  p = Eigen::MatrixXd::Zero(conf.rows, cols);
  for (std::int32_t u = 0; u < conf.rows; ++u)
    for (std::int64_t k = conf.indptr[u]; k < conf.indptr[u + 1]; ++k) {
      c(u, conf.indices[static_cast<std::size_t>(k)]) = conf.conf[static_cast<std::size_t>(k)];
      p(u, conf.indices[static_cast<std::size_t>(k)]) = 1.0;
    }
}

/// HKV eq. (3) summed over every (u, i), zeros included.
double dense_loss(const Eigen::MatrixXd& c, const Eigen::MatrixXd& p, const Eigen::MatrixXd& x,
                  const Eigen::MatrixXd& y, double reg) {
  const Eigen::MatrixXd e = p - x * y.transpose();
  return (c.array() * e.array().square()).sum() + reg * (x.squaredNorm() + y.squaredNorm());
}

const double kReg = 0.1;

}  // namespace

TEST_CASE("ials: the Cholesky half-step zeroes the gradient and CG converges to it", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  ConfidenceOptions o;
  o.alpha = 4.0;
  o.use_values = true;  // ratings 1..5: unequal confidences
  const IalsRows conf = make_confidence_rows(d.by_user, o);
  const Eigen::Index f = 6;
  const RowMatrixF y = random_factors(d.n_items, f, 3, 0.5);
  RowMatrixF x_chol = random_factors(d.n_users, f, 4, 0.1);
  RowMatrixF x_cg = x_chol;
  ials_half_step(conf, y, kReg, IalsSolver::kCholesky, 0, x_chol);
  ials_half_step(conf, y, kReg, IalsSolver::kCg, 200, x_cg);
  CHECK((x_cg - x_chol).cwiseAbs().maxCoeff() < 1e-3f * x_chol.cwiseAbs().maxCoeff());

  // ∂/∂x_u of the dense objective: −2 Σ_i c_ui (p_ui − x_uᵀy_i) y_i + 2λ x_u = 0.
  Eigen::MatrixXd c, p;
  dense_cp(conf, d.n_items, c, p);
  const Eigen::MatrixXd xd = x_chol.cast<double>(), yd = y.cast<double>();
  const Eigen::MatrixXd e = c.array() * (p - xd * yd.transpose()).array();
  const Eigen::MatrixXd grad = -2.0 * e * yd + 2.0 * kReg * xd;
  CHECK(grad.cwiseAbs().maxCoeff() < 1e-3);
  // The starting point was not optimal: its gradient is far from zero.
  const Eigen::MatrixXd x0 = random_factors(d.n_users, f, 4, 0.1).cast<double>();
  const Eigen::MatrixXd g0 =
      -2.0 * (c.array() * (p - x0 * yd.transpose()).array()).matrix() * yd + 2.0 * kReg * x0;
  CHECK(g0.cwiseAbs().maxCoeff() > 0.5);
  // The sparse loss (zeros never touched) equals the dense definition.
  CHECK(ials_loss(conf, x_chol, y, kReg) == Approx(dense_loss(c, p, xd, yd, kReg)).epsilon(1e-4));
}

TEST_CASE("ials: a few CG steps per sweep decrease the loss every iteration", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  ConfidenceOptions o;
  o.alpha = 10.0;
  const IalsRows by_user = make_confidence_rows(d.by_user, o);
  const IalsRows by_item = make_confidence_rows(d.by_item, o);
  RowMatrixF x = random_factors(d.n_users, 8, 5, 0.01), y = random_factors(d.n_items, 8, 6, 0.01);
  std::vector<double> loss{ials_loss(by_user, x, y, kReg)};
  for (int it = 0; it < 8; ++it) {
    ials_half_step(by_user, y, kReg, IalsSolver::kCg, 3, x);
    ials_half_step(by_item, x, kReg, IalsSolver::kCg, 3, y);
    loss.push_back(ials_loss(by_user, x, y, kReg));
  }
  for (std::size_t t = 1; t < loss.size(); ++t) {
    INFO("iteration " << t << ": " << loss[t - 1] << " -> " << loss[t]);
    CHECK(loss[t] <= loss[t - 1] * (1.0 + 1e-6));
  }
  CHECK(loss.back() < 0.7 * loss.front());
}

TEST_CASE("ials: log confidence follows HKV eq. 6", "[mf_implicit]") {
  const TrainData d = make_train_data(1, 2, {{0, 0, 3.0f}, {0, 1, 1.0f}}, true);
  ConfidenceOptions o;
  o.alpha = 2.0;
  o.log_scaling = true;
  o.epsilon = 0.5;
  o.use_values = true;
  const IalsRows conf = make_confidence_rows(d.by_user, o);
  CHECK(conf.conf[0] == Approx(1.0 + 2.0 * std::log(1.0 + 3.0 / 0.5)));
  CHECK(conf.conf[1] == Approx(1.0 + 2.0 * std::log(1.0 + 1.0 / 0.5)));
  o.use_values = false;  // every pair counts as r = 1
  CHECK(make_confidence_rows(d.by_user, o).conf[0] == Approx(1.0 + 2.0 * std::log(3.0)));
}

TEST_CASE("ials plugin: many CG steps recommend what the Cholesky solver does", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  const std::map<std::string, ParamValue> base{{"factors", std::int64_t{8}}, {"reg", 0.1},
                                               {"iterations", std::int64_t{5}}};
  auto cg = base, chol = base;
  cg["cg_steps"] = std::int64_t{100};
  chol["solver"] = std::string("cholesky");
  auto a = fit_algorithm("ials", d, cg, 11);
  auto b = fit_algorithm("ials", d, chol, 11);
  std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
  std::iota(users.begin(), users.end(), 0);
  std::vector<float> sa(users.size() * static_cast<std::size_t>(d.n_items)), sb(sa.size());
  a->score_all(users, sa);
  b->score_all(users, sb);
  float worst = 0.0f, scale = 0.0f;
  for (std::size_t k = 0; k < sa.size(); ++k) {
    worst = std::max(worst, std::abs(sa[k] - sb[k]));
    scale = std::max(scale, std::abs(sb[k]));
  }
  CHECK(scale > 0.1f);
  CHECK(worst < 2e-3f * scale);
  CHECK(a->model_bytes() == (30 + 40) * 8 * sizeof(float));
}

namespace {

/// Mean over users of the fraction of (positive, negative) training pairs
/// ranked in the right order.
double training_auc(Recommender& r, const TrainData& d) {
  double sum = 0;
  int users = 0;
  std::vector<float> row(static_cast<std::size_t>(d.n_items));
  for (UserId u = 0; u < d.n_users; ++u) {
    const auto pos = d.by_user.row(u);
    if (pos.empty() || static_cast<std::int32_t>(pos.size()) == d.n_items) continue;
    r.score_all(std::vector<UserId>{u}, row);
    std::int64_t right = 0, total = 0;
    for (ItemId j = 0; j < d.n_items; ++j) {
      if (std::binary_search(pos.begin(), pos.end(), j)) continue;
      for (ItemId i : pos) { right += row[static_cast<std::size_t>(i)] > row[static_cast<std::size_t>(j)]; ++total; }
    }
    sum += static_cast<double>(right) / static_cast<double>(total);
    ++users;
  }
  return sum / users;
}

}  // namespace

TEST_CASE("bpr: the training pairwise AUC rises well above chance", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  auto untrained = fit_algorithm("bpr", d, {{"epochs", std::int64_t{1}}, {"lr", 1e-6}}, 3);
  CHECK(training_auc(*untrained, d) == Approx(0.5).margin(0.15));
  auto r = fit_algorithm("bpr", d, {{"factors", std::int64_t{16}}, {"epochs", std::int64_t{200}},
                                    {"lr", 0.05}}, 3);
  CHECK(training_auc(*r, d) > 0.9);
  CHECK(r->model_bytes() == ((30 + 40) * 16 + 40) * sizeof(float));
  auto no_bias = fit_algorithm("bpr", d, {{"factors", std::int64_t{16}}, {"item_bias", false}}, 3);
  CHECK(no_bias->model_bytes() == (30 + 40) * 16 * sizeof(float));
}

TEST_CASE("bpr: single-thread mode is reproducible and the seed matters", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  const std::map<std::string, ParamValue> p{{"factors", std::int64_t{8}}, {"epochs", std::int64_t{20}}};
  auto a = fit_algorithm("bpr", d, p, 21), b = fit_algorithm("bpr", d, p, 21), c = fit_algorithm("bpr", d, p, 22);
  std::vector<UserId> users{0, 5, 29};
  std::vector<float> sa(3 * 40), sb(sa.size()), sc(sa.size());
  a->score_all(users, sa);
  b->score_all(users, sb);
  c->score_all(users, sc);
  CHECK(sa == sb);
  CHECK(sa != sc);
}

namespace {

/// The "samples skipped" fraction of a one-epoch bpr fit's progress line.
double bpr_skipped_fraction(const TrainData& d, const std::string& negatives, const std::string& collision) {
  struct Lines final : ProgressSink {
    std::vector<std::string> lines;
    void report(std::string_view l) override { lines.emplace_back(l); }
  } sink;
  BprRecommender r(defaults_of<BprRecommender>({{"factors", std::int64_t{4}}, {"epochs", std::int64_t{1}},
                                               {"lr", 1e-6}, {"samples_per_epoch", std::int64_t{200000}},
                                               {"negatives", negatives}, {"negative_collision", collision}}));
  FitContext ctx;
  ctx.seed = 5;
  ctx.progress = &sink;
  r.fit(d, ctx);
  REQUIRE(sink.lines.size() == 1);
  const std::string key = "samples skipped ";
  const auto at = sink.lines[0].find(key);
  REQUIRE(at != std::string::npos);
  return std::stod(sink.lines[0].substr(at + key.size()));
}

}  // namespace

TEST_CASE("bpr: negative_collision = skip drops the steps whose j is a positive, at the rate of the negatives' law",
          "[mf_implicit]") {
  // u0: i0 i1 i2 i3   u1: i0 i1   u2: i0 i4   u3: i0    (item counts 4 2 1 1 1)
  const TrainData d = make_train_data(4, 5, {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1}, {2, 0}, {2, 4},
                                             {3, 0}}, false);
  // A step draws (u, i) uniformly over the 9 pairs, then j: uniformly over
  // the 5 items, or as the item of a uniform pair (P(j) = count_j / 9).
  // P(skip) = Σ_u (n_u / 9) P(j ∈ I_u⁺).
  const double nnz = 9.0;
  std::vector<double> count(5, 0.0);
  for (UserId u = 0; u < 4; ++u)
    for (ItemId i : d.by_user.row(u)) count[static_cast<std::size_t>(i)] += 1.0;
  double uniform = 0.0, popularity = 0.0;
  for (UserId u = 0; u < 4; ++u) {
    const auto row = d.by_user.row(u);
    double mass = 0.0;
    for (ItemId i : row) mass += count[static_cast<std::size_t>(i)] / nnz;
    uniform += static_cast<double>(row.size()) / nnz * static_cast<double>(row.size()) / 5.0;
    popularity += static_cast<double>(row.size()) / nnz * mass;
  }
  REQUIRE(uniform == Approx(5.0 / 9.0));
  REQUIRE(popularity == Approx(58.0 / 81.0));
  // 200,000 steps: the standard error of a fraction is under 0.0012.
  CHECK(bpr_skipped_fraction(d, "uniform", "skip") == Approx(uniform).margin(0.006));
  CHECK(bpr_skipped_fraction(d, "popularity", "skip") == Approx(popularity).margin(0.006));
  // Rendle et al.'s rule draws j again: no step is lost.
  CHECK(bpr_skipped_fraction(d, "uniform", "redraw") == 0.0);
  CHECK(bpr_skipped_fraction(d, "popularity", "redraw") == 0.0);
}

TEST_CASE("ease: B is the closed form of Steck 2019 eq. 8 with a zero diagonal", "[mf_implicit]") {
  // 5 users x 4 items, binary:
  //   u0: i0 i1     u1: i0 i1 i2     u2: i1 i2     u3: i0 i3     u4: i2 i3
  const TrainData d = make_train_data(5, 4, {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2},
                                             {3, 0}, {3, 3}, {4, 2}, {4, 3}}, false);
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(5, 4);
  for (UserId u = 0; u < 5; ++u)
    for (ItemId i : d.by_user.row(u)) x(u, i) = 1.0;
  const double lambda = 2.0;
  const Eigen::MatrixXd g = x.transpose() * x;
  CHECK(binary_gram(d.by_item, d.by_user) == g);
  const Eigen::MatrixXd p = (g + lambda * Eigen::MatrixXd::Identity(4, 4)).inverse();
  Eigen::MatrixXd b = Eigen::MatrixXd::Identity(4, 4) - p * p.diagonal().cwiseInverse().asDiagonal();
  b.diagonal().setZero();  // exact zeros (the formula gives them up to rounding)
  // Optimality (Lagrangian of eq. 8): (G + λI)B − G is diagonal.
  const Eigen::MatrixXd kkt = (g + lambda * Eigen::MatrixXd::Identity(4, 4)) * b - g;
  CHECK((kkt - Eigen::MatrixXd(kkt.diagonal().asDiagonal())).cwiseAbs().maxCoeff() < 1e-12);

  for (const char* precision : {"double", "float"}) {
    INFO("precision " << precision);
    EaseRecommender r(defaults_of<EaseRecommender>({{"reg", lambda}, {"precision", std::string(precision)}}));
    r.fit(d, FitContext{});
    const RowMatrixF& w = r.weights();
    for (int i = 0; i < 4; ++i) {
      CHECK(w(i, i) == 0.0f);
      for (int j = 0; j < 4; ++j) CHECK(w(i, j) == Approx(b(i, j)).margin(1e-6));
    }
    std::vector<float> s(5 * 4);
    r.score_all(std::vector<UserId>{0, 1, 2, 3, 4}, s);
    const Eigen::MatrixXd expect = x * b;
    for (int u = 0; u < 5; ++u)
      for (int i = 0; i < 4; ++i) CHECK(s[static_cast<std::size_t>(u * 4 + i)] == Approx(expect(u, i)).margin(1e-6));
    CHECK(r.model_bytes() == 16 * sizeof(float));
  }
}

TEST_CASE("ease: a catalogue over max_memory_mb is refused, naming the size", "[mf_implicit]") {
  const TrainData d = make_train_data(2, 400, {{0, 0}, {1, 399}}, false);
  EaseRecommender r(defaults_of<EaseRecommender>({{"max_memory_mb", std::int64_t{1}}}));
  // 400² x 8 bytes = 1.28 MB > 1 MiB.
  CHECK_THROWS_WITH(r.fit(d, FitContext{}),
                    Catch::Contains("400×400") && Catch::Contains("400 items") &&
                        Catch::Contains("max_memory_mb = 1"));
  EaseRecommender fits(defaults_of<EaseRecommender>({{"max_memory_mb", std::int64_t{2}}}));
  CHECK_NOTHROW(fits.fit(d, FitContext{}));
  // In double the peak is 400² x 20 bytes = 3.2 MB: 2 MiB is not enough, 4 MiB is.
  EaseRecommender dbl(defaults_of<EaseRecommender>({{"max_memory_mb", std::int64_t{2}}, {"precision", "double"}}));
  CHECK_THROWS_WITH(dbl.fit(d, FitContext{}), Catch::Contains("three 400×400") && Catch::Contains("precision double"));
  EaseRecommender dbl_fits(defaults_of<EaseRecommender>({{"max_memory_mb", std::int64_t{4}}, {"precision", "double"}}));
  CHECK_NOTHROW(dbl_fits.fit(d, FitContext{}));
}
