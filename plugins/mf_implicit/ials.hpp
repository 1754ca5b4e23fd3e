// Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) solved by conjugate
// gradient (Takács, Pilászy & Tikk, RecSys 2011) or exactly (Cholesky).
//
//   [algorithms.ials]
//   plugin = "ials"
//   params = { factors = 64, reg = 0.01, alpha = 10.0, iterations = 15 }
//
// Model: s(u, i) = x_uᵀ y_i. Fit alternates half-steps (recfuse/ials_solver.hpp):
// users against fixed items, then items against fixed users, minimising HKV
// eq. (3) with confidence c_ui = 1 + α·r_ui (eq. 5) or 1 + α·log(1 + r_ui/ε)
// (eq. 6); r_ui = 1 for every training pair unless use_values = true.
// Defaults follow benfred/implicit's AlternatingLeastSquares (factors 100,
// reg 0.01, alpha 1, 15 iterations, 3 CG steps, init 0.01 scale); implicit
// uses c_ui = α·r_ui where we keep the paper's 1 + α·r_ui.
// reg_exponent ν (default 0: HKV's single λ) scales each row's λ by the
// total weight of its squared errors, λ_u = λ·(Σ_i c_ui)^ν over all items
// and λ_i = λ·(Σ_u c_ui)^ν over all users: the frequency-scaled
// regularization of Rendle et al., RecSys 2022 (recfuse/ials_solver.hpp).
// Its weights grow with the catalogue (|I| + α·|I_u| for a user with r = 1,
// |U| + α·|U_i| for an item), so with ν > 0 the useful λ is far smaller
// than with ν = 0 (ν = 1, small α: about λ/|I| for users, λ/|U| for items).
// Explanations and the online fold-in use the same λ_u and λ_i, recomputed
// from the row as it stands (a click raises its row's weight).
// explain follows HKV §5 ("Explaining recommendations"): with
// W^u = (YᵀC^uY + λI)⁻¹ the least-squares user factor is
// x*_u = Σ_{j∈I_u} c_uj W^u y_j, so y_iᵀx*_u = Σ_{j∈I_u} s^u_ij c_uj with
// s^u_ij = y_iᵀW^u y_j; it names the past items j with the largest terms
// and their shares (explain_terms.hpp). The terms explain that exact solve
// against the final Y (`contributions`), not the saved x_u exactly.
//
// online_updates (kCapObserve; the online protocol calls observe after every
// step) folds each click into the model, the fold-in of HKV eq. (4) for one
// row (Rendle & Schmidt-Thieme, RecSys 2008: user and item updates):
//   "none" (default): observe does nothing; the model stays as fitted.
//   "user": a click of user u on item i adds (u, i) to u's training row
//     with the confidence of r_ui = 1 (the value the logs give every click;
//     a click on an item already in the row leaves the row as it is, in
//     either use_values mode, as repeated clicks merge in the logs, and
//     re-solves all the same), then x_u is re-solved exactly
//     against the fixed Y in double: (YᵀY + λI + Σ_j (c_uj − 1) y_j y_jᵀ) x_u
//     = Σ_j c_uj y_j, YᵀY + λI kept between clicks (Y does not change;
//     with reg_exponent ν > 0, YᵀY kept and λ_u taken from the extended
//     row). Cost per click: |I_u|·f² + f³/3.
//   "user_item": after x_u, y_i is re-solved exactly against the fixed X over
//     i's users (their rows, transposed from the users' on the first click
//     after fit or load), with ν > 0 under i's λ_i of the extended column.
//     XᵀX + λI and YᵀY + λI (ν > 0: XᵀX and YᵀY) are kept and follow each
//     changed row by a rank-two update (x_newx_newᵀ − x_oldx_oldᵀ, f² each),
//     so they match a recomputation up to rounding (a loaded model
//     recomputes them). Cost per click: (|I_u| + |U_i|)·f² + 2f³/3, and
//     O(nnz) to insert the pair into the rows (both modes).
// Steps without a click change nothing: implicit feedback has no negatives,
// and an unclicked item of a slate is as unobserved as before (c = 1,
// p = 0 already counts it). Clicks fold in one after another in the order
// of the feedback's rows, on one thread: the result is the same for any
// thread count. save writes the extended rows (the file's layout is
// unchanged): a model saved after observe loads to the same scores, and to
// the same explanations up to rounding (with "user_item" the live YᵀY was
// updated click by click; a loaded model sums it afresh).
//
// quantize = "int8" (model compression, recfuse/quantized_factors.hpp), as
// bpr's: after fit and load X and Y are kept, scored and saved as per-row
// int8 with a float scale per row, and model_bytes counts that; explain
// decomposes against the dequantized Y (what scoring uses), built on its
// first call. With online_updates it is refused: the fold-in re-solves
// float rows.
#pragma once

#include <chrono>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "early_stopping.hpp"
#include "explain_terms.hpp"
#include "recfuse/ials_solver.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/quantized_factors.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class IalsRecommender final : public Recommender {
 public:
  explicit IalsRecommender(const ParamSet& p)
      : factors_(p.get_int("factors")),
        iterations_(static_cast<int>(p.get_int("iterations"))),
        reg_(p.get_float("reg")),
        reg_exponent_(p.get_float("reg_exponent")),
        init_std_(p.get_float("init_std")),
        solver_(p.get_string("solver") == "cholesky" ? IalsSolver::kCholesky : IalsSolver::kCg),
        cg_steps_(static_cast<int>(p.get_int("cg_steps"))),
        patience_(p.get_int("early_stopping_patience")),
        log_loss_(p.get_bool("log_loss")),
        online_(online_updates_of(p.get_string("online_updates"))),
        quantize_(p.get_string("quantize") == "int8") {
    if (quantize_ && online_ != Online::kNone)
      throw Error("ials: online_updates = \"" + p.get_string("online_updates") +
                  "\" re-solves float factors, which quantize = \"int8\" does not keep; set one of them to none");
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
        ParamSpec::real("reg_exponent", 0.0, 0.0, 4.0,
                        "ν of the frequency-scaled λ_r = reg·(Σ_j c_rj)^ν, Σ over all columns "
                        "(Rendle et al. 2022); 0 = the same reg for every row"),
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
        ParamSpec::choice("online_updates", "none", {"none", "user", "user_item"},
                          "online protocol: fold each click (u, i) into the model: none; user = re-solve "
                          "x_u exactly against fixed Y; user_item = then y_i against fixed X"),
        quantize_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_user.rows != data.n_users || data.by_item.rows != data.n_items)
      throw Error("ials: training matrices do not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    quantized_ = false;
    history_ = make_confidence_rows(data.by_user, conf_opts_);
    titles_ = item_labels(data);
    const IalsRows& by_user = history_;
    const IalsRows by_item = make_confidence_rows(data.by_item, conf_opts_);
    init(user_factors_, data.n_users, derive_seed(ctx.seed, "ials_user"));
    init(item_factors_, data.n_items, derive_seed(ctx.seed, "ials_item"));
    // λ_u and λ_i (empty with ν = 0): the confidences do not change during fit.
    const std::vector<float> user_reg = frequency_scaled_reg(by_user, data.n_items, reg_, reg_exponent_);
    const std::vector<float> item_reg = frequency_scaled_reg(by_item, data.n_users, reg_, reg_exponent_);
    EarlyStopping stop(patience_);
    RowMatrixF best_users, best_items;
    for (int it = 1; it <= iterations_ && !ctx.cancelled(); ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      ials_half_step(by_user, item_factors_, reg_, solver_, cg_steps_, user_factors_, user_reg);
      ials_half_step(by_item, user_factors_, reg_, solver_, cg_steps_, item_factors_, item_reg);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string line = "ials: iteration " + std::to_string(it) + "/" + std::to_string(iterations_) +
                         " " + format_seconds(secs);
      if (log_loss_)
        line += " loss " + std::to_string(ials_loss(by_user, user_factors_, item_factors_, reg_, user_reg, item_reg));
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
    forget_caches();
    if (quantize_) quantize();
  }

  /// out: users.size() x n_items = X[users] Yᵀ, one GEMM per call;
  /// quantized: s_u t_i Σ q_uk q_ik on the int8 rows.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    if (quantized_)
      quant_.score_all({}, users, out);
    else
      score_factors(user_factors_, item_factors_, {}, users, out, gather_);
  }

  std::size_t model_bytes() const override {
    return quantized_ ? quant_.bytes()
                      : static_cast<std::size_t>(user_factors_.size() + item_factors_.size()) * sizeof(float);
  }

  /// kCapSaveLoad: X, Y and the users' training rows with their
  /// confidences c_uj and the titles (what explain reads; scoring reads X and Y only).
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    write_factor_pair(w, quantized_, quant_, user_factors_, item_factors_);
    w.values(history_.indptr);
    w.values(history_.indices);
    w.values(history_.conf);
    w.titles(titles_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "ials");
    RowMatrixF users, items;
    QuantizedFactors quant;
    const auto [n_users, n_items] = read_factor_pair(r, factors_, quantize_, quant, users, items);
    IalsRows history;
    history.indptr = r.values<std::int64_t>("history offsets");
    history.indices = r.values<std::int32_t>("history items");
    history.conf = r.values<float>("history confidences");
    std::vector<std::string> titles = r.titles(n_items);
    r.finish();
    r.expect("the number of history rows", static_cast<std::int64_t>(history.indptr.size()) - 1, n_users);
    r.expect_csr(history.indptr, history.indices, n_items, "the history offsets", "the history items",
                 "a history item", "is outside the catalogue");
    r.expect("the number of history confidences", static_cast<std::int64_t>(history.conf.size()),
             static_cast<std::int64_t>(history.indices.size()));
    history.rows = static_cast<std::int32_t>(n_users);
    for (std::size_t u = 0; u + 1 < history.indptr.size(); ++u)
      history.max_row = std::max(history.max_row, history.indptr[u + 1] - history.indptr[u]);
    user_factors_ = std::move(users);
    item_factors_ = std::move(items);
    quant_ = std::move(quant);
    quantized_ = quantize_;
    history_ = std::move(history);
    titles_ = std::move(titles);
    set_shape(static_cast<std::int32_t>(n_users), static_cast<std::int32_t>(n_items));
    forget_caches();
  }

  /// The terms s^u_ij·c_uj of y_iᵀx*_u (HKV §5), one per j ∈ I_u in I_u's
  /// order, in double: x*_u = W^u Yᵀ C^u p(u) is the exact least-squares user
  /// factor against the final item factors Y, W^u = (YᵀC^uY + λI)⁻¹ =
  /// (YᵀY + λI + Σ_{j∈I_u} (c_uj − 1) y_j y_jᵀ)⁻¹ factored by Cholesky. The
  /// model's own x_u solved the user half-step before the last item
  /// half-step (with solver = "cg", a few CG steps from a warm start), so
  /// its score y_iᵀx_u differs from the terms' sum by y_iᵀ(x_u − x*_u),
  /// which vanishes as the sweeps converge. W^u is kept for the last user
  /// asked about (a top-k list is explained user by user). Empty when u has
  /// no training items, u or i is out of range, or W^u does not exist (λ = 0).
  /// With reg_exponent ν > 0, λ is u's own λ_u throughout.
  std::vector<ItemTerm> contributions(UserId u, ItemId i) {
    std::vector<ItemTerm> out;
    if (u < 0 || u >= n_users() || i < 0 || i >= n_items()) return out;
    const auto b = static_cast<std::size_t>(history_.indptr[static_cast<std::size_t>(u)]);
    const auto e = static_cast<std::size_t>(history_.indptr[static_cast<std::size_t>(u) + 1]);
    if (b == e) return out;
    if (u != explained_user_) factor_normal_equations(u);
    if (explained_llt_.info() != Eigen::Success) return out;
    const RowMatrixF& y = explained_items();
    const Eigen::VectorXd wy = explained_llt_.solve(y.row(i).transpose().cast<double>());  // W^u y_i
    for (std::size_t k = b; k < e; ++k) {
      const std::int32_t j = history_.indices[k];
      out.push_back({j, static_cast<double>(history_.conf[k]) * wy.dot(y.row(j).transpose().cast<double>())});
    }
    return out;
  }

  /// "31 of your 40 training items raise its score: item 50 (+0.34, 41%), ...".
  std::string explain(UserId u, ItemId i) override { return explain_item_terms(contributions(u, i), titles_); }

  /// kCapObserve: folds each click of `fb` into the model (online_updates,
  /// above), in row order; does nothing with online_updates = "none".
  void observe(const Feedback& fb) override {
    if (online_ == Online::kNone) return;
    const auto k = static_cast<std::size_t>(fb.slate_size);
    for (std::size_t r = 0; r < fb.users.size(); ++r)
      if (fb.choice[r] >= 0) fold_in(fb.users[r], fb.slates[r * k + static_cast<std::size_t>(fb.choice[r])]);
  }

  /// Empty with quantize = "int8" (the int8 rows are quantized_factors()).
  const RowMatrixF& user_factors() const { return user_factors_; }
  const RowMatrixF& item_factors() const { return item_factors_; }
  const QuantizedFactors& quantized_factors() const { return quant_; }

 private:
  std::vector<std::string> titles_;  // item_labels (title, else dataset id), for explain
  /// One click (u, i) folded in (online_updates "user" or "user_item").
  void fold_in(UserId u, ItemId i) {
    if (u < 0 || u >= n_users() || i < 0 || i >= n_items())
      throw Error("ials: observe: a click of user " + std::to_string(u) + " on item " + std::to_string(i) +
                  " outside the model's " + std::to_string(n_users()) + " x " + std::to_string(n_items()));
    const bool items = online_ == Online::kUserItem;
    if (gramian_.size() == 0) gramian_ = gramian_plus_reg<double>(item_factors_, shared_reg());
    if (items && user_gramian_.size() == 0) {  // the first click since fit or load
      user_gramian_ = gramian_plus_reg<double>(user_factors_, shared_reg());
      item_rows_ = transpose_confidence_rows(history_, n_items());
    }
    const auto c = static_cast<float>(ials_confidence(1.0, conf_opts_));
    insert_confidence(history_, u, i, c);
    resolve(history_, u, item_factors_, gramian_, user_factors_, items ? &user_gramian_ : nullptr, "user",
            extra_reg(history_, u, n_items()));
    if (items) {
      insert_confidence(item_rows_, i, u, c);
      resolve(item_rows_, i, user_factors_, user_gramian_, item_factors_, &gramian_, "item",
              extra_reg(item_rows_, i, n_users()));
    }
    explained_user_ = -1;  // W^u changed: u's row, and with user_item every user's Y
  }
  void init(RowMatrixF& m, std::int32_t rows, std::uint64_t seed) const {
    Rng rng(seed);
    m.resize(rows, factors_);
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = static_cast<float>(rng.normal(0.0, init_std_));
  }
  /// explained_llt_ ← Cholesky of YᵀC^uY + λ_uI over u's row of history_.
  void factor_normal_equations(UserId u) {
    const RowMatrixF& y = explained_items();
    if (gramian_.size() == 0) gramian_ = gramian_plus_reg<double>(y, shared_reg());
    factor_row_normal_equations(gramian_, history_, u, y, explained_llt_, extra_reg(history_, u, n_items()));
    explained_user_ = u;
  }
  /// The λ inside gramian_ and user_gramian_: reg with ν = 0; with ν > 0
  /// none, each row adding its own λ_r (extra_reg).
  double shared_reg() const { return reg_exponent_ == 0.0 ? reg_ : 0.0; }
  /// λ_r of `rows`'s row r as it stands when ν > 0, else 0 (λ is in the gramian).
  double extra_reg(const IalsRows& rows, std::int32_t r, std::int32_t n_other) const {
    return reg_exponent_ == 0.0 ? 0.0 : ials_row_reg(rows, r, n_other, reg_, reg_exponent_);
  }
  /// The Y that explain decomposes against: the model's own, dequantized
  /// (s_i q_i, what scoring uses) on first use when quantized.
  const RowMatrixF& explained_items() {
    if (!quantized_) return item_factors_;
    if (dequantized_items_.size() == 0) dequantized_items_ = quant_.items.dequantize();
    return dequantized_items_;
  }
  /// Replaces X and Y by their int8 form (and frees them).
  void quantize() {
    quant_ = quantize_and_free(user_factors_, item_factors_);
    quantized_ = true;
  }
  /// mine.row(r) ← the exact solve of row r of `rows` against `other`
  /// (g = otherᵀother + λI, or otherᵀother with row_reg = λ_r); with g_mine,
  /// mineᵀmine (+ λI) follows the change.
  static void resolve(const IalsRows& rows, std::int32_t r, const RowMatrixF& other, const Eigen::MatrixXd& g,
                      RowMatrixF& mine, Eigen::MatrixXd* g_mine, const char* side, double row_reg) {
    Eigen::VectorXd x;
    if (!solve_row_exact(g, rows, r, other, x, row_reg))
      throw Error(std::string("ials: observe: the normal equations of ") + side + " " + std::to_string(r) +
                  " are not positive definite; raise reg");
    const Eigen::VectorXd before = mine.row(r).transpose().cast<double>();
    mine.row(r) = x.transpose().cast<float>();
    if (g_mine == nullptr) return;
    const Eigen::VectorXd after = mine.row(r).transpose().cast<double>();
    g_mine->noalias() += after * after.transpose();
    g_mine->noalias() -= before * before.transpose();
  }
  /// After fit or load: X, Y and the rows changed.
  void forget_caches() {
    dequantized_items_.resize(0, 0);
    gramian_.resize(0, 0);
    user_gramian_.resize(0, 0);
    item_rows_ = IalsRows{};
    explained_user_ = -1;
  }
  enum class Online { kNone, kUser, kUserItem };
  static Online online_updates_of(const std::string& v) {
    if (v == "none") return Online::kNone;
    if (v == "user") return Online::kUser;
    if (v == "user_item") return Online::kUserItem;
    throw Error("ials: online_updates = \"" + v + "\" is not one of none, user, user_item");
  }

  static std::string format_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f s", s);
    return buf;
  }

  std::int64_t factors_;
  int iterations_;
  double reg_;
  double reg_exponent_;  // ν: λ_r = reg·(Σ_j c_rj)^ν (0: reg for every row)
  double init_std_;
  IalsSolver solver_;
  int cg_steps_;
  std::int64_t patience_;
  bool log_loss_;
  Online online_;
  bool quantize_;          // quantize = "int8"
  bool quantized_ = false;  // X and Y live in quant_ (after fit or load)
  ConfidenceOptions conf_opts_;
  RowMatrixF user_factors_;  // n_users x f
  RowMatrixF item_factors_;  // n_items x f
  RowMatrixF gather_;        // scoring scratch
  QuantizedFactors quant_;   // quantize = "int8": X and Y as int8 rows
  RowMatrixF dequantized_items_;  // explain, quantized: s_i q_i, built on first use
  IalsRows history_;         // the users' training rows and c_uj (explain)
  Eigen::MatrixXd gramian_;  // explain and observe: YᵀY + λI (ν > 0: YᵀY) in double, built on first use
  Eigen::MatrixXd user_gramian_;  // observe, user_item: XᵀX + λI (ν > 0: XᵀX) in double, built on first use
  IalsRows item_rows_;            // observe, user_item: history_ by item, built with user_gramian_
  Eigen::LLT<Eigen::MatrixXd> explained_llt_;  // of YᵀC^uY + λ_uI for explained_user_
  UserId explained_user_ = -1;
};

}  // namespace recfuse
