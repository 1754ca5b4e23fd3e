// The FM training loop (fm.hpp holds the model and its citations): one
// pass per epoch over the training interactions in a seeded random order,
// `negatives` sampled items each; gradients of one step are computed from
// the old parameters, summed per feature, then applied once per feature (so
// a feature shared by i and j, such as a common genre, gets both
// contributions and one penalty). A negative is drawn by rejection (100
// tries); a user with (nearly) every item gets none: BPR skips the pair,
// logistic still steps on the positive.
#pragma once

#include <cmath>

#include "fm_trainer.hpp"

namespace recfuse {

namespace fm_detail {

inline double sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }
inline double log1p_exp(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

/// SGD or lazy Adam over w0, w and V (state laid out like the parameters).
class Optimizer {
 public:
  Optimizer(FmModel& m, const FmOptions& o) : m_(m), o_(o) {
    if (o.adam) {
      mw_.assign(m.w.size(), 0.0f); vw_ = mw_;
      mV_ = RowMatrixF::Zero(m.V.rows(), m.V.cols()); vV_ = mV_;
    }
  }
  void next_step() { ++t_; c1_ = 1 - std::pow(kB1, t_); c2_ = 1 - std::pow(kB2, t_); }
  /// w0 is not penalised: `reg` is the "L2 penalty on w and V" (libFM's
  /// reg0 defaults to 0 as well).
  void bias(double g) {
    if (!o_.adam) { m_.w0 -= o_.lr * g; return; }
    m0_ = kB1 * m0_ + (1 - kB1) * g; v0_ = kB2 * v0_ + (1 - kB2) * g * g;
    m_.w0 -= o_.lr * (m0_ / c1_) / (std::sqrt(v0_ / c2_) + kEps);
  }
  /// Feature j: gradient *gw for w_j (null when w_j is not in the step's
  /// loss) and gv[0..k) for v_j (reg added here). Called once per feature
  /// and step, with the step's whole gradient.
  void feature(std::int32_t j, const float* gw, const float* gv) {
    const auto js = static_cast<std::size_t>(j);
    const auto lr = static_cast<float>(o_.lr), reg = static_cast<float>(o_.reg);
    float* v = m_.V.row(j).data();
    if (!o_.adam) {
      if (gw) m_.w[js] -= lr * (*gw + reg * m_.w[js]);
      for (int f = 0; f < m_.k; ++f) v[f] -= lr * (gv[f] + reg * v[f]);
      return;
    }
    if (gw) adam(m_.w[js], mw_[js], vw_[js], *gw + reg * m_.w[js]);
    float* mv = mV_.row(j).data();
    float* vv = vV_.row(j).data();
    for (int f = 0; f < m_.k; ++f) adam(v[f], mv[f], vv[f], gv[f] + reg * v[f]);
  }

 private:
  static constexpr double kB1 = 0.9, kB2 = 0.999, kEps = 1e-8;
  void adam(float& p, float& m, float& v, float g) const {
    m = static_cast<float>(kB1 * m + (1 - kB1) * g);
    v = static_cast<float>(kB2 * v + (1 - kB2) * g * g);
    p -= static_cast<float>(o_.lr * (m / c1_) / (std::sqrt(v / c2_) + kEps));
  }
  FmModel& m_;
  const FmOptions& o_;
  std::vector<float> mw_, vw_;
  RowMatrixF mV_, vV_;
  double m0_ = 0, v0_ = 0, c1_ = 1, c2_ = 1;
  int t_ = 0;
};

/// Pending gradients of one step, one entry per feature: (feature, has_w,
/// gw, gv[k]). A feature on two sides of the step (a genre shared by i and
/// j in BPR) sums both contributions into its one entry, so the optimizer
/// steps it once: one penalty, one Adam moment update.
struct Grads {
  std::vector<std::int32_t> feat;
  std::vector<char> has_w;
  std::vector<float> gw, gv;
  std::vector<std::int32_t> slot;  // feature -> its entry, −1 when it has none
  explicit Grads(std::size_t n_features) : slot(n_features, -1) {}
  void clear() {
    for (std::int32_t j : feat) slot[static_cast<std::size_t>(j)] = -1;
    feat.clear(); has_w.clear(); gw.clear(); gv.clear();
  }
  /// Adds the gradient of `scale` · ŷ w.r.t. the features of one side:
  /// w_j: scale x_j (when with_w); v_j: scale x_j (other − x_j v_j), where
  /// `other` = Σ x_l v_l over the features v_j multiplies (the self term
  /// x_j v_j removed when self_term, i.e. when j itself is in that sum).
  void add_side(const FmModel& m, const FeatureRows& rows, std::size_t r, float scale, const float* other,
                bool with_w, bool self_term) {
    const auto idx = rows.idx(r);
    const auto val = rows.val(r);
    for (std::size_t q = 0; q < idx.size(); ++q) {
      const std::size_t e = entry(idx[q], m.k);
      if (with_w) { has_w[e] = 1; gw[e] += scale * val[q]; }
      const auto row = m.V.row(idx[q]);
      float* g = gv.data() + e * static_cast<std::size_t>(m.k);
      for (int f = 0; f < m.k; ++f) g[f] += scale * val[q] * (other[f] - (self_term ? val[q] * row(f) : 0.0f));
    }
  }
  void apply(Optimizer& opt, int k) {
    for (std::size_t e = 0; e < feat.size(); ++e)
      opt.feature(feat[e], has_w[e] ? &gw[e] : nullptr, gv.data() + e * static_cast<std::size_t>(k));
  }

 private:
  std::size_t entry(std::int32_t j, int k) {
    std::int32_t& s = slot[static_cast<std::size_t>(j)];
    if (s < 0) {
      s = static_cast<std::int32_t>(feat.size());
      feat.push_back(j); has_w.push_back(0); gw.push_back(0.0f);
      gv.resize(gv.size() + static_cast<std::size_t>(k), 0.0f);
    }
    return static_cast<std::size_t>(s);
  }
};

}  // namespace fm_detail

inline void train_fm(FmModel& m, const TrainData& d, const FmOptions& o, const FitContext& ctx) {
  using namespace fm_detail;
  Rng rng(derive_seed(ctx.seed, "fm"));
  for (Eigen::Index j = 0; j < m.V.rows(); ++j)
    for (int f = 0; f < m.k; ++f) m.V(j, f) = static_cast<float>(rng.normal(0.0, o.init_std));
  const CsrMatrix& train = d.by_user;
  std::vector<std::int64_t> order(static_cast<std::size_t>(train.nnz()));
  std::vector<UserId> owner(order.size());
  for (UserId u = 0; u < train.rows; ++u)
    for (std::int64_t q = train.indptr[u]; q < train.indptr[u + 1]; ++q) owner[static_cast<std::size_t>(q)] = u;
  Optimizer opt(m, o);
  Grads g(m.w.size());
  const int k = m.k;
  std::vector<float> vu(static_cast<std::size_t>(k)), vi(vu.size()), vj(vu.size()), tmp(vu.size());
  const auto n_items = static_cast<std::uint64_t>(d.n_items);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    for (std::size_t q = 0; q < order.size(); ++q) order[q] = static_cast<std::int64_t>(q);
    for (std::size_t q = order.size(); q > 1; --q) std::swap(order[q - 1], order[rng.below(q)]);
    double loss = 0;
    std::int64_t steps = 0;
    for (std::int64_t pos : order) {
      const UserId u = owner[static_cast<std::size_t>(pos)];
      const ItemId i = train.indices[static_cast<std::size_t>(pos)];
      const auto seen = train.row(u);
      for (int neg = 0; neg < o.negatives; ++neg) {
        ItemId j = kNoItem;
        for (int attempt = 0; attempt < 100 && j == kNoItem; ++attempt) {
          const auto c = static_cast<ItemId>(rng.below(n_items));
          if (!std::binary_search(seen.begin(), seen.end(), c)) j = c;
        }
        const bool drawn = j != kNoItem;  // false: u has (nearly) every item
        const auto us = static_cast<std::size_t>(u), is = static_cast<std::size_t>(i), js = static_cast<std::size_t>(j);
        if (o.bpr) {
          if (!drawn) break;
          m.side(m.user_x.idx(us), m.user_x.val(us), vu.data());
          const double bi = m.side(m.item_x.idx(is), m.item_x.val(is), vi.data());
          const double bj = m.side(m.item_x.idx(js), m.item_x.val(js), vj.data());
          double delta = bi - bj;
          for (int f = 0; f < k; ++f) delta += static_cast<double>(vu[f]) * (vi[f] - vj[f]);
          loss += log1p_exp(-delta);
          const auto gd = static_cast<float>(-sigmoid(-delta));  // d(−ln σ(δ))/dδ
          g.clear();
          for (int f = 0; f < k; ++f) tmp[f] = vi[f] - vj[f];
          g.add_side(m, m.user_x, us, gd, tmp.data(), false, false);  // user terms cancel in δ
          for (int f = 0; f < k; ++f) tmp[f] = vu[f] + vi[f];
          g.add_side(m, m.item_x, is, gd, tmp.data(), true, true);
          for (int f = 0; f < k; ++f) tmp[f] = vu[f] + vj[f];
          g.add_side(m, m.item_x, js, -gd, tmp.data(), true, true);
          opt.next_step();
          g.apply(opt, k);
          ++steps;
          continue;
        }
        // Logistic: the positive once (its y = 1 term needs no negative), then the negative.
        for (int pass = neg == 0 ? 0 : 1; pass < (drawn ? 2 : 1); ++pass) {
          const std::size_t it = pass == 0 ? is : js;
          const double cu = m.side(m.user_x.idx(us), m.user_x.val(us), vu.data());
          const double bt = m.side(m.item_x.idx(it), m.item_x.val(it), vi.data());
          double yhat = m.w0 + cu + bt;
          for (int f = 0; f < k; ++f) yhat += static_cast<double>(vu[f]) * vi[f];
          const double y = pass == 0 ? 1.0 : 0.0;
          loss += log1p_exp(yhat) - y * yhat;
          const auto gy = static_cast<float>(sigmoid(yhat) - y);
          for (int f = 0; f < k; ++f) tmp[f] = vu[f] + vi[f];
          g.clear();
          g.add_side(m, m.user_x, us, gy, tmp.data(), true, true);
          g.add_side(m, m.item_x, it, gy, tmp.data(), true, true);
          opt.next_step();
          opt.bias(gy);
          g.apply(opt, k);
          ++steps;
        }
        if (!drawn) break;
      }
    }
    ctx.log("fm: epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs) + " loss " +
            std::to_string(steps > 0 ? loss / static_cast<double>(steps) : 0.0));
    if (ctx.cancelled()) throw Error("fm: cancelled");
  }
}

}  // namespace recfuse
