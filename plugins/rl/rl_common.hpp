// What the rl policies share: dense item features with a bias slot, the
// tanh state encoder of their networks, ε-greedy slate filling, the
// argument checks of act/propensity/observe, and the Adam optimizer over one
// flat parameter buffer (llm.c style: gradients laid out like the
// parameters, so the update is one loop).
//
// Item features: x_i = row i of TrainData::item_features (F values, e.g. an
// environment's topic one-hot), with, when `log_popularity` is on, one more
// value: log(1 + n_i) / log(1 + max_j n_j), n_i the users who clicked i in
// TrainData (the logs; 0 for an item never clicked), so that a model can
// weigh the logs' popularity from its first step (a warm start from the
// logged clicks). Models use x̃_i = (x_i, 1), the trailing 1 a per-model
// bias feature.
//
// Item identity: features alone cannot tell apart two items of the same
// genres, which a calibrated world (users' tastes are latent factors) and
// popularity or MF trained on logs do. Every score of an rl model is
// therefore s(i) = x̃_iᵀ g(s) + b_i (ItemScore), g from the state and b_i a
// learned per-item bias (starting at 0: an item is its features until its
// own feedback moves it; the `item_bias` parameter, default on except for
// DQN, see dqn.hpp). With
// log_popularity on, the biases of the softmaxes over items (top-K
// REINFORCE's policy and behaviour heads, SlateQ's choice model) start
// instead at logged_click_bias, the logs' own estimate.
//
// Model files (kCapSaveLoad) of every rl policy open with the algorithm's
// name (write_model_name), so that a file of another algorithm is refused by
// name; then the whole state a deployment continues from (weights, target
// networks, optimizer moments, replay buffers, open sessions, random
// streams), so that a loaded policy acts and learns bit for bit as the saved one.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse::rl {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;


/// ModelReader::expect for container sizes.
inline void expect_size(const ModelReader& r, const char* what, std::size_t got, std::size_t want) {
  r.expect(what, static_cast<std::int64_t>(got), static_cast<std::int64_t>(want));
}

/// n_i: the users who clicked item i in TrainData (the logs).
inline Eigen::VectorXd logged_clicks(const TrainData& data) {
  Eigen::VectorXd n = Eigen::VectorXd::Zero(data.n_items);
  for (ItemId i : data.by_user.indices)
    if (i >= 0 && i < data.n_items) n[i] += 1;
  return n;
}

/// b_i = log((1 + n_i) / (1 + n̄)), n̄ the mean of n: the per-item biases of
/// a softmax over the catalogue fitted to the logged clicks by maximum
/// likelihood (add-one smoothed; centred so that an item of mean clicks has
/// b = 0). Softmaxes are unchanged by the centring; it keeps b small.
inline Eigen::VectorXd logged_click_bias(const TrainData& data) {
  const Eigen::VectorXd n = logged_clicks(data);
  const double mean = n.size() > 0 ? n.mean() : 0.0;
  return (n.array().log1p() - std::log1p(mean)).matrix();
}

/// n_items x F dense copy of TrainData::item_features (and the logged
/// popularity, see the file comment).
class ItemFeatures {
 public:
  void build(const TrainData& data, const std::string& who, bool log_popularity = false) {
    const CsrMatrix& f = data.item_features.matrix;
    if (f.rows != data.n_items || f.cols == 0)
      throw Error(who + ": needs item features (TrainData::item_features with one row per item, e.g. an "
                  "environment's topics); got " + std::to_string(f.rows) + " rows x " + std::to_string(f.cols) +
                  " columns for " + std::to_string(data.n_items) + " items");
    x_.setZero(data.n_items, f.cols + (log_popularity ? 1 : 0));
    for (std::int32_t i = 0; i < f.rows; ++i)
      for (std::int64_t q = f.indptr[static_cast<std::size_t>(i)]; q < f.indptr[static_cast<std::size_t>(i) + 1]; ++q)
        x_(i, f.indices[static_cast<std::size_t>(q)]) = f.values.empty() ? 1.0 : f.values[static_cast<std::size_t>(q)];
    if (!log_popularity) return;
    const Eigen::VectorXd n = logged_clicks(data);
    const double top = std::log1p(n.size() > 0 ? n.maxCoeff() : 0.0);
    if (top > 0) x_.col(f.cols) = n.array().log1p() / top;
  }
  int dim() const { return static_cast<int>(x_.cols()); }
  std::int32_t n_items() const { return static_cast<std::int32_t>(x_.rows()); }
  /// x_i (dim() values).
  const double* row(ItemId i) const { return x_.data() + static_cast<std::ptrdiff_t>(i) * x_.cols(); }
  /// x̃_iᵀ g for g of size dim() + 1 (bias last).
  double dot_with_bias(ItemId i, const double* g) const {
    const double* x = row(i);
    double s = g[dim()];
    for (int f = 0; f < dim(); ++f) s += x[f] * g[f];
    return s;
  }
  /// g += scale · x̃_i, g of size dim() + 1 (the gradient of x̃_iᵀ g).
  void add_with_bias(ItemId i, double scale, double* g) const {
    const double* x = row(i);
    for (int f = 0; f < dim(); ++f) g[f] += scale * x[f];
    g[dim()] += scale;
  }
  std::size_t bytes() const { return static_cast<std::size_t>(x_.size()) * sizeof(double); }

  void save(ModelWriter& w) const { w.matrix(x_); }
  /// What save wrote: n_items rows of dim() >= 1 features.
  void load(ModelReader& r, std::int64_t n_items) {
    RowMatrix x = r.matrix<RowMatrix>("the item features");
    r.expect("the rows of the item features", x.rows(), n_items);
    if (x.cols() < 1) r.fail("the item features", "have no column");
    x_ = std::move(x);
  }

 private:
  RowMatrix x_;
};

/// The opening every rl model file shares: the algorithm's name, the shape
/// and the item features.
inline void write_policy_head(ModelWriter& w, const std::string& who, std::int32_t users, std::int32_t items,
                              const ItemFeatures& features) {
  write_model_name(w, who);
  w.value<std::int32_t>(users);
  w.value<std::int32_t>(items);
  features.save(w);
}
/// What write_policy_head wrote, the features into `features`: (users, items).
inline std::pair<std::int32_t, std::int32_t> read_policy_head(ModelReader& r, const std::string& who,
                                                              ItemFeatures& features) {
  read_model_name(r, who);
  const auto users = r.value<std::int32_t>("the number of users");
  const auto n = r.value<std::int32_t>("the number of items");
  if (users < 0 || n < 0) r.fail("the number of users or items", "is negative");
  features.load(r, n);
  return {users, n};
}

/// The item side of every rl model's score, s(i) = x̃_iᵀ g + b_i (see the
/// file comment): g (dim() values) comes from the state, b (bias_size()
/// values, none when the per-item bias is off) is a slice of the model's
/// parameters.
class ItemScore {
 public:
  void reset(const ItemFeatures* items, bool item_bias) {
    items_ = items;
    bias_ = item_bias;
  }
  int dim() const { return items_->dim() + 1; }
  Eigen::Index bias_size() const { return bias_ ? items_->n_items() : 0; }
  double operator()(ItemId i, const double* g, const double* b) const {
    return items_->dot_with_bias(i, g) + (bias_ ? b[i] : 0.0);
  }
  /// The gradient of ds · s(i): dg += ds · x̃_i, db_i += ds.
  void backward(ItemId i, double ds, double* dg, double* db) const {
    items_->add_with_bias(i, ds, dg);
    if (bias_) db[i] += ds;
  }

 private:
  const ItemFeatures* items_ = nullptr;
  bool bias_ = false;
};

/// The `item_bias` parameter of the rl policies, on by default unless `why_off` says why not.
inline ParamSpec item_bias_param(const std::string& why_off = "") {
  return ParamSpec::boolean("item_bias", why_off.empty(),
                            "learn a per-item bias b_i added to every item score (item identity beyond the "
                            "features; starts at 0, or at the logs' estimate with log_popularity)" +
                                (why_off.empty() ? std::string() : "; off by default: " + why_off));
}

/// The `log_popularity` parameter of the rl policies.
inline ParamSpec log_popularity_param() {
  return ParamSpec::boolean("log_popularity", true,
                            "warm start from the logged clicks (TrainData): append log(1 + clicks) / log(1 + max "
                            "clicks) to each item's features, and start the per-item biases of softmaxes over "
                            "items at log((1 + clicks) / (1 + mean clicks))");
}

/// The state encoder of the rl networks, h = tanh(U φ + c) (H values from
/// the D of φ), over the first H·D + H entries of a flat weight buffer
/// θ = [U (H x D, row-major) | c (H) | the network's other weights].
class TanhEncoder {
 public:
  TanhEncoder() = default;
  TanhEncoder(int state_dim, int hidden) : d_(state_dim), h_(hidden) {}
  Eigen::Index size() const { return static_cast<Eigen::Index>(h_) * d_ + h_; }
  int state_dim() const { return d_; }
  int hidden() const { return h_; }

  /// U ~ N(0, scale² / D) drawn from rng in order; c = 0.
  void init(double* theta, double scale, Rng& rng) const {
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(h_) * d_; ++j)
      theta[j] = rng.normal() * scale / std::sqrt(static_cast<double>(d_));
    std::fill(theta + static_cast<Eigen::Index>(h_) * d_, theta + size(), 0.0);
  }
  /// h = tanh(U φ + c).
  void forward(const double* theta, const double* phi, double* h) const {
    Eigen::Map<Eigen::VectorXd> hv(h, h_);
    hv.noalias() = Eigen::Map<const RowMatrix>(theta, h_, d_) * Eigen::Map<const Eigen::VectorXd>(phi, d_) +
                   Eigen::Map<const Eigen::VectorXd>(theta + static_cast<Eigen::Index>(h_) * d_, h_);
    hv = hv.array().tanh().matrix();
  }
  /// From dh = ∂L/∂h at (φ, h): dh becomes ∂L/∂(Uφ + c) = dh ⊙ (1 − h²), and
  /// ∂L/∂U, ∂L/∂c are added into grad (laid out like θ).
  void backward(const double* phi, const double* h, Eigen::Ref<Eigen::VectorXd> dh, double* grad) const {
    dh.array() *= 1.0 - Eigen::Map<const Eigen::ArrayXd>(h, h_).square();
    Eigen::Map<RowMatrix>(grad, h_, d_).noalias() += dh * Eigen::Map<const Eigen::RowVectorXd>(phi, d_);
    Eigen::Map<Eigen::VectorXd>(grad + static_cast<Eigen::Index>(h_) * d_, h_) += dh;
  }

 private:
  int d_ = 0, h_ = 0;
};

/// Fills slate[0..k) from cands position by position: with probability
/// epsilon a uniformly drawn remaining candidate, else the remaining one of
/// the largest key(j) (j: index into cands; ties go to the smaller item id);
/// placed(j) is called after each pick (keys may depend on what is placed).
/// Always draws one uniform per position, then one index when exploring.
/// `left` is scratch.
template <typename Key, typename Placed>
void epsilon_greedy_slate(std::span<const ItemId> cands, int k, double epsilon, Rng& rng, Key&& key, Placed&& placed,
                          std::vector<std::size_t>& left, ItemId* slate) {
  left.resize(cands.size());
  std::iota(left.begin(), left.end(), std::size_t{0});
  for (int p = 0; p < k; ++p) {
    std::size_t best = 0;  // position in left
    if (rng.uniform() < epsilon) {
      best = static_cast<std::size_t>(rng.below(left.size()));
    } else {
      double best_key = 0;
      for (std::size_t j = 0; j < left.size(); ++j) {
        const double kj = key(left[j]);
        if (j == 0 || kj > best_key || (kj == best_key && cands[left[j]] < cands[left[best]])) best = j, best_key = kj;
      }
    }
    slate[p] = cands[left[best]];
    placed(left[best]);
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(best));
  }
}

/// Throws unless an act/propensity call has the documented sizes,
/// 1 <= slate_size <= n_candidates and known candidate items.
inline void check_policy_args(const std::string& who, std::size_t n_users, std::span<const ItemId> candidates,
                              int n_candidates, int slate_size, std::size_t slates_size, std::int32_t n_items) {
  if (n_candidates <= 0 || slate_size <= 0 || slate_size > n_candidates)
    throw Error(who + ": slate_size (" + std::to_string(slate_size) + ") must be in [1, n_candidates = " +
                std::to_string(n_candidates) + "]");
  const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
  if (candidates.size() != n_users * c || slates_size != n_users * k)
    throw Error(who + ": expected " + std::to_string(n_users * c) + " candidates and " +
                std::to_string(n_users * k) + " slate entries, got " + std::to_string(candidates.size()) + " and " +
                std::to_string(slates_size));
  for (ItemId i : candidates)
    if (i < 0 || i >= n_items)
      throw Error(who + ": candidate item " + std::to_string(i) + " outside [0, " + std::to_string(n_items) + ")");
}

/// Throws unless `fb` is well formed for a catalogue of n_items and n_users.
inline void check_feedback(const std::string& who, const Feedback& fb, std::int32_t n_users, std::int32_t n_items) {
  const std::size_t n = fb.users.size(), k = static_cast<std::size_t>(fb.slate_size);
  if (fb.slate_size <= 0 || fb.slates.size() != n * k || fb.choice.size() != n || fb.reward.size() != n ||
      fb.done.size() != n)
    throw Error(who + ": malformed feedback (" + std::to_string(n) + " sessions, slate_size " +
                std::to_string(fb.slate_size) + ", " + std::to_string(fb.slates.size()) + " slate entries, " +
                std::to_string(fb.choice.size()) + " choices, " + std::to_string(fb.reward.size()) + " rewards, " +
                std::to_string(fb.done.size()) + " done flags)");
  for (std::size_t r = 0; r < n; ++r) {
    if (fb.users[r] < 0 || fb.users[r] >= n_users)
      throw Error(who + ": feedback for user " + std::to_string(fb.users[r]) + " outside [0, " +
                  std::to_string(n_users) + ")");
    if (fb.choice[r] < -1 || fb.choice[r] >= fb.slate_size)
      throw Error(who + ": choice " + std::to_string(fb.choice[r]) + " outside the slate");
    for (std::size_t j = 0; j < k; ++j) {
      const ItemId i = fb.slates[r * k + j];
      if (i < 0 || i >= n_items)
        throw Error(who + ": feedback item " + std::to_string(i) + " outside [0, " + std::to_string(n_items) + ")");
    }
  }
}

/// Adam (Kingma & Ba, ICLR 2015) over a flat parameter vector.
class Adam {
 public:
  explicit Adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
      : lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {}
  void reset(Eigen::Index n) {
    m_.setZero(n);
    v_.setZero(n);
    t_ = 0;
  }
  /// params -= lr · m̂ / (sqrt(v̂) + eps), elementwise.
  void step(Eigen::Ref<Eigen::VectorXd> params, const Eigen::VectorXd& grad) {
    ++t_;
    const double c1 = 1.0 - std::pow(beta1_, static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(beta2_, static_cast<double>(t_));
    for (Eigen::Index j = 0; j < params.size(); ++j) {
      m_[j] = beta1_ * m_[j] + (1.0 - beta1_) * grad[j];
      v_[j] = beta2_ * v_[j] + (1.0 - beta2_) * grad[j] * grad[j];
      params[j] -= lr_ * (m_[j] / c1) / (std::sqrt(v_[j] / c2) + eps_);
    }
  }
  std::size_t bytes() const { return static_cast<std::size_t>(m_.size() + v_.size()) * sizeof(double); }

  /// The moments and the step count (the hyperparameters are parameters).
  void save(ModelWriter& w) const {
    w.matrix(m_);
    w.matrix(v_);
    w.value(t_);
  }
  /// What save wrote, for `n` parameters.
  void load(ModelReader& r, Eigen::Index n) {
    Eigen::VectorXd m = r.matrix<Eigen::VectorXd>("the Adam first moments");
    Eigen::VectorXd v = r.matrix<Eigen::VectorXd>("the Adam second moments");
    const auto t = r.value<std::int64_t>("the Adam step count");
    r.expect("the number of Adam first moments", m.size(), n);
    r.expect("the number of Adam second moments", v.size(), n);
    m_ = std::move(m);
    v_ = std::move(v);
    t_ = t;
  }

 private:
  double lr_, beta1_, beta2_, eps_;
  Eigen::VectorXd m_, v_;
  std::int64_t t_ = 0;
};

}  // namespace recfuse::rl
