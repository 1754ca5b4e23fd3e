// Audit of the matrix-factorisation plugins (plugins/mf_explicit,
// plugins/mf_implicit): defects found by reading them against their papers
// and reference implementations, each pinned by a test that failed before
// its fix.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "plugins/mf_explicit/als_explicit.hpp"
#include "recfuse/ials_solver.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;

namespace {

template <class Model>
ParamSet audit_params(const std::map<std::string, ParamValue>& values) {
  ParamSet p;
  for (const ParamSpec& s : Model::params()) p.set(s.name, s.default_value);
  for (const auto& [k, v] : values) {
    REQUIRE(p.has(k));
    p.set(k, v);
  }
  return p;
}

bool all_finite(const RowMatrixF& m) { return m.array().isFinite().all(); }

}  // namespace

// ials_half_step solves rows inside an OpenMP parallel region; an exception
// that leaves such a region is std::terminate (the whole run aborted), so
// the solver's "not positive definite" error must surface after the region.
// Before the fix this test aborted the test binary.
TEST_CASE("mf audit: ials Cholesky on singular normal equations throws a catchable Error",
          "[mf_implicit][mf_audit]") {
  IalsRows conf;
  conf.rows = 2;
  conf.indptr = {0, 1, 2};
  conf.indices = {0, 1};
  conf.conf = {2.0f, 3.0f};
  conf.max_row = 1;
  // Two items, four factors, λ = 0: YᵀY has rank 2, so A_u is singular.
  RowMatrixF y = RowMatrixF::Zero(2, 4);
  y(0, 0) = 1.0f;
  y(1, 1) = 1.0f;
  RowMatrixF x = RowMatrixF::Zero(2, 4);
  REQUIRE_THROWS_WITH(ials_half_step(conf, y, 0.0, IalsSolver::kCholesky, 3, x),
                      Contains("positive definite") && Contains("raise reg"));
  // With λ > 0 the same rows solve.
  REQUIRE_NOTHROW(ials_half_step(conf, y, 0.1, IalsSolver::kCholesky, 3, x));
  CHECK(all_finite(x));
  CHECK(x(0, 0) == Approx(2.0 / 2.1));  // (1 + (c−1)) x = c  →  x = 2 / (2 + 0.1)
}

// ALS-WR with reg = 0 (allowed: rows with enough ratings are determined)
// used to hand a singular system to LLT and keep whatever it returned: a
// user with one rating got p_u = (16.7, 0) and no warning. It must refuse,
// naming the row, and still fit when every row is determined.
TEST_CASE("mf audit: als_explicit refuses a singular row at reg = 0 instead of returning garbage",
          "[mf_explicit][mf_audit]") {
  // User 0 has one rating for f + 1 = 3 unknowns.
  const TrainData sparse = make_train_data(
      3, 3, {{0, 0, 4}, {1, 0, 3}, {1, 1, 2}, {1, 2, 5}, {2, 0, 1}, {2, 1, 4}, {2, 2, 2}}, true);
  {
    AlsExplicitRecommender m(audit_params<AlsExplicitRecommender>(
        {{"reg", 0.0}, {"factors", std::int64_t{2}}}));
    FitContext ctx;
    ctx.seed = 1;
    REQUIRE_THROWS_WITH(m.fit(sparse, ctx), Contains("als_explicit") && Contains("raise reg"));
  }
  // Every user and item with 6 ratings for 2 unknowns: reg = 0 is well posed.
  std::vector<Interaction> dense;
  for (std::int32_t u = 0; u < 6; ++u)
    for (std::int32_t i = 0; i < 6; ++i)
      dense.push_back({u, i, static_cast<float>(1 + (u * 7 + i * 3 + u * i) % 5)});
  const TrainData full = make_train_data(6, 6, dense, true);
  AlsExplicitRecommender m(audit_params<AlsExplicitRecommender>(
      {{"reg", 0.0}, {"factors", std::int64_t{1}}, {"iterations", std::int64_t{3}}}));
  FitContext ctx;
  ctx.seed = 1;
  REQUIRE_NOTHROW(m.fit(full, ctx));
  CHECK(all_finite(m.user_factors()));
  CHECK(all_finite(m.item_factors()));
}

// HKV 2008 eq. (4) with p_ui = [r_ui > 0] (as ials_solver.hpp states, and
// as benfred/implicit reads a non-positive entry): with use_values a stored
// value r_ui <= 0 gives c_ui = 1 and p_ui = 0, i.e. exactly an unobserved
// pair. It used to enter b_u = Σ c_ui p_ui y_i as a positive.
TEST_CASE("mf audit: ials with use_values reads a stored value <= 0 as no preference",
          "[mf_implicit][mf_audit]") {
  ConfidenceOptions o;
  o.alpha = 2.0;
  o.use_values = true;
  // User 0: items 0 (r = 3), 1 (r = 0), 2 (r = −1), 3 (r = 2); user 1: item 1 (r = 0) only.
  const TrainData with_zeros =
      make_train_data(2, 5, {{0, 0, 3}, {0, 1, 0}, {0, 2, -1}, {0, 3, 2}, {1, 1, 0}}, true);
  const TrainData without = make_train_data(2, 5, {{0, 0, 3}, {0, 3, 2}}, true);
  const IalsRows a = make_confidence_rows(with_zeros.by_user, o);
  const IalsRows b = make_confidence_rows(without.by_user, o);
  CHECK(a.indptr == b.indptr);
  CHECK(a.indices == b.indices);
  CHECK(a.conf == b.conf);
  CHECK(a.max_row == 2);

  Rng rng(5);
  RowMatrixF y(5, 3);
  for (Eigen::Index k = 0; k < y.size(); ++k) y.data()[k] = static_cast<float>(rng.normal(0.0, 0.5));
  RowMatrixF xa = RowMatrixF::Constant(2, 3, 0.3f);
  ials_half_step(a, y, 0.1, IalsSolver::kCholesky, 3, xa);
  // Dense HKV eq. (4) in double: C_u = diag(1 + α max(r, 0)), p_u = [r > 0].
  const double conf0[5] = {1 + 2.0 * 3, 1, 1, 1 + 2.0 * 2, 1};
  const double pref0[5] = {1, 0, 0, 1, 0};
  const Eigen::MatrixXd yd = y.cast<double>();
  Eigen::MatrixXd A = 0.1 * Eigen::MatrixXd::Identity(3, 3);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(3);
  for (int i = 0; i < 5; ++i) {
    A += conf0[i] * yd.row(i).transpose() * yd.row(i);
    rhs += conf0[i] * pref0[i] * yd.row(i).transpose();
  }
  const Eigen::VectorXd expect = A.ldlt().solve(rhs);
  for (int c = 0; c < 3; ++c) CHECK(xa(0, c) == Approx(expect(c)).margin(1e-5));
  // User 1's only entry is r = 0: no preference at all, so x_1 = 0.
  CHECK(xa.row(1).isZero());
  // Without use_values every stored pair is a positive with r = 1.
  const IalsRows all = make_confidence_rows(with_zeros.by_user, ConfidenceOptions{});
  CHECK(all.indices.size() == 5);
}
