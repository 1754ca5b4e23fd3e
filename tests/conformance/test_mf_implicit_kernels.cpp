// The kernels behind ease and bpr (plugins/mf_implicit/spd_inverse.hpp,
// bpr_kernel.hpp) against plain double computations, at sizes that cross
// the inverse's 128-wide blocks and on both SIMD paths of the BPR update;
// and ials's fit (recfuse/ials_solver.hpp) the same for any thread count.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <omp.h>
#include <string>
#include <vector>

#include "../../plugins/mf_implicit/bpr_kernel.hpp"
#include "../../plugins/mf_implicit/ials.hpp"
#include "../../plugins/mf_implicit/spd_inverse.hpp"
#include "conformance_support.hpp"
#include "mf_test_support.hpp"
#include "recfuse/rng.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// XᵀX + 3I for a random 0/1 matrix X with (n + 10) rows: SPD, Gram-like.
Eigen::MatrixXd random_spd(Eigen::Index n, std::uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXd x(n + 10, n);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = rng.uniform() < 0.1 ? 1.0 : 0.0;
  Eigen::MatrixXd a = x.transpose() * x;
  a.diagonal().array() += 3.0;
  return a;
}

}  // namespace

TEST_CASE("spd_inverse: the Cholesky factor and the block-column solves give A⁻¹ across block edges", "[mf_implicit]") {
  for (Eigen::Index n : {1, 5, 127, 128, 129, 257, 300}) {
    INFO("n = " << n);
    const Eigen::MatrixXd a = random_spd(n, static_cast<std::uint64_t>(n));
    const Eigen::MatrixXd expect = a.inverse();
    ColMatrix<double> w = a;
    w.triangularView<Eigen::StrictlyUpper>().setConstant(1e30);  // only the lower part may be read
    REQUIRE(cholesky_lower(w));
    CHECK((w * w.transpose() - a).cwiseAbs().maxCoeff() < 1e-10 * a.cwiseAbs().maxCoeff());
    RowMatrix<double> p;
    inverse_from_cholesky(w, p);
    double err = 0.0;
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j <= i; ++j) err = std::max(err, std::abs(p(i, j) - expect(i, j)));
    CHECK(err < 1e-12 * expect.cwiseAbs().maxCoeff());
  }
}

TEST_CASE("spd_inverse: a matrix indefinite in a late block is refused", "[mf_implicit]") {
  ColMatrix<double> a = random_spd(300, 1);
  a(299, 299) = -1.0;
  CHECK_FALSE(cholesky_lower(a));
}

TEST_CASE("bpr kernel: both SIMD paths apply Rendle et al.'s update, in order", "[mf_implicit]") {
  const int users = 3, items = 5, f = 21;  // f: full 16-lane blocks and a scalar tail
  Rng rng(4);
  std::vector<float> w0(users * f), h0(items * f), b0(items);
  for (float& v : w0) v = static_cast<float>(rng.normal(0.0, 0.5));
  for (float& v : h0) v = static_cast<float>(rng.normal(0.0, 0.5));
  for (float& v : b0) v = static_cast<float>(rng.normal(0.0, 0.5));
  const std::vector<BprTriple> t{{0, 1, 2}, {2, 1, 4}, {0, 3, 1}, {1, 0, 4}};
  const BprStep s{0.1f, 0.05f, true, f};
  // Reference in double, every right-hand side from before the step.
  std::vector<double> w(w0.begin(), w0.end()), h(h0.begin(), h0.end()), b(b0.begin(), b0.end());
  int expect_correct = 0;
  for (const BprTriple& x : t) {
    double xuij = b[x.i] - b[x.j];
    for (int c = 0; c < f; ++c) xuij += w[x.u * f + c] * (h[x.i * f + c] - h[x.j * f + c]);
    expect_correct += xuij > 0.0;
    const double z = 1.0 / (1.0 + std::exp(xuij));
    for (int c = 0; c < f; ++c) {
      const double wc = w[x.u * f + c], hic = h[x.i * f + c], hjc = h[x.j * f + c];
      w[x.u * f + c] += s.lr * (z * (hic - hjc) - s.reg * wc);
      h[x.i * f + c] += s.lr * (z * wc - s.reg * hic);
      h[x.j * f + c] += s.lr * (-z * wc - s.reg * hjc);
    }
    b[x.i] += s.lr * (z - s.reg * b[x.i]);
    b[x.j] += s.lr * (-z - s.reg * b[x.j]);
  }
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  for (int path = 0; path < (avx2 ? 2 : 1); ++path) {
    INFO("path " << (path == 0 ? "generic" : "avx2"));
    std::vector<float> wf = w0, hf = h0, bf = b0;
    const auto run = path == 0 ? bpr_detail::batch_generic : bpr_detail::batch_avx2;
    CHECK(run(s, t.data(), t.size(), wf.data(), hf.data(), bf.data()) == expect_correct);
    for (std::size_t k = 0; k < wf.size(); ++k) CHECK(wf[k] == Approx(w[k]).margin(1e-5));
    for (std::size_t k = 0; k < hf.size(); ++k) CHECK(hf[k] == Approx(h[k]).margin(1e-5));
    for (std::size_t k = 0; k < bf.size(); ++k) CHECK(bf[k] == Approx(b[k]).margin(1e-5));
  }
}

TEST_CASE("ials fits the same model for any thread count", "[mf_implicit]") {
  // f = 48 over 600 items: large enough for Eigen to size a product's
  // blocking, and so its sums, by the thread count; YᵀY + λI must not be one.
  std::vector<Interaction> pairs;
  Rng rng(5);
  for (UserId u = 0; u < 300; ++u)
    for (ItemId i = 0; i < 600; ++i)
      if (rng.uniform() < 0.04) pairs.push_back({u, i});
  const TrainData d = make_train_data(300, 600, pairs, false);
  const int before = omp_get_max_threads();
  for (const char* solver : {"cg", "cholesky"}) {
    INFO("solver " << solver);
    std::vector<RowMatrixF> users, items;
    for (const int threads : {1, 3}) {
      omp_set_num_threads(threads);  // as the host does for a trial
      IalsRecommender r(defaults_of<IalsRecommender>({{"factors", std::int64_t{48}}, {"iterations", std::int64_t{3}},
                                                      {"alpha", 4.0}, {"solver", std::string(solver)}}));
      r.fit(d, FitContext{});
      users.push_back(r.user_factors());
      items.push_back(r.item_factors());
    }
    omp_set_num_threads(before);
    CHECK(users[0] == users[1]);
    CHECK(items[0] == items[1]);
  }
}
