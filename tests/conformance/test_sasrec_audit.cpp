// Audit of the `sasrec` plugin against Kang & McAuley (ICDM 2018) and the reference
// implementations (kang205/SASRec, pmixer/SASRec.pytorch): what the layer-level gradient
// checks (tests/unit/sasrec_gradcheck_test.cpp) do not reach — the wiring of one
// training step (thread ranges, micro-batches, the shared output embedding, the batch
// mean) against a double-precision forward/backward of the whole batch, the truncation
// of training and inference inputs to the latest `maxlen` items, validation items merged
// into the inference input by time, early stopping's restore of the best parameters, and
// a thread count raised after fit.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "plugins/sasrec/sasrec.hpp"

using namespace recfuse;
using namespace recfuse::sasrec;

namespace {

ParamSet audit_params(const std::map<std::string, ParamValue>& over) {
  ParamSet p;
  for (const ParamSpec& s : sasrec_params()) p.set(s.name, s.default_value);
  for (const auto& [k, v] : over) p.set(k, v);
  return p;
}

/// n_users users; user u's training sequence walks `len(u)` distinct items of a cycle
/// of n_items starting at 3u (lengths vary so padding, truncation and packing all occur).
TrainData cycle_data(std::int32_t n_users, std::int32_t n_items, std::int32_t max_len) {
  TrainData d;
  d.n_users = n_users;
  d.n_items = n_items;
  for (CsrMatrix* m : {&d.sequences, &d.by_user}) {
    m->rows = n_users;
    m->cols = n_items;
  }
  for (std::int32_t u = 0; u < n_users; ++u) {
    const std::int32_t len = 2 + (u * 7) % (max_len - 1);
    std::vector<std::int32_t> seq;
    for (std::int32_t j = 0; j < len; ++j) seq.push_back((3 * u + j) % n_items);
    d.sequences.indices.insert(d.sequences.indices.end(), seq.begin(), seq.end());
    d.sequences.indptr.push_back(static_cast<std::int64_t>(d.sequences.indices.size()));
    std::sort(seq.begin(), seq.end());
    d.by_user.indices.insert(d.by_user.indices.end(), seq.begin(), seq.end());
    d.by_user.indptr.push_back(static_cast<std::int64_t>(d.by_user.indices.size()));
  }
  d.sequences.values.assign(d.sequences.indices.size(), 1.0f);
  d.by_user.values.assign(d.by_user.indices.size(), 1.0f);
  return d;
}

struct Lines final : ProgressSink {
  std::vector<std::string> lines;
  void report(std::string_view l) override { lines.emplace_back(l); }
};

}  // namespace

TEST_CASE("sasrec audit: a training step is the Adam step of the whole batch's exact gradient", "[sasrec][audit]") {
  // 120 users, sequences up to 58 items, maxlen 50: micro-batches of 1024 positions split
  // each thread's range, and some users are truncated to their latest 50 positions.
  const TrainData data = cycle_data(120, 200, 58);
  const int saved_threads = omp_get_max_threads();
  for (const char* loss : {"bce", "ce", "sampled_softmax"})
    for (int threads : {1, 2}) {
      INFO("loss " << loss << ", threads " << threads);
      omp_set_num_threads(threads);
      const ParamSet p = audit_params({{"epochs", std::int64_t{0}}, {"hidden", std::int64_t{8}},
                                       {"heads", std::int64_t{2}}, {"maxlen", std::int64_t{50}},
                                       {"dropout", 0.2}, {"lr", 0.001},
                                       {"negatives", std::int64_t{5}}, {"loss", std::string(loss)}});
      SasrecRecommender r(p);
      FitContext ctx;
      ctx.seed = 11;
      r.fit(data, ctx);
      const std::vector<float> before = r.parameters();
      std::vector<std::int32_t> users(static_cast<std::size_t>(data.n_users));
      std::iota(users.begin(), users.end(), 0);
      std::reverse(users.begin(), users.end());  // the gradient is a sum: order is irrelevant
      const std::uint64_t epoch = 3;
      const double got_loss = r.train_batch(users, epoch);
      const std::vector<float>& after = r.parameters();

      // The same batch, one double-precision pass, same example and dropout streams.
      Options o = parse_options(p);
      o.cfg.n_items = data.n_items;
      const ParamLayout L(o.cfg);
      std::vector<double> w(before.begin(), before.end()), g(w.size(), 0.0);
      Batch b;
      for (std::int32_t u = 0; u < data.n_users; ++u) {
        const auto row = [&](const CsrMatrix& m) {
          return std::span<const std::int32_t>(m.indices.data() + m.indptr[u],
                                               static_cast<std::size_t>(m.indptr[u + 1] - m.indptr[u]));
        };
        add_training_example(b, row(data.sequences), row(data.by_user), data.n_items, o.cfg.maxlen,
                             o.loss, o.negatives, ctx.seed,
                             epoch * static_cast<std::uint64_t>(data.n_users) + static_cast<std::uint64_t>(u));
      }
      Activations<double> a;
      model_forward(a, w.data(), L, o.cfg, b, true);
      std::fill(a.dF.begin(), a.dF.end(), 0.0);
      const Idx N = b.tokens();
      const double norm = 1.0 / static_cast<double>(N);
      double want_loss = 0;
      const double* E = w.data() + L.item_emb;
      double* dE = g.data() + L.item_emb;
      if (o.loss == Loss::kBce) {
        want_loss = bce_loss(a.dF.data(), dE, a.F.data(), b.targets.data(), b.negatives.data(), E, N, o.cfg.d, norm);
      } else if (o.loss == Loss::kCe) {
        std::vector<double> logits(static_cast<std::size_t>(N * data.n_items));
        want_loss = ce_loss(a.dF.data(), dE, logits.data(), a.F.data(), b.targets.data(), E, N, o.cfg.d,
                            Idx{data.n_items}, N, norm);
      } else {
        std::vector<double> work(static_cast<std::size_t>(o.negatives + 1));
        want_loss = sampled_softmax_loss(a.dF.data(), dE, work.data(), a.F.data(), b.targets.data(),
                                         b.negatives.data(), b.seq_start.data(), b.sequences(), E,
                                         o.cfg.d, o.negatives, norm);
      }
      model_backward(g.data(), a, w.data(), L, o.cfg, b);
      CHECK(got_loss == Approx(want_loss).epsilon(1e-4));

      // Adam's first step (t = 1) is w − lr · g / (|g| + eps): −lr · sign(g) where the
      // gradient is clearly non-zero, no move where it is zero. (The key bias b_k has an
      // analytically zero gradient, q_i·b_k shifts every logit of row i alike, so float
      // rounding leaves it ~1e-12, below eps: it moves by well under 1% of lr.)
      double gmax = 0;
      for (double x : g) gmax = std::max(gmax, std::abs(x));
      REQUIRE(gmax > 0);
      std::size_t checked = 0, wrong = 0, zero_moved = 0;
      for (std::size_t i = 0; i < g.size(); ++i) {
        const double step = (static_cast<double>(after[i]) - before[i]) / 0.001;
        if (g[i] == 0.0) {
          zero_moved += std::abs(step) > 1e-2;
        } else if (std::abs(g[i]) > 1e-3 * gmax) {
          ++checked;
          wrong += std::abs(step + (g[i] > 0 ? 1.0 : -1.0)) > 2e-2;
        }
      }
      INFO("checked " << checked << " of " << g.size());
      CHECK(checked > g.size() / 3);
      CHECK(wrong == 0);
      CHECK(zero_moved == 0);
    }
  omp_set_num_threads(saved_threads);
}

TEST_CASE("sasrec audit: training inputs are the latest maxlen items, right-aligned", "[sasrec][audit]") {
  std::vector<std::int32_t> seq(60);
  std::iota(seq.begin(), seq.end(), 100);
  std::vector<std::int32_t> seen = seq;
  Batch b;
  add_training_example(b, seq, seen, 400, 10, Loss::kBce, 0, 1, 0);
  REQUIRE(b.tokens() == 10);
  for (Idx j = 0; j < 10; ++j) {
    CHECK(b.ids[static_cast<std::size_t>(j)] == 149 + j);      // inputs s_50 .. s_59
    CHECK(b.targets[static_cast<std::size_t>(j)] == 150 + j);  // next items s_51 .. s_60
    CHECK(b.pos[static_cast<std::size_t>(j)] == j);
    const std::int32_t neg = b.negatives[static_cast<std::size_t>(j)];
    CHECK(!std::binary_search(seen.begin(), seen.end(), neg));
  }
  // A short sequence is left-padded: its last input sits at position maxlen − 1.
  Batch s;
  add_training_example(s, std::span<const std::int32_t>(seq).first(4), seen, 400, 10, Loss::kBce, 0, 1, 0);
  REQUIRE(s.tokens() == 3);
  CHECK(s.pos == std::vector<std::int32_t>{7, 8, 9});
  CHECK(s.padding(0) == 7);
  CHECK(s.targets == std::vector<std::int32_t>{101, 102, 103});
}

namespace {

/// What score_all should give: the dot products of the last position's output
/// of a direct forward pass (eval mode) over the latest maxlen items of `hist`
/// with every item embedding.
std::vector<float> forward_scores(const SasrecRecommender& r, const ParamSet& p, std::int32_t n_items,
                                  const std::vector<std::int32_t>& hist) {
  Options o = parse_options(p);
  o.cfg.n_items = n_items;
  const ParamLayout L(o.cfg);
  const Idx len = std::min<Idx>(static_cast<Idx>(hist.size()), o.cfg.maxlen);
  Batch b;
  b.add_sequence(hist.data() + hist.size() - static_cast<std::size_t>(len), len, o.cfg.maxlen, 0);
  Activations<float> a;
  model_forward(a, r.parameters().data(), L, o.cfg, b, false);
  const float* f = a.F.data() + (o.cfg.maxlen - 1) * o.cfg.d;
  const float* E = r.parameters().data() + L.item_emb;
  std::vector<float> want(static_cast<std::size_t>(n_items), 0.0f);
  for (std::int32_t i = 0; i < n_items; ++i)
    for (Idx c = 0; c < o.cfg.d; ++c) want[static_cast<std::size_t>(i)] += f[c] * E[i * o.cfg.d + c];
  return want;
}

}  // namespace

TEST_CASE("sasrec audit: inference reads the latest maxlen items of train (+ validation), without dropout", "[sasrec][audit]") {
  TrainData data = cycle_data(6, 90, 58);
  // User 5 (37 items) gets two validation items, given in item order but timed the other way.
  data.validation.rows = data.n_users;
  data.validation.cols = data.n_items;
  data.validation.indptr = {0, 0, 0, 0, 0, 0, 2};
  data.validation.indices = {80, 85};
  data.validation.values = {1.0f, 1.0f};
  data.validation.timestamps = {20, 10};
  for (bool append : {true, false}) {
    INFO("append_validation " << append);
    const ParamSet p = audit_params({{"epochs", std::int64_t{2}}, {"hidden", std::int64_t{8}},
                                     {"maxlen", std::int64_t{10}}, {"dropout", 0.5},
                                     {"append_validation", append}});
    SasrecRecommender r(p);
    FitContext ctx;
    ctx.seed = 4;
    r.fit(data, ctx);
    const std::int32_t u = 5;
    std::vector<std::int32_t> hist(data.sequences.indices.begin() + data.sequences.indptr[u],
                                   data.sequences.indices.begin() + data.sequences.indptr[u + 1]);
    if (append) {
      hist.push_back(85);  // time 10
      hist.push_back(80);  // time 20
    }
    const std::vector<float> want = forward_scores(r, p, data.n_items, hist);
    std::vector<float> out(static_cast<std::size_t>(data.n_items));
    r.score_all(std::vector<UserId>{u}, out);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (append && (i == 80 || i == 85)) {
        CHECK(std::isinf(out[i]));
        continue;
      }
      CHECK(out[i] == Approx(want[i]).margin(1e-4));
    }
    // Eval mode: a second call gives the same scores (no dropout draws).
    std::vector<float> again(out.size());
    r.score_all(std::vector<UserId>{u}, again);
    CHECK(again == out);
  }
}

TEST_CASE("sasrec audit: early stopping keeps the parameters of the best validation check", "[sasrec][audit]") {
  TrainData data = cycle_data(40, 30, 20);
  // Validation: each user's next item of the cycle (never in its training row here).
  data.validation.rows = data.n_users;
  data.validation.cols = data.n_items;
  data.validation.indptr.assign(1, 0);
  for (std::int32_t u = 0; u < data.n_users; ++u) {
    const std::int32_t len = static_cast<std::int32_t>(data.sequences.indptr[u + 1] - data.sequences.indptr[u]);
    if (len < data.n_items) data.validation.indices.push_back((3 * u + len) % data.n_items);
    data.validation.indptr.push_back(static_cast<std::int64_t>(data.validation.indices.size()));
  }
  data.validation.values.assign(data.validation.indices.size(), 1.0f);
  SasrecRecommender r(audit_params({{"epochs", std::int64_t{12}}, {"hidden", std::int64_t{8}},
                                    {"maxlen", std::int64_t{10}}, {"lr", 0.05}, {"batch", std::int64_t{8}},
                                    {"early_stopping_patience", std::int64_t{100}},
                                    {"eval_every", std::int64_t{1}}, {"append_validation", false}}));
  Lines log;
  FitContext ctx;
  ctx.seed = 2;
  ctx.progress = &log;
  r.fit(data, ctx);
  double best = -1;
  int checks = 0;
  for (const std::string& l : log.lines) {
    const auto at = l.find("validation NDCG@10 ");
    if (at == std::string::npos) continue;
    best = std::max(best, std::stod(l.substr(at + 19)));
    ++checks;
  }
  REQUIRE(checks == 12);
  CHECK(validation_score(r, data, 10).ndcg == Approx(best).margin(2e-6));
}

TEST_CASE("sasrec audit: train_batch after the thread count grows past fit's", "[sasrec][audit]") {
  const TrainData data = cycle_data(24, 40, 20);
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(1);
  SasrecRecommender r(audit_params({{"epochs", std::int64_t{0}}, {"hidden", std::int64_t{8}},
                                    {"maxlen", std::int64_t{10}}}));
  FitContext ctx;
  r.fit(data, ctx);
  omp_set_num_threads(4);  // e.g. the host widens the team between calls
  std::vector<std::int32_t> users(static_cast<std::size_t>(data.n_users));
  std::iota(users.begin(), users.end(), 0);
  const double loss = r.train_batch(users, 1);
  omp_set_num_threads(saved_threads);
  CHECK(std::isfinite(loss));
  CHECK(loss > 0);
}

TEST_CASE("sasrec audit: appended validation items take their place in time, not after every training item", "[sasrec][audit]") {
  // Under split.method = "random" with validation_ratio (or a nested validation part of
  // one) a validation item can predate training items: the inference input is the user's
  // history in time order, as the model was trained on time-ordered sequences.
  TrainData data = cycle_data(6, 90, 58);
  data.sequences.timestamps.clear();
  for (std::int32_t u = 0; u < data.n_users; ++u)
    for (std::int64_t k = data.sequences.indptr[u]; k < data.sequences.indptr[u + 1]; ++k)
      data.sequences.timestamps.push_back(10 * (k - data.sequences.indptr[u]));
  const std::int32_t u = 5;  // 37 training items at times 0, 10, ..., 360
  data.validation.rows = data.n_users;
  data.validation.cols = data.n_items;
  data.validation.indptr = {0, 0, 0, 0, 0, 0, 2};
  data.validation.indices = {80, 85};
  data.validation.values = {1.0f, 1.0f};
  data.validation.timestamps = {1000, 345};  // 85 between training items 34 (340) and 35 (350)
  const ParamSet p = audit_params({{"epochs", std::int64_t{1}}, {"hidden", std::int64_t{8}},
                                   {"maxlen", std::int64_t{10}}});
  SasrecRecommender r(p);
  FitContext ctx;
  r.fit(data, ctx);
  const std::int32_t* s = data.sequences.indices.data() + data.sequences.indptr[u];
  std::vector<std::int32_t> hist(s, s + 35);
  hist.push_back(85);
  hist.insert(hist.end(), s + 35, s + 37);
  hist.push_back(80);
  const std::vector<float> want = forward_scores(r, p, data.n_items, hist);
  std::vector<float> out(static_cast<std::size_t>(data.n_items));
  r.score_all(std::vector<UserId>{u}, out);
  int mismatched = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (i != 80 && i != 85) mismatched += std::abs(out[i] - want[i]) > 1e-4f;
  CHECK(mismatched == 0);
  CHECK(std::isinf(out[80]));
  CHECK(std::isinf(out[85]));
}
