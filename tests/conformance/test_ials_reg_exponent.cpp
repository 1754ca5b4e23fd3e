// ials's reg_exponent ν: the frequency-scaled regularization of Rendle et
// al. (RecSys 2022), λ_r = λ·(Σ_j c_rj)^ν with the sum over every column of
// the other side (c = 1 off the row's pairs). Checked against hand-worked
// weights and against independent dense solves in double, each with its own
// row's λ, in the fit, in explain and in the online fold-in.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../plugins/mf_implicit/ials.hpp"
#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "ials_test_support.hpp"
#include "mf_test_support.hpp"
#include "recfuse/ials_solver.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

const double kNuAlpha = 4.0;
const double kNuC = 1.0 + kNuAlpha;  // every pair's confidence (use_values = false)

/// λ·(n_other + |row|·(c − 1))^ν: the weight of a row of `size` pairs, each c = kNuC.
double lambda_of(std::size_t size, std::int32_t n_other, double reg, double nu) {
  return reg * std::pow(static_cast<double>(n_other) + static_cast<double>(size) * (kNuC - 1.0), nu);
}

IalsRecommender fitted_nu(const TrainData& d, double reg, double nu, std::map<std::string, ParamValue> more = {}) {
  std::map<std::string, ParamValue> v{{"factors", std::int64_t{6}}, {"reg", reg}, {"alpha", kNuAlpha},
                                      {"reg_exponent", nu}, {"iterations", std::int64_t{4}},
                                      {"solver", std::string("cholesky")}};
  for (const auto& [k, x] : more) v[k] = x;
  return fit_ials(d, v, 13);
}

/// The synthetic data's rows both ways (c = kNuC) with their λ_r = reg·(w_r)^ν.
struct PerRowReg {
  IalsRows by_user, by_item;
  std::vector<float> users, items;
  PerRowReg(const TrainData& d, double reg, double nu) {
    ConfidenceOptions o;
    o.alpha = kNuAlpha;
    by_user = make_confidence_rows(d.by_user, o);
    by_item = make_confidence_rows(d.by_item, o);
    users = frequency_scaled_reg(by_user, d.n_items, reg, nu);
    items = frequency_scaled_reg(by_item, d.n_users, reg, nu);
  }
};

}  // namespace

TEST_CASE("frequency_scaled_reg: λ_r = λ·(n_other + Σ_j (c_rj − 1))^ν, worked by hand", "[mf_implicit]") {
  // 2 users x 3 items, ratings as r: (0,0) 4, (0,2) 1, (1,1) 2; α = 1, so c = 5, 2, 3.
  const TrainData d = make_train_data(2, 3, {{0, 0, 4.0f}, {0, 2, 1.0f}, {1, 1, 2.0f}}, true);
  ConfidenceOptions o;
  o.alpha = 1.0;
  o.use_values = true;
  const IalsRows users = make_confidence_rows(d.by_user, o), items = make_confidence_rows(d.by_item, o);
  // Users over 3 items: 3 + 4 + 1 = 8 and 3 + 2 = 5. Items over 2 users: 2 + 4, 2 + 2, 2 + 1.
  CHECK(ials_row_weight(users, 0, 3) == Approx(8.0));
  CHECK(ials_row_weight(users, 1, 3) == Approx(5.0));
  const std::vector<float> half = frequency_scaled_reg(users, 3, 0.5, 0.5);
  REQUIRE(half.size() == 2);
  CHECK(half[0] == Approx(0.5 * std::sqrt(8.0)));
  CHECK(half[1] == Approx(0.5 * std::sqrt(5.0)));
  const std::vector<float> sq = frequency_scaled_reg(items, 2, 0.5, 2.0);
  REQUIRE(sq.size() == 3);
  CHECK(sq[0] == Approx(0.5 * 36.0));
  CHECK(sq[1] == Approx(0.5 * 16.0));
  CHECK(sq[2] == Approx(0.5 * 9.0));
  CHECK(frequency_scaled_reg(users, 3, 0.5, 0.0).empty());  // ν = 0: the single λ
  CHECK(ials_row_reg(users, 0, 3, 0.5, 0.0) == 0.5);
  // A λ_r beyond a float is refused, not turned into inf: 0.5·8^50 ≈ 7e44.
  CHECK_THROWS_WITH(frequency_scaled_reg(users, 3, 0.5, 50.0), Catch::Contains("beyond a float"));
}

TEST_CASE("ials_half_step with per-row λ: each row's normal equations hold with its own λ_r", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  ConfidenceOptions o;
  o.alpha = kNuAlpha;
  const IalsRows conf = make_confidence_rows(d.by_user, o);
  const std::vector<float> row_reg = frequency_scaled_reg(conf, d.n_items, 0.01, 1.0);
  const RowMatrixF y = random_factors(d.n_items, 6, 3, 0.5);
  RowMatrixF x_chol = random_factors(d.n_users, 6, 4, 0.1), x_cg = x_chol;
  ials_half_step(conf, y, 123.0, IalsSolver::kCholesky, 0, x_chol, row_reg);  // 123: ignored
  ials_half_step(conf, y, 123.0, IalsSolver::kCg, 200, x_cg, row_reg);
  double worst = 0.0, worst_single = 0.0, lo = 1e9, hi = 0.0;
  for (UserId u = 0; u < d.n_users; ++u) {
    const auto row = row_set(d.by_user, u);
    const double lambda = row_reg[static_cast<std::size_t>(u)];
    CHECK(lambda == Approx(lambda_of(row.size(), d.n_items, 0.01, 1.0)));
    lo = std::min(lo, lambda), hi = std::max(hi, lambda);
    worst = std::max(worst, gap(row_of(x_chol, u), dense_solve(row, y, kNuC, lambda)));
    worst_single = std::max(worst_single, gap(row_of(x_chol, u), dense_solve(row, y, kNuC, 0.01 * 100.0)));
    CHECK(gap(row_of(x_cg, u), row_of(x_chol, u)) < 1e-4);
  }
  CHECK(hi > 1.5 * lo);          // the rows' λ differ here
  CHECK(worst < 1e-5);           // each row solved with its own λ_r
  CHECK(worst_single > 1e-3);    // one λ for all (≈ the mean weight's) solves something else
  // A row_reg equal for every row is the single λ.
  RowMatrixF x_one = random_factors(d.n_users, 6, 4, 0.1), x_flat = x_one;
  ials_half_step(conf, y, 0.7, IalsSolver::kCholesky, 0, x_one);
  ials_half_step(conf, y, 0.0, IalsSolver::kCholesky, 0, x_flat, std::vector<float>(30, 0.7f));
  CHECK((x_one - x_flat).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK_THROWS_WITH(ials_half_step(conf, y, 0.1, IalsSolver::kCg, 3, x_one, std::vector<float>(29, 0.7f)),
                    Catch::Contains("29 row regularizers for 30 rows"));
}

TEST_CASE("ials_loss with per-row λ is the dense loss with Σ λ_u‖x_u‖² + Σ λ_i‖y_i‖²", "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  const PerRowReg w(d, 0.02, 0.5);
  const IalsRows& by_user = w.by_user;
  const std::vector<float> &xr = w.users, &yr = w.items;
  const RowMatrixF x = random_factors(d.n_users, 5, 8, 0.3), y = random_factors(d.n_items, 5, 9, 0.3);
  const Eigen::MatrixXd xd = x.cast<double>(), yd = y.cast<double>();
  double want = 0.0;
  for (UserId u = 0; u < d.n_users; ++u) {
    const auto row = row_set(d.by_user, u);
    for (ItemId i = 0; i < d.n_items; ++i) {
      const double p = row.count(i) ? 1.0 : 0.0, c = row.count(i) ? kNuC : 1.0;
      want += c * std::pow(p - xd.row(u).dot(yd.row(i)), 2);
    }
    want += xr[static_cast<std::size_t>(u)] * xd.row(u).squaredNorm();
  }
  for (ItemId i = 0; i < d.n_items; ++i) want += yr[static_cast<std::size_t>(i)] * yd.row(i).squaredNorm();
  CHECK(ials_loss(by_user, x, y, 99.0, xr, yr) == Approx(want).epsilon(1e-6));
  CHECK_THROWS_WITH(ials_loss(by_user, x, y, 0.02, xr, {}), Catch::Contains("row regularizers"));
  CHECK_THROWS_WITH(ials_loss(by_user, x, y, 0.02, xr, std::vector<float>(3, 1.0f)),
                    Catch::Contains("row regularizers"));
}

TEST_CASE("ials with per-row λ: a few CG steps per sweep decrease that loss every iteration", "[mf_implicit]") {
  // The half-steps minimise the loss ials_loss computes with the same λ_r:
  // each sweep lowers it (a wrong λ in either would let it rise).
  const TrainData d = synthetic_train_data();
  const PerRowReg w(d, 0.005, 1.0);
  const IalsRows &by_user = w.by_user, &by_item = w.by_item;
  const std::vector<float> &xr = w.users, &yr = w.items;
  RowMatrixF x = random_factors(d.n_users, 8, 5, 0.01), y = random_factors(d.n_items, 8, 6, 0.01);
  std::vector<double> loss{ials_loss(by_user, x, y, 0.0, xr, yr)};
  for (int it = 0; it < 8; ++it) {
    ials_half_step(by_user, y, 0.0, IalsSolver::kCg, 3, x, xr);
    ials_half_step(by_item, x, 0.0, IalsSolver::kCg, 3, y, yr);
    loss.push_back(ials_loss(by_user, x, y, 0.0, xr, yr));
  }
  for (std::size_t t = 1; t < loss.size(); ++t) {
    INFO("iteration " << t << ": " << loss[t - 1] << " -> " << loss[t]);
    CHECK(loss[t] <= loss[t - 1] * (1.0 + 1e-6));
  }
  CHECK(loss.back() < 0.7 * loss.front());
}

TEST_CASE("ials reg_exponent: the fit's last half-step solves item i with λ_i = λ·(n_users + Σ_u (c_ui − 1))^ν",
          "[mf_implicit]") {
  const TrainData d = synthetic_train_data();
  for (const double nu : {0.5, 1.0}) {
    INFO("reg_exponent " << nu);
    const double reg = nu == 1.0 ? 0.01 : 0.1;
    IalsRecommender r = fitted_nu(d, reg, nu);
    double right = 0.0, with_user_count = 0.0, single = 0.0;
    for (ItemId i = 0; i + 1 < d.n_items; ++i) {  // item 39 has no users: a zero row
      const auto users = row_set(d.by_item, i);
      const Eigen::VectorXd got = row_of(r.item_factors(), i);
      right = std::max(right, gap(got, dense_solve(users, r.user_factors(), kNuC, lambda_of(users.size(), d.n_users, reg, nu))));
      // The wrong side's count (n_items) and the plain λ give other rows.
      with_user_count = std::max(with_user_count,
                                 gap(got, dense_solve(users, r.user_factors(), kNuC, lambda_of(users.size(), d.n_items, reg, nu))));
      single = std::max(single, gap(got, dense_solve(users, r.user_factors(), kNuC, reg)));
    }
    CHECK(right < 1e-5);
    CHECK(with_user_count > 1e-4);
    CHECK(single > 1e-3);
    CHECK(r.item_factors().row(39).isZero());
  }
  // reg_exponent = 0 is HKV's single λ: the same model as leaving it out.
  IalsRecommender plain = fitted_nu(d, 0.1, 0.0);
  std::map<std::string, ParamValue> v{{"factors", std::int64_t{6}}, {"reg", 0.1}, {"alpha", kNuAlpha},
                                      {"iterations", std::int64_t{4}}, {"solver", std::string("cholesky")}};
  IalsRecommender unset = fit_ials(d, v, 13);
  CHECK(plain.item_factors() == unset.item_factors());
  CHECK(plain.user_factors() == unset.user_factors());
}

TEST_CASE("ials reg_exponent: the fit's first half-step solves user u with λ_u = λ·(n_items + Σ_i (c_ui − 1))^ν",
          "[mf_implicit]") {
  // One iteration: X is the user half-step against the initial Y, drawn
  // N(0, init_std²) from derive_seed(seed, "ials_item") as ials's fit does.
  const TrainData d = synthetic_train_data();
  for (const char* solver : {"cholesky", "cg"}) {
    INFO("solver " << solver);
    const double reg = 0.01, nu = 1.0;
    IalsRecommender r = fitted_nu(d, reg, nu, {{"iterations", std::int64_t{1}}, {"solver", std::string(solver)},
                                            {"cg_steps", std::int64_t{50}}});
    const RowMatrixF y0 = random_factors(d.n_items, 6, derive_seed(13, "ials_item"), 0.01);
    double right = 0.0, with_item_count = 0.0, single = 0.0;
    for (UserId u = 0; u < d.n_users; ++u) {
      const auto row = row_set(d.by_user, u);
      const Eigen::VectorXd got = row_of(r.user_factors(), u);
      right = std::max(right, gap(got, dense_solve(row, y0, kNuC, lambda_of(row.size(), d.n_items, reg, nu))));
      with_item_count = std::max(with_item_count, gap(got, dense_solve(row, y0, kNuC, lambda_of(row.size(), d.n_users, reg, nu))));
      single = std::max(single, gap(got, dense_solve(row, y0, kNuC, reg)));
    }
    CHECK(right < 1e-4);
    CHECK(with_item_count > 1e-3);
    CHECK(single > 1e-2);
  }
}

TEST_CASE("ials reg_exponent: a negative ν is refused", "[mf_implicit]") {
  const std::map<std::string, ParamValue> bad{{"reg_exponent", -0.5}};
  CHECK_THROWS_WITH(validate_params(IalsRecommender::params(), bad, {}, "", "ials"), Catch::Contains("reg_exponent"));
}

TEST_CASE("ials reg_exponent: explain's W^u and the online fold-in use the row's λ as it stands",
          "[mf_implicit][explain][online]") {
  const TrainData d = synthetic_train_data();
  const double reg = 0.02, nu = 1.0;
  IalsRecommender r = fitted_nu(d, reg, nu, {{"online_updates", std::string("user_item")}});
  const UserId u = 5;
  std::set<std::int32_t> row = row_set(d.by_user, u);
  const RowMatrixF y0 = r.item_factors();
  // explain: the terms add up to y_iᵀx*_u with u's own λ_u.
  const Eigen::VectorXd x_star = dense_solve(row, y0, kNuC, lambda_of(row.size(), d.n_items, reg, nu));
  double sum = 0.0;
  for (const ItemTerm& t : r.contributions(u, 2)) sum += t.value;
  CHECK(sum == Approx(x_star.dot(row_of(y0, 2))).epsilon(1e-9).margin(1e-9));
  // Clicks join the rows: x_u is re-solved with the λ_u of the longer row,
  // then y_i with the λ_i of i's longer column; the later clicks against
  // Gramians the earlier ones updated (without λ).
  std::vector<std::set<std::int32_t>> users(static_cast<std::size_t>(d.n_users)), items(static_cast<std::size_t>(d.n_items));
  for (UserId v = 0; v < d.n_users; ++v) users[static_cast<std::size_t>(v)] = row_set(d.by_user, v);
  for (ItemId j = 0; j < d.n_items; ++j) items[static_cast<std::size_t>(j)] = row_set(d.by_item, j);
  const ItemId first = unseen(d, u);
  for (const auto& [v, i] : std::vector<std::pair<UserId, ItemId>>{{u, first}, {7, first}, {u, 39}}) {
    INFO("click of user " << v << " on item " << i);
    const RowMatrixF y_before = r.item_factors();
    Clicks fb;
    fb.add(v, i, i == 0 ? 1 : 0);
    r.observe(fb.view());
    auto& vr = users[static_cast<std::size_t>(v)];
    auto& ic = items[static_cast<std::size_t>(i)];
    REQUIRE(vr.insert(i).second);  // a new pair: the row's weight grows
    ic.insert(v);
    const Eigen::VectorXd want_x = dense_solve(vr, y_before, kNuC, lambda_of(vr.size(), d.n_items, reg, nu));
    const Eigen::VectorXd stale_x = dense_solve(vr, y_before, kNuC, lambda_of(vr.size() - 1, d.n_items, reg, nu));
    REQUIRE(gap(want_x, stale_x) > 1e-4);  // the row's new weight matters at this tolerance
    CHECK(gap(row_of(r.user_factors(), v), want_x) < 1e-5);
    const Eigen::VectorXd want_y = dense_solve(ic, r.user_factors(), kNuC, lambda_of(ic.size(), d.n_users, reg, nu));
    CHECK(gap(row_of(r.item_factors(), i), want_y) < 1e-5);
  }
  // Saved and loaded, the model explains with the same λ_u (from the saved rows).
  std::ostringstream out;
  r.save(out);
  IalsRecommender loaded(defaults_of<IalsRecommender>({{"factors", std::int64_t{6}}, {"reg", reg}, {"alpha", kNuAlpha},
                                                        {"reg_exponent", nu}}));
  std::istringstream in(out.str());
  loaded.load(in);
  const auto& row_u = users[static_cast<std::size_t>(u)];
  const Eigen::VectorXd x_u = dense_solve(row_u, r.item_factors(), kNuC, lambda_of(row_u.size(), d.n_items, reg, nu));
  double loaded_sum = 0.0;
  for (const ItemTerm& t : loaded.contributions(u, 2)) loaded_sum += t.value;
  CHECK(loaded_sum == Approx(x_u.dot(row_of(r.item_factors(), 2))).epsilon(1e-9).margin(1e-9));
}
