// Factorization machine (Rendle, "Factorization Machines", ICDM 2010) over
// one-hot user, one-hot item, item attributes (genres) and user attributes
// (ml-100k demographics): the "feature fusion" model, which mixes
// collaborative and content signals inside one model instead of fusing the
// outputs of several.
//
//   [[algorithms]]
//   name = "fm"
//   plugin = "fm"
//   params = { factors = 32, epochs = 30, loss = "bpr", optimizer = "sgd", lr = 0.05 }
//
// Model (eq. 1): ŷ(x) = w0 + Σ_j w_j x_j + Σ_{j<l} <v_j, v_l> x_j x_l, computed
// with eq. 5: Σ_{j<l} <v_j,v_l> x_j x_l = ½ Σ_f [(Σ_j v_jf x_j)² − Σ_j v_jf² x_j²].
// x = [one-hot u | one-hot i | item attributes of i, scaled to sum 1 |
// user attributes of u as stored]. Splitting x into its user part U(u) and
// item part I(i), the pairwise term separates into within-U, within-I and
// <v_U(u), v_I(i)> with v_U(u) = Σ_{j in U(u)} x_j v_j, so
//   ŷ(u,i) = c(u) + b(i) + <v_U(u), v_I(i)>,
//   c(u) = w0 + Σ_U w_j x_j + ½(‖v_U‖² − Σ_U x_j² ‖v_j‖²), b(i) likewise.
// score_all precomputes v_U, c for every user and v_I, b for every item after
// fit and scores a block of users with one GEMM (factor_scoring.hpp).
// Losses: bpr (Rendle et al. 2009: −ln σ(ŷ(u,i) − ŷ(u,j)), j uniform among
// items not in u's training row, `negatives` per positive; user-only terms
// cancel) or logistic (positives y = 1, sampled negatives y = 0). Gradient
// of ŷ w.r.t. v_j: x_j (Σ_l x_l v_l − x_j v_j) (Rendle 2010, eq. 4 context).
// Optimizer: sgd (θ −= lr (g + reg θ) for θ in w and V, w0 unpenalised) or
// adam (Kingma & Ba 2015, lazily on the touched rows, bias-corrected by the
// global step). One thread, one stream derive_seed(seed, "fm"): reproducible
// bit for bit.
#pragma once

#include "fm_trainer.hpp"
#include "recfuse/model_io.hpp"

namespace recfuse {

class FmRecommender final : public Recommender {
 public:
  explicit FmRecommender(const ParamSet& p) : opt_(fm_options(p)) {}

  static std::vector<ParamSpec> params() { return fm_params(); }

  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    model_.init(data, opt_);
    train_fm(model_, data, opt_, ctx);
    model_.precompute(user_emb_, user_const_, item_emb_, item_bias_);
  }

  /// out: users.size() x n_items = v_U V_Iᵀ + b + c(u).
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    score_factors(user_emb_, item_emb_, item_bias_, users, out, gather_);
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t r = 0; r < users.size(); ++r) {
      const float c = user_const_[static_cast<std::size_t>(users[r])];
      for (std::size_t i = 0; i < n; ++i) out[r * n + i] += c;
    }
  }

  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    for (std::size_t j = 0; j < items.size(); ++j)
      out[j] = user_const_[static_cast<std::size_t>(users[j])] + item_bias_[static_cast<std::size_t>(items[j])] +
               user_emb_.row(users[j]).dot(item_emb_.row(items[j]));
  }

  /// The scoring form (v_U, c, v_I, b), which is what save writes: w0, w, V
  /// and the feature rows only make it, so a deployment keeps it instead.
  std::size_t model_bytes() const override {
    return static_cast<std::size_t>(user_emb_.size() + item_emb_.size()) * sizeof(float) +
           (user_const_.size() + item_bias_.size()) * sizeof(float);
  }

  /// kCapSaveLoad: the scoring form v_U and c(u) per user, v_I and b(i) per item.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    w.matrix(user_emb_);
    w.values(user_const_);
    w.matrix(item_emb_);
    w.values(item_bias_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "fm");
    user_emb_ = r.rows_of_width<RowMatrixF>("user embeddings", opt_.factors);
    user_const_ = r.values<float>("user constants");
    item_emb_ = r.rows_of_width<RowMatrixF>("item embeddings", opt_.factors);
    item_bias_ = r.values<float>("item biases");
    r.finish();
    r.expect("the number of user constants", static_cast<std::int64_t>(user_const_.size()), user_emb_.rows());
    r.expect("the number of item biases", static_cast<std::int64_t>(item_bias_.size()), item_emb_.rows());
    set_shape(static_cast<std::int32_t>(user_emb_.rows()), static_cast<std::int32_t>(item_emb_.rows()));
  }

  /// Reference ŷ(u,i) by eq. 1 directly (O(k n²) over the active features),
  /// for tests; a fitted model only (a loaded one has the scoring form alone).
  double naive_score(UserId u, ItemId i) const { return model_.naive(u, i); }

 private:
  FmOptions opt_;
  FmModel model_;
  RowMatrixF user_emb_, item_emb_, gather_;
  std::vector<float> user_const_, item_bias_;
};

}  // namespace recfuse
