// Initialisation and optimisation of the flat SASRec parameter buffer.
//
// Initialisation follows the PyTorch reference: xavier_normal_ on every tensor with two or
// more dimensions (std = √(2 / (fan_in + fan_out)), torch's fans: fan_in = size(1),
// fan_out = size(0)), LayerNorm weights 1 and biases 0, attention biases 0 (torch's
// MultiheadAttention default) and Conv1d biases U(−1/√fan_in, 1/√fan_in).
//
// Adam (Kingma & Ba 2015, Algorithm 1) with decoupled weight decay (AdamW, Loshchilov &
// Hutter 2019) as torch.optim.Adam/AdamW compute it, over the whole buffer in one loop;
// optional clipping of the global gradient norm (Pascanu et al. 2013).
#pragma once

#include <cmath>
#include <vector>

#include "model.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::sasrec {

inline void init_params(std::vector<float>& w, const ParamLayout& L, const Config& c,
                        std::uint64_t seed) {
  w.assign(static_cast<std::size_t>(L.total), 0.0f);
  Rng rng(derive_seed(seed, "sasrec/init"));
  auto xavier = [&](Idx off, Idx rows, Idx cols) {
    const double sd = std::sqrt(2.0 / static_cast<double>(rows + cols));
    for (Idx i = 0; i < rows * cols; ++i) w[off + i] = static_cast<float>(rng.normal(0.0, sd));
  };
  auto fill = [&](Idx off, Idx n, float v) { std::fill(w.begin() + off, w.begin() + off + n, v); };
  auto uniform = [&](Idx off, Idx n, double bound) {
    for (Idx i = 0; i < n; ++i) w[off + i] = static_cast<float>(rng.uniform(-bound, bound));
  };
  const Idx d = c.d;
  // The reference's item table has a padding row 0; its fans are (d, n_items + 1).
  xavier(L.item_emb, c.n_items + 1, d);
  xavier(L.pos_emb, c.maxlen, d);
  for (const auto& b : L.blocks) {
    fill(b.ln1_w, d, 1.0f);
    xavier(b.w_qkv, 3 * d, d);
    xavier(b.w_o, d, d);
    fill(b.ln2_w, d, 1.0f);
    xavier(b.w1, d, d);
    uniform(b.b1, d, 1.0 / std::sqrt(static_cast<double>(d)));
    xavier(b.w2, d, d);
    uniform(b.b2, d, 1.0 / std::sqrt(static_cast<double>(d)));
  }
  fill(L.lnf_w, d, 1.0f);
}

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.98, eps = 1e-8, weight_decay = 0.0, clip = 0.0;
};

/// Scales `g` so that its L2 norm is at most `max_norm`; returns the norm before clipping.
inline double clip_grad_norm(std::vector<float>& g, double max_norm) {
  double ss = 0;
  for (float v : g) ss += static_cast<double>(v) * v;
  const double norm = std::sqrt(ss);
  if (max_norm > 0 && norm > max_norm) {
    const float s = static_cast<float>(max_norm / (norm + 1e-6));
    for (float& v : g) v *= s;
  }
  return norm;
}

/// One AdamW step at step number t (1-based) over the flat buffers w, g, m, v.
inline void adamw_update(std::vector<float>& w, const std::vector<float>& g, std::vector<float>& m,
                         std::vector<float>& v, const AdamOptions& o, long t) {
  const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
  const float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
  const float eps = static_cast<float>(o.eps);
  const float decay = static_cast<float>(1.0 - o.lr * o.weight_decay);
  const float step = static_cast<float>(o.lr / bc1), rbc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const std::size_t n = w.size();
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    w[i] = w[i] * decay - step * m[i] / (std::sqrt(v[i]) * rbc2 + eps);
  }
}

}  // namespace recfuse::sasrec
