// Causal multi-head scaled dot-product attention of one sequence (Vaswani et al. 2017,
// eq. 1; SASRec §III-B), with dropout on the attention weights as torch's
// MultiheadAttention applies it. Queries come from LayerNorm(x) and keys/values from x
// (the reference's "Q = LayerNorm(seqs); mha(Q, seqs, seqs)"), so the projections are
// computed outside: q (L,d) and kv (L,2d) = [K | V].
//
// Padding: only the L real (non-padding) positions of a sequence are ever materialised.
// The reference left-pads every sequence to maxlen and, with a causal mask only (no key
// padding mask, pmixer model.py `attn_mask=attention_mask  # key_padding_mask=...`), lets
// each real query attend to the n_pad = maxlen − L padding positions before it. Their
// input is zero (`seqs *= ~timeline_mask` after the embedding and after every block), so
// their key and value are the projection biases b_k, b_v: n_pad identical "sink" entries.
// Here they are one extra entry per query row with logit q·b_k/√dh + log n_pad and value
// b_v; its weight σ_i is the sum of the n_pad copies' weights, and attention dropout keeps
// each copy independently, so the sink's output is ρ_i σ_i b_v with ρ_i = (kept copies /
// n_pad) / (1 − p). n_pad = 0 is Kang's original TensorFlow behaviour (padding keys
// masked): no sink.
//
// Per head h (dh = d / H): S = Q_h K_hᵀ / √dh, S_ij = −∞ for j > i (causal),
// P = softmax_rows([S | sink]), A = dropout(P), O_h = A V_h + (ρ ⊙ σ) b_v,h.
#pragma once

#include "layers.hpp"

namespace recfuse::sasrec {

/// out (L,d); probs (H,L,L) saved = P before dropout; mask (H,L,L) saved keep flags;
/// sink (H,L,2) saved = (σ_i, ρ_i) per row; work (L,L) scratch; q (L,d); kv (L,2d);
/// sink_kv (2d) = [b_k | b_v]. `rng` is only used when p > 0.
template <class T>
void attention_forward(T* out, T* probs, std::uint8_t* mask, T* sink, T* work, const T* q,
                       const T* kv, const T* sink_kv, Idx n_pad, Idx L, Idx d, Idx H, double p,
                       Rng& rng) {
  const Idx dh = d / H;
  const T scale = T(1) / std::sqrt(static_cast<T>(dh));
  const T log_pad = n_pad > 0 ? std::log(static_cast<T>(n_pad)) : T(0);
  const T keep = p > 0 ? static_cast<T>(1.0 / (1.0 - p)) : T(1);
  for (Idx h = 0; h < H; ++h) {
    CSMapM<T> Q(q + h * dh, L, dh, Eigen::OuterStride<>(d));
    CSMapM<T> K(kv + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    CSMapM<T> V(kv + d + h * dh, L, dh, Eigen::OuterStride<>(2 * d));
    SMapM<T> O(out + h * dh, L, dh, Eigen::OuterStride<>(d));
    MapM<T> P(probs + h * L * L, L, L);
    T* sk = sink + h * L * 2;
    P.noalias() = Q * K.transpose();
    for (Idx i = 0; i < L; ++i) {
      T* row = P.data() + i * L;
      T zs = 0;  // the sink's logit
      if (n_pad > 0) {
        for (Idx c = 0; c < dh; ++c) zs += q[i * d + h * dh + c] * sink_kv[h * dh + c];
        zs = zs * scale + log_pad;
      }
      T mx = n_pad > 0 ? zs : row[0] * scale;
      for (Idx j = 0; j <= i; ++j) mx = std::max(mx, row[j] * scale);
      T sum = n_pad > 0 ? std::exp(zs - mx) : T(0);
      const T es = sum;
      for (Idx j = 0; j <= i; ++j) {
        row[j] = std::exp(row[j] * scale - mx);
        sum += row[j];
      }
      const T inv = T(1) / sum;
      for (Idx j = 0; j <= i; ++j) row[j] *= inv;
      for (Idx j = i + 1; j < L; ++j) row[j] = T(0);
      sk[2 * i] = es * inv;
    }
    MapM<T> A(work, L, L);
    dropout_forward(A.data(), mask + h * L * L, P.data(), p, rng, L * L);
    O.noalias() = A * V;
    if (n_pad == 0) continue;
    for (Idx i = 0; i < L; ++i) {
      Idx kept = n_pad;
      if (p > 0)
        for (Idx c = 0; c < n_pad; ++c) kept -= rng.uniform() < p;
      sk[2 * i + 1] = static_cast<T>(kept) / static_cast<T>(n_pad) * keep;
      const T w = sk[2 * i] * sk[2 * i + 1];
      for (Idx c = 0; c < dh; ++c) out[i * d + h * dh + c] += w * sink_kv[d + h * dh + c];
    }
  }
}

/// dq (L,d) +=; dkv (L,2d) +=; dsink_kv (2d) +=; work (2,L,L) scratch; dout (L,d);
/// q (L,d); kv (L,2d); sink_kv (2d); probs, mask, sink as saved by attention_forward.
template <class T>
void attention_backward(T* dq, T* dkv, T* dsink_kv, T* work, const T* dout, const T* q,
                        const T* kv, const T* sink_kv, const T* probs, const std::uint8_t* mask,
                        const T* sink, Idx n_pad, Idx L, Idx d, Idx H, double p) {
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
    const T* sk = sink + h * L * 2;
    const T* ks = sink_kv + h * dh;
    const T* vs = sink_kv + d + h * dh;
    MapM<T> A(work, L, L);          // the dropped-out weights used in forward
    MapM<T> dS(work + L * L, L, L);  // dA, then dS in place
    for (Idx k = 0; k < L * L; ++k) A.data()[k] = M[k] ? P[k] * keep : T(0);
    dV.noalias() += A.transpose() * dO;
    dS.noalias() = dO * V.transpose();
    for (Idx i = 0; i < L; ++i) {
      T* g = dS.data() + i * L;
      const T* pr = P + i * L;
      const std::uint8_t* mr = M + i * L;
      const T* doi = dout + i * d + h * dh;
      T dsig = 0;  // dLoss / dσ_i
      if (n_pad > 0) {
        T dw = 0;
        for (Idx c = 0; c < dh; ++c) {
          dw += doi[c] * vs[c];
          dsink_kv[d + h * dh + c] += sk[2 * i] * sk[2 * i + 1] * doi[c];
        }
        dsig = dw * sk[2 * i + 1];
      }
      T dot = dsig * sk[2 * i];
      for (Idx j = 0; j <= i; ++j) {
        g[j] = mr[j] ? g[j] * keep : T(0);
        dot += g[j] * pr[j];
      }
      for (Idx j = 0; j <= i; ++j) g[j] = pr[j] * (g[j] - dot) * scale;
      for (Idx j = i + 1; j < L; ++j) g[j] = T(0);
      if (n_pad == 0) continue;
      const T gs = sk[2 * i] * (dsig - dot) * scale;  // dLoss / d(q_i·b_k)
      const T* qi = q + i * d + h * dh;
      T* dqi = dq + i * d + h * dh;
      for (Idx c = 0; c < dh; ++c) {
        dqi[c] += gs * ks[c];
        dsink_kv[h * dh + c] += gs * qi[c];
      }
    }
    dQ.noalias() += dS * K;
    dK.noalias() += dS.transpose() * Q;
  }
}

}  // namespace recfuse::sasrec
