// Alternating least squares for explicit ratings with weighted-λ
// regularisation (Zhou, Wilkinson, Schreiber & Pan, "Large-scale parallel
// collaborative filtering for the Netflix Prize", AAIM 2008, §3 eq. 3–4,
// "ALS-WR"), with optional biases:
//   r̂_ui = μ + b_u + b_i + p_uᵀ q_i
//   min Σ_(u,i) (r_ui − r̂_ui)² + λ (Σ_u n_u (‖p_u‖² + b_u²) + Σ_i n_i (‖q_i‖² + b_i²))
// (n_u, n_i = rating counts; weighted_reg = false uses 1 instead).
//
//   [algorithms.als]
//   plugin = "als_explicit"
//   params = { factors = 50, iterations = 15, reg = 0.05 }
//
// Each half-step solves every user's (then every item's) ridge system
// exactly: with x_u = [p_u; b_u], a_i = [q_i; 1] and t_ui = r_ui − μ − b_i,
//   (Σ_i a_i a_iᵀ + λ n_u I) x_u = Σ_i t_ui a_i
// by Cholesky (Eigen LLT) on the (f+1)×(f+1) matrix, in parallel over users
// (items), each thread with its own buffers. The users' and items' systems are
// independent, so the result does not depend on the thread count. Item
// factors start N(0, init_std²) (stream "als_init_q"); users are solved first.
//
// `quantize = "int8"` is sgd_mf's (rating_model.hpp, recfuse/quantized_factors.hpp):
// after fit and load P and Q are kept, scored and saved as per-row int8 with
// a float scale per row (the biases stay float); model_bytes counts that.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <string>
#include <vector>

#include "rating_model.hpp"
#include "recfuse/params.hpp"

namespace recfuse {

class AlsExplicitRecommender final : public LatentRatingModel {
 public:
  explicit AlsExplicitRecommender(const ParamSet& p)
      : factors_(static_cast<int>(p.get_int("factors"))),
        iterations_(static_cast<int>(p.get_int("iterations"))),
        reg_(static_cast<float>(p.get_float("reg"))), init_std_(p.get_float("init_std")),
        weighted_(p.get_bool("weighted_reg")), biased_(p.get_bool("biased")),
        quantize_(p.get_string("quantize") == "int8") {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::integer("factors", 50, 1, 4096, "latent dimension f"),
        ParamSpec::integer("iterations", 15, 1, 100000, "ALS sweeps (users, then items)"),
        ParamSpec::real("reg", 0.05, 0.0, 1e6, "ridge λ (times n_u or n_i when weighted_reg)"),
        ParamSpec::boolean("weighted_reg", true, "scale λ by each row's rating count (ALS-WR)"),
        ParamSpec::boolean("biased", true, "learn μ + b_u + b_i alongside the factors"),
        ParamSpec::real("init_std", 0.1, 0.0, 10.0, "std of the normal item-factor initialisation"),
        quantize_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_user.rows != data.n_users || data.by_item.rows != data.n_items)
      throw Error("als_explicit: training matrices do not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    collect_ratings(data.by_user, stats_);
    mu_ = biased_ ? static_cast<float>(stats_.mean) : 0.0f;
    P_.setZero(data.n_users, factors_);
    Q_.resize(data.n_items, factors_);
    normal_init(Q_, 0.0, init_std_, derive_seed(ctx.seed, "als_init_q"));
    bu_.assign(static_cast<std::size_t>(data.n_users), 0.0f);
    bi_.assign(static_cast<std::size_t>(data.n_items), 0.0f);
    const bool has_validation = data.validation.nnz() > 0 && !data.validation.values.empty();
    for (int it = 0; it < iterations_ && !ctx.cancelled(); ++it) {
      solve_users(data);
      solve_items(data);
      std::string line = "als_explicit iteration " + std::to_string(it + 1) + "/" +
                         std::to_string(iterations_) + ": train RMSE " +
                         std::to_string(train_rmse(data.by_user));
      if (has_validation)
        line += ", validation RMSE " +
                std::to_string(rmse_on(data.validation, stats_, [&](UserId u, ItemId i) { return predict_raw(u, i); }));
      ctx.log(line);
    }
    finish_biased_mf(mu_, P_, Q_, bu_, bi_, quantize_);
  }

  std::size_t model_bytes() const override { return biased_mf_bytes(biased_); }

  /// kCapSaveLoad: whether biased, the rating range and mean, P, Q (int8
  /// rows and scales when quantized), b_u, b_i (sgd_mf's layout).
  void save(std::ostream& out) const override { save_biased_mf(out, biased_, P_, Q_, bu_, bi_); }
  void load(std::istream& in) override {
    load_biased_mf(in, "als_explicit", biased_, factors_, P_, Q_, bu_, bi_, quantize_);
    mu_ = biased_ ? static_cast<float>(stats_.mean) : 0.0f;
  }

  /// The user half-step: every (p_u, b_u) solved with Q and b_i fixed.
  void solve_users(const TrainData& d) { half_step(d.by_user, Q_, bi_, P_, bu_, "user"); }
  /// The item half-step: every (q_i, b_i) solved with P and b_u fixed.
  void solve_items(const TrainData& d) { half_step(d.by_item, P_, bu_, Q_, bi_, "item"); }

  // Learned parameters, for tests (P and Q are empty when quantized).
  const RowMatrixF& user_factors() const { return P_; }
  const RowMatrixF& item_factors() const { return Q_; }
  const std::vector<float>& user_bias() const { return bu_; }
  const std::vector<float>& item_bias() const { return bi_; }
  float global_offset() const { return mu_; }

 private:
  float predict_raw(UserId u, ItemId i) const {
    return mu_ + bu_[static_cast<std::size_t>(u)] + bi_[static_cast<std::size_t>(i)] +
           dot_f(P_.row(u).data(), Q_.row(i).data(), factors_);
  }

  /// Solves every row r of `m` (rows x other, ratings) for [X_r; xb_r] with
  /// the other side F, fb fixed. Throws Error, naming the first such row,
  /// when a system is singular (reg = 0 and fewer ratings than unknowns):
  /// LLT would otherwise hand back a partial, meaningless solution.
  void half_step(const CsrMatrix& m, const RowMatrixF& F, const std::vector<float>& fb,
                 RowMatrixF& X, std::vector<float>& xb, const char* side) const {
    const int f = factors_, d = f + (biased_ ? 1 : 0);
    std::int64_t widest = 0;
    for (std::int32_t r = 0; r < m.rows; ++r) widest = std::max(widest, m.row_size(r));
    std::int32_t failed = -1;  // smallest singular row; thrown after the parallel region
#pragma omp parallel
    {
      // Per-thread buffers, sized once: no allocation per row.
      RowMatrixF G(widest, d);
      Eigen::VectorXf t(widest), rhs(d), x(d);
      Eigen::MatrixXf A(d, d);
      Eigen::LLT<Eigen::MatrixXf> llt(d);
#pragma omp for schedule(dynamic, 16)
      for (std::int32_t r = 0; r < m.rows; ++r) {
        const std::int64_t n = m.row_size(r);
        if (n == 0) {  // nothing to fit: the regularised optimum is 0
          X.row(r).setZero();
          xb[static_cast<std::size_t>(r)] = 0.0f;
          continue;
        }
        for (std::int64_t k = 0; k < n; ++k) {
          const std::int64_t s = m.indptr[r] + k;
          const std::int32_t j = m.indices[static_cast<std::size_t>(s)];
          G.row(k).head(f) = F.row(j);
          if (biased_) G(k, f) = 1.0f;
          t(k) = rating_at(m, s) - mu_ - (biased_ ? fb[static_cast<std::size_t>(j)] : 0.0f);
        }
        const auto Gn = G.topRows(n);
        A.setZero();
        A.selfadjointView<Eigen::Lower>().rankUpdate(Gn.transpose());
        A.diagonal().array() += reg_ * (weighted_ ? static_cast<float>(n) : 1.0f);
        rhs.noalias() = Gn.transpose() * t.head(n);
        llt.compute(A);
        if (llt.info() != Eigen::Success) {
#pragma omp critical(als_explicit_failed_row)
          if (failed < 0 || r < failed) failed = r;
          continue;
        }
        x = llt.solve(rhs);
        X.row(r) = x.head(f).transpose();
        xb[static_cast<std::size_t>(r)] = biased_ ? x(f) : 0.0f;
      }
    }
    if (failed >= 0)
      throw Error("als_explicit: the normal equations of " + std::string(side) + " " +
                  std::to_string(failed) + " (" + std::to_string(m.row_size(failed)) +
                  " ratings, " + std::to_string(d) + " unknowns) are singular at reg = " +
                  std::to_string(reg_) + "; raise reg");
  }

  double train_rmse(const CsrMatrix& R) const {
    double se = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : se)
    for (std::int32_t u = 0; u < R.rows; ++u)
      for (std::int64_t k = R.indptr[u]; k < R.indptr[u + 1]; ++k) {
        const double e = rating_at(R, k) - predict_raw(u, R.indices[static_cast<std::size_t>(k)]);
        se += e * e;
      }
    return std::sqrt(se / std::max<double>(1.0, static_cast<double>(R.nnz())));
  }

  int factors_, iterations_;
  float reg_;
  double init_std_;
  bool weighted_, biased_, quantize_;
  float mu_ = 0.0f;
  RowMatrixF P_, Q_;
  std::vector<float> bu_, bi_;
};

}  // namespace recfuse
