// The layers of SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation",
// ICDM 2018), written by hand in the manner of llm.c's train_gpt2.c: each layer is a
// `*_forward` / `*_backward` pair with a fixed argument order (outputs, saved values,
// inputs, weights, sizes) and its tensor shapes in a comment. Forward saves exactly what
// backward needs; backward ACCUMULATES (+=) into parameter gradients and into input
// gradients, so the caller zeroes what it needs zeroed once.
//
// Every function is templated on the scalar so the tests check float code paths against
// central finite differences in double precision. Matrices are row-major flat buffers
// seen through Eigen::Map; the matmuls are Eigen GEMMs with .noalias().
//
//   linear_forward(y, x, W, b, N, in, out);            // y = x Wᵀ + b  (torch Linear/Conv1d k=1)
//   linear_backward(dx, dW, db, dy, x, W, N, in, out); // dx += dy W, dW += dyᵀ x, db += Σ dy
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "recfuse/rng.hpp"

namespace recfuse::sasrec {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MapM = Eigen::Map<Mat<T>>;
template <class T>
using CMapM = Eigen::Map<const Mat<T>>;
template <class T>
using SMapM = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;  // a column block of a wider matrix
template <class T>
using CSMapM = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;
using Idx = Eigen::Index;

// ---------------------------------------------------------------------------------------
// Embedding (paper eq. 2 with the reference's scaling): out[n] = scale · E[ids[n]] + P[pos[n]].
// out (N,d); ids, pos (N); E (n_items,d); P (maxlen,d).
template <class T>
void embedding_forward(T* out, const std::int32_t* ids, const std::int32_t* pos, const T* E,
                       const T* P, T scale, Idx N, Idx d) {
  for (Idx n = 0; n < N; ++n) {
    const T* e = E + ids[n] * d;
    const T* p = P + pos[n] * d;
    T* o = out + n * d;
    for (Idx c = 0; c < d; ++c) o[c] = scale * e[c] + p[c];
  }
}
template <class T>
void embedding_backward(T* dE, T* dP, const T* dout, const std::int32_t* ids,
                        const std::int32_t* pos, T scale, Idx N, Idx d) {
  for (Idx n = 0; n < N; ++n) {
    T* de = dE + ids[n] * d;
    T* dp = dP + pos[n] * d;
    const T* g = dout + n * d;
    for (Idx c = 0; c < d; ++c) {
      de[c] += scale * g[c];
      dp[c] += g[c];
    }
  }
}

// ---------------------------------------------------------------------------------------
// LayerNorm over the last dimension (Ba et al. 2016); the reference uses eps = 1e-8.
// out (N,d); mean, rstd (N) saved; inp (N,d); w, b (d).
template <class T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* w, const T* b, Idx N,
                       Idx d, T eps) {
  for (Idx n = 0; n < N; ++n) {
    const T* x = inp + n * d;
    T m = 0;
    for (Idx c = 0; c < d; ++c) m += x[c];
    m /= static_cast<T>(d);
    T v = 0;
    for (Idx c = 0; c < d; ++c) v += (x[c] - m) * (x[c] - m);
    v /= static_cast<T>(d);
    const T s = T(1) / std::sqrt(v + eps);
    T* o = out + n * d;
    for (Idx c = 0; c < d; ++c) o[c] = (x[c] - m) * s * w[c] + b[c];
    mean[n] = m;
    rstd[n] = s;
  }
}
// dinp (N,d) +=; dw, db (d) +=; dout, inp (N,d); mean, rstd (N); w (d).
template <class T>
void layernorm_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* mean,
                        const T* rstd, const T* w, Idx N, Idx d) {
  for (Idx n = 0; n < N; ++n) {
    const T* x = inp + n * d;
    const T* g = dout + n * d;
    T* dx = dinp + n * d;
    const T m = mean[n], s = rstd[n];
    T dnorm_mean = 0, dnorm_norm_mean = 0;
    for (Idx c = 0; c < d; ++c) {
      const T norm = (x[c] - m) * s;
      const T dnorm = w[c] * g[c];
      dnorm_mean += dnorm;
      dnorm_norm_mean += dnorm * norm;
    }
    dnorm_mean /= static_cast<T>(d);
    dnorm_norm_mean /= static_cast<T>(d);
    for (Idx c = 0; c < d; ++c) {
      const T norm = (x[c] - m) * s;
      const T dnorm = w[c] * g[c];
      db[c] += g[c];
      dw[c] += norm * g[c];
      dx[c] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Linear map, torch layout (W is out x in): the attention projections and the point-wise
// feed-forward Conv1d(kernel 1) of the reference. y (N,out); x (N,in); W (out,in); b (out).
template <class T>
void linear_forward(T* y, const T* x, const T* W, const T* b, Idx N, Idx in, Idx out) {
  MapM<T> Y(y, N, out);
  Y.noalias() = CMapM<T>(x, N, in) * CMapM<T>(W, out, in).transpose();
  Y.rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(b, out);
}
// dx (N,in) +=  (skipped when null); dW (out,in) +=; db (out) +=; dy (N,out).
template <class T>
void linear_backward(T* dx, T* dW, T* db, const T* dy, const T* x, const T* W, Idx N, Idx in,
                     Idx out) {
  CMapM<T> DY(dy, N, out);
  if (dx) MapM<T>(dx, N, in).noalias() += DY * CMapM<T>(W, out, in);
  MapM<T>(dW, out, in).noalias() += DY.transpose() * CMapM<T>(x, N, in);
  Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(db, out) += DY.colwise().sum();
}

// ---------------------------------------------------------------------------------------
// Inverted dropout (Srivastava et al. 2014): out = inp · keep / (1 − p). The keep flags are
// saved as bytes. p == 0 (or inference) copies and keeps everything.
// out, inp (n); mask (n) saved.
template <class T>
void dropout_forward(T* out, std::uint8_t* mask, const T* inp, double p, Rng& rng, Idx n) {
  if (p <= 0) {
    std::copy(inp, inp + n, out);
    std::fill(mask, mask + n, std::uint8_t{1});
    return;
  }
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  for (Idx i = 0; i < n; ++i) {
    mask[i] = rng.uniform() >= p;
    out[i] = mask[i] ? inp[i] * scale : T(0);
  }
}
// dinp (n) +=; dout (n); mask (n).
template <class T>
void dropout_backward(T* dinp, const T* dout, const std::uint8_t* mask, double p, Idx n) {
  const T scale = p > 0 ? static_cast<T>(1.0 / (1.0 - p)) : T(1);
  for (Idx i = 0; i < n; ++i)
    if (mask[i]) dinp[i] += dout[i] * scale;
}

// ---------------------------------------------------------------------------------------
// Activations of the point-wise feed-forward network. out, inp (n).
template <class T>
void relu_forward(T* out, const T* inp, Idx n) {
  for (Idx i = 0; i < n; ++i) out[i] = inp[i] > 0 ? inp[i] : T(0);
}
// dinp (n) +=; dout, inp (n).
template <class T>
void relu_backward(T* dinp, const T* dout, const T* inp, Idx n) {
  for (Idx i = 0; i < n; ++i)
    if (inp[i] > 0) dinp[i] += dout[i];
}
// GELU, tanh approximation (Hendrycks & Gimpel 2016, as llm.c).
constexpr double kGeluC = 0.7978845608028654;  // sqrt(2/pi)
template <class T>
void gelu_forward(T* out, const T* inp, Idx n) {
  for (Idx i = 0; i < n; ++i) {
    const T x = inp[i];
    out[i] = T(0.5) * x * (T(1) + std::tanh(T(kGeluC) * (x + T(0.044715) * x * x * x)));
  }
}
template <class T>
void gelu_backward(T* dinp, const T* dout, const T* inp, Idx n) {
  for (Idx i = 0; i < n; ++i) {
    const T x = inp[i];
    const T u = T(kGeluC) * (x + T(0.044715) * x * x * x);
    const T th = std::tanh(u);
    const T sech2 = T(1) - th * th;
    const T du = T(kGeluC) * (T(1) + T(3 * 0.044715) * x * x);
    dinp[i] += dout[i] * (T(0.5) * (T(1) + th) + T(0.5) * x * sech2 * du);
  }
}

// ---------------------------------------------------------------------------------------
// Residual connection: out = a + b. out, a, b (n).
template <class T>
void residual_forward(T* out, const T* a, const T* b, Idx n) {
  for (Idx i = 0; i < n; ++i) out[i] = a[i] + b[i];
}
// da, db (n) +=; dout (n).
template <class T>
void residual_backward(T* da, T* db, const T* dout, Idx n) {
  for (Idx i = 0; i < n; ++i) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

}  // namespace recfuse::sasrec
