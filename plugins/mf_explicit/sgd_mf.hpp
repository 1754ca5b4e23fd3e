// Biased matrix factorization by SGD ("Funk SVD"; Koren, Bell & Volinsky,
// "Matrix factorization techniques for recommender systems", IEEE Computer
// 2009, §2–3, eq. 5): r̂_ui = μ + b_u + b_i + q_iᵀ p_u, minimising
// Σ (r_ui − r̂_ui)² + λ(‖q_i‖² + ‖p_u‖²) + λ_b(b_u² + b_i²) by SGD in
// Surprise's SVD update order (sgd_kernel.hpp). Defaults are Surprise's SVD.
//
//   [algorithms.svd]
//   plugin = "sgd_mf"
//   params = { factors = 100, epochs = 20, lr = 0.005, reg = 0.02 }
//
// Differences from Surprise, on purpose: float instead of double; the ratings
// are visited in a fresh random order each epoch (stream derive_seed(seed,
// "sgd", epoch)) where Surprise keeps the trainset's order (`shuffle = false`
// reproduces that: user by user, items in id order). `biased = false` is the
// unbiased variant (μ = b = 0, i.e. PMF-style). Early stopping keeps the
// epoch with the best validation RMSE when the split has validation ratings.
//
// `parallel = true` runs stratified SGD over a `blocks` x `blocks` grid of
// the ratings (DSGD, Gemulla et al. KDD 2011; sgd_kernel.hpp): the blocks of
// one stratum share no user and no item, so the trial's threads update them
// at once without races, and the model depends on the seed and `blocks`
// only, never on the thread count. The order differs from one global
// shuffle: stratum by stratum, each block reshuffled every epoch, or with
// `shuffle = false` shuffled once before the first (LIBMF's scheme). On
// ml-100k u1..u5 (3 seeds) all three orders give RMSE 0.937-0.938. The strata meet
// at a barrier, so the parallel mode wants its threads on otherwise idle
// cores: with other jobs on a 2-core machine an epoch ran up to 10x slower
// than the serial one.
//
// `quantize = "int8"` (model compression, recfuse/quantized_factors.hpp):
// after fit and load P and Q are kept, scored and saved as per-row int8 with
// a float scale per row (the biases stay float); model_bytes counts that.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "rating_model.hpp"
#include "recfuse/params.hpp"
#include "sgd_kernel.hpp"

namespace recfuse {

class SgdMfRecommender final : public LatentRatingModel {
 public:
  explicit SgdMfRecommender(const ParamSet& p)
      : factors_(static_cast<int>(p.get_int("factors"))),
        epochs_(static_cast<int>(p.get_int("epochs"))),
        lr_(p.get_float("lr")), reg_(p.get_float("reg")),
        lr_bias_(p.get_float("lr_bias") < 0 ? lr_ : p.get_float("lr_bias")),
        reg_bias_(p.get_float("reg_bias") < 0 ? reg_ : p.get_float("reg_bias")),
        init_mean_(p.get_float("init_mean")), init_std_(p.get_float("init_std")),
        biased_(p.get_bool("biased")), shuffle_(p.get_bool("shuffle")),
        parallel_(p.get_bool("parallel")), blocks_(static_cast<int>(p.get_int("blocks"))),
        patience_(static_cast<int>(p.get_int("early_stopping_patience"))),
        quantize_(p.get_string("quantize") == "int8") {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::integer("factors", 100, 1, 4096, "latent dimension f"),
        ParamSpec::integer("epochs", 20, 1, 100000, "passes over the training ratings"),
        ParamSpec::real("lr", 0.005, 0.0, 10.0, "learning rate γ of the factors"),
        ParamSpec::real("reg", 0.02, 0.0, 1e6, "L2 regularisation λ of the factors"),
        ParamSpec::real("lr_bias", -1.0, -1.0, 10.0, "learning rate of the biases; -1 = lr"),
        ParamSpec::real("reg_bias", -1.0, -1.0, 1e6, "L2 regularisation of the biases; -1 = reg"),
        ParamSpec::real("init_mean", 0.0, -10.0, 10.0, "mean of the normal factor initialisation"),
        ParamSpec::real("init_std", 0.1, 0.0, 10.0, "std of the normal factor initialisation"),
        ParamSpec::boolean("biased", true, "use μ + b_u + b_i (false: unbiased MF)"),
        ParamSpec::boolean("shuffle", true,
                           "visit ratings in a new random order each epoch (false: user by user; "
                           "with parallel, each block shuffled once)"),
        ParamSpec::boolean("parallel", false,
                           "stratified SGD over a blocks x blocks grid, blocks of a stratum on "
                           "the trial's threads (same model for any thread count)"),
        ParamSpec::integer("blocks", 8, 1, 1024,
                           "grid size k of parallel = true; at most k threads work at once"),
        ParamSpec::integer("early_stopping_patience", 0, 0, 100000,
                           "stop after this many epochs without a better validation RMSE; 0 = off"),
        quantize_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_user.rows != data.n_users)
      throw Error("sgd_mf: training matrix does not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    ratings_ = collect_ratings(data.by_user, stats_);
    P_.resize(data.n_users, factors_);
    Q_.resize(data.n_items, factors_);
    normal_init(P_, init_mean_, init_std_, derive_seed(ctx.seed, "sgd_init_p"));
    normal_init(Q_, init_mean_, init_std_, derive_seed(ctx.seed, "sgd_init_q"));
    zero_unrated_rows(data.by_user, P_, {&Q_});
    bu_.assign(static_cast<std::size_t>(data.n_users), 0.0f);
    bi_.assign(static_cast<std::size_t>(data.n_items), 0.0f);

    SgdStep step;
    step.lr = static_cast<float>(lr_);
    step.reg = static_cast<float>(reg_);
    step.lr_bias = static_cast<float>(lr_bias_);
    step.reg_bias = static_cast<float>(reg_bias_);
    step.mu = biased_ ? static_cast<float>(stats_.mean) : 0.0f;
    step.biased = biased_;
    step.factors = factors_;
    PaddedRows P(P_), Q(Q_);  // trained in place; copied back into P_, Q_ at the end
    step.stride = P.stride();

    const bool has_validation = data.validation.nnz() > 0 && !data.validation.values.empty();
    const bool stopping = patience_ > 0 && has_validation;
    Snapshot best;
    double best_rmse = std::numeric_limits<double>::infinity();
    int since_best = 0;
    std::vector<Rating> visit;       // this epoch's order, reused
    std::vector<std::uint32_t> order;
    SgdGrid grid;
    std::vector<double> block_se;
    if (parallel_) {
      grid = make_sgd_grid(ratings_, data.n_users, data.n_items, blocks_);
      ratings_ = {};
    }
    const std::size_t n_ratings = parallel_ ? grid.ratings.size() : ratings_.size();
    for (int epoch = 0; epoch < epochs_ && !ctx.cancelled(); ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      double se = 0.0;
      if (parallel_) {
        se = sgd_epoch_blocked(step, grid, derive_seed(ctx.seed, "sgd", static_cast<std::uint64_t>(epoch)),
                               ctx.threads, P.data(), Q.data(), bu_.data(), bi_.data(), block_se, shuffle_ || epoch == 0);
      } else {
        const Rating* list = ratings_.data();
        if (shuffle_) {
          shuffled_order(order, ratings_.size(), derive_seed(ctx.seed, "sgd", static_cast<std::uint64_t>(epoch)));
          visit.resize(ratings_.size());
          for (std::size_t k = 0; k < order.size(); ++k) visit[k] = ratings_[order[k]];
          list = visit.data();
        }
        se = sgd_epoch(step, list, ratings_.size(), P.data(), Q.data(), bu_.data(), bi_.data());
      }
      char secs[32];
      std::snprintf(secs, sizeof secs, " %.4f s",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      std::string line = "sgd_mf epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs_) + secs +
                         ": train RMSE " + std::to_string(std::sqrt(se / static_cast<double>(std::max<std::size_t>(1, n_ratings))));
      if (has_validation) {
        const double v = rmse_on(data.validation, stats_, [&](UserId u, ItemId i) {
          return step.mu + bu_[static_cast<std::size_t>(u)] + bi_[static_cast<std::size_t>(i)] +
                 dot_f(P.row(u), Q.row(i), factors_);
        });
        line += ", validation RMSE " + std::to_string(v);
        if (stopping) {
          if (v < best_rmse) {
            best_rmse = v;
            since_best = 0;
            P.copy_to(best.P);
            Q.copy_to(best.Q);
            best.bu = bu_;
            best.bi = bi_;
            best.epoch = epoch + 1;
          } else if (++since_best >= patience_) {
            ctx.log(line + " (stopping; best epoch " + std::to_string(best.epoch) + ")");
            break;
          }
        }
      }
      ctx.log(line);
    }
    P.copy_to(P_);
    Q.copy_to(Q_);
    if (stopping && best.epoch > 0) {
      P_ = std::move(best.P);
      Q_ = std::move(best.Q);
      bu_ = std::move(best.bu);
      bi_ = std::move(best.bi);
    }
    ratings_ = {};
    finish_biased_mf(step.mu, P_, Q_, bu_, bi_, quantize_);
  }

  std::size_t model_bytes() const override { return biased_mf_bytes(biased_); }

  /// kCapSaveLoad: whether biased, the rating range and mean, P, Q (int8
  /// rows and scales when quantized), b_u, b_i.
  void save(std::ostream& out) const override { save_biased_mf(out, biased_, P_, Q_, bu_, bi_); }
  void load(std::istream& in) override {
    load_biased_mf(in, "sgd_mf", biased_, factors_, P_, Q_, bu_, bi_, quantize_);
  }

  // Learned parameters, for tests (P and Q are empty when quantized).
  const RowMatrixF& user_factors() const { return P_; }
  const RowMatrixF& item_factors() const { return Q_; }
  const std::vector<float>& user_bias() const { return bu_; }
  const std::vector<float>& item_bias() const { return bi_; }

 private:
  struct Snapshot {
    RowMatrixF P, Q;
    std::vector<float> bu, bi;
    int epoch = 0;
  };

  int factors_, epochs_;
  double lr_, reg_, lr_bias_, reg_bias_, init_mean_, init_std_;
  bool biased_, shuffle_, parallel_;
  int blocks_;
  int patience_;
  bool quantize_;
  std::vector<Rating> ratings_;
  RowMatrixF P_, Q_;
  std::vector<float> bu_, bi_;
};

}  // namespace recfuse
