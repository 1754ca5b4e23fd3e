// Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) solved by conjugate
// gradient (Takács, Pilászy & Tikk, RecSys 2011) or exactly (Cholesky).
//
//   [algorithms.ials]
//   plugin = "ials"
//   params = { factors = 64, reg = 0.01, alpha = 10.0, iterations = 15 }
//
// Model: s(u, i) = x_uᵀ y_i. Fit alternates half-steps (ials_solver.hpp):
// users against fixed items, then items against fixed users, minimising HKV
// eq. (3) with confidence c_ui = 1 + α·r_ui (eq. 5) or 1 + α·log(1 + r_ui/ε)
// (eq. 6); r_ui = 1 for every training pair unless use_values = true.
// Defaults follow benfred/implicit's AlternatingLeastSquares (factors 100,
// reg 0.01, alpha 1, 15 iterations, 3 CG steps, init 0.01 scale); implicit
// uses c_ui = α·r_ui where we keep the paper's 1 + α·r_ui.
#pragma once

#include <chrono>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "early_stopping.hpp"
#include "ials_solver.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class IalsRecommender final : public Recommender {
 public:
  explicit IalsRecommender(const ParamSet& p)
      : factors_(p.get_int("factors")),
        iterations_(static_cast<int>(p.get_int("iterations"))),
        reg_(p.get_float("reg")),
        init_std_(p.get_float("init_std")),
        solver_(p.get_string("solver") == "cholesky" ? IalsSolver::kCholesky : IalsSolver::kCg),
        cg_steps_(static_cast<int>(p.get_int("cg_steps"))),
        patience_(p.get_int("early_stopping_patience")),
        log_loss_(p.get_bool("log_loss")) {
    conf_opts_.alpha = p.get_float("alpha");
    conf_opts_.log_scaling = p.get_string("confidence") == "log";
    conf_opts_.epsilon = p.get_float("epsilon");
    conf_opts_.use_values = p.get_bool("use_values");
  }

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::integer("factors", 100, 1, 4096, "latent dimension f"),
        ParamSpec::integer("iterations", 15, 1, 100000, "ALS sweeps (users then items)"),
        ParamSpec::real("reg", 0.01, 0.0, 1e9, "L2 weight λ on every factor (HKV eq. 3)"),
        ParamSpec::real("alpha", 1.0, 0.0, 1e9, "confidence scale α"),
        ParamSpec::choice("confidence", "linear", {"linear", "log"},
                          "c = 1 + α·r (linear) or 1 + α·log(1 + r/ε) (log)"),
        ParamSpec::real("epsilon", 1.0, 1e-12, 1e12, "ε of the log confidence"),
        ParamSpec::boolean("use_values", false,
                           "use the stored interaction values as r_ui (else every pair is 1)"),
        ParamSpec::real("init_std", 0.01, 0.0, 10.0, "standard deviation of the initial factors"),
        ParamSpec::choice("solver", "cg", {"cg", "cholesky"},
                          "conjugate gradient (Takács et al. 2011) or exact Cholesky per row"),
        ParamSpec::integer("cg_steps", 3, 1, 1000, "CG steps per row and half-step"),
        ParamSpec::integer("early_stopping_patience", 0, 0, 100000,
                           "stop after this many iterations without a better validation "
                           "NDCG@10 and keep the best factors (0 = off)"),
        ParamSpec::boolean("log_loss", false, "log the HKV eq. 3 loss after every iteration"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_user.rows != data.n_users || data.by_item.rows != data.n_items)
      throw Error("ials: training matrices do not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    const IalsRows by_user = make_confidence_rows(data.by_user, conf_opts_);
    const IalsRows by_item = make_confidence_rows(data.by_item, conf_opts_);
    init(user_factors_, data.n_users, derive_seed(ctx.seed, "ials_user"));
    init(item_factors_, data.n_items, derive_seed(ctx.seed, "ials_item"));
    EarlyStopping stop(patience_);
    RowMatrixF best_users, best_items;
    for (int it = 1; it <= iterations_ && !ctx.cancelled(); ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      ials_half_step(by_user, item_factors_, reg_, solver_, cg_steps_, user_factors_);
      ials_half_step(by_item, user_factors_, reg_, solver_, cg_steps_, item_factors_);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string line = "ials: iteration " + std::to_string(it) + "/" + std::to_string(iterations_) +
                         " " + format_seconds(secs);
      if (log_loss_) line += " loss " + std::to_string(ials_loss(by_user, user_factors_, item_factors_, reg_));
      ctx.log(line);
      if (!stop.enabled(data)) continue;
      if (stop.observe(*this, data, ctx, it, "ials")) { best_users = user_factors_; best_items = item_factors_; }
      if (stop.exhausted()) break;
    }
    if (stop.enabled(data) && best_users.size() > 0) {
      user_factors_ = std::move(best_users);
      item_factors_ = std::move(best_items);
      ctx.log("ials: kept iteration " + std::to_string(stop.best_epoch()));
    }
  }

  /// out: users.size() x n_items = X[users] Yᵀ, one GEMM per call.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    score_factors(user_factors_, item_factors_, {}, users, out, gather_);
  }

  std::size_t model_bytes() const override {
    return static_cast<std::size_t>(user_factors_.size() + item_factors_.size()) * sizeof(float);
  }

  /// kCapSaveLoad: X and Y.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    w.matrix(user_factors_);
    w.matrix(item_factors_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "ials");
    user_factors_ = r.rows_of_width<RowMatrixF>("user factors", factors_);
    item_factors_ = r.rows_of_width<RowMatrixF>("item factors", factors_);
    r.finish();
    set_shape(static_cast<std::int32_t>(user_factors_.rows()), static_cast<std::int32_t>(item_factors_.rows()));
  }

  const RowMatrixF& user_factors() const { return user_factors_; }
  const RowMatrixF& item_factors() const { return item_factors_; }

 private:
  void init(RowMatrixF& m, std::int32_t rows, std::uint64_t seed) const {
    Rng rng(seed);
    m.resize(rows, factors_);
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = static_cast<float>(rng.normal(0.0, init_std_));
  }
  static std::string format_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f s", s);
    return buf;
  }

  std::int64_t factors_;
  int iterations_;
  double reg_;
  double init_std_;
  IalsSolver solver_;
  int cg_steps_;
  std::int64_t patience_;
  bool log_loss_;
  ConfidenceOptions conf_opts_;
  RowMatrixF user_factors_;  // n_users x f
  RowMatrixF item_factors_;  // n_items x f
  RowMatrixF gather_;        // scoring scratch
};

}  // namespace recfuse
