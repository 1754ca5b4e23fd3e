// BPR-MF: Bayesian Personalized Ranking (Rendle, Freudenthaler, Gantner &
// Schmidt-Thieme, UAI 2009), LearnBPR (§4.3, Fig. 4) with uniform sampling
// (by default; implicit's popularity draws and skip rule are options).
//
//   [algorithms.bpr]
//   plugin = "bpr"
//   params = { factors = 64, epochs = 100, lr = 0.01, reg = 0.01, hogwild = true }
//
// Model: x̂_ui = b_i + w_uᵀh_i (b_i only with item_bias = true). Each step
// draws (u, i) uniformly from the training pairs and j uniformly from the
// items, redrawing j while it is one of u's positives (the defaults of
// negatives and negative_collision, below), and takes an SGD
// ascent step on ln σ(x̂_uij) − λ‖Θ‖², x̂_uij = x̂_ui − x̂_uj (eq. 7 and the
// gradient ∂/∂Θ of §4.3 with z = σ(−x̂_uij) = 1 − σ(x̂_uij)):
//   w_u += lr (z (h_i − h_j) − λ w_u),  h_i += lr (z w_u − λ h_i),
//   h_j += lr (−z w_u − λ h_j),  b_i += lr (z − λ b_i),  b_j += lr (−z − λ b_j).
// The update and the defaults (lr 0.01, reg 0.01, 100 epochs, factors
// uniform in ±0.5/f) follow benfred/implicit `implicit/cpu/bpr.pyx`. Two of
// its sampling rules are options here: implicit draws j as the item of a
// random training pair (popularity-proportional; `negatives = "popularity"`)
// and, when j is one of u's positives, skips the step, counting it as one of
// the epoch's samples, where Rendle et al. draw j from I \ I_u⁺
// (`negative_collision = "skip"` against the default "redraw"). Under
// popularity negatives a skip is likely for a user whose positives hold
// much of the training mass, so skipping moves the steps from heavy users
// to light ones. Left different: implicit's item bias starts at random like
// a factor (here at 0) and an item without training pairs starts at 0
// (here at random; it is never drawn under popularity negatives).
//
// Triples are drawn kBatch at a time, then applied in order by
// bpr_kernel.hpp (SIMD, the next rows prefetched): the draws do not depend on
// the factors, so batching only lets their cache misses overlap.
//
// hogwild = false: one thread, one stream derive_seed(seed, "bpr", 0):
// reproducible bit for bit on one machine (the AVX2 and SSE2 kernels sum in
// different orders). hogwild = true: every OpenMP thread t draws from
// derive_seed(seed, "bpr", t) and updates the shared factors without locks
// (Recht et al., NIPS 2011); results then depend on the thread count and on
// timing, so repeated runs differ slightly.
//
// quantize = "int8" (model compression, recfuse/quantized_factors.hpp):
// after fit and load W and H are kept, scored and saved as per-row int8
// with a float scale per row (b_i stays float); model_bytes counts that.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <omp.h>
#include <span>
#include <string>
#include <vector>

#include "bpr_kernel.hpp"
#include "early_stopping.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/factor_scoring.hpp"
#include "recfuse/padded_rows.hpp"
#include "recfuse/params.hpp"
#include "recfuse/quantized_factors.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class BprRecommender final : public Recommender {
 public:
  explicit BprRecommender(const ParamSet& p)
      : factors_(p.get_int("factors")),
        epochs_(static_cast<int>(p.get_int("epochs"))),
        lr_(static_cast<float>(p.get_float("lr"))),
        reg_(static_cast<float>(p.get_float("reg"))),
        item_bias_on_(p.get_bool("item_bias")),
        samples_per_epoch_(p.get_int("samples_per_epoch")),
        hogwild_(p.get_bool("hogwild")),
        patience_(p.get_int("early_stopping_patience")),
        eval_every_(static_cast<int>(p.get_int("eval_every"))),
        popularity_negatives_(p.get_string("negatives") == "popularity"),
        max_draws_(p.get_string("negative_collision") == "skip" ? 1 : kMaxDraws),
        quantize_(p.get_string("quantize") == "int8") {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::integer("factors", 64, 1, 4096, "latent dimension f"),
        ParamSpec::integer("epochs", 100, 1, 1000000, "passes of samples_per_epoch SGD steps"),
        ParamSpec::real("lr", 0.01, 0.0, 1e3, "SGD learning rate"),
        ParamSpec::real("reg", 0.01, 0.0, 1e3, "L2 weight λ on w_u, h_i, h_j and the biases"),
        ParamSpec::boolean("item_bias", true, "learn an item bias b_i"),
        ParamSpec::integer("samples_per_epoch", 0, 0, 1e12,
                           "SGD steps per epoch (0 = number of training pairs)"),
        ParamSpec::boolean("hogwild", false,
                           "lock-free multithreaded SGD (faster; not reproducible across "
                           "thread counts or runs)"),
        ParamSpec::integer("early_stopping_patience", 0, 0, 1000000,
                           "stop after this many validation checks without a better NDCG@10 "
                           "and keep the best factors (0 = off)"),
        ParamSpec::integer("eval_every", 5, 1, 1000000, "epochs between validation checks"),
        ParamSpec::choice("negatives", "uniform", {"uniform", "popularity"},
                          "draw j uniformly over items (Rendle et al.) or in proportion to its "
                          "training count (the item of a random training pair, as implicit does)"),
        ParamSpec::choice("negative_collision", "redraw", {"redraw", "skip"},
                          "when j is one of u's positives: draw j again (Rendle et al.) or skip the "
                          "step, which still counts as a sample (implicit's verify_negative_samples)"),
        quantize_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    const CsrMatrix& m = data.by_user;
    if (m.rows != data.n_users) throw Error("bpr: training matrix does not match n_users");
    set_shape(data.n_users, data.n_items);
    quantized_ = false;
    init(user_factors_, data.n_users, derive_seed(ctx.seed, "bpr_user"));
    init(item_factors_, data.n_items, derive_seed(ctx.seed, "bpr_item"));
    item_bias_.assign(item_bias_on_ ? static_cast<std::size_t>(data.n_items) : 0, 0.0f);
    index_positives(m);
    if (m.nnz() == 0 || data.n_items < 2) {
      if (quantize_) quantize();
      return;
    }
    const std::int64_t samples = samples_per_epoch_ > 0 ? samples_per_epoch_ : m.nnz();
    const int streams = hogwild_ ? omp_get_max_threads() : 1;
    std::vector<Rng> rngs;
    for (int t = 0; t < streams; ++t) rngs.emplace_back(derive_seed(ctx.seed, "bpr", static_cast<std::uint64_t>(t)));
    PaddedRows W(user_factors_), H(item_factors_);  // trained in place, copied back for scoring
    const BprStep step{lr_, reg_, item_bias_on_, static_cast<int>(factors_), W.stride()};
    EarlyStopping stop(patience_);
    RowMatrixF best_users, best_items;
    std::vector<float> best_bias;
    for (int epoch = 1; epoch <= epochs_ && !ctx.cancelled(); ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      std::int64_t correct = 0, drawn = 0;
#pragma omp parallel num_threads(streams) reduction(+ : correct, drawn)
      {
        Rng& rng = rngs[static_cast<std::size_t>(omp_get_thread_num())];
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const std::int64_t begin = samples * t / nt, end = samples * (t + 1) / nt;
        Batch batch;
        for (std::int64_t s = begin; s < end; s += kBatch) {
          const std::size_t n = draw_batch(m, rng, static_cast<std::size_t>(std::min(kBatch, end - s)), batch);
          correct += bpr_update_batch(step, batch.triples.data(), n, W.data(), H.data(),
                                      item_bias_.data());
          drawn += static_cast<std::int64_t>(n);
        }
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char line[160];
      std::snprintf(line, sizeof line,
                    "bpr: epoch %d/%d %.4f s, training pairs ranked right %.4f, samples skipped %.4f",
                    epoch, epochs_, secs, drawn > 0 ? static_cast<double>(correct) / drawn : 0.0,
                    static_cast<double>(samples - drawn) / static_cast<double>(samples));
      ctx.log(line);
      if (!stop.enabled(data) || epoch % eval_every_ != 0) continue;
      W.copy_to(user_factors_);
      H.copy_to(item_factors_);
      if (stop.observe(*this, data, ctx, epoch, "bpr")) {
        best_users = user_factors_; best_items = item_factors_; best_bias = item_bias_;
      }
      if (stop.exhausted()) break;
    }
    W.copy_to(user_factors_);
    H.copy_to(item_factors_);
    if (stop.enabled(data) && best_users.size() > 0) {
      user_factors_ = std::move(best_users);
      item_factors_ = std::move(best_items);
      item_bias_ = std::move(best_bias);
      ctx.log("bpr: kept epoch " + std::to_string(stop.best_epoch()));
    }
    pairs_ = {};  // sampling state only: not part of the model
    seen_ = {};
    if (quantize_) quantize();
  }

  /// out: users.size() x n_items = W[users] Hᵀ + b, one GEMM per call.
  /// Quantized: s_u t_i Σ q_uk q_ik + b on the int8 rows.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    if (quantized_)
      quant_.score_all(item_bias_, users, out);
    else
      score_factors(user_factors_, item_factors_, item_bias_, users, out, gather_);
  }

  std::size_t model_bytes() const override {
    return (quantized_ ? quant_.bytes()
                       : static_cast<std::size_t>(user_factors_.size() + item_factors_.size()) * sizeof(float)) +
           item_bias_.size() * sizeof(float);
  }

  /// kCapSaveLoad: W, H (int8 rows and scales when quantized) and the item
  /// biases (empty when off).
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    write_factor_pair(w, quantized_, quant_, user_factors_, item_factors_);
    w.values(item_bias_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "bpr");
    const auto [users, items] = read_factor_pair(r, factors_, quantize_, quant_, user_factors_, item_factors_);
    item_bias_ = r.values<float>("item biases");
    r.finish();
    r.expect("the number of item biases", static_cast<std::int64_t>(item_bias_.size()), item_bias_on_ ? items : 0);
    set_shape(static_cast<std::int32_t>(users), static_cast<std::int32_t>(items));
    quantized_ = quantize_;
  }

  /// The int8 model (quantize = "int8" after fit or load), for tests.
  const QuantizedFactors& quantized_factors() const { return quant_; }

 private:
  struct Pair {
    std::int32_t user, item;
  };
  static constexpr std::int64_t kBatch = 256;  // triples drawn, then applied, at a time
  struct Batch {                               // one thread's sampling scratch
    std::array<std::uint64_t, kBatch> pair, candidate;
    std::array<BprTriple, kBatch> triples;
  };

  /// Draws up to n LearnBPR triples into batch.triples and returns how
  /// many: (u, i) a uniform training pair, j a candidate redrawn while it is
  /// one of u's positives, at most max_draws_ draws in all (1: skipped at
  /// the first collision); a user with (nearly) every item gets no triple
  /// rather than an endless loop. All pairs are drawn first, then all first
  /// candidates, then the positive tests and redraws: the passes have no
  /// dependent loads, so their cache misses overlap. Deterministic for a
  /// given Rng state.
  std::size_t draw_batch(const CsrMatrix& m, Rng& rng, std::size_t n, Batch& batch) const {
    const auto pairs = static_cast<std::uint64_t>(pairs_.size());
    const auto items = static_cast<std::uint64_t>(n_items());
    for (std::size_t k = 0; k < n; ++k) {
      batch.pair[k] = rng.below(pairs);
      __builtin_prefetch(&pairs_[batch.pair[k]]);
    }
    for (std::size_t k = 0; k < n; ++k) {
      batch.candidate[k] = rng.below(popularity_negatives_ ? pairs : items);
      if (popularity_negatives_) __builtin_prefetch(&pairs_[batch.candidate[k]]);
    }
    std::size_t out = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const Pair p = pairs_[batch.pair[k]];
      std::int32_t j = candidate_item(batch.candidate[k]);
      bool positive = is_positive(m, p.user, j);
      for (int tries = 1; positive && tries < max_draws_; ++tries) {
        j = candidate_item(rng.below(popularity_negatives_ ? pairs : items));
        positive = is_positive(m, p.user, j);
      }
      if (!positive) batch.triples[out++] = {p.user, p.item, j};
    }
    return out;
  }
  /// j of a candidate draw: an item id, or under popularity negatives the
  /// item of a training pair.
  std::int32_t candidate_item(std::uint64_t c) const {
    return popularity_negatives_ ? pairs_[c].item : static_cast<std::int32_t>(c);
  }

  /// The training pairs in one array (one cache line per draw) and, when it
  /// fits in kMaxBitsetBytes, a users x items bitset for O(1) positive tests.
  void index_positives(const CsrMatrix& m) {
    pairs_.resize(static_cast<std::size_t>(m.nnz()));
    for (std::int32_t u = 0; u < m.rows; ++u)
      for (std::int64_t k = m.indptr[u]; k < m.indptr[u + 1]; ++k)
        pairs_[static_cast<std::size_t>(k)] = {u, m.indices[static_cast<std::size_t>(k)]};
    const std::uint64_t bits = static_cast<std::uint64_t>(m.rows) * static_cast<std::uint64_t>(n_items());
    seen_.clear();
    if (bits / 8 > kMaxBitsetBytes) return;
    seen_.assign((bits + 63) / 64, 0);
    for (const Pair& p : pairs_) {
      const std::uint64_t b = static_cast<std::uint64_t>(p.user) * static_cast<std::uint64_t>(n_items()) +
                              static_cast<std::uint64_t>(p.item);
      seen_[b / 64] |= std::uint64_t{1} << (b % 64);
    }
  }
  bool is_positive(const CsrMatrix& m, std::int32_t u, std::int32_t item) const {
    if (seen_.empty()) {
      const auto row = m.row(u);
      return std::binary_search(row.begin(), row.end(), item);
    }
    const std::uint64_t b = static_cast<std::uint64_t>(u) * static_cast<std::uint64_t>(n_items()) +
                            static_cast<std::uint64_t>(item);
    return (seen_[b / 64] >> (b % 64)) & 1u;
  }

  /// Replaces W and H by their int8 form (and frees them).
  void quantize() {
    quant_ = quantize_and_free(user_factors_, item_factors_);
    quantized_ = true;
  }

  void init(RowMatrixF& m, std::int32_t rows, std::uint64_t seed) const {
    Rng rng(seed);
    m.resize(rows, factors_);
    const double scale = 1.0 / static_cast<double>(factors_);
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = static_cast<float>((rng.uniform() - 0.5) * scale);
  }

  static constexpr int kMaxDraws = 1000;
  static constexpr std::uint64_t kMaxBitsetBytes = 64ull << 20;
  std::int64_t factors_;
  int epochs_;
  float lr_;
  float reg_;
  bool item_bias_on_;
  std::int64_t samples_per_epoch_;
  bool hogwild_;
  std::int64_t patience_;
  int eval_every_;
  bool popularity_negatives_;
  int max_draws_;                  // draws of j per triple: kMaxDraws, or 1 under "skip"
  bool quantize_;                  // the parameter
  bool quantized_ = false;         // scoring on quant_ (the float factors freed)
  QuantizedFactors quant_;
  RowMatrixF user_factors_;        // n_users x f (w_u)
  RowMatrixF item_factors_;        // n_items x f (h_i)
  std::vector<float> item_bias_;   // n_items, or empty
  std::vector<Pair> pairs_;          // training pairs in CSR order
  std::vector<std::uint64_t> seen_;  // users x items bitset of positives, or empty
  RowMatrixF gather_;              // scoring scratch
};

}  // namespace recfuse
