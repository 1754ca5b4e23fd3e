// ials's online_updates (kCapObserve): each click (u, i) joins u's training
// row and x_u (with "user_item" then y_i) is re-solved exactly. Checked
// against an independent dense least-squares solve of HKV eq. (4) in double
// over every item (or user), with c = 1 on the unobserved pairs.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <omp.h>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../plugins/mf_implicit/ials.hpp"
#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "ials_test_support.hpp"
#include "mf_test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

const double kReg = 0.1, kAlpha = 4.0;

IalsRecommender fitted_online(const TrainData& d, const std::string& online, std::map<std::string, ParamValue> more = {}) {
  std::map<std::string, ParamValue> v{{"factors", std::int64_t{6}}, {"reg", kReg}, {"alpha", kAlpha},
                                      {"iterations", std::int64_t{4}}, {"online_updates", online}};
  for (const auto& [k, x] : more) v[k] = x;
  return fit_ials(d, v, 11);
}

double term_sum(const std::vector<ItemTerm>& terms) {
  double s = 0.0;
  for (const ItemTerm& t : terms) s += t.value;
  return s;
}

}  // namespace

TEST_CASE("ials declares observe", "[mf_implicit][online]") {
  CHECK((plugin_registry().find("ials").algorithm->capabilities & kCapObserve) != 0);
}

TEST_CASE("ials refuses an unknown online_updates", "[mf_implicit][online]") {
  const std::map<std::string, ParamValue> bad{{"online_updates", std::string("items")}};
  CHECK_THROWS_WITH(validate_params(IalsRecommender::params(), bad, {}, "", "ials"), Catch::Contains("online_updates"));
  CHECK_THROWS_AS(IalsRecommender(defaults_of<IalsRecommender>(bad)), Error);
  CHECK(validate_params(IalsRecommender::params(), {}, {}, "", "ials").get_string("online_updates") == "none");
}

TEST_CASE("ials with online_updates none learns nothing online", "[mf_implicit][online]") {
  const TrainData d = synthetic_train_data();
  IalsRecommender r = fitted_online(d, "none");
  const std::vector<float> before = all_scores(r);
  Clicks fb;
  fb.add(2, unseen(d, 2), 39);
  fb.add(5, 1, 3);
  r.observe(fb.view());
  CHECK(all_scores(r) == before);
}

TEST_CASE("ials user updates re-solve x_u exactly on the extended row and change nothing else",
          "[mf_implicit][online]") {
  const TrainData d = synthetic_train_data();
  for (const char* confidence : {"linear", "log"}) {
    INFO("confidence " << confidence);
    const double c = std::string(confidence) == "log" ? 1.0 + kAlpha * std::log1p(1.0 / 0.5) : 1.0 + kAlpha;
    IalsRecommender r = fitted_online(d, "user", {{"confidence", std::string(confidence)}, {"epsilon", 0.5}});
    const RowMatrixF x0 = r.user_factors(), y0 = r.item_factors();
    const UserId a = 3, b = 8, z = 12;
    const ItemId ia = unseen(d, a), ib = unseen(d, b);
    REQUIRE(!r.contributions(a, 5).empty());  // explain's W^a, kept for the next call
    Clicks fb;
    fb.add(a, ia, 39);
    fb.add(z, 0, 1, /*click=*/false);  // no click: no change
    fb.add(b, ib, 39);
    r.observe(fb.view());
    CHECK(r.item_factors() == y0);
    std::set<std::int32_t> ra = row_set(d.by_user, a), rb = row_set(d.by_user, b);
    const Eigen::VectorXd old_a = dense_solve(ra, y0, c, kReg);  // the solve without the click
    ra.insert(ia);
    rb.insert(ib);
    const Eigen::VectorXd want_a = dense_solve(ra, y0, c, kReg), want_b = dense_solve(rb, y0, c, kReg);
    REQUIRE(gap(old_a, want_a) > 1e-3);  // the click matters at this tolerance
    CHECK(gap(row_of(r.user_factors(), a), want_a) < 1e-5);
    CHECK(gap(row_of(r.user_factors(), b), want_b) < 1e-5);
    for (UserId u = 0; u < d.n_users; ++u)
      if (u != a && u != b) CHECK(r.user_factors().row(u) == x0.row(u));
    // u's row keeps the click, and explain's terms add up to the new solve (not the kept W^a's).
    CHECK(r.contributions(a, 0).size() == ra.size());
    CHECK(term_sum(r.contributions(a, 5)) == Approx(want_a.dot(row_of(y0, 5))).epsilon(1e-9).margin(1e-9));
  }
}

TEST_CASE("ials user updates: a repeated click keeps the row and re-solves it exactly", "[mf_implicit][online]") {
  const TrainData d = synthetic_train_data();
  IalsRecommender r = fitted_online(d, "user", {{"use_values", true}});
  const UserId u = 4;
  const ItemId seen = d.by_user.row(u)[0];
  Clicks fb;
  fb.add(u, seen, 39);
  r.observe(fb.view());
  CHECK(r.contributions(u, 0).size() == d.by_user.row(u).size());
  // use_values: the fit read u's ratings as r_uj; the row keeps those confidences.
  Eigen::VectorXd w = Eigen::VectorXd::Ones(d.n_items), p = Eigen::VectorXd::Zero(d.n_items);
  for (std::int64_t k = d.by_user.indptr[u]; k < d.by_user.indptr[u + 1]; ++k) {
    w(d.by_user.indices[static_cast<std::size_t>(k)]) = 1.0 + kAlpha * d.by_user.values[static_cast<std::size_t>(k)];
    p(d.by_user.indices[static_cast<std::size_t>(k)]) = 1.0;
  }
  const Eigen::MatrixXd y = r.item_factors().cast<double>();
  const Eigen::VectorXd want = (y.transpose() * w.asDiagonal() * y + kReg * Eigen::MatrixXd::Identity(6, 6))
                                   .ldlt().solve(y.transpose() * w.cwiseProduct(p));
  CHECK(gap(row_of(r.user_factors(), u), want) < 1e-5);
}

TEST_CASE("ials user_item updates re-solve x_u, then y_i against the new x_u, with current Gramians",
          "[mf_implicit][online]") {
  const TrainData d = synthetic_train_data();
  const double c = 1.0 + kAlpha;
  IalsRecommender r = fitted_online(d, "user_item");
  std::vector<std::set<std::int32_t>> users(static_cast<std::size_t>(d.n_users)), items(static_cast<std::size_t>(d.n_items));
  for (UserId u = 0; u < d.n_users; ++u) users[static_cast<std::size_t>(u)] = row_set(d.by_user, u);
  for (ItemId i = 0; i < d.n_items; ++i) items[static_cast<std::size_t>(i)] = row_set(d.by_item, i);
  // Three clicks in three steps; the later ones need Y and X as the earlier ones left them.
  const std::vector<std::pair<UserId, ItemId>> clicks{{3, unseen(d, 3)}, {7, unseen(d, 3)}, {3, 39}};
  for (const auto& [u, i] : clicks) {
    INFO("click of user " << u << " on item " << i);
    const RowMatrixF x0 = r.user_factors(), y0 = r.item_factors();
    REQUIRE(!r.contributions(0, 2).empty());  // explain's W^0, kept for the next call
    Clicks fb;
    fb.add(u, i, i == 0 ? 1 : 0);
    r.observe(fb.view());
    users[static_cast<std::size_t>(u)].insert(i);
    items[static_cast<std::size_t>(i)].insert(u);
    const Eigen::VectorXd want_x = dense_solve(users[static_cast<std::size_t>(u)], y0, c, kReg);
    CHECK(gap(row_of(r.user_factors(), u), want_x) < 1e-5);
    const Eigen::VectorXd want_y = dense_solve(items[static_cast<std::size_t>(i)], r.user_factors(), c, kReg);
    CHECK(gap(row_of(r.item_factors(), i), want_y) < 1e-5);
    int other_rows_changed = 0;
    for (UserId v = 0; v < d.n_users; ++v) other_rows_changed += v != u && r.user_factors().row(v) != x0.row(v);
    for (ItemId j = 0; j < d.n_items; ++j) other_rows_changed += j != i && r.item_factors().row(j) != y0.row(j);
    CHECK(other_rows_changed == 0);
    // explain reads the new Y: user 0's terms add up to its exact solve against it.
    const Eigen::VectorXd x_0 = dense_solve(users[0], r.item_factors(), c, kReg);
    CHECK(term_sum(r.contributions(0, 2)) == Approx(x_0.dot(row_of(r.item_factors(), 2))).epsilon(1e-9).margin(1e-9));
  }
}

TEST_CASE("ials saved after observe loads to the same model, bit for bit", "[mf_implicit][online]") {
  const TrainData d = synthetic_train_data();
  for (const char* online : {"user", "user_item"}) {
    INFO("online_updates " << online);
    IalsRecommender r = fitted_online(d, online);
    Clicks fb;
    fb.add(3, unseen(d, 3), 0);
    fb.add(9, unseen(d, 9), 0);
    r.observe(fb.view());
    std::stringstream first;
    r.save(first);
    IalsRecommender back(defaults_of<IalsRecommender>({{"factors", std::int64_t{6}}, {"reg", kReg}, {"alpha", kAlpha},
                                                       {"online_updates", std::string(online)}}));
    back.load(first);
    std::stringstream second;
    back.save(second);
    CHECK(second.str() == first.str());
    CHECK(all_scores(back) == all_scores(r));
    const std::vector<ItemTerm> want = r.contributions(3, 5), got = back.contributions(3, 5);
    REQUIRE(got.size() == d.by_user.row(3).size() + 1);  // the click is in the saved row
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      CHECK(got[k].item == want[k].item);
      CHECK(got[k].value == Approx(want[k].value).epsilon(1e-9).margin(1e-12));
    }
  }
}

TEST_CASE("ials online updates give the same model for any thread count", "[mf_implicit][online]") {
  // Large enough (f = 48 over 600 items) for Eigen to split a product like
  // YᵀY over threads, which changes its sums; one fitted model, loaded
  // under each thread count, so that only the fold-ins (and explain) run there.
  std::vector<Interaction> pairs;
  Rng rng(3);
  for (UserId u = 0; u < 200; ++u)
    for (ItemId i = 0; i < 600; ++i)
      if (rng.uniform() < 0.05) pairs.push_back({u, i});
  const TrainData d = make_train_data(200, 600, pairs, false);
  IalsRecommender fit = fitted_online(d, "user_item", {{"factors", std::int64_t{48}}});
  std::stringstream file;
  fit.save(file);
  const int before = omp_get_max_threads();
  std::vector<RowMatrixF> users, items;
  std::vector<std::vector<ItemTerm>> terms;
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    IalsRecommender r(defaults_of<IalsRecommender>({{"factors", std::int64_t{48}}, {"reg", kReg}, {"alpha", kAlpha},
                                                    {"online_updates", std::string("user_item")}}));
    std::istringstream in(file.str());
    r.load(in);
    Clicks fb;
    for (UserId u = 0; u < d.n_users; u += 3) fb.add(u, unseen(d, u), 599);
    r.observe(fb.view());
    users.push_back(r.user_factors());
    items.push_back(r.item_factors());
    terms.push_back(r.contributions(4, 7));
  }
  omp_set_num_threads(before);
  CHECK(users[0] == users[1]);
  CHECK(items[0] == items[1]);
  REQUIRE(terms[0].size() == terms[1].size());
  for (std::size_t k = 0; k < terms[0].size(); ++k) CHECK(terms[0][k].value == terms[1][k].value);
}
