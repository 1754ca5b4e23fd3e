// explain of ease and ials (kCapExplain): each names terms of the model's own
// score decomposition, checked against independent dense computations in
// double: EASE's s_ui = Σ_{j∈I_u} B_ji (Steck 2019, eq. 8's B recomputed),
// and iALS's y_iᵀx*_u = Σ_{j∈I_u} s^u_ij c_uj (Hu, Koren & Volinsky 2008,
// §5) against the least-squares user factor x*_u solved over every item.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../plugins/mf_implicit/ease.hpp"
#include "../../plugins/mf_implicit/ials.hpp"
#include "conformance_support.hpp"
#include "mf_test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// Checks `why` against every term of a sum over u's training items: it
/// counts the positive ones out of all, and names the two largest (no
/// unnamed term larger) with their values and shares of the sum.
void check_reason(const std::string& why, const std::map<ItemId, double>& terms) {
  double total = 0.0;
  std::vector<std::pair<double, ItemId>> positive;
  for (const auto& [j, t] : terms) {
    total += t;
    if (t > 0) positive.emplace_back(-t, j);
  }
  if (positive.empty()) {
    CHECK(why.empty());
    return;
  }
  std::sort(positive.begin(), positive.end());
  CHECK(why.rfind(std::to_string(positive.size()) + " of your " + std::to_string(terms.size()) + " training item", 0) == 0);
  std::vector<ItemId> named;
  // The synthetic data titles item j "Item j": the reason names items by title.
  for (std::size_t at = why.find("Item "); at != std::string::npos; at = why.find("Item ", at + 1)) {
    const ItemId j = std::stoi(why.substr(at + 5));
    REQUIRE(terms.count(j) == 1);
    const std::size_t open = why.find("(+", at);
    const double value = std::stod(why.substr(open + 2));
    CHECK(value == Approx(terms.at(j)).epsilon(0.006));  // 3 significant digits
    if (total > 0) CHECK(std::stod(why.substr(why.find(", ", open) + 2)) == Approx(100 * terms.at(j) / total).epsilon(1e-3).margin(0.51));
    named.push_back(j);
  }
  REQUIRE(named.size() == std::min<std::size_t>(2, positive.size()));
  // The named are the largest terms (up to rounding: the test's sums are in double).
  for (std::size_t k = 0; k < named.size(); ++k) CHECK(terms.at(named[k]) == Approx(-positive[k].first).epsilon(1e-5));
}

}  // namespace

TEST_CASE("ease and ials declare explain, bpr does not", "[mf_implicit][explain]") {
  for (const char* name : {"ease", "ials"})
    CHECK((plugin_registry().find(name).algorithm->capabilities & kCapExplain) != 0);
  CHECK((plugin_registry().find("bpr").algorithm->capabilities & kCapExplain) == 0);
}

TEST_CASE("ease explains with the rows of B its score sums, worked by hand", "[mf_implicit][explain]") {
  // The 5 x 4 example of test_mf_implicit.cpp at λ = 2 (B from (XᵀX + 2I)⁻¹ in exact fractions):
  //   u0 = {i0, i1}: s(u0, i2) = B_02 + B_12 = −0.0127 + 0.405;  s(u0, i3) = 0.227 − 0.182.
  const TrainData d = make_train_data(5, 4, {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2},
                                             {3, 0}, {3, 3}, {4, 2}, {4, 3}}, false);
  EaseRecommender r(defaults_of<EaseRecommender>({{"reg", 2.0}}));
  r.fit(d, FitContext{});
  CHECK(r.explain(0, 2) == "1 of your 2 training items raises its score: item 1 (+0.405, 103%)");
  CHECK(r.explain(0, 3) == "1 of your 2 training items raises its score: item 0 (+0.227, 500%)");
  CHECK(r.explain(3, 2) == "1 of your 2 training items raises its score: item 3 (+0.253, 105%)");
  // A training item itself: B_00 = 0 adds nothing.
  CHECK(r.explain(0, 0) == "1 of your 2 training items raises its score: item 1 (+0.405, 100%)");
  CHECK(r.explain(5, 0).empty());
  CHECK(r.explain(0, 4).empty());
}

TEST_CASE("ease's terms are B recomputed independently and add up to every score", "[mf_implicit][explain]") {
  const TrainData d = synthetic_train_data();
  const double reg = 5.0;
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(d.n_users, d.n_items);
  for (UserId u = 0; u < d.n_users; ++u)
    for (ItemId i : d.by_user.row(u)) x(u, i) = 1.0;
  const Eigen::MatrixXd p = (x.transpose() * x + reg * Eigen::MatrixXd::Identity(d.n_items, d.n_items)).inverse();
  Eigen::MatrixXd b = -p * p.diagonal().cwiseInverse().asDiagonal();
  b.diagonal().setZero();
  for (const char* precision : {"float", "double"}) {
    INFO("precision " << precision);
    EaseRecommender r(defaults_of<EaseRecommender>({{"reg", reg}, {"precision", std::string(precision)}}));
    r.fit(d, FitContext{});
    const std::vector<float> scores = all_scores(r);
    int wrong_sum = 0, wrong_term = 0;
    for (UserId u = 0; u < d.n_users; ++u)
      for (ItemId i = 0; i < d.n_items; ++i) {
        INFO("user " << u << " item " << i);
        const std::vector<ItemTerm> terms = r.contributions(u, i);
        const auto row = d.by_user.row(u);
        REQUIRE(terms.size() == row.size());
        float sum = 0.0f;  // in I_u's order, in float: score_all's sum
        std::map<ItemId, double> want;
        for (std::size_t k = 0; k < terms.size(); ++k) {
          CHECK(terms[k].item == row[k]);
          wrong_term += std::abs(terms[k].value - b(row[k], i)) > 1e-5;
          sum += static_cast<float>(terms[k].value);
          want[row[k]] = b(row[k], i);
        }
        wrong_sum += sum != scores[static_cast<std::size_t>(u * d.n_items + i)];
        check_reason(r.explain(u, i), want);
      }
    CHECK(wrong_term == 0);
    CHECK(wrong_sum == 0);
  }
}

namespace {

/// HKV eq. 4 for user u against fixed y, dense over every item in double:
/// the exact least-squares factor x*_u = (YᵀC^uY + λI)⁻¹ YᵀC^u p(u), with
/// c_uj = 1 + α r_uj on u's training items (their ratings) and 1 elsewhere.
/// w = (YᵀC^uY + λI)⁻¹, c = the confidences.
Eigen::VectorXd exact_user(const TrainData& d, UserId u, const Eigen::MatrixXd& y, double alpha, double reg,
                           Eigen::MatrixXd& w, Eigen::VectorXd& c) {
  c = Eigen::VectorXd::Ones(d.n_items);
  Eigen::VectorXd p = Eigen::VectorXd::Zero(d.n_items);
  for (std::int64_t k = d.by_user.indptr[u]; k < d.by_user.indptr[u + 1]; ++k) {
    const ItemId j = d.by_user.indices[static_cast<std::size_t>(k)];
    c(j) = 1.0 + alpha * d.by_user.values[static_cast<std::size_t>(k)];
    p(j) = 1.0;
  }
  const Eigen::MatrixXd a =
      y.transpose() * c.asDiagonal() * y + reg * Eigen::MatrixXd::Identity(y.cols(), y.cols());
  w = a.inverse();
  return w * (y.transpose() * c.cwiseProduct(p));
}

const std::map<std::string, ParamValue> kIals{{"factors", std::int64_t{6}}, {"reg", 0.1}, {"alpha", 4.0},
                                              {"use_values", true}, {"iterations", std::int64_t{5}}};

}  // namespace

TEST_CASE("ials's terms s_ij c_uj add up to y_iᵀx*_u, the exact least-squares user factor (HKV §5)",
          "[mf_implicit][explain]") {
  const TrainData d = synthetic_train_data();
  for (const char* solver : {"cg", "cholesky"}) {
    INFO("solver " << solver);
    auto values = kIals;
    values["solver"] = std::string(solver);
    IalsRecommender r(defaults_of<IalsRecommender>(values));
    FitContext ctx;
    ctx.seed = 5;
    r.fit(d, ctx);
    const Eigen::MatrixXd y = r.item_factors().cast<double>();
    int wrong_sum = 0, wrong_term = 0;
    for (UserId u = 0; u < d.n_users; ++u) {
      Eigen::MatrixXd w;
      Eigen::VectorXd c;
      const Eigen::VectorXd x = exact_user(d, u, y, 4.0, 0.1, w, c);
      const auto row = d.by_user.row(u);
      for (ItemId i = 0; i < d.n_items; ++i) {
        INFO("user " << u << " item " << i);
        const std::vector<ItemTerm> terms = r.contributions(u, i);
        REQUIRE(terms.size() == row.size());
        double sum = 0.0;
        std::map<ItemId, double> want;
        for (std::size_t k = 0; k < terms.size(); ++k) {
          CHECK(terms[k].item == row[k]);
          const ItemId j = row[k];
          want[j] = y.row(i).dot(w * y.row(j).transpose()) * c(j);  // s^u_ij · c_uj
          wrong_term += std::abs(terms[k].value - want[j]) > 1e-9 * (1 + std::abs(want[j]));
          sum += terms[k].value;
        }
        const double exact = y.row(i).dot(x);
        wrong_sum += std::abs(sum - exact) > 1e-9 * (1 + std::abs(exact));
        check_reason(r.explain(u, i), want);
      }
    }
    CHECK(wrong_term == 0);
    CHECK(wrong_sum == 0);
  }
}

TEST_CASE("ials explains the exact solve against the final item factors, which the Cholesky fit converges to",
          "[mf_implicit][explain]") {
  // The saved x_u solved the user half-step before the last item half-step:
  // the terms add up to y_iᵀx*_u (the Cholesky half-step on the final Y), and
  // to the model's score only as the sweeps converge (slowly: ALS).
  const TrainData d = synthetic_train_data();
  const auto gap = [&](std::int64_t iterations) {
    auto values = kIals;
    values["solver"] = std::string("cholesky");
    values["iterations"] = iterations;
    IalsRecommender r(defaults_of<IalsRecommender>(values));
    FitContext ctx;
    ctx.seed = 5;
    r.fit(d, ctx);
    ConfidenceOptions o;
    o.alpha = 4.0;
    o.use_values = true;
    RowMatrixF x_star = r.user_factors();
    ials_half_step(make_confidence_rows(d.by_user, o), r.item_factors(), 0.1, IalsSolver::kCholesky, 0, x_star);
    const std::vector<float> scores = all_scores(r);
    double to_model = 0.0, to_exact = 0.0, scale = 0.0;
    for (UserId u = 0; u < d.n_users; ++u)
      for (ItemId i = 0; i < d.n_items; ++i) {
        double sum = 0.0;
        for (const ItemTerm& t : r.contributions(u, i)) sum += t.value;
        const double score = scores[static_cast<std::size_t>(u * d.n_items + i)];
        to_model = std::max(to_model, std::abs(sum - score));
        to_exact = std::max(to_exact, std::abs(sum - x_star.row(u).dot(r.item_factors().row(i))));
        scale = std::max(scale, std::abs(score));
      }
    CHECK(scale > 0.3);
    CHECK(to_exact < 1e-4 * scale);
    return to_model / scale;
  };
  // Here the largest |score − Σ terms| over the largest |score| is 0.57 after one sweep,
  // 0.043 after 15 (the default), 8e-5 after 1000.
  CHECK(gap(1) > 0.1);
  CHECK(gap(1000) < 1e-3);
}

TEST_CASE("ials explains after load, from the saved training rows and confidences", "[mf_implicit][explain]") {
  const TrainData d = synthetic_train_data();
  IalsRecommender fitted(defaults_of<IalsRecommender>(kIals));
  fitted.fit(d, FitContext{});
  std::ostringstream out;
  fitted.save(out);
  IalsRecommender loaded(defaults_of<IalsRecommender>(kIals));
  std::istringstream in(out.str());
  loaded.load(in);
  int said = 0;
  for (UserId u = 0; u < d.n_users; u += 7)
    for (ItemId i = 0; i < d.n_items; i += 3) {
      INFO("user " << u << " item " << i);
      const std::string why = loaded.explain(u, i);
      CHECK(why == fitted.explain(u, i));
      said += !why.empty();
    }
  CHECK(said > 0);
  CHECK(loaded.explain(d.n_users, 0).empty());
  CHECK(loaded.explain(0, -1).empty());
}
