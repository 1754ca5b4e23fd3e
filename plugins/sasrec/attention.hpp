// Causal multi-head scaled dot-product attention of one sequence (Vaswani et al. 2017,
// eq. 1; SASRec §III-B), with dropout on the attention weights as torch's
// MultiheadAttention applies it. Queries come from LayerNorm(x) and keys/values from x
// (the reference's "Q = LayerNorm(seqs); mha(Q, seqs, seqs)"), so the projections are
// computed outside: q (L,d) and kv (L,2d) = [K | V].
//
// Padding: only the L real (non-padding) positions of a sequence are ever materialised.
// This equals masking padding keys and zeroing padding queries, as Kang's original
// TensorFlow code does (key and query masks), with no work spent on padding.
//
// Per head h (dh = d / H): S = Q_h K_hᵀ / √dh, S_ij = −∞ for j > i (causal),
// P = softmax_rows(S), A = dropout(P), O_h = A V_h.
#pragma once

#include "layers.hpp"

namespace recfuse::sasrec {

/// out (L,d); probs (H,L,L) saved = P before dropout; mask (H,L,L) saved keep flags;
/// work (L,L) scratch; q (L,d); kv (L,2d). `rng` is only used when p > 0.
template <class T>
void attention_forward(T* out, T* probs, std::uint8_t* mask, T* work, const T* q, const T* kv,
                       Idx L, Idx d, Idx H, double p, Rng& rng) {
  const Idx dh = d / H;
  const T scale = T(1) / std::sqrt(static_cast<T>(dh));
  for (Idx h = 0; h < H; ++h) {
    CSMapM<T> Q(q + h * dh, L, dh, Eigen::OuterStride<>(d));
    CSMapM<T> K(kv + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    CSMapM<T> V(kv + d + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    SMapM<T> O(out + h * dh, L, dh, Eigen::OuterStride<>(d));
    MapM<T> P(probs + h * L * L, L, L);
    P.noalias() = Q * K.transpose();
    for (Idx i = 0; i < L; ++i) {
      T* row = P.data() + i * L;
      T mx = row[0] * scale;
      for (Idx j = 1; j <= i; ++j) mx = std::max(mx, row[j] * scale);
      T sum = 0;
      for (Idx j = 0; j <= i; ++j) {
        row[j] = std::exp(row[j] * scale - mx);
        sum += row[j];
      }
      const T inv = T(1) / sum;
      for (Idx j = 0; j <= i; ++j) row[j] *= inv;
      for (Idx j = i + 1; j < L; ++j) row[j] = T(0);
    }
    MapM<T> A(work, L, L);
    dropout_forward(A.data(), mask + h * L * L, P.data(), p, rng, L * L);
    O.noalias() = A * V;
  }
}

/// dq (L,d) +=; dkv (L,2d) +=; work (2,L,L) scratch; dout (L,d); q (L,d); kv (L,2d);
/// probs, mask (H,L,L) as saved by attention_forward.
template <class T>
void attention_backward(T* dq, T* dkv, T* work, const T* dout, const T* q, const T* kv,
                        const T* probs, const std::uint8_t* mask, Idx L, Idx d, Idx H, double p) {
  const Idx dh = d / H;
  const T scale = T(1) / std::sqrt(static_cast<T>(dh));
  const T keep = p > 0 ? static_cast<T>(1.0 / (1.0 - p)) : T(1);
  for (Idx h = 0; h < H; ++h) {
    CSMapM<T> Q(q + h * dh, L, dh, Eigen::OuterStride<>(d));
    CSMapM<T> K(kv + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    CSMapM<T> V(kv + d + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    CSMapM<T> dO(dout + h * dh, L, dh, Eigen::OuterStride<>(d));
    SMapM<T> dQ(dq + h * dh, L, dh, Eigen::OuterStride<>(d));
    SMapM<T> dK(dkv + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    SMapM<T> dV(dkv + d + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    const T* P = probs + h * L * L;
    const std::uint8_t* M = mask + h * L * L;
    MapM<T> A(work, L, L);          // the dropped-out weights used in forward
    MapM<T> dS(work + L * L, L, L);  // dA, then dS in place
    for (Idx k = 0; k < L * L; ++k) A.data()[k] = M[k] ? P[k] * keep : T(0);
    dV.noalias() += A.transpose() * dO;
    dS.noalias() = dO * V.transpose();
    for (Idx i = 0; i < L; ++i) {
      T* g = dS.data() + i * L;
      const T* pr = P + i * L;
      const std::uint8_t* mr = M + i * L;
      T dot = 0;
      for (Idx j = 0; j <= i; ++j) {
        g[j] = mr[j] ? g[j] * keep : T(0);
        dot += g[j] * pr[j];
      }
      for (Idx j = 0; j <= i; ++j) g[j] = pr[j] * (g[j] - dot) * scale;
      for (Idx j = i + 1; j < L; ++j) g[j] = T(0);
    }
    dQ.noalias() += dS * K;
    dK.noalias() += dS.transpose() * Q;
  }
}

}  // namespace recfuse::sasrec
