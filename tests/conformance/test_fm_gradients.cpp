// The factorization machine's training steps against finite differences of
// eq. 1 (FmModel::naive): one step of train_fm must move every parameter
// by the documented optimizer rule applied to the gradient of the step's
// loss, the gradient measured numerically, so a wrong analytic gradient, a
// doubled update or a penalty on the wrong parameters all show.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "conformance_support.hpp"
#include "plugins/fm/fm.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// 1 user with attribute "gender=F"; items 0 {A} and 1 {A, B} (so x_A is 1
/// for item 0 and ½ for item 1: genre A is shared by the BPR pair (0, 1)).
TrainData shared_genre_data(const std::vector<Interaction>& e) {
  TrainData d = make_train_data(1, 2, e, false);
  AttributeMatrix& f = d.item_features;
  f.names = {"genre=A", "genre=B"};
  f.matrix.rows = 2;
  f.matrix.cols = 2;
  f.matrix.indptr = {0, 1, 3};
  f.matrix.indices = {0, 0, 1};
  f.matrix.values = {1, 1, 1};
  AttributeMatrix& g = d.user_features;
  g.names = {"gender=F"};
  g.matrix.rows = 1;
  g.matrix.cols = 1;
  g.matrix.indptr = {0, 1};
  g.matrix.indices = {0};
  g.matrix.values = {1};
  return d;
}

FmOptions step_options(bool bpr, bool adam) {
  FmOptions o;
  o.factors = 3;
  o.lr = 0.1;
  o.reg = 0.5;
  o.init_std = 0.5;
  o.bpr = bpr;
  o.adam = adam;
  return o;
}

/// The model after `epochs` epochs of train_fm (0: its initialisation).
FmModel trained(const TrainData& d, FmOptions o, int epochs) {
  o.epochs = epochs;
  FmModel m;
  m.init(d, o);
  FitContext ctx;
  ctx.seed = 11;
  train_fm(m, d, o, ctx);
  return m;
}

// Parameters as one flat list: w0, then w, then V row-major.
std::size_t n_params(const FmModel& m) { return 1 + m.w.size() + static_cast<std::size_t>(m.V.size()); }
double get(const FmModel& m, std::size_t p) {
  if (p == 0) return m.w0;
  if (p <= m.w.size()) return m.w[p - 1];
  return m.V.data()[p - 1 - m.w.size()];
}
void set(FmModel& m, std::size_t p, double v) {
  if (p == 0) m.w0 = v;
  else if (p <= m.w.size()) m.w[p - 1] = static_cast<float>(v);
  else m.V.data()[p - 1 - m.w.size()] = static_cast<float>(v);
}

using Loss = std::function<double(const FmModel&)>;

/// ∂loss/∂θ_p by central differences (the step actually taken by the float parameter).
double numeric_gradient(const FmModel& m, std::size_t p, const Loss& loss) {
  FmModel hi = m, lo = m;
  set(hi, p, get(m, p) + 1e-3);
  set(lo, p, get(m, p) - 1e-3);
  return (loss(hi) - loss(lo)) / (get(hi, p) - get(lo, p));
}

Loss bpr_loss(UserId u, ItemId i, ItemId j) {
  return [=](const FmModel& m) { return std::log1p(std::exp(-(m.naive(u, i) - m.naive(u, j)))); };
}
Loss logistic_loss(UserId u, ItemId i, double y) {
  return [=](const FmModel& m) {
    const double s = m.naive(u, i);
    return std::log1p(std::exp(s)) - y * s;
  };
}

/// One SGD step as fm.hpp documents it: θ −= lr (g + reg θ) on the
/// parameters the step touches (those its loss depends on), w0 unpenalised
/// (the `reg` parameter is the "L2 penalty on w and V").
FmModel sgd_step(const FmModel& m, const FmOptions& o, const Loss& loss) {
  FmModel out = m;
  for (std::size_t p = 0; p < n_params(m); ++p) {
    const double g = numeric_gradient(m, p, loss);
    if (g == 0) continue;  // not in the step's loss
    set(out, p, get(m, p) - o.lr * (g + (p == 0 ? 0.0 : o.reg * get(m, p))));
  }
  return out;
}

void check_same(const FmModel& got, const FmModel& want) {
  for (std::size_t p = 0; p < n_params(want); ++p) {
    INFO("parameter " << p << " (0 = w0, 1.." << want.w.size() << " = w, then V row-major)");
    CHECK(get(got, p) == Approx(get(want, p)).margin(2e-4));
  }
}

}  // namespace

TEST_CASE("fm: a BPR SGD step is θ − lr (∇ + reg θ) with the finite-difference gradient, once per parameter",
          "[fm]") {
  // The user chose item 0, so the only negative is item 1; genre A is in
  // both and must get the sum of both gradients and one penalty.
  const TrainData d = shared_genre_data({{0, 0}});
  const FmOptions o = step_options(true, false);
  const FmModel start = trained(d, o, 0);
  const FmModel want = sgd_step(start, o, bpr_loss(0, 0, 1));
  check_same(trained(d, o, 1), want);
}

TEST_CASE("fm: a BPR Adam step moves every touched parameter by lr in its gradient's direction", "[fm]") {
  // At t = 1 Adam's bias-corrected step is lr · G / (|G| + ε), G = ∇ + reg θ:
  // one update per parameter with the summed gradient (a shared genre
  // updated once per item would take two steps with two partial gradients).
  const TrainData d = shared_genre_data({{0, 0}});
  const FmOptions o = step_options(true, true);
  const FmModel start = trained(d, o, 0);
  FmModel want = start;
  const Loss loss = bpr_loss(0, 0, 1);
  for (std::size_t p = 0; p < n_params(start); ++p) {
    const double g = numeric_gradient(start, p, loss);
    if (g == 0) continue;
    const double G = g + o.reg * get(start, p);
    set(want, p, get(start, p) - o.lr * G / (std::abs(G) + 1e-8));
  }
  check_same(trained(d, o, 1), want);
}

TEST_CASE("fm: logistic SGD steps follow the finite-difference gradient and leave w0 unpenalised", "[fm]") {
  // One epoch: the positive (0, 0) with y = 1, then the negative (0, 1)
  // with y = 0, each step taken from the parameters the last one left.
  const TrainData d = shared_genre_data({{0, 0}});
  const FmOptions o = step_options(false, false);
  const FmModel after_positive = sgd_step(trained(d, o, 0), o, logistic_loss(0, 0, 1.0));
  REQUIRE(after_positive.w0 != 0.0);  // so a penalty on w0 would show in the second step
  check_same(trained(d, o, 1), sgd_step(after_positive, o, logistic_loss(0, 1, 0.0)));
}

TEST_CASE("fm: logistic loss still trains a positive when no negative can be sampled", "[fm]") {
  // The user has every item: no negative exists, but the positive's own
  // term −ln σ(ŷ) is part of the loss and must be stepped on.
  const TrainData d = shared_genre_data({{0, 0}, {0, 1}});
  const FmOptions o = step_options(false, false);
  const FmModel start = trained(d, o, 0);
  // Both interactions, in the order the epoch's shuffle drew them: item 0
  // first or item 1 first, whichever the trained model matches.
  const FmModel got = trained(d, o, 1);
  const FmModel a = sgd_step(sgd_step(start, o, logistic_loss(0, 0, 1.0)), o, logistic_loss(0, 1, 1.0));
  const FmModel b = sgd_step(sgd_step(start, o, logistic_loss(0, 1, 1.0)), o, logistic_loss(0, 0, 1.0));
  const bool first_is_0 = std::abs(got.w0 - a.w0) < std::abs(got.w0 - b.w0);
  check_same(got, first_is_0 ? a : b);
}
