// Training objectives of SASRec over the final hidden states F (N,d), with the item
// embedding E (n_items,d) shared as the output layer (SASRec §III-E: r_{i,t} = F_t · E_i).
// Each loss is forward and backward fused (as llm.c fuses softmax with cross-entropy's
// backward): it returns the loss and, when dF / dE are not null, ACCUMULATES its gradient.
// `norm` multiplies the per-token sum (1 / tokens of the whole batch, so micro-batches of
// one batch add up to the batch mean).
//
//  - bce_loss: the paper's eq. 4 / the reference's BCEWithLogits on one sampled negative
//    per position: mean softplus(−F·E_pos) + mean softplus(F·E_neg).
//  - ce_loss: full softmax cross-entropy over every item, −log softmax(F Eᵀ)_pos
//    (as in BERT4Rec and Petrov & Macdonald, RecSys 2023).
//  - sampled_softmax_loss: softmax over the positive and k sampled negatives shared by the
//    positions of a sequence (uniform negatives, so no logQ correction is needed).
#pragma once

#include <limits>

#include "layers.hpp"

namespace recfuse::sasrec {

template <class T>
inline T softplus(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}
template <class T>
inline T sigmoid(T x) {
  return x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}

/// dF (N,d) +=; dE (n_items,d) +=; F (N,d); pos, neg (N) item ids; E (n_items,d).
template <class T>
double bce_loss(T* dF, T* dE, const T* F, const std::int32_t* pos, const std::int32_t* neg,
                const T* E, Idx N, Idx d, T norm) {
  double loss = 0;
  for (Idx n = 0; n < N; ++n) {
    const T* f = F + n * d;
    const T* ep = E + pos[n] * d;
    const T* en = E + neg[n] * d;
    T zp = 0, zn = 0;
    for (Idx c = 0; c < d; ++c) {
      zp += f[c] * ep[c];
      zn += f[c] * en[c];
    }
    loss += static_cast<double>(softplus(-zp) + softplus(zn));
    if (!dF) continue;
    const T gp = (sigmoid(zp) - T(1)) * norm, gn = sigmoid(zn) * norm;
    T* df = dF + n * d;
    T* dep = dE + pos[n] * d;
    T* den = dE + neg[n] * d;
    for (Idx c = 0; c < d; ++c) {
      df[c] += gp * ep[c] + gn * en[c];
      dep[c] += gp * f[c];
      den[c] += gn * f[c];
    }
  }
  return loss * static_cast<double>(norm);
}

/// Full softmax cross-entropy, computed in tiles of `rows` tokens so the logits scratch
/// stays rows x n_items. dF (N,d) +=; dE (n_items,d) +=; logits (rows,n_items) scratch;
/// F (N,d); target (N); E (n_items,d).
template <class T>
double ce_loss(T* dF, T* dE, T* logits, const T* F, const std::int32_t* target, const T* E,
               Idx N, Idx d, Idx n_items, Idx rows, T norm) {
  double loss = 0;
  CMapM<T> Em(E, n_items, d);
  for (Idx r0 = 0; r0 < N; r0 += rows) {
    const Idx nr = std::min(rows, N - r0);
    CMapM<T> Fc(F + r0 * d, nr, d);
    MapM<T> G(logits, nr, n_items);
    G.noalias() = Fc * Em.transpose();
    for (Idx r = 0; r < nr; ++r) {
      T* z = G.data() + r * n_items;
      const T zt = z[target[r0 + r]];
      T mx = z[0];
      for (Idx i = 1; i < n_items; ++i) mx = std::max(mx, z[i]);
      T sum = 0;
      for (Idx i = 0; i < n_items; ++i) {
        z[i] = std::exp(z[i] - mx);
        sum += z[i];
      }
      loss += static_cast<double>(mx + std::log(sum) - zt);
      const T inv = norm / sum;  // G becomes (softmax − onehot) · norm
      for (Idx i = 0; i < n_items; ++i) z[i] *= inv;
      z[target[r0 + r]] -= norm;
    }
    if (!dF) continue;
    MapM<T>(dF + r0 * d, nr, d).noalias() += G * Em;
    MapM<T>(dE, n_items, d).noalias() += G.transpose() * Fc;
  }
  return loss * static_cast<double>(norm);
}

/// Sampled softmax. dF (N,d) +=; dE +=; work (k+1) scratch; F (N,d); target (N);
/// neg (S,k): the negatives of sequence s serve its tokens seq_start[s] .. seq_start[s+1).
template <class T>
double sampled_softmax_loss(T* dF, T* dE, T* work, const T* F, const std::int32_t* target,
                            const std::int32_t* neg, const std::int64_t* seq_start, Idx S,
                            const T* E, Idx d, Idx k, T norm) {
  double loss = 0;
  for (Idx s = 0; s < S; ++s) {
    const std::int32_t* ns = neg + s * k;
    for (Idx n = seq_start[s]; n < seq_start[s + 1]; ++n) {
      const T* f = F + n * d;
      auto item = [&](Idx j) { return j == 0 ? target[n] : ns[j - 1]; };
      T mx = -std::numeric_limits<T>::infinity();
      for (Idx j = 0; j <= k; ++j) {
        const T* e = E + item(j) * d;
        T z = 0;
        for (Idx c = 0; c < d; ++c) z += f[c] * e[c];
        work[j] = z;
        mx = std::max(mx, z);
      }
      T sum = 0;
      for (Idx j = 0; j <= k; ++j) sum += std::exp(work[j] - mx);
      loss += static_cast<double>(mx + std::log(sum) - work[0]);
      if (!dF) continue;
      T* df = dF + n * d;
      for (Idx j = 0; j <= k; ++j) {
        const T g = (std::exp(work[j] - mx) / sum - (j == 0 ? T(1) : T(0))) * norm;
        const T* e = E + item(j) * d;
        T* de = dE + item(j) * d;
        for (Idx c = 0; c < d; ++c) {
          df[c] += g * e[c];
          de[c] += g * f[c];
        }
      }
    }
  }
  return loss * static_cast<double>(norm);
}

}  // namespace recfuse::sasrec
