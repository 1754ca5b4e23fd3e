// The SASRec network (Kang & McAuley, ICDM 2018, §III-A..D) as the PyTorch reference
// pmixer/SASRec.pytorch builds it, over a packed micro-batch of variable-length sequences:
//
//   x⁰ = dropout(√d · E[s_t] + P[t])                                   (eq. 2; scaling as the reference)
//   per block b:  Q = LN₁(x);  x' = Q + MHA(Q, x, x)                    (eq. 3, residual on Q)
//                 y = LN₂(x');  x = y + dropout(W₂ dropout(act(W₁ y + b₁)) + b₂)   (eq. 5)
//   F = LN_f(x)                                                         (final LayerNorm)
//
// Parameters live in one flat buffer (ParamLayout); a ParamView names the tensors inside
// any buffer with that layout, so gradients, Adam moments and per-thread gradient scratch
// share it and the optimizer is one flat loop. Rows of a batch are the real positions of
// its sequences one after another; sequence s owns rows seq_start[s] .. seq_start[s+1).
// The reference's left padding is never materialised: its inputs are zero after every
// layer, and what real positions see of it, its keys and values in attention, is folded
// into one sink entry (attention.hpp; `attend_padding`).
#pragma once

#include <vector>

#include "attention.hpp"
#include "layers.hpp"

namespace recfuse::sasrec {

struct Config {
  Idx n_items = 0, d = 50, blocks = 2, heads = 1, maxlen = 50;
  double dropout = 0.2;
  bool gelu = false;
  bool attend_padding = true;  // queries attend to the left padding (attention.hpp)
  double ln_eps = 1e-8;        // the reference's LayerNorm eps
};

/// Offsets of every tensor in the flat parameter buffer.
struct ParamLayout {
  struct Block { Idx ln1_w, ln1_b, w_qkv, b_qkv, w_o, b_o, ln2_w, ln2_b, w1, b1, w2, b2; };
  Idx item_emb = 0, pos_emb = 0, lnf_w = 0, lnf_b = 0, total = 0;
  std::vector<Block> blocks;

  explicit ParamLayout(const Config& c) {
    Idx at = 0;
    auto take = [&](Idx n) { const Idx o = at; at += n; return o; };
    const Idx d = c.d;
    item_emb = take(c.n_items * d);
    pos_emb = take(c.maxlen * d);
    for (Idx b = 0; b < c.blocks; ++b) {
      Block k{};
      k.ln1_w = take(d); k.ln1_b = take(d);
      k.w_qkv = take(3 * d * d); k.b_qkv = take(3 * d);  // torch in_proj: rows [Wq; Wk; Wv]
      k.w_o = take(d * d); k.b_o = take(d);
      k.ln2_w = take(d); k.ln2_b = take(d);
      k.w1 = take(d * d); k.b1 = take(d);                // Conv1d(d, d, 1) weights (out, in)
      k.w2 = take(d * d); k.b2 = take(d);
      blocks.push_back(k);
    }
    lnf_w = take(d);
    lnf_b = take(d);
    total = at;
  }
};

/// Sequences packed for one forward/backward pass. Tokens are the real positions only.
struct Batch {
  std::vector<std::int32_t> ids;        // (N) input item at each position
  std::vector<std::int32_t> pos;        // (N) positional index in [0, maxlen)
  std::vector<std::int32_t> targets;    // (N) next item (training)
  std::vector<std::int32_t> negatives;  // BCE: (N); sampled softmax: (S, k)
  std::vector<std::int64_t> seq_start{0};  // (S+1)
  std::vector<std::uint64_t> seeds;        // (S) dropout stream of each sequence

  Idx tokens() const { return static_cast<Idx>(ids.size()); }
  Idx sequences() const { return static_cast<Idx>(seeds.size()); }
  Idx length(Idx s) const { return seq_start[s + 1] - seq_start[s]; }
  /// Padding positions left of sequence s in its maxlen window.
  Idx padding(Idx s) const { return length(s) > 0 ? pos[static_cast<std::size_t>(seq_start[s])] : 0; }
  void clear() {
    ids.clear(); pos.clear(); targets.clear(); negatives.clear(); seeds.clear();
    seq_start.assign(1, 0);
  }
  /// Appends `items` (oldest first, at most maxlen) placed at the END of the maxlen window,
  /// as the reference left-pads: item j of L goes to position maxlen − L + j.
  void add_sequence(const std::int32_t* items, Idx L, Idx maxlen, std::uint64_t seed) {
    for (Idx j = 0; j < L; ++j) {
      ids.push_back(items[j]);
      pos.push_back(static_cast<std::int32_t>(maxlen - L + j));
    }
    seq_start.push_back(static_cast<std::int64_t>(ids.size()));
    seeds.push_back(seed);
  }
};

/// Saved forward values (and backward scratch) for up to N tokens; buffers only grow.
template <class T>
struct Activations {
  struct Block {
    std::vector<T> ln1, ln1_mean, ln1_rstd, q, kv, probs, sink, o, x1, ln2, ln2_mean, ln2_rstd, h1, a1d;
    std::vector<std::uint8_t> att_mask, mask1, mask2;
  };
  std::vector<Block> blocks;
  std::vector<std::vector<T>> x;  // (B+1) block inputs/outputs, (N,d) each
  std::vector<T> emb, F, lnf_mean, lnf_rstd, tmp, work;
  std::vector<std::uint8_t> emb_mask;
  std::vector<std::int64_t> att_start;  // (S+1) offsets of each sequence's (H,L,L) weights
  // backward scratch
  std::vector<T> dx, dx1, dln, dq, dkv, do_, dh, da, dF;

  void resize(const Config& c, const Batch& b) {
    const std::size_t N = static_cast<std::size_t>(b.tokens()), d = static_cast<std::size_t>(c.d);
    att_start.assign(1, 0);
    for (Idx s = 0; s < b.sequences(); ++s)
      att_start.push_back(att_start.back() + c.heads * b.length(s) * b.length(s));
    const std::size_t A = static_cast<std::size_t>(att_start.back());
    blocks.resize(static_cast<std::size_t>(c.blocks));
    x.resize(blocks.size() + 1);
    for (auto& v : x) v.resize(N * d);
    for (Block& k : blocks) {
      for (auto* v : {&k.ln1, &k.q, &k.o, &k.x1, &k.ln2, &k.h1, &k.a1d}) v->resize(N * d);
      for (auto* v : {&k.ln1_mean, &k.ln1_rstd, &k.ln2_mean, &k.ln2_rstd}) v->resize(N);
      k.kv.resize(2 * N * d);
      k.probs.resize(A);
      k.sink.resize(static_cast<std::size_t>(2 * c.heads) * N);
      k.att_mask.resize(A);
      k.mask1.resize(N * d);
      k.mask2.resize(N * d);
    }
    for (auto* v : {&emb, &F, &tmp, &dx, &dx1, &dln, &dq, &do_, &dh, &da, &dF}) v->resize(N * d);
    dkv.resize(2 * N * d);
    lnf_mean.resize(N);
    lnf_rstd.resize(N);
    emb_mask.resize(N * d);
    work.resize(static_cast<std::size_t>(2 * c.maxlen * c.maxlen));
  }
};

/// Dropout stream of sequence `seed` at layer site `site`: independent of how sequences are
/// packed or which thread runs them.
inline Rng dropout_rng(std::uint64_t seed, std::uint64_t site) {
  return Rng(derive_seed(seed, "sasrec/dropout", site));
}

/// Forward pass over `b`; F (N,d) lands in a.F. `train` enables dropout.
template <class T>
void model_forward(Activations<T>& a, const T* params, const ParamLayout& L, const Config& c,
                   const Batch& b, bool train) {
  a.resize(c, b);
  const Idx N = b.tokens(), d = c.d, S = b.sequences();
  const double p = train ? c.dropout : 0.0;
  auto drop = [&](T* out, std::uint8_t* mask, const T* inp, std::uint64_t site) {
    for (Idx s = 0; s < S; ++s) {
      Rng rng = dropout_rng(b.seeds[s], site);
      const Idx off = b.seq_start[s] * d, n = b.length(s) * d;
      dropout_forward(out + off, mask + off, inp + off, p, rng, n);
    }
  };
  embedding_forward(a.emb.data(), b.ids.data(), b.pos.data(), params + L.item_emb,
                    params + L.pos_emb, static_cast<T>(std::sqrt(static_cast<double>(d))), N, d);
  drop(a.x[0].data(), a.emb_mask.data(), a.emb.data(), 0);
  for (Idx bi = 0; bi < c.blocks; ++bi) {
    const auto& P = L.blocks[bi];
    auto& k = a.blocks[bi];
    const T* x = a.x[bi].data();
    layernorm_forward(k.ln1.data(), k.ln1_mean.data(), k.ln1_rstd.data(), x, params + P.ln1_w,
                      params + P.ln1_b, N, d, static_cast<T>(c.ln_eps));
    linear_forward(k.q.data(), k.ln1.data(), params + P.w_qkv, params + P.b_qkv, N, d, d);
    linear_forward(k.kv.data(), x, params + P.w_qkv + d * d, params + P.b_qkv + d, N, d, 2 * d);
    for (Idx s = 0; s < S; ++s) {
      Rng rng = dropout_rng(b.seeds[s], 1 + 3 * bi);
      const Idx r = b.seq_start[s], at = a.att_start[s];
      attention_forward(k.o.data() + r * d, k.probs.data() + at, k.att_mask.data() + at,
                        k.sink.data() + 2 * c.heads * r, a.work.data(), k.q.data() + r * d,
                        k.kv.data() + 2 * r * d, params + P.b_qkv + d,
                        c.attend_padding ? b.padding(s) : 0, b.length(s), d, c.heads, p, rng);
    }
    linear_forward(a.tmp.data(), k.o.data(), params + P.w_o, params + P.b_o, N, d, d);
    residual_forward(k.x1.data(), k.ln1.data(), a.tmp.data(), N * d);
    layernorm_forward(k.ln2.data(), k.ln2_mean.data(), k.ln2_rstd.data(), k.x1.data(),
                      params + P.ln2_w, params + P.ln2_b, N, d, static_cast<T>(c.ln_eps));
    linear_forward(k.h1.data(), k.ln2.data(), params + P.w1, params + P.b1, N, d, d);
    if (c.gelu) gelu_forward(a.tmp.data(), k.h1.data(), N * d);
    else relu_forward(a.tmp.data(), k.h1.data(), N * d);
    drop(k.a1d.data(), k.mask1.data(), a.tmp.data(), 2 + 3 * bi);
    linear_forward(a.tmp.data(), k.a1d.data(), params + P.w2, params + P.b2, N, d, d);
    drop(a.tmp.data(), k.mask2.data(), a.tmp.data(), 3 + 3 * bi);
    residual_forward(a.x[bi + 1].data(), k.ln2.data(), a.tmp.data(), N * d);
  }
  layernorm_forward(a.F.data(), a.lnf_mean.data(), a.lnf_rstd.data(), a.x[c.blocks].data(),
                    params + L.lnf_w, params + L.lnf_b, N, d, static_cast<T>(c.ln_eps));
}

/// Backward pass from dF = a.dF (N,d); ACCUMULATES into `grads` (same layout as params).
template <class T>
void model_backward(T* grads, Activations<T>& a, const T* params, const ParamLayout& L,
                    const Config& c, const Batch& b) {
  const Idx N = b.tokens(), d = c.d, S = b.sequences(), nd = N * d;
  const double p = c.dropout;
  auto zero = [](std::vector<T>& v) { std::fill(v.begin(), v.end(), T(0)); };
  zero(a.dx);
  layernorm_backward(a.dx.data(), grads + L.lnf_w, grads + L.lnf_b, a.dF.data(),
                     a.x[c.blocks].data(), a.lnf_mean.data(), a.lnf_rstd.data(),
                     params + L.lnf_w, N, d);
  for (Idx bi = c.blocks - 1; bi >= 0; --bi) {
    const auto& P = L.blocks[bi];
    auto& k = a.blocks[bi];
    // x_out = ln2 + dropout(W2 · a1d + b2)
    std::copy(a.dx.begin(), a.dx.begin() + nd, a.dln.begin());
    zero(a.dh);
    dropout_backward(a.dh.data(), a.dx.data(), k.mask2.data(), p, nd);
    zero(a.da);
    linear_backward(a.da.data(), grads + P.w2, grads + P.b2, a.dh.data(), k.a1d.data(),
                    params + P.w2, N, d, d);
    zero(a.dh);
    dropout_backward(a.dh.data(), a.da.data(), k.mask1.data(), p, nd);
    zero(a.da);
    if (c.gelu) gelu_backward(a.da.data(), a.dh.data(), k.h1.data(), nd);
    else relu_backward(a.da.data(), a.dh.data(), k.h1.data(), nd);
    linear_backward(a.dln.data(), grads + P.w1, grads + P.b1, a.da.data(), k.ln2.data(),
                    params + P.w1, N, d, d);
    zero(a.dx1);
    layernorm_backward(a.dx1.data(), grads + P.ln2_w, grads + P.ln2_b, a.dln.data(),
                       k.x1.data(), k.ln2_mean.data(), k.ln2_rstd.data(), params + P.ln2_w, N, d);
    // x1 = ln1 + (o W_oᵀ + b_o)
    std::copy(a.dx1.begin(), a.dx1.begin() + nd, a.dln.begin());
    zero(a.do_);
    linear_backward(a.do_.data(), grads + P.w_o, grads + P.b_o, a.dx1.data(), k.o.data(),
                    params + P.w_o, N, d, d);
    zero(a.dq);
    zero(a.dkv);
    for (Idx s = 0; s < S; ++s) {
      const Idx r = b.seq_start[s], at = a.att_start[s];
      attention_backward(a.dq.data() + r * d, a.dkv.data() + 2 * r * d, grads + P.b_qkv + d,
                         a.work.data(), a.do_.data() + r * d, k.q.data() + r * d,
                         k.kv.data() + 2 * r * d, params + P.b_qkv + d, k.probs.data() + at,
                         k.att_mask.data() + at, k.sink.data() + 2 * c.heads * r,
                         c.attend_padding ? b.padding(s) : 0, b.length(s), d, c.heads, p);
    }
    zero(a.dx);
    linear_backward(a.dx.data(), grads + P.w_qkv + d * d, grads + P.b_qkv + d, a.dkv.data(),
                    a.x[bi].data(), params + P.w_qkv + d * d, N, d, 2 * d);
    linear_backward(a.dln.data(), grads + P.w_qkv, grads + P.b_qkv, a.dq.data(), k.ln1.data(),
                    params + P.w_qkv, N, d, d);
    layernorm_backward(a.dx.data(), grads + P.ln1_w, grads + P.ln1_b, a.dln.data(),
                       a.x[bi].data(), k.ln1_mean.data(), k.ln1_rstd.data(), params + P.ln1_w, N, d);
  }
  zero(a.dh);
  dropout_backward(a.dh.data(), a.dx.data(), a.emb_mask.data(), p, nd);
  embedding_backward(grads + L.item_emb, grads + L.pos_emb, a.dh.data(), b.ids.data(),
                     b.pos.data(), static_cast<T>(std::sqrt(static_cast<double>(d))), N, d);
}

}  // namespace recfuse::sasrec
