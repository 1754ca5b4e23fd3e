// SVD++ (Koren, "Factorization meets the neighborhood: a multifaceted
// collaborative filtering model", KDD 2008, eq. 15):
//   r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j),
// N(u) = the user's training items. Defaults are Surprise's SVDpp (20
// factors, 20 epochs, γ = 0.007, λ = 0.02, N(0, 0.1²) initialisation).
//
//   [algorithms.svdpp]
//   plugin = "svdpp"
//   params = { factors = 20, epochs = 20, lr = 0.007, reg = 0.02 }
//
// Update order. Koren's §2.3 rules (and Surprise's SVDpp.sgd) step every
// y_j, j ∈ N(u), after EACH rating of u, and recompute the implicit sum
// z = |N(u)|^-½ Σ_j y_j for the next one: O(|N(u)|·f) per rating. Here the
// same updates cost O(f) per rating and O(|N(u)|·f) per user. With
// s = |N(u)|^-½ and d = 1 − γλ, the step of one rating (i, r) is
//   e = r − (μ + b_u + b_i + q_i·(p_u + z))
//   b_u += γ(e − λ b_u);  b_i += γ(e − λ b_i)
//   p_u += γ(e q_i − λ p_u);  q_i += γ(e (p_u + z) − λ q_i)   (old values)
//   y_j ← d y_j + γ e s q_i  for every j ∈ N(u)                (old q_i)
// and since every y_j of the user receives the same term, and |N(u)| s² = 1,
//   z ← d z + γ e q_i   exactly,   and after the user's n ratings
//   y_j = dⁿ y_j + G,   G ← d G + γ s e q_i accumulated per rating.
// So z is carried along and the y_j are written once, at the user's end:
// the result equals the per-rating rules up to float rounding (the test
// checks it against a direct double-precision implementation of them).
// Users are visited in a fresh random order per epoch (stream
// derive_seed(seed, "svdpp", epoch); `shuffle = false`: by id, as Surprise's
// trainset order), a user's ratings in item-id order.
//
// `quantize = "int8"` (recfuse/quantized_factors.hpp) quantizes what scores,
// the effective user rows p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j and q_i, per row
// (the biases stay float); after fit P, Q and Y are freed. Not p_u and the
// y_j apart: the scoring form (like the model file and model_bytes) never
// holds them, a request would have to keep N(u) and re-sum |N(u)|
// dequantized y rows, and each entry of that sum would carry up to
// |N(u)|^½ half-scales of rounding against one half-scale of the
// effective row's own.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rating_model.hpp"
#include "recfuse/params.hpp"

namespace recfuse {

class SvdppRecommender final : public LatentRatingModel {
 public:
  explicit SvdppRecommender(const ParamSet& p)
      : factors_(static_cast<int>(p.get_int("factors"))),
        epochs_(static_cast<int>(p.get_int("epochs"))),
        lr_(static_cast<float>(p.get_float("lr"))), reg_(static_cast<float>(p.get_float("reg"))),
        init_mean_(p.get_float("init_mean")), init_std_(p.get_float("init_std")),
        shuffle_(p.get_bool("shuffle")),
        patience_(static_cast<int>(p.get_int("early_stopping_patience"))),
        quantize_(p.get_string("quantize") == "int8") {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::integer("factors", 20, 1, 4096, "latent dimension f"),
        ParamSpec::integer("epochs", 20, 1, 100000, "passes over the training ratings"),
        ParamSpec::real("lr", 0.007, 0.0, 10.0, "learning rate γ (biases, p, q and y)"),
        ParamSpec::real("reg", 0.02, 0.0, 1e6, "L2 regularisation λ (biases, p, q and y)"),
        ParamSpec::real("init_mean", 0.0, -10.0, 10.0, "mean of the normal initialisation"),
        ParamSpec::real("init_std", 0.1, 0.0, 10.0, "std of the normal initialisation"),
        ParamSpec::boolean("shuffle", true, "visit users in a new random order each epoch"),
        ParamSpec::integer("early_stopping_patience", 0, 0, 100000,
                           "stop after this many epochs without a better validation RMSE; 0 = off"),
        quantize_param("the effective user factors and the item factors"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_user.rows != data.n_users)
      throw Error("svdpp: training matrix does not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    const CsrMatrix& R = data.by_user;
    collect_ratings(R, stats_);
    mu_ = static_cast<float>(stats_.mean);
    P_.resize(data.n_users, factors_);
    Q_.resize(data.n_items, factors_);
    Y_.resize(data.n_items, factors_);
    normal_init(P_, init_mean_, init_std_, derive_seed(ctx.seed, "svdpp_init_p"));
    normal_init(Q_, init_mean_, init_std_, derive_seed(ctx.seed, "svdpp_init_q"));
    normal_init(Y_, init_mean_, init_std_, derive_seed(ctx.seed, "svdpp_init_y"));
    zero_unrated_rows(R, P_, {&Q_, &Y_});
    bu_.assign(static_cast<std::size_t>(data.n_users), 0.0f);
    bi_.assign(static_cast<std::size_t>(data.n_items), 0.0f);
    z_.resize(static_cast<std::size_t>(factors_));
    g_.resize(static_cast<std::size_t>(factors_));

    const bool has_validation = data.validation.nnz() > 0 && !data.validation.values.empty();
    const bool stopping = patience_ > 0 && has_validation;
    double best_rmse = std::numeric_limits<double>::infinity();
    int best_epoch = 0, since_best = 0;
    RowMatrixF bestP, bestQ, bestY;
    std::vector<float> best_bu, best_bi;
    std::vector<std::uint32_t> order;
    for (int epoch = 0; epoch < epochs_ && !ctx.cancelled(); ++epoch) {
      if (shuffle_) {
        shuffled_order(order, static_cast<std::size_t>(R.rows), derive_seed(ctx.seed, "svdpp", static_cast<std::uint64_t>(epoch)));
      } else {
        order.resize(static_cast<std::size_t>(R.rows));
        for (std::size_t u = 0; u < order.size(); ++u) order[u] = static_cast<std::uint32_t>(u);
      }
      double se = 0.0;
      for (std::uint32_t u : order) se += user_step(R, static_cast<UserId>(u));
      std::string line = "svdpp epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs_) +
                         ": train RMSE " + std::to_string(std::sqrt(se / std::max<double>(1.0, static_cast<double>(R.nnz()))));
      if (has_validation) {
        compute_user_vectors(R);
        const double v = rmse_on(data.validation, stats_, [&](UserId u, ItemId i) { return raw(u, i); });
        line += ", validation RMSE " + std::to_string(v);
        if (stopping) {
          if (v < best_rmse) {
            best_rmse = v;
            best_epoch = epoch + 1;
            since_best = 0;
            bestP = P_, bestQ = Q_, bestY = Y_, best_bu = bu_, best_bi = bi_;
          } else if (++since_best >= patience_) {
            ctx.log(line + " (stopping; best epoch " + std::to_string(best_epoch) + ")");
            break;
          }
        }
      }
      ctx.log(line);
    }
    if (stopping && best_epoch > 0) {
      P_ = std::move(bestP), Q_ = std::move(bestQ), Y_ = std::move(bestY);
      bu_ = std::move(best_bu), bi_ = std::move(best_bi);
    }
    compute_user_vectors(R);
    if (quantize_) {
      quantize_scoring_form();
      P_ = RowMatrixF(), Q_ = RowMatrixF(), Y_ = RowMatrixF();
    }
  }

  /// The scoring form, which is what save writes: Y and N(u) only make the
  /// effective user vectors, so a deployment keeps those instead.
  std::size_t model_bytes() const override {
    return scoring_factor_bytes() + (item_bias_.size() + offset_.size()) * sizeof(float);
  }

  /// kCapSaveLoad: the rating mean and range, the effective user vectors
  /// p_u + |N(u)|^-½ Σ y_j and Q (int8 rows and scales when quantized), b_i
  /// and the offsets μ + b_u.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    write_stats(w);
    write_scoring_factors(w);
    w.values(item_bias_);
    w.values(offset_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "svdpp");
    read_stats(r);
    const auto [users, items] = read_scoring_factors(r, factors_, quantize_);
    item_bias_ = r.values<float>("item biases");
    offset_ = r.values<float>("user offsets");
    r.finish();
    r.expect("the number of item biases", static_cast<std::int64_t>(item_bias_.size()), items);
    r.expect("the number of user offsets", static_cast<std::int64_t>(offset_.size()), users);
    set_shape(static_cast<std::int32_t>(users), static_cast<std::int32_t>(items));
  }

  // Learned parameters of a fitted (not a loaded) model, for tests; empty
  // when quantized.
  const RowMatrixF& user_factors() const { return P_; }
  const RowMatrixF& item_factors() const { return Q_; }
  const RowMatrixF& implicit_factors() const { return Y_; }
  const std::vector<float>& user_bias() const { return bu_; }
  const std::vector<float>& item_bias() const { return bi_; }

 private:
  /// All of user u's ratings, each with its y_j step applied lazily (see the
  /// top of the file); returns Σ e².
  double user_step(const CsrMatrix& R, UserId u) {
    const std::int64_t begin = R.indptr[u], end = R.indptr[u + 1];
    if (begin == end) return 0.0;
    const int f = factors_;
    const float n = static_cast<float>(end - begin), s = 1.0f / std::sqrt(n);
    const float d = 1.0f - lr_ * reg_;
    float* __restrict z = z_.data();
    float* __restrict g = g_.data();
    std::fill(z, z + f, 0.0f);
    std::fill(g, g + f, 0.0f);
    for (std::int64_t k = begin; k < end; ++k) {
      const float* y = Y_.row(R.indices[static_cast<std::size_t>(k)]).data();
#pragma omp simd
      for (int c = 0; c < f; ++c) z[c] += y[c];
    }
    for (int c = 0; c < f; ++c) z[c] *= s;
    float* __restrict p = P_.row(u).data();
    float& bu = bu_[static_cast<std::size_t>(u)];
    double se = 0.0;
    for (std::int64_t k = begin; k < end; ++k) {
      const ItemId i = R.indices[static_cast<std::size_t>(k)];
      float* __restrict q = Q_.row(i).data();
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int c = 0; c < f; ++c) dot += q[c] * (p[c] + z[c]);
      float& bi = bi_[static_cast<std::size_t>(i)];
      const float e = rating_at(R, k) - (mu_ + bu + bi + dot);
      se += static_cast<double>(e) * e;
      bu += lr_ * (e - reg_ * bu);
      bi += lr_ * (e - reg_ * bi);
      const float le = lr_ * e, les = le * s;
#pragma omp simd
      for (int c = 0; c < f; ++c) {
        const float pc = p[c], qc = q[c], zc = z[c];
        p[c] += lr_ * (e * qc - reg_ * pc);
        q[c] += lr_ * (e * (pc + zc) - reg_ * qc);
        z[c] = d * zc + le * qc;
        g[c] = d * g[c] + les * qc;
      }
    }
    const auto dn = static_cast<float>(std::pow(static_cast<double>(d), static_cast<double>(end - begin)));
    for (std::int64_t k = begin; k < end; ++k) {
      float* __restrict y = Y_.row(R.indices[static_cast<std::size_t>(k)]).data();
#pragma omp simd
      for (int c = 0; c < f; ++c) y[c] = dn * y[c] + g[c];
    }
    return se;
  }

  /// The scoring form: p_u + |N(u)|^-½ Σ y_j per user, μ + b_u offsets.
  void compute_user_vectors(const CsrMatrix& R) {
    set_scoring_form(mu_, P_, Q_, bu_, bi_);
#pragma omp parallel
    {
      Eigen::RowVectorXf sum(factors_);  // one per thread
#pragma omp for schedule(static)
      for (std::int32_t u = 0; u < R.rows; ++u) {
        const std::int64_t n = R.row_size(u);
        if (n == 0) continue;
        sum.setZero();
        for (std::int64_t k = R.indptr[u]; k < R.indptr[u + 1]; ++k)
          sum += Y_.row(R.indices[static_cast<std::size_t>(k)]);
        p_score_.row(u) += sum / std::sqrt(static_cast<float>(n));
      }
    }
  }

  int factors_, epochs_;
  float lr_, reg_;
  double init_mean_, init_std_;
  bool shuffle_;
  int patience_;
  bool quantize_;
  float mu_ = 0.0f;
  RowMatrixF P_, Q_, Y_;
  std::vector<float> bu_, bi_;
  std::vector<float> z_, g_;  // per-user scratch: implicit sum z, pending y_j term G
};

}  // namespace recfuse
