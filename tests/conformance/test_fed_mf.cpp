// fed_mf's round (plugins/privacy/fed_round.hpp, server_step.hpp) and its
// privacy accountant (dp_accounting.hpp), against independent dense
// computations in double on the small synthetic dataset.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../../plugins/privacy/dp_accounting.hpp"
#include "../../plugins/privacy/fed_round.hpp"
#include "../../plugins/privacy/server_step.hpp"
#include "conformance_support.hpp"
#include "mf_test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

constexpr double kReg = 0.1;
constexpr Eigen::Index kF = 5;

/// Confidences from the synthetic data (α = 4, every pair r = 1) in both layouts.
FedData fed_data(const TrainData& d) {
  ConfidenceOptions o;
  o.alpha = 4.0;
  return {make_confidence_rows(d.by_user, o), make_confidence_rows(d.by_item, o)};
}

/// Dense c (1 off the observed pairs) and p of one user.
void dense_row(const IalsRows& conf, std::int32_t u, Eigen::Index n_items, Eigen::VectorXd& c, Eigen::VectorXd& p) {
  c = Eigen::VectorXd::Ones(n_items);
  p = Eigen::VectorXd::Zero(n_items);
  for (std::int64_t k = conf.indptr[u]; k < conf.indptr[u + 1]; ++k) {
    c(conf.indices[static_cast<std::size_t>(k)]) = conf.conf[static_cast<std::size_t>(k)];
    p(conf.indices[static_cast<std::size_t>(k)]) = 1.0;
  }
}

/// L_u(x, Y) = Σ_i c_i (p_i − xᵀy_i)² + λ‖x‖², every item included.
double user_loss(const Eigen::VectorXd& c, const Eigen::VectorXd& p, const Eigen::VectorXd& x,
                 const Eigen::MatrixXd& y) {
  return (c.array() * (p - y * x).array().square()).sum() + kReg * x.squaredNorm();
}

FedState state_for(const TrainData& d, std::uint64_t seed) {
  FedState s;
  s.x = RowMatrixF::Zero(d.n_users, kF);
  s.y = random_factors(d.n_items, kF, seed, 0.5);
  return s;
}

/// Client u alone: its user step, clipping and its (clipped) gradient in s.sum.
void one_client(const FedData& data, const FedOptions& o, std::int32_t u, FedState& s) {
  s.clients = {u};
  fed_detail::solve_clients(data, o, s);
  clip_weights(data, o, s);
  sum_client_gradients(data, o, s);
}

double grid_epsilon(double sigma, std::int64_t rounds, double delta) {
  double best = std::numeric_limits<double>::infinity();
  for (double alpha = 1.0 + 1e-4; alpha <= 400.0; alpha += 1e-4)
    best = std::min(best, static_cast<double>(rounds) * alpha / (2.0 * sigma * sigma) +
                              std::log(1.0 / delta) / (alpha - 1.0));
  return best;
}

}  // namespace

TEST_CASE("fed_mf: the item gradient a client sends is the finite-difference gradient of its iALS loss",
          "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  const FedData data = fed_data(d);
  FedOptions o;
  o.reg = kReg;
  for (const std::int32_t u : {0, 7, 19}) {
    INFO("user " << u);
    FedState s = state_for(d, 3);
    one_client(data, o, u, s);
    Eigen::VectorXd c, p;
    dense_row(data.by_user, u, d.n_items, c, p);
    const Eigen::VectorXd x = s.x.row(u).transpose().cast<double>();
    Eigen::MatrixXd y = s.y.cast<double>();
    // x_u is the closed-form user step: ∂L_u/∂x = −2Yᵀ C (p − Yx) + 2λx = 0.
    const Eigen::VectorXd gx = -2.0 * y.transpose() * (c.array() * (p - y * x).array()).matrix() + 2.0 * kReg * x;
    CHECK(gx.cwiseAbs().maxCoeff() < 1e-4 * (1.0 + x.cwiseAbs().maxCoeff()));
    REQUIRE(x.norm() > 1e-3);  // a gradient of 0 would pass what follows
    // Central differences in Y at fixed x (L_u is quadratic in each entry: exact up to rounding).
    Eigen::MatrixXd fd(d.n_items, kF);
    const double h = 1e-3;
    for (Eigen::Index i = 0; i < d.n_items; ++i)
      for (Eigen::Index j = 0; j < kF; ++j) {
        const double keep = y(i, j);
        y(i, j) = keep + h;
        const double up = user_loss(c, p, x, y);
        y(i, j) = keep - h;
        const double down = user_loss(c, p, x, y);
        y(i, j) = keep;
        fd(i, j) = (up - down) / (2.0 * h);
      }
    const Eigen::MatrixXd sent = s.sum.cast<double>();
    CHECK((sent - fd).cwiseAbs().maxCoeff() < 1e-4 * fd.cwiseAbs().maxCoeff());
    CHECK(fd.cwiseAbs().maxCoeff() > 1e-2);
    // Only u contributed: the sum over clients is this client's message.
    CHECK(s.clients == std::vector<std::int32_t>{u});
  }
}

TEST_CASE("fed_mf: clipping bounds each client's contribution and the sum adds the clipped messages",
          "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  const FedData data = fed_data(d);
  FedOptions o;
  o.reg = kReg;
  const FedState start = state_for(d, 5);
  // Each client's unclipped message, and its norm as the plugin computes it.
  std::vector<RowMatrixF> messages;
  std::vector<double> norms;
  for (std::int32_t u = 0; u < d.n_users; ++u) {
    FedState s = start;
    one_client(data, o, u, s);
    messages.push_back(s.sum);
    const Eigen::MatrixXd yty = (s.y.cast<double>().transpose() * s.y.cast<double>());
    norms.push_back(client_gradient_norm(data.by_user, u, s.x, s.y, yty));
    CHECK(norms.back() == Approx(s.sum.cast<double>().norm()).epsilon(1e-4));
  }
  std::vector<double> sorted = norms;
  std::sort(sorted.begin(), sorted.end());
  o.clip = sorted[sorted.size() / 2];  // half of the clients are clipped
  REQUIRE(sorted.front() < o.clip);
  REQUIRE(sorted.back() > 1.2 * o.clip);
  for (std::int32_t u = 0; u < d.n_users; ++u) {
    INFO("user " << u << " norm " << norms[static_cast<std::size_t>(u)]);
    FedState s = start;
    one_client(data, o, u, s);
    const double norm = s.sum.cast<double>().norm();
    CHECK(norm <= o.clip * (1.0 + 1e-5));
    const double want_scale = std::min(1.0, o.clip / norms[static_cast<std::size_t>(u)]);
    const RowMatrixF& m = messages[static_cast<std::size_t>(u)];
    CHECK((s.sum - static_cast<float>(want_scale) * m).cwiseAbs().maxCoeff() <= 1e-5f * m.cwiseAbs().maxCoeff());
  }
  // Every client in one round: the sum of the clipped messages above.
  FedState all = start;
  all.clients.resize(static_cast<std::size_t>(d.n_users));
  for (std::int32_t u = 0; u < d.n_users; ++u) all.clients[static_cast<std::size_t>(u)] = u;
  fed_detail::solve_clients(data, o, all);
  const std::int64_t clipped = clip_weights(data, o, all);
  sum_client_gradients(data, o, all);
  Eigen::MatrixXd want = Eigen::MatrixXd::Zero(d.n_items, kF);
  std::int64_t over = 0;
  for (std::int32_t u = 0; u < d.n_users; ++u) {
    const double n = norms[static_cast<std::size_t>(u)];
    want += std::min(1.0, o.clip / n) * messages[static_cast<std::size_t>(u)].cast<double>();
    over += n > o.clip;
  }
  CHECK(clipped == over);
  CHECK((all.sum.cast<double>() - want).cwiseAbs().maxCoeff() < 1e-4 * want.cwiseAbs().maxCoeff());
}

TEST_CASE("fed_mf: with every client, no clipping and no noise, a round is the full-batch gradient step",
          "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  const FedData data = fed_data(d);
  FedOptions o;
  o.reg = kReg;
  const FedState start = state_for(d, 9);
  // Independently: X* row by row from the dense normal equations, then
  // ∇_Y J = −2 (C ∘ (P − X Yᵀ))ᵀ X + 2λY.
  const Eigen::MatrixXd y = start.y.cast<double>();
  Eigen::MatrixXd x(d.n_users, kF), e(d.n_users, d.n_items);
  for (std::int32_t u = 0; u < d.n_users; ++u) {
    Eigen::VectorXd c, p;
    dense_row(data.by_user, u, d.n_items, c, p);
    const Eigen::MatrixXd a = y.transpose() * c.asDiagonal() * y + kReg * Eigen::MatrixXd::Identity(kF, kF);
    x.row(u) = a.ldlt().solve(y.transpose() * c.asDiagonal() * p).transpose();
    e.row(u) = (c.array() * (p - y * x.row(u).transpose()).array()).matrix().transpose();
  }
  const Eigen::MatrixXd grad = -2.0 * e.transpose() * x + 2.0 * kReg * y;
  const double lr = 0.01;
  for (const ServerOptimizer opt : {ServerOptimizer::kSgd, ServerOptimizer::kAdam}) {
    const bool adam = opt == ServerOptimizer::kAdam;
    INFO((adam ? "adam" : "sgd"));
    FedState s = start;
    const RoundStats st = fed_round(data, o, 123, s);
    CHECK(st.clients == d.n_users);
    CHECK(st.clipped == 0);
    CHECK((s.x.cast<double>() - x).cwiseAbs().maxCoeff() < 1e-4 * x.cwiseAbs().maxCoeff());
    ServerStep step(opt, lr, kReg, 1.0);
    step.reset(s.y.rows(), s.y.cols());
    step.apply(s.sum, s.y, 2);
    CHECK((s.sum.cast<double>() - grad).cwiseAbs().maxCoeff() < 1e-4 * grad.cwiseAbs().maxCoeff());
    // Adam's first step (bias-corrected moments m̂ = g, v̂ = g²) is lr·g/(|g| + ε),
    // with the g just checked (near-zero entries make its sign fragile).
    const Eigen::MatrixXd g = s.sum.cast<double>();
    const Eigen::MatrixXd want =
        adam ? Eigen::MatrixXd(y.array() - lr * g.array() / (g.array().abs() + 1e-8)) : Eigen::MatrixXd(y - lr * grad);
    CHECK((s.y.cast<double>() - want).cwiseAbs().maxCoeff() < 1e-5);
  }
}

TEST_CASE("fed_mf: rounds lower the iALS objective at the clients' closed-form factors", "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  const FedData data = fed_data(d);
  FedOptions o;
  o.reg = kReg;
  FedState s = state_for(d, 4);
  ServerStep step(ServerOptimizer::kSgd, 2e-3, kReg, 1.0);
  step.reset(s.y.rows(), s.y.cols());
  std::vector<double> loss;
  for (int t = 0; t < 10; ++t) {
    fed_round(data, o, static_cast<std::uint64_t>(t), s);  // X* at this Y
    loss.push_back(ials_loss(data.by_user, s.x, s.y, kReg));
    step.apply(s.sum, s.y, 2);
  }
  for (std::size_t t = 1; t < loss.size(); ++t) CHECK(loss[t] < loss[t - 1]);
  CHECK(loss.back() < 0.9 * loss.front());
}

TEST_CASE("fed_mf: noise is added to the released sum, from the round's seed", "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  const FedData data = fed_data(d);
  FedOptions o;
  o.reg = kReg;
  o.clip = 0.5;
  const FedState start = state_for(d, 6);
  const auto released = [&](double sigma, std::uint64_t seed) {
    FedOptions oo = o;
    oo.noise_multiplier = sigma;
    FedState s = start;
    fed_round(data, oo, seed, s);
    return RowMatrixF(s.sum);
  };
  CHECK(released(0.0, 1) == released(0.0, 2));  // q = 1, no noise: the seed changes nothing
  CHECK(released(2.0, 1) == released(2.0, 1));
  CHECK(released(2.0, 1) != released(2.0, 2));
  // The noise is N(0, σ²C²) per entry: over 40 x 5 entries the sample std
  // has a standard error of 5% of σC and the mean one of σC/√200; 4 of each allowed.
  const Eigen::ArrayXXd noise = (released(2.0, 1) - released(0.0, 1)).cast<double>().array();
  const double mean = noise.mean();
  const double sd = std::sqrt((noise - mean).square().sum() / static_cast<double>(noise.size() - 1));
  CHECK(sd == Approx(2.0 * o.clip).epsilon(0.2));
  CHECK(std::abs(mean) < 4.0 * 2.0 * o.clip / std::sqrt(static_cast<double>(noise.size())));
}

TEST_CASE("fed_mf: client sampling draws each client with probability q, from the round's seed", "[fed_mf]") {
  std::vector<std::int32_t> a, b;
  std::int64_t total = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    fed_detail::sample_clients(1000, 0.1, seed, a);
    total += static_cast<std::int64_t>(a.size());
    CHECK(std::is_sorted(a.begin(), a.end()));
  }
  // 200 x 1000 Bernoulli(0.1) draws: mean 20000, sd 134.
  CHECK(std::abs(total - 20000) < 600);
  fed_detail::sample_clients(1000, 0.1, 7, a);
  fed_detail::sample_clients(1000, 0.1, 7, b);
  CHECK(a == b);
  fed_detail::sample_clients(1000, 0.1, 8, b);
  CHECK(a != b);
  fed_detail::sample_clients(1000, 1.0, 8, b);
  CHECK(b.size() == 1000);
}

TEST_CASE("fed_mf: the RDP accountant matches a fine grid over the Rényi order", "[fed_mf]") {
  // σ = 1, T = 10, δ = 1e-5 by hand: a = T/(2σ²) = 5, b = ln(1e5) = 11.5129;
  // α* = 1 + √(b/a) = 2.5174, ε = a + 2√(ab) = 5 + 2·7.5871 = 20.174.
  CHECK(gaussian_rdp_epsilon(1.0, 10, 1e-5) == Approx(20.174).margin(1e-3));
  for (const auto& [sigma, rounds, delta] : {std::tuple{1.0, std::int64_t{10}, 1e-5}, std::tuple{5.0, std::int64_t{40}, 1e-5},
                                             std::tuple{30.0, std::int64_t{40}, 1e-5}, std::tuple{0.8, std::int64_t{1}, 1e-6},
                                             std::tuple{2.0, std::int64_t{1000}, 1e-3}}) {
    INFO("sigma " << sigma << " rounds " << rounds << " delta " << delta);
    const double grid = grid_epsilon(sigma, rounds, delta);
    const double eps = gaussian_rdp_epsilon(sigma, rounds, delta);
    CHECK(eps <= grid + 1e-9);                 // the exact minimum is never above a grid point
    CHECK(eps == Approx(grid).epsilon(1e-6));  // and the grid at 1e-4 gets within rounding of it
  }
  CHECK(gaussian_rdp_epsilon(5.0, 80, 1e-5) > gaussian_rdp_epsilon(5.0, 40, 1e-5));
  CHECK(gaussian_rdp_epsilon(6.0, 40, 1e-5) < gaussian_rdp_epsilon(5.0, 40, 1e-5));
  CHECK(std::isinf(gaussian_rdp_epsilon(0.0, 40, 1e-5)));
  CHECK(gaussian_rdp_epsilon(1.0, 0, 1e-5) == 0.0);
}
