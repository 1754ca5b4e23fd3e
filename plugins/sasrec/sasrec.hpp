// SASRec: Self-Attentive Sequential Recommendation (Kang & McAuley, ICDM 2018), trained
// with a hand-written backward pass (model.hpp) and Adam on one flat parameter buffer.
//
//   [algorithms.sasrec]
//   plugin = "sasrec"
//   params = { maxlen = 50, hidden = 50, blocks = 2, heads = 1, dropout = 0.2, epochs = 200 }
//
// Training: each epoch visits every user with >= 2 training items once, in a random order,
// in batches of `batch` users (one Adam step per batch). Inside a batch the users are split
// into one contiguous range per OpenMP thread (balanced by positions); each thread runs
// forward + backward over micro-batches of its range into its own gradient buffer, and the
// buffers are summed in thread order, so results are deterministic given seed and threads.
// Score (§III-E): r(u, i) = F_last(u) · E_i, for a block of users one GEMM H Eᵀ, where H
// holds the last position's hidden state of each user's most recent `maxlen` items.
#pragma once

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "losses.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/validation.hpp"
#include "sasrec_params.hpp"

namespace recfuse::sasrec {

class SasrecRecommender final : public Recommender {
 public:
  explicit SasrecRecommender(const ParamSet& p) : opt_(parse_options(p)) {}

  void fit(const TrainData& data, const FitContext& ctx) override;
  void score_all(std::span<const UserId> users, std::span<float> out) override;
  std::string explain(UserId u, ItemId i) override;
  std::size_t model_bytes() const override { return params_.size() * sizeof(float); }
  void save(std::ostream& out) const override;
  void load(std::istream& in) override;

  /// One Adam step on the given users' examples of `epoch`; returns the batch loss.
  double train_batch(std::span<const std::int32_t> users, std::uint64_t epoch);
  const std::vector<float>& parameters() const { return params_; }

 private:
  static constexpr Idx kMicroTokens = 1024;  // positions per forward/backward pass
  static constexpr Idx kCeRows = 256;        // rows of the full-softmax logits tile

  double run_range(int t, std::span<const std::int32_t> users, std::uint64_t epoch, float norm);
  void build_inference_sequences(const TrainData& data, bool with_validation);
  void ensure_threads(int n);

  Options opt_;
  std::unique_ptr<ParamLayout> layout_;
  std::vector<float> params_, grads_, m_, v_, best_;
  std::vector<std::vector<float>> thread_grads_;
  std::vector<Activations<float>> acts_;
  std::vector<Batch> batches_;
  std::vector<std::vector<float>> loss_work_;
  Sequences train_seq_, seen_, infer_seq_;
  Sequences appended_;  // validation items appended to each user's inference input
  std::vector<std::string> titles_;  // item_labels (title, else dataset id), for explain
  std::uint64_t seed_ = 0;
  long step_ = 0;
  Mat<float> hidden_;  // (users of a block, d) last hidden states
};

inline void SasrecRecommender::ensure_threads(int n) {
  const std::size_t t = static_cast<std::size_t>(std::max(n, 1));
  if (acts_.size() < t) acts_.resize(t);
  if (batches_.size() < t) batches_.resize(t);
  if (loss_work_.size() < t) loss_work_.resize(t);
}

inline void SasrecRecommender::fit(const TrainData& data, const FitContext& ctx) {
  if (data.sequences.rows != data.n_users)
    throw Error("sasrec: TrainData::sequences has " + std::to_string(data.sequences.rows) +
                " rows but there are " + std::to_string(data.n_users) + " users");
  set_shape(data.n_users, data.n_items);
  seed_ = ctx.seed;
  opt_.cfg.n_items = data.n_items;
  layout_ = std::make_unique<ParamLayout>(opt_.cfg);
  init_params(params_, *layout_, opt_.cfg, seed_);
  grads_.assign(params_.size(), 0.0f);
  m_.assign(params_.size(), 0.0f);
  v_.assign(params_.size(), 0.0f);
  thread_grads_.clear();
  ensure_threads(omp_get_max_threads());
  train_seq_.ptr = data.sequences.indptr;
  train_seq_.items = data.sequences.indices;
  seen_.ptr = data.by_user.indptr;
  seen_.items = data.by_user.indices;
  titles_ = item_labels(data);
  step_ = 0;

  std::vector<std::int32_t> trainable, order;
  for (std::int32_t u = 0; u < data.n_users; ++u)
    if (training_length(static_cast<Idx>(train_seq_.row(u).size()), opt_.cfg.maxlen) > 0)
      trainable.push_back(u);
  const bool early = opt_.patience > 0 && data.validation.nnz() > 0;
  if (early) build_inference_sequences(data, false);  // never feed the validation target
  double best = -1;
  Idx since_best = 0, best_epoch = 0;
  for (Idx epoch = 1; epoch <= opt_.epochs && !ctx.cancelled(); ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    epoch_order(order, trainable, seed_, static_cast<std::uint64_t>(epoch));
    double loss = 0;
    Idx batches = 0;
    for (std::size_t b = 0; b < order.size(); b += static_cast<std::size_t>(opt_.batch), ++batches) {
      const std::size_t nb = std::min<std::size_t>(static_cast<std::size_t>(opt_.batch), order.size() - b);
      loss += train_batch(std::span<const std::int32_t>(order).subspan(b, nb),
                          static_cast<std::uint64_t>(epoch));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char line[160];
    std::snprintf(line, sizeof line, "sasrec epoch %ld/%ld loss %.4f (%.2f s)",
                  static_cast<long>(epoch), static_cast<long>(opt_.epochs),
                  batches ? loss / static_cast<double>(batches) : 0.0, secs);
    ctx.log(line);
    if (!early || epoch % opt_.eval_every != 0) continue;
    const ValidationScore vs = validation_score(*this, data, 10);
    ctx.log("sasrec epoch " + std::to_string(epoch) + " validation NDCG@10 " + std::to_string(vs.ndcg));
    if (vs.ndcg > best) {
      best = vs.ndcg;
      best_ = params_;
      best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= opt_.patience) {
      ctx.log("sasrec: early stop, best validation NDCG@10 " + std::to_string(best) + " at epoch " +
              std::to_string(best_epoch));
      break;
    }
  }
  if (early && !best_.empty()) params_ = best_;
  best_.clear();
  build_inference_sequences(data, opt_.append_validation);
}

inline double SasrecRecommender::train_batch(std::span<const std::int32_t> users,
                                             std::uint64_t epoch) {
  // Per-thread scratch for the team this call will get: the thread count may have grown
  // since fit (a test, or a host, calling omp_set_num_threads in between).
  ensure_threads(omp_get_max_threads());
  // Gradient buffers only here: a model that only scores (loaded, or fitted and then
  // scored) needs none.
  if (thread_grads_.size() < acts_.size())
    thread_grads_.resize(acts_.size(), std::vector<float>(static_cast<std::size_t>(layout_->total)));
  Idx total = 0;
  for (std::int32_t u : users)
    total += training_length(static_cast<Idx>(train_seq_.row(u).size()), opt_.cfg.maxlen);
  if (total == 0) return 0;
  const float norm = 1.0f / static_cast<float>(total);
  double losses[256] = {};
  int n_threads = 1;
#pragma omp parallel
  {
#pragma omp single
    n_threads = std::min(omp_get_num_threads(), 256);
#pragma omp barrier
    const int t = omp_get_thread_num();
    if (t < n_threads) {
      // Contiguous ranges of users with about total / n_threads positions each.
      std::size_t lo = 0, hi = 0;
      Idx acc = 0;
      for (std::size_t i = 0; i < users.size(); ++i) {
        const Idx before = acc;
        acc += training_length(static_cast<Idx>(train_seq_.row(users[i]).size()), opt_.cfg.maxlen);
        if (before * n_threads < total * t) lo = i + 1;
        if (before * n_threads < total * (t + 1)) hi = i + 1;
      }
      losses[t] = run_range(t, users.subspan(lo, hi - lo), epoch, norm);
    }
  }
  double loss = 0;
  for (int t = 0; t < n_threads; ++t) loss += losses[t];
  const std::size_t n = grads_.size();
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    float g = 0;
    for (int t = 0; t < n_threads; ++t) g += thread_grads_[static_cast<std::size_t>(t)][i];
    grads_[i] = g;
  }
  if (opt_.adam.clip > 0) clip_grad_norm(grads_, opt_.adam.clip);
  adamw_update(params_, grads_, m_, v_, opt_.adam, ++step_);
  return loss;
}

inline double SasrecRecommender::run_range(int t, std::span<const std::int32_t> users,
                                           std::uint64_t epoch, float norm) {
  const std::size_t ti = static_cast<std::size_t>(t);
  std::vector<float>& g = thread_grads_[ti];
  std::fill(g.begin(), g.end(), 0.0f);
  Activations<float>& a = acts_[ti];
  Batch& b = batches_[ti];
  const Config& c = opt_.cfg;
  const float* E = params_.data() + layout_->item_emb;
  float* dE = g.data() + layout_->item_emb;
  double loss = 0;
  std::size_t i = 0;
  while (i < users.size()) {
    b.clear();
    while (i < users.size() && (b.tokens() == 0 || b.tokens() + c.maxlen <= kMicroTokens)) {
      const std::int32_t u = users[i++];
      add_training_example(b, train_seq_.row(u), seen_.row(u), static_cast<std::int32_t>(c.n_items),
                           c.maxlen, opt_.loss, opt_.negatives, seed_,
                           epoch * static_cast<std::uint64_t>(n_users()) + static_cast<std::uint64_t>(u));
    }
    if (b.tokens() == 0) continue;
    model_forward(a, params_.data(), *layout_, c, b, true);
    std::fill(a.dF.begin(), a.dF.end(), 0.0f);
    const Idx N = b.tokens();
    if (opt_.loss == Loss::kBce) {
      loss += bce_loss(a.dF.data(), dE, a.F.data(), b.targets.data(), b.negatives.data(), E, N, c.d, norm);
    } else if (opt_.loss == Loss::kCe) {
      loss_work_[ti].resize(static_cast<std::size_t>(std::min(N, kCeRows) * c.n_items));
      loss += ce_loss(a.dF.data(), dE, loss_work_[ti].data(), a.F.data(), b.targets.data(), E, N,
                      c.d, c.n_items, kCeRows, norm);
    } else {
      loss_work_[ti].resize(static_cast<std::size_t>(opt_.negatives + 1));
      loss += sampled_softmax_loss(a.dF.data(), dE, loss_work_[ti].data(), a.F.data(),
                                   b.targets.data(), b.negatives.data(), b.seq_start.data(),
                                   b.sequences(), E, c.d, opt_.negatives, norm);
    }
    model_backward(g.data(), a, params_.data(), *layout_, c, b);
  }
  return loss;
}

}  // namespace recfuse::sasrec

#include "sasrec_inference.hpp"
