// fed_mf: Federated Collaborative Filtering for implicit feedback
// (Ammad-ud-din et al., arXiv:1901.09888, 2019) with optional user-level
// differential privacy (clip each client's item gradient, add Gaussian noise
// to their sum) and its Rényi-DP accounting.
//
//   [[algorithms]]
//   name = "fed_mf_dp"
//   plugin = "fed_mf"
//   params = { factors = 64, rounds = 40, lr = 0.05, clip = 1.0, noise_multiplier = 5.0 }
//
// Fit: Y (items) starts at N(0, init_std²), X (users) at 0; each of `rounds`
// rounds runs fed_round.hpp (sampling, each client's closed-form iALS user
// step on its device, its item gradient, clipping, the server's noisy sum)
// and server_step.hpp (Adam or a plain step on Y). After the last round
// every client solves its x_u once more against the final Y, on its device
// (nothing is sent, so no privacy is spent): the model a client would rank
// its items with, s(u, i) = x_uᵀy_i, scored in blocks by one GEMM
// (score_factors) and the shared top-k.
//
// diagnostics(): dp_epsilon (null when noise_multiplier = 0: no finite
// guarantee), dp_delta, dp_noise_multiplier, dp_clip, dp_rounds (rounds
// run), dp_sampling_rate; ε is the full-participation RDP bound for every
// sampling rate (dp_accounting.hpp: no amplification by sampling is
// claimed). Also mean_clients_per_round and clipped_fraction (of all
// client contributions), to tune clip.
//
// Determinism: identical for any thread count, given the seed (sampling and
// noise are drawn sequentially from per-round streams; every parallel loop
// writes each output once, in a fixed order; see fed_round.hpp).
// model_bytes counts X and Y, as the evaluation holds both; in a deployment
// the server stores Y alone and each device its own row of X.
#pragma once

#include <chrono>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "dp_accounting.hpp"
#include "fed_round.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"
#include "server_step.hpp"

namespace recfuse {

class FedMfRecommender final : public Recommender {
 public:
  explicit FedMfRecommender(const ParamSet& p)
      : factors_(p.get_int("factors")),
        rounds_(p.get_int("rounds")),
        alpha_(p.get_float("alpha")),
        lr_(p.get_float("lr")),
        init_std_(p.get_float("init_std")),
        delta_(p.get_float("delta")),
        optimizer_(p.get_string("optimizer") == "sgd" ? ServerOptimizer::kSgd : ServerOptimizer::kAdam) {
    opts_.sampling = p.get_float("clients_per_round");
    opts_.reg = p.get_float("reg");
    opts_.clip = p.get_float("clip");
    opts_.noise_multiplier = p.get_float("noise_multiplier");
    opts_.solver = p.get_string("solver") == "cg" ? IalsSolver::kCg : IalsSolver::kCholesky;
    opts_.cg_steps = static_cast<int>(p.get_int("cg_steps"));
    if (!(opts_.sampling > 0.0))
      throw Error("[fed_mf] parameter 'clients_per_round' must be in (0, 1] (the fraction of clients sampled "
                  "each round), got " + std::to_string(opts_.sampling));
    if (!(delta_ > 0.0 && delta_ < 1.0))
      throw Error("[fed_mf] parameter 'delta' must be in (0, 1), got " + std::to_string(delta_));
    if (opts_.noise_multiplier > 0.0 && !(opts_.clip > 0.0))
      throw Error("[fed_mf] parameter 'noise_multiplier' needs clip > 0: the noise's std is "
                  "noise_multiplier x clip, and without clipping a client's contribution is unbounded");
  }

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::integer("factors", 64, 1, 4096, "latent dimension f"),
        ParamSpec::integer("rounds", 40, 1, 1000000, "federated rounds T (one server update each)"),
        ParamSpec::real("clients_per_round", 1.0, 0.0, 1.0,
                        "q in (0, 1]: each client takes part in a round with this probability"),
        ParamSpec::real("alpha", 1.0, 0.0, 1e9, "confidence c = 1 + α·r, as ials (r = 1 per training pair)"),
        ParamSpec::real("reg", 0.01, 0.0, 1e9, "L2 weight λ on every user and item factor (HKV eq. 3)"),
        ParamSpec::real("lr", 0.05, 1e-12, 1e9, "server learning rate on the item factors"),
        ParamSpec::choice("optimizer", "adam", {"adam", "sgd"},
                          "server update: Adam (as FCF) or a plain gradient step"),
        ParamSpec::real("init_std", 0.1, 0.0, 10.0, "standard deviation of the initial item factors"),
        ParamSpec::choice("solver", "cholesky", {"cholesky", "cg"},
                          "client's user step: exact (Cholesky) or warm-started conjugate gradient"),
        ParamSpec::integer("cg_steps", 3, 1, 1000, "CG steps per user step (solver = cg)"),
        ParamSpec::real("clip", 0.0, 0.0, 1e12,
                        "C: L2 (Frobenius) bound on each client's item-gradient contribution (0 = off)"),
        ParamSpec::real("noise_multiplier", 0.0, 0.0, 1e6,
                        "σ: N(0, σ²C²) added to every entry of the summed update (0 = off; needs clip)"),
        ParamSpec::real("delta", 1e-5, 0.0, 1.0, "δ in (0, 1) of the reported (ε, δ) guarantee"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    if (data.by_user.rows != data.n_users || data.by_item.rows != data.n_items)
      throw Error("fed_mf: training matrices do not match n_users x n_items");
    set_shape(data.n_users, data.n_items);
    ConfidenceOptions conf;
    conf.alpha = alpha_;
    const FedData fed{make_confidence_rows(data.by_user, conf), make_confidence_rows(data.by_item, conf)};
    FedOptions o = opts_;
    o.threads = std::max(1, ctx.threads);
    FedState s;
    s.x.setZero(data.n_users, factors_);
    init_items(s.y, data.n_items, derive_seed(ctx.seed, "fed_mf_items"));
    ServerStep step(optimizer_, lr_, o.reg, o.sampling);
    step.reset(s.y.rows(), s.y.cols());
    rounds_done_ = clients_total_ = clipped_total_ = 0;
    for (std::int64_t t = 0; t < rounds_ && !ctx.cancelled(); ++t) {
      const auto t0 = std::chrono::steady_clock::now();
      const RoundStats st = fed_round(fed, o, derive_seed(ctx.seed, "fed_mf_round", static_cast<std::uint64_t>(t)), s);
      step.apply(s.sum, s.y, o.threads);
      ++rounds_done_;
      clients_total_ += st.clients;
      clipped_total_ += st.clipped;
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char line[160];
      std::snprintf(line, sizeof line, "fed_mf: round %lld/%lld clients %lld clipped %lld %.4f s",
                    static_cast<long long>(t + 1), static_cast<long long>(rounds_),
                    static_cast<long long>(st.clients), static_cast<long long>(st.clipped), secs);
      ctx.log(line);
    }
    // Every device's final user step against the last released Y.
    ials_half_step(fed.by_user, s.y, o.reg, o.solver, o.cg_steps, s.x);
    user_factors_ = std::move(s.x);
    item_factors_ = std::move(s.y);
  }

  /// out: users.size() x n_items = X[users] Yᵀ, one GEMM per call.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    score_factors(user_factors_, item_factors_, {}, users, out, gather_);
  }

  std::size_t model_bytes() const override {
    return static_cast<std::size_t>(user_factors_.size() + item_factors_.size()) * sizeof(float);
  }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    const double eps = opts_.clip > 0.0 ? gaussian_rdp_epsilon(opts_.noise_multiplier, rounds_done_, delta_)
                                        : std::numeric_limits<double>::infinity();
    const double contributions = static_cast<double>(clients_total_);
    return {{"dp_epsilon", eps},
            {"dp_delta", delta_},
            {"dp_noise_multiplier", opts_.noise_multiplier},
            {"dp_clip", opts_.clip},
            {"dp_rounds", static_cast<double>(rounds_done_)},
            {"dp_sampling_rate", opts_.sampling},
            {"mean_clients_per_round", rounds_done_ > 0 ? contributions / static_cast<double>(rounds_done_) : 0.0},
            {"clipped_fraction", contributions > 0 ? static_cast<double>(clipped_total_) / contributions : 0.0}};
  }

  /// kCapSaveLoad: X, Y and the counts behind diagnostics().
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    w.matrix(user_factors_);
    w.matrix(item_factors_);
    w.value<std::int64_t>(rounds_done_);
    w.value<std::int64_t>(clients_total_);
    w.value<std::int64_t>(clipped_total_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "fed_mf");
    user_factors_ = r.rows_of_width<RowMatrixF>("user factors", factors_);
    item_factors_ = r.rows_of_width<RowMatrixF>("item factors", factors_);
    rounds_done_ = r.value<std::int64_t>("rounds run");
    clients_total_ = r.value<std::int64_t>("client contributions");
    clipped_total_ = r.value<std::int64_t>("clipped contributions");
    r.finish();
    set_shape(static_cast<std::int32_t>(user_factors_.rows()), static_cast<std::int32_t>(item_factors_.rows()));
  }

  const RowMatrixF& user_factors() const { return user_factors_; }
  const RowMatrixF& item_factors() const { return item_factors_; }

 private:
  void init_items(RowMatrixF& m, std::int32_t rows, std::uint64_t seed) const {
    Rng rng(seed);
    m.resize(rows, factors_);
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = static_cast<float>(rng.normal(0.0, init_std_));
  }

  std::int64_t factors_;
  std::int64_t rounds_;
  double alpha_;
  double lr_;
  double init_std_;
  double delta_;
  ServerOptimizer optimizer_;
  FedOptions opts_;
  std::int64_t rounds_done_ = 0;
  std::int64_t clients_total_ = 0;  // Σ over rounds of |S|
  std::int64_t clipped_total_ = 0;  // Σ over rounds of clipped clients
  RowMatrixF user_factors_;         // n_users x f (each row on its own device)
  RowMatrixF item_factors_;         // n_items x f (the server's)
  RowMatrixF gather_;               // scoring scratch
};

}  // namespace recfuse
