// Inference of SasrecRecommender (included at the end of sasrec.hpp).
//
// The input of user u is its most recent `maxlen` items of history: its training items,
// and, when `append_validation` is set, its validation items merged in by timestamp
// (after training items of the same time): the reference feeds train + valid when it
// predicts the test item (pmixer utils.py evaluate), so with leave-last-one-out the model
// sees everything before the test item, the validation item last. Under a random split
// a validation item can predate training items; it then takes its place in time, as the
// model was trained on time-ordered sequences. Without timestamps on both sides they are
// appended. Fit-time validation checks never add them (that would feed the target).
//
// Items appended this way are the user's history, like the training items that the
// evaluator excludes, so score_all gives them −∞, as the runner's evaluator also does on
// test (scenarios/SCHEMA.md). pmixer's evaluate excludes the training items only
// (`rated = set(train[u])`); the validation item is one item among ~1600 under full
// ranking. Left as candidates they score high (the last input is one of them, and BCE never samples
// a user's own items as negatives) and take top-10 slots that the target cannot win.
#pragma once

#include <limits>
#include <numeric>

namespace recfuse::sasrec {

inline void SasrecRecommender::build_inference_sequences(const TrainData& data,
                                                         bool with_validation) {
  infer_seq_.ptr.assign(1, 0);
  infer_seq_.items.clear();
  appended_.ptr.assign(1, 0);
  appended_.items.clear();
  const CsrMatrix& v = data.validation;
  const bool add = with_validation && v.nnz() > 0 && v.rows == data.n_users;
  const bool timed = !v.timestamps.empty() &&
                     data.sequences.timestamps.size() == data.sequences.indices.size();
  std::vector<std::int32_t> row;
  std::vector<std::size_t> order;
  for (std::int32_t u = 0; u < data.n_users; ++u) {
    const auto s = train_seq_.row(u);
    if (add && v.row_size(u) > 0) {
      const auto items = v.row(u);
      order.resize(items.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (!v.timestamps.empty()) {
        const auto ts = v.row_timestamps(u);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return ts[a] < ts[b]; });
      }
      // Merge into the time-ordered training row; ties keep training items first.
      row.clear();
      std::size_t j = 0;
      for (std::size_t k : order) {
        if (timed) {
          const auto st = data.sequences.row_timestamps(u);
          const std::int64_t t = v.row_timestamps(u)[k];
          while (j < s.size() && st[j] <= t) row.push_back(s[j++]);
        } else {
          while (j < s.size()) row.push_back(s[j++]);
        }
        row.push_back(items[k]);
      }
      row.insert(row.end(), s.begin() + static_cast<std::ptrdiff_t>(j), s.end());
      appended_.items.insert(appended_.items.end(), items.begin(), items.end());
    } else {
      row.assign(s.begin(), s.end());
    }
    appended_.ptr.push_back(static_cast<std::int64_t>(appended_.items.size()));
    const std::size_t keep = std::min(row.size(), static_cast<std::size_t>(opt_.cfg.maxlen));
    infer_seq_.items.insert(infer_seq_.items.end(), row.end() - static_cast<std::ptrdiff_t>(keep), row.end());
    infer_seq_.ptr.push_back(static_cast<std::int64_t>(infer_seq_.items.size()));
  }
}

/// out (users.size(), n_items) row-major = H Eᵀ, −∞ for appended validation items; H
/// (users.size(), d) is computed by eval-mode forward passes over micro-batches. Each
/// thread takes a contiguous range of users: their hidden states, then their rows of the GEMM.
inline void SasrecRecommender::score_all(std::span<const UserId> users, std::span<float> out) {
  const Config& c = opt_.cfg;
  const Idx nb = static_cast<Idx>(users.size());
  if (hidden_.rows() < nb || hidden_.cols() != c.d) hidden_.resize(std::max<Idx>(nb, 1), c.d);
  ensure_threads(omp_get_max_threads());
#pragma omp parallel if (nb > 1)
  {
    const int n_threads = omp_get_num_threads(), t = omp_get_thread_num();
    const Idx lo = nb * t / n_threads, hi = nb * (t + 1) / n_threads;
    Activations<float>& a = acts_[static_cast<std::size_t>(t)];
    Batch& b = batches_[static_cast<std::size_t>(t)];
    Idx r = lo;
    while (r < hi) {
      b.clear();
      const Idx first = r;
      while (r < hi && (b.tokens() == 0 || b.tokens() + c.maxlen <= kMicroTokens)) {
        const auto s = infer_seq_.row(users[static_cast<std::size_t>(r)]);
        b.add_sequence(s.data(), static_cast<Idx>(s.size()), c.maxlen, 0);
        ++r;
      }
      if (b.tokens() > 0) model_forward(a, params_.data(), *layout_, c, b, false);
      for (Idx k = first; k < r; ++k) {
        const Idx s = k - first, len = b.length(s);
        if (len == 0) hidden_.row(k).setZero();  // no history: every item scores 0
        else hidden_.row(k) = Eigen::Map<const Eigen::RowVectorXf>(a.F.data() + (b.seq_start[s] + len - 1) * c.d, c.d);
      }
    }
    // This thread's rows of the block's one GEMM H Eᵀ.
    CMapM<float> E(params_.data() + layout_->item_emb, c.n_items, c.d);
    MapM<float>(out.data() + lo * c.n_items, hi - lo, c.n_items).noalias() =
        hidden_.middleRows(lo, hi - lo) * E.transpose();
    for (Idx k = lo; k < hi; ++k)
      for (std::int32_t i : appended_.row(users[static_cast<std::size_t>(k)]))
        out[static_cast<std::size_t>(k * c.n_items + i)] = -std::numeric_limits<float>::infinity();
  }
}

/// kCapSaveLoad: what scoring and explain read. The architecture (hidden, blocks, heads,
/// maxlen, activation, padding: a file loads only into an instance built with the same),
/// the parameter buffer, whose layout those and the catalogue size fix; each user's inference input
/// (the last `maxlen` items, validation items merged in when `append_validation`), the
/// appended items that score −∞, and the item titles. Training state (Adam moments, the
/// training sequences) is not saved: a loaded model scores, it does not resume training.
inline void SasrecRecommender::save(std::ostream& out) const {
  ModelWriter w(out);
  const Config& c = opt_.cfg;
  w.value<std::int64_t>(c.n_items);
  for (const std::int64_t v : {std::int64_t{c.d}, std::int64_t{c.blocks}, std::int64_t{c.heads},
                               std::int64_t{c.maxlen}, std::int64_t{c.gelu}, std::int64_t{c.attend_padding}})
    w.value<std::int64_t>(v);
  w.values(params_);
  w.values(infer_seq_.ptr);
  w.values(infer_seq_.items);
  w.values(appended_.ptr);
  w.values(appended_.items);
  w.titles(titles_);
}

inline void SasrecRecommender::load(std::istream& in) {
  ModelReader r(in, "sasrec");
  const auto n_items = r.value<std::int64_t>("the catalogue size");
  if (n_items < 1 || n_items > std::numeric_limits<std::int32_t>::max())
    r.fail("the catalogue size", std::to_string(n_items) + " is not a catalogue");
  Config c = opt_.cfg;
  c.n_items = static_cast<Idx>(n_items);
  // Each of these changes how the same buffer scores; heads, activation and padding do
  // not even change its size.
  r.expect("hidden", r.value<std::int64_t>("hidden"), c.d);
  r.expect("blocks", r.value<std::int64_t>("blocks"), c.blocks);
  r.expect("heads", r.value<std::int64_t>("heads"), c.heads);
  r.expect("maxlen", r.value<std::int64_t>("maxlen"), c.maxlen);
  r.expect("activation (1 = gelu)", r.value<std::int64_t>("activation"), c.gelu);
  r.expect("padding (1 = attend)", r.value<std::int64_t>("padding"), c.attend_padding);
  auto layout = std::make_unique<ParamLayout>(c);
  std::vector<float> params = r.values<float>("the parameters");
  Sequences infer, appended;
  infer.ptr = r.values<std::int64_t>("the input offsets");
  infer.items = r.values<std::int32_t>("the input items");
  appended.ptr = r.values<std::int64_t>("the appended offsets");
  appended.items = r.values<std::int32_t>("the appended items");
  std::vector<std::string> titles = r.titles(n_items);
  r.finish();
  // Another maxlen, width or depth lays the buffer out otherwise.
  r.expect("the parameter count (maxlen, hidden and blocks fix it)", static_cast<std::int64_t>(params.size()),
           static_cast<std::int64_t>(layout->total));
  r.expect_csr(infer.ptr, infer.items, n_items, "the input offsets", "the input items", "an input item",
               "is outside the catalogue");
  r.expect_csr(appended.ptr, appended.items, n_items, "the appended offsets", "the appended items",
               "an appended item", "is outside the catalogue");
  r.expect("the appended rows", appended.rows(), infer.rows());
  for (std::int32_t u = 0; u < infer.rows(); ++u)
    if (static_cast<Idx>(infer.row(u).size()) > c.maxlen)
      r.fail("the input items", "of user " + std::to_string(u) + " are longer than maxlen " + std::to_string(c.maxlen));
  opt_.cfg = c;
  layout_ = std::move(layout);
  params_ = std::move(params);
  infer_seq_ = std::move(infer);
  appended_ = std::move(appended);
  titles_ = std::move(titles);
  train_seq_ = Sequences{};
  seen_ = Sequences{};
  grads_.clear();
  m_.clear();
  v_.clear();
  thread_grads_.clear();
  set_shape(infer_seq_.rows(), static_cast<std::int32_t>(n_items));
}

/// "because of item X, item Y": the two inputs the last position attends to most in the
/// last block (weights averaged over heads).
inline std::string SasrecRecommender::explain(UserId u, ItemId) {
  if (!layout_ || u < 0 || u >= n_users()) return {};
  const auto s = infer_seq_.row(u);
  const Idx L = static_cast<Idx>(s.size());
  if (L == 0) return {};
  const Config& c = opt_.cfg;
  ensure_threads(1);
  Batch& b = batches_[0];
  b.clear();
  b.add_sequence(s.data(), L, c.maxlen, 0);
  Activations<float>& a = acts_[0];
  model_forward(a, params_.data(), *layout_, c, b, false);
  std::vector<float> w(static_cast<std::size_t>(L), 0.0f);
  const auto& probs = a.blocks.back().probs;
  for (Idx h = 0; h < c.heads; ++h)
    for (Idx j = 0; j < L; ++j) w[static_cast<std::size_t>(j)] += probs[static_cast<std::size_t>(h * L * L + (L - 1) * L + j)];
  std::vector<Idx> idx(static_cast<std::size_t>(L));
  std::iota(idx.begin(), idx.end(), Idx{0});
  const std::size_t top = std::min<std::size_t>(2, idx.size());
  // Ties go to the more recent position.
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(top), idx.end(), [&](Idx x, Idx y) {
    return w[static_cast<std::size_t>(x)] != w[static_cast<std::size_t>(y)] ? w[static_cast<std::size_t>(x)] > w[static_cast<std::size_t>(y)] : x > y;
  });
  std::string out = "because of ";
  for (std::size_t k = 0; k < top; ++k) {
    const std::int32_t item = s[static_cast<std::size_t>(idx[k])];
    if (k) out += ", ";
    const bool titled = static_cast<std::size_t>(item) < titles_.size() && !titles_[static_cast<std::size_t>(item)].empty();
    out += titled ? titles_[static_cast<std::size_t>(item)] : "item " + std::to_string(item);
  }
  return out;
}

}  // namespace recfuse::sasrec
