// Every SASRec layer's backward pass, and the whole model's, against central finite
// differences in double precision on tiny shapes (the check llm.c's test_gpt2.c makes
// against PyTorch). Each test projects the layer output on fixed random weights R,
// loss = Σ out ⊙ R, so backward is fed dout = R; dropout masks are fixed by their seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <vector>

#include "plugins/sasrec/attention.hpp"
#include "plugins/sasrec/losses.hpp"
#include "plugins/sasrec/model.hpp"

using namespace recfuse;
using namespace recfuse::sasrec;

namespace {

std::vector<double> randn(std::size_t n, std::uint64_t seed, double sd = 1.0) {
  Rng r(seed);
  std::vector<double> v(n);
  for (double& x : v) x = r.normal(0.0, sd);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

/// Compares analytic[i] with (loss(x + h e_i) − loss(x − h e_i)) / 2h for every i.
void check_gradient(std::vector<double>& x, const std::vector<double>& analytic,
                    const std::function<double()>& loss, const char* what, double tol = 1e-6) {
  REQUIRE(analytic.size() == x.size());
  const double h = 1e-5;
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double lp = loss();
    x[i] = saved - h;
    const double lm = loss();
    x[i] = saved;
    const double num = (lp - lm) / (2 * h);
    const double err = std::abs(num - analytic[i]) / std::max(1.0, std::abs(num) + std::abs(analytic[i]));
    worst = std::max(worst, err);
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst < tol);
}

}  // namespace

TEST_CASE("embedding backward matches finite differences", "[sasrec][gradcheck]") {
  const Idx N = 4, d = 3;
  std::vector<double> E = randn(5 * d, 1), P = randn(3 * d, 2), R = randn(N * d, 3), out(N * d);
  const std::int32_t ids[] = {1, 4, 1, 0}, pos[] = {0, 1, 2, 2};  // repeated ids and positions
  auto loss = [&] { embedding_forward(out.data(), ids, pos, E.data(), P.data(), 1.7, N, d); return dot(out, R); };
  std::vector<double> dE(E.size()), dP(P.size());
  embedding_backward(dE.data(), dP.data(), R.data(), ids, pos, 1.7, N, d);
  check_gradient(E, dE, loss, "dE");
  check_gradient(P, dP, loss, "dP");
}

TEST_CASE("layernorm backward matches finite differences", "[sasrec][gradcheck]") {
  const Idx N = 3, d = 5;
  std::vector<double> x = randn(N * d, 4), w = randn(d, 5), b = randn(d, 6), R = randn(N * d, 7);
  std::vector<double> out(N * d), mean(N), rstd(N);
  auto loss = [&] {
    layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, d, 1e-8);
    return dot(out, R);
  };
  loss();
  std::vector<double> dx(x.size()), dw(d), db(d);
  layernorm_backward(dx.data(), dw.data(), db.data(), R.data(), x.data(), mean.data(), rstd.data(), w.data(), N, d);
  check_gradient(x, dx, loss, "dx");
  check_gradient(w, dw, loss, "dw");
  check_gradient(b, db, loss, "db");
}

TEST_CASE("linear backward matches finite differences", "[sasrec][gradcheck]") {
  const Idx N = 4, in = 3, oc = 5;
  std::vector<double> x = randn(N * in, 8), W = randn(oc * in, 9), b = randn(oc, 10), R = randn(N * oc, 11);
  std::vector<double> y(N * oc);
  auto loss = [&] { linear_forward(y.data(), x.data(), W.data(), b.data(), N, in, oc); return dot(y, R); };
  std::vector<double> dx(x.size()), dW(W.size()), db(b.size());
  linear_backward(dx.data(), dW.data(), db.data(), R.data(), x.data(), W.data(), N, in, oc);
  check_gradient(x, dx, loss, "dx");
  check_gradient(W, dW, loss, "dW");
  check_gradient(b, db, loss, "db");
}

TEST_CASE("dropout, activations and residual backward match finite differences", "[sasrec][gradcheck]") {
  const Idx n = 40;
  std::vector<double> x = randn(n, 12), y = randn(n, 13), R = randn(n, 14), out(n);
  std::vector<std::uint8_t> mask(n);
  auto drop = [&] { Rng r(99); dropout_forward(out.data(), mask.data(), x.data(), 0.3, r, n); return dot(out, R); };
  drop();
  int kept = 0;
  for (auto m : mask) kept += m;
  CHECK(kept > 0);
  CHECK(kept < n);  // p = 0.3 of 40 drops some with overwhelming probability at this seed
  std::vector<double> dx(n);
  dropout_backward(dx.data(), R.data(), mask.data(), 0.3, n);
  check_gradient(x, dx, drop, "dropout");

  auto gelu = [&] { gelu_forward(out.data(), x.data(), n); return dot(out, R); };
  std::fill(dx.begin(), dx.end(), 0.0);
  gelu_backward(dx.data(), R.data(), x.data(), n);
  check_gradient(x, dx, gelu, "gelu");

  auto relu = [&] { relu_forward(out.data(), x.data(), n); return dot(out, R); };
  std::fill(dx.begin(), dx.end(), 0.0);
  relu_backward(dx.data(), R.data(), x.data(), n);
  check_gradient(x, dx, relu, "relu");

  auto res = [&] { residual_forward(out.data(), x.data(), y.data(), n); return dot(out, R); };
  std::vector<double> da(n), db(n);
  residual_backward(da.data(), db.data(), R.data(), n);
  check_gradient(x, da, res, "residual a");
  check_gradient(y, db, res, "residual b");
}

TEST_CASE("causal attention backward matches finite differences", "[sasrec][gradcheck]") {
  const Idx L = 5, d = 4, H = 2;
  std::vector<double> q = randn(L * d, 15), kv = randn(L * 2 * d, 16), R = randn(L * d, 17);
  std::vector<double> skv = randn(2 * d, 18);  // [b_k | b_v] of the padding sink
  std::vector<double> out(L * d), probs(H * L * L), sink(2 * H * L), work(2 * L * L);
  std::vector<std::uint8_t> mask(H * L * L);
  for (Idx n_pad : {0, 3})
    for (double p : {0.0, 0.25}) {
      auto loss = [&] {
        Rng r(5);
        attention_forward(out.data(), probs.data(), mask.data(), sink.data(), work.data(), q.data(),
                          kv.data(), skv.data(), n_pad, L, d, H, p, r);
        return dot(out, R);
      };
      loss();
      std::vector<double> dq(q.size()), dkv(kv.size()), dskv(skv.size());
      attention_backward(dq.data(), dkv.data(), dskv.data(), work.data(), R.data(), q.data(), kv.data(),
                         skv.data(), probs.data(), mask.data(), sink.data(), n_pad, L, d, H, p);
      INFO("n_pad " << n_pad << " p " << p);
      check_gradient(q, dq, loss, "dq");
      check_gradient(kv, dkv, loss, "dkv");
      check_gradient(skv, dskv, loss, "dsink_kv");
      if (n_pad == 0) CHECK(std::all_of(dskv.begin(), dskv.end(), [](double g) { return g == 0.0; }));
    }
  // Causality: position i never sees keys or values after i, and each row's weights,
  // the sink's included, sum to 1.
  auto forward = [&](Idx n_pad) {
    Rng r(5);
    attention_forward(out.data(), probs.data(), mask.data(), sink.data(), work.data(), q.data(),
                      kv.data(), skv.data(), n_pad, L, d, H, 0.0, r);
  };
  forward(3);
  for (Idx h = 0; h < H; ++h)
    for (Idx i = 0; i < L; ++i) {
      double sum = sink[static_cast<std::size_t>(2 * (h * L + i))];
      for (Idx j = 0; j < L; ++j) sum += probs[h * L * L + i * L + j];
      CHECK(sum == Approx(1.0));
      for (Idx j = i + 1; j < L; ++j) CHECK(probs[h * L * L + i * L + j] == 0.0);
    }
  const std::vector<double> before = out;
  for (Idx c = 0; c < 2 * d; ++c) kv[(L - 1) * 2 * d + c] += 3.0;  // change the last key/value
  forward(3);
  for (Idx k = 0; k < (L - 1) * d; ++k) CHECK(out[k] == before[k]);
  CHECK(out[(L - 1) * d] != before[(L - 1) * d]);
}

TEST_CASE("the padding sink equals attending to n_pad zero-input padding positions", "[sasrec]") {
  // The reference materialises the padding: a (n_pad + L)-long sequence whose first n_pad
  // keys and values are the biases b_k, b_v (zero input), under the causal mask only.
  const Idx L = 3, d = 4, H = 2, n_pad = 4, T = n_pad + L;
  const std::vector<double> q = randn(L * d, 21), kv = randn(L * 2 * d, 22), skv = randn(2 * d, 23);
  std::vector<double> out(L * d), probs(H * L * L), sink(2 * H * L), work(2 * L * L);
  std::vector<std::uint8_t> mask(H * L * L);
  Rng r(1);
  attention_forward(out.data(), probs.data(), mask.data(), sink.data(), work.data(), q.data(), kv.data(),
                    skv.data(), n_pad, L, d, H, 0.0, r);
  std::vector<double> qf(T * d, 0.0), kvf(T * 2 * d), outf(T * d), probsf(H * T * T), sinkf(2 * H * T),
      workf(2 * T * T);
  std::vector<std::uint8_t> maskf(H * T * T);
  for (Idx t = 0; t < T; ++t)
    for (Idx c = 0; c < 2 * d; ++c) kvf[t * 2 * d + c] = t < n_pad ? skv[c] : kv[(t - n_pad) * 2 * d + c];
  std::copy(q.begin(), q.end(), qf.begin() + n_pad * d);
  Rng rf(1);
  attention_forward(outf.data(), probsf.data(), maskf.data(), sinkf.data(), workf.data(), qf.data(),
                    kvf.data(), skv.data(), Idx{0}, T, d, H, 0.0, rf);
  for (Idx k = 0; k < L * d; ++k) CHECK(out[k] == Approx(outf[n_pad * d + k]).margin(1e-12));
}

TEST_CASE("losses backward match finite differences", "[sasrec][gradcheck]") {
  const Idx N = 5, d = 3, n_items = 6, k = 3;
  std::vector<double> F = randn(N * d, 18), E = randn(n_items * d, 19);
  const std::int32_t pos[] = {0, 2, 5, 1, 2}, neg[] = {3, 4, 0, 5, 1};
  const std::int64_t seq_start[] = {0, 2, 5};
  const std::int32_t negs[] = {3, 4, 1, 0, 4, 3};  // (S=2, k=3)
  std::vector<double> logits(2 * n_items), work(k + 1);
  const double norm = 1.0 / N;
  using LossFn = std::function<double(double*, double*)>;
  const std::pair<const char*, LossFn> losses[] = {
      {"bce", [&](double* dF, double* dE) { return bce_loss(dF, dE, F.data(), pos, neg, E.data(), N, d, norm); }},
      {"ce", [&](double* dF, double* dE) { return ce_loss(dF, dE, logits.data(), F.data(), pos, E.data(), N, d, n_items, Idx{2}, norm); }},
      {"sampled", [&](double* dF, double* dE) { return sampled_softmax_loss(dF, dE, work.data(), F.data(), pos, negs, seq_start, Idx{2}, E.data(), d, k, norm); }},
  };
  for (const auto& [name, fn] : losses) {
    std::vector<double> dF(F.size()), dE(E.size());
    const double l = fn(dF.data(), dE.data());
    CHECK(l == Approx(fn(nullptr, nullptr)));
    CHECK(l > 0);
    auto loss = [&] { return fn(nullptr, nullptr); };
    check_gradient(F, dF, loss, name);
    check_gradient(E, dE, loss, name);
  }
  // Hand-worked BCE: with F = 0 every logit is 0, loss = 2 log 2 per position.
  std::vector<double> zero(N * d, 0.0);
  CHECK(bce_loss<double>(nullptr, nullptr, zero.data(), pos, neg, E.data(), N, d, norm) == Approx(2 * std::log(2.0)));
  CHECK(ce_loss<double>(nullptr, nullptr, logits.data(), zero.data(), pos, E.data(), N, d, n_items, 2, norm) == Approx(std::log(6.0)));
}

TEST_CASE("the whole model's loss gradient matches finite differences", "[sasrec][gradcheck]") {
  for (int variant = 0; variant < 4; ++variant) {
    const bool gelu = variant & 1, pad = variant & 2;  // s1 below has 2 padding positions
    Config c;
    c.n_items = 7; c.d = 4; c.blocks = 2; c.heads = 2; c.maxlen = 5; c.dropout = 0.2; c.gelu = gelu;
    c.attend_padding = pad;
    const ParamLayout L(c);
    std::vector<double> w = randn(static_cast<std::size_t>(L.total), 20, 0.5);
    Batch b;
    const std::int32_t s0[] = {1, 3, 5, 2, 6}, s1[] = {4, 0, 2};
    b.add_sequence(s0, 5, c.maxlen, 11);
    b.add_sequence(s1, 3, c.maxlen, 12);
    b.targets = {3, 5, 2, 6, 0, 0, 2, 1};
    b.negatives = {0, 1, 4, 4, 5, 6, 3, 5};
    Activations<double> a;
    const double norm = 1.0 / 8;
    for (int which = 0; which < 2; ++which) {  // 0: BCE, 1: full softmax CE
      std::vector<double> logits(8 * 7);
      auto run = [&](bool grad, std::vector<double>* g) {
        model_forward(a, w.data(), L, c, b, true);
        std::fill(a.dF.begin(), a.dF.end(), 0.0);
        double* dF = grad ? a.dF.data() : nullptr;
        double* dE = grad ? g->data() + L.item_emb : nullptr;
        const double l = which == 0
            ? bce_loss(dF, dE, a.F.data(), b.targets.data(), b.negatives.data(), w.data() + L.item_emb, 8, c.d, norm)
            : ce_loss(dF, dE, logits.data(), a.F.data(), b.targets.data(), w.data() + L.item_emb, 8, c.d, c.n_items, 8, norm);
        if (grad) model_backward(g->data(), a, w.data(), L, c, b);
        return l;
      };
      std::vector<double> g(w.size(), 0.0);
      run(true, &g);
      INFO("gelu " << gelu << " attend_padding " << pad << " loss " << which);
      check_gradient(w, g, [&] { return run(false, nullptr); }, "all parameters", 1e-5);
    }
  }
}
