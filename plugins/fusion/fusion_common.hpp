// Pieces every fusion strategy shares: the list parameters (weights given as
// a string, "0.5,0.3,0.2"), the copy of the training rows that defines each
// user's candidate items (every item not in the user's training row, the
// evaluator's full-ranking protocol), per-user score normalisation over
// those candidates, and scoring all children into one reused buffer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fusion_io.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/topk.hpp"

namespace recfuse {

/// Per-user normalisation of one child's score row over the candidates.
enum class Normalization { kNone, kMinMax, kZScore, kRank };

inline Normalization parse_normalization(const std::string& s) {
  if (s == "minmax") return Normalization::kMinMax;
  if (s == "zscore") return Normalization::kZScore;
  if (s == "rank") return Normalization::kRank;
  return Normalization::kNone;
}

/// Parses "0.5, 0.3,0.2" into doubles; "" gives an empty list. Errors name
/// the algorithm and the parameter: a token that is not a finite number, a
/// negative weight, or a list of zeros only.
inline std::vector<double> parse_weight_list(const std::string& text, const std::string& algo,
                                             const std::string& param) {
  std::vector<double> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string tok = text.substr(pos, end - pos);
    tok.erase(0, tok.find_first_not_of(" \t"));
    tok.erase(tok.find_last_not_of(" \t") + 1);
    char* stop = nullptr;
    const double v = std::strtod(tok.c_str(), &stop);
    if (tok.empty() || stop != tok.c_str() + tok.size() || !std::isfinite(v))
      throw Error("[" + algo + "] parameter '" + param + "': '" + tok +
                  "' is not a number; expected a comma-separated list such as \"0.5,0.3,0.2\"");
    if (v < 0) throw Error("[" + algo + "] parameter '" + param + "': weights must be >= 0, got " + tok);
    out.push_back(v);
    pos = end + 1;
  }
  if (!out.empty() && std::all_of(out.begin(), out.end(), [](double w) { return w == 0; }))
    throw Error("[" + algo + "] parameter '" + param + "': the weights are all 0, so every item would score 0; "
                "give at least one child a positive weight");
  return out;
}

/// Weights for `n_children`: the parsed list (which must have one entry per
/// child) or 1 for each child when the list is empty.
inline std::vector<double> weights_for(const std::vector<double>& parsed, std::size_t n_children,
                                       const std::string& algo) {
  if (parsed.empty()) return std::vector<double>(n_children, 1.0);
  if (parsed.size() != n_children)
    throw Error("[" + algo + "] parameter 'weights' has " + std::to_string(parsed.size()) +
                " entries but the algorithm has " + std::to_string(n_children) + " children");
  return parsed;
}

/// The training rows copied at fit (TrainData does not outlive fit): the
/// per-user exclusion set of every strategy.
struct TrainingRows {
  std::vector<std::int64_t> indptr{0};
  std::vector<ItemId> indices;
  void assign(const CsrMatrix& m) { indptr = m.indptr; indices = m.indices; }
  SparseRowsView view() const { return {indptr, indices}; }
  std::int64_t count(UserId u) const { return indptr[u + 1] - indptr[u]; }
  void save(ModelWriter& w) const { w.values(indptr); w.values(indices); }
  void load(ModelReader& r, std::int32_t n_users, std::int32_t n_items) {
    std::tie(indptr, indices) = read_sorted_rows(r, n_users, n_items);
  }
};

/// Normalises `row[0..n)` in place over the candidates (items not in the
/// sorted `exclude`); excluded items get the same map, so they never matter
/// once `recommend` drops them, and an item excluded offline (a training
/// item) that a simulated session offers is not pushed down when the
/// strategy acts. Constant rows map to 0 (rank: to 0.5, the candidates
/// sharing the middle rank, when there are two or more; 1 for a lone
/// candidate). `order` is scratch
/// of size >= n (reused, no allocation in steady state).
///   minmax: (s - min) / (max - min)
///   zscore: (s - mean) / sd (population sd)
///   rank:   1 - (r - 1) / max(n_c - 1, 1), r = 1-based rank among the n_c
///           candidates, tied scores sharing their average rank (so ties stay
///           tied); an excluded item whose score equals a candidate's takes
///           that tie group's r, one between two candidates (or beyond all)
///           the rank halfway between (a + 0.5, a = the candidates above it)
inline void normalize_row(float* row, ItemId n, std::span<const ItemId> exclude, Normalization mode,
                          std::vector<ItemId>& order) {
  if (mode == Normalization::kNone) return;
  auto excluded = [&](ItemId i, std::size_t& e) {
    while (e < exclude.size() && exclude[e] < i) ++e;
    return e < exclude.size() && exclude[e] == i;
  };
  if (mode == Normalization::kRank) {
    thread_local std::vector<float> excluded_values;  // scratch, reused per thread
    order.clear();
    std::size_t e = 0;
    for (ItemId i = 0; i < n; ++i)
      if (!excluded(i, e)) order.push_back(i);
    excluded_values.clear();
    std::sort(order.begin(), order.end(), [&](ItemId a, ItemId b) {
      const float sa = topk_detail::key(row[a]), sb = topk_detail::key(row[b]);
      return sa > sb || (sa == sb && a < b);
    });
    const double span = std::max(1.0, static_cast<double>(order.size()) - 1);
    const auto value = [&](double avg_rank) { return static_cast<float>(1.0 - (avg_rank - 1) / span); };
    // Excluded items first, while the candidates still hold their scores:
    // a = candidates strictly above, t = candidates tied.
    if (!order.empty()) {
      for (ItemId i : exclude) {
        if (i < 0 || i >= n) continue;
        const float s = topk_detail::key(row[i]);
        const auto above = std::partition_point(order.begin(), order.end(),
                                                [&](ItemId c) { return topk_detail::key(row[c]) > s; });
        const auto tied = std::partition_point(above, order.end(),
                                               [&](ItemId c) { return topk_detail::key(row[c]) == s; });
        const auto a = static_cast<double>(above - order.begin()), t = static_cast<double>(tied - above);
        excluded_values.push_back(value(t > 0 ? a + 0.5 * (t + 1) : a + 0.5));
      }
    }
    for (std::size_t j = 0; j < order.size();) {
      std::size_t t = j;
      const float s = topk_detail::key(row[order[j]]);
      while (t < order.size() && topk_detail::key(row[order[t]]) == s) ++t;
      const float v = value(0.5 * static_cast<double>(j + 1 + t));  // mean of ranks j+1..t
      for (std::size_t q = j; q < t; ++q) row[order[q]] = v;
      j = t;
    }
    std::size_t x = 0;
    for (ItemId i : exclude)
      if (i >= 0 && i < n) row[i] = order.empty() ? 0.0f : excluded_values[x++];
    return;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0, sq = 0;
  std::size_t count = 0, e = 0;
  for (ItemId i = 0; i < n; ++i) {
    if (excluded(i, e) || !std::isfinite(row[i])) continue;
    const double s = row[i];
    lo = std::min(lo, s); hi = std::max(hi, s); sum += s; sq += s * s; ++count;
  }
  double shift = 0, scale = 0;
  if (count > 0 && mode == Normalization::kMinMax && hi > lo) { shift = lo; scale = 1.0 / (hi - lo); }
  if (count > 0 && mode == Normalization::kZScore) {
    const double mean = sum / static_cast<double>(count);
    const double var = std::max(0.0, sq / static_cast<double>(count) - mean * mean);
    if (var > 0) { shift = mean; scale = 1.0 / std::sqrt(var); }
  }
  // A non-finite score (a child's "never", e.g. −inf for a masked item, or
  // NaN) takes the lowest value a finite score gets, +inf the highest: not
  // the mean, which would rank "never" above half the candidates.
  const float floor = count > 0 ? static_cast<float>((lo - shift) * scale) : 0.0f;
  const float ceiling = count > 0 ? static_cast<float>((hi - shift) * scale) : 0.0f;
  for (ItemId i = 0; i < n; ++i)
    row[i] = std::isfinite(row[i]) ? static_cast<float>((row[i] - shift) * scale)
             : row[i] > 0          ? ceiling
                                   : floor;
}

/// Scores every child for `users` into `buf` (children.size() blocks of
/// users.size() x n_items, child-major). `buf` is reused across calls.
inline void score_children(std::span<const Child> children, std::span<const UserId> users,
                           std::size_t n_items, std::vector<float>& buf) {
  const std::size_t stride = users.size() * n_items;
  buf.resize(children.size() * stride);
  for (std::size_t c = 0; c < children.size(); ++c)
    children[c].model->score_all(users, std::span<float>(buf.data() + c * stride, stride));
}

/// Throws when a child scores a validation item (one not in the user's
/// training row) as non-finite: a strategy fitted on the validation items
/// (stacking, learned switching; not cascade, whose validation only feeds a
/// diagnostic)
/// would learn from a child's "never" (a sasrec child appends the validation
/// items to its history and masks them unless append_validation = false).
/// Checks the first 256 users with validation items.
inline void require_validation_scored(const std::vector<Child>& children, const CsrMatrix& val,
                                      const CsrMatrix& train, std::size_t n_items, const std::string& algo) {
  std::vector<UserId> users;
  for (UserId u = 0; u < val.rows && users.size() < 256; ++u)
    if (val.row_size(u) > 0) users.push_back(u);
  if (users.empty()) return;
  std::vector<float> buf(users.size() * n_items);
  for (const Child& c : children) {
    c.model->score_all(users, buf);
    for (std::size_t r = 0; r < users.size(); ++r) {
      const auto tr = train.row(users[r]);
      for (ItemId i : val.row(users[r])) {
        const float s = buf[r * n_items + static_cast<std::size_t>(i)];
        if (std::isfinite(s) || std::binary_search(tr.begin(), tr.end(), i)) continue;
        throw Error("[" + algo + "] child '" + c.name + "' scores user " + std::to_string(users[r]) +
                    "'s validation item " + std::to_string(i) + " as " + std::to_string(s) +
                    ", but the strategy fits on those items; a sasrec child needs append_validation = false here");
      }
    }
  }
}

/// The diagnostics() key by which a model says it trained on the split's
/// validation ratings (1; a rating_blend with refit = true refits its
/// children on train + validation): a strategy that fits on those ratings
/// would read in-sample predictions there and overrate that child.
inline constexpr const char* kTrainedOnValidation = "trained_on_validation";

/// model_bytes of the children (a fused model ships them all).
inline std::size_t children_bytes(const std::vector<Child>& children) {
  std::size_t b = 0;
  for (const auto& c : children) b += c.model->model_bytes();
  return b;
}

/// Standardises log(1 + x) over `counts` (sd 0 -> all zeros): the history-length
/// and popularity meta-features of stacking and rating_blend.
inline std::vector<float> standardized_log(const std::vector<double>& counts) {
  double mean = 0, sq = 0;
  for (double c : counts) { mean += std::log1p(c); sq += std::log1p(c) * std::log1p(c); }
  const double n = std::max<double>(1, static_cast<double>(counts.size()));
  mean /= n;
  const double sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
  std::vector<float> out(counts.size());
  for (std::size_t j = 0; j < counts.size(); ++j)
    out[j] = sd > 0 ? static_cast<float>((std::log1p(counts[j]) - mean) / sd) : 0.0f;
  return out;
}

/// The base of every strategy: holds the children and passes the feedback of
/// simulated users on to those that learn online (kCapObserve), so a fusion
/// deployed as a policy over a bandit or RL child keeps that child learning
/// from the slates the fusion showed. Children that do not observe are left
/// alone; a strategy with no such child ignores the feedback.
///
/// kCapSaveLoad: save and load lay the file out as fusion_io.hpp says, the
/// strategy's own state through save_state and load_state; load runs after
/// set_children handed over the unfitted children.
class FusionStrategy : public Recommender {
 public:
  /// `algo`: the strategy's name, in its model file's errors.
  explicit FusionStrategy(std::string algo) : algo_(std::move(algo)) {}

  void set_children(std::vector<Child> children) override {
    children_ = std::move(children);
    forget_explained();
  }

  /// Whether this strategy, or a model anywhere below it, trained on the
  /// split's validation ratings (kTrainedOnValidation): by default, whether
  /// a child did; rating_blend adds its own refit.
  virtual bool trained_on_validation() const;

  void save(std::ostream& out) const final {
    ModelWriter w(out);
    w.value<std::int32_t>(n_users());
    w.value<std::int32_t>(n_items());
    w.value<std::uint64_t>(children_.size());
    save_state(w);
    save_children(w, children_, algo_);
  }

  void load(std::istream& in) final {
    forget_explained();
    ModelReader r(in, algo_);
    const auto users = r.value<std::int32_t>("the number of users");
    const auto items = r.value<std::int32_t>("the number of items");
    if (users < 0 || items < 0) r.fail("the shape", std::to_string(users) + " x " + std::to_string(items) + " is negative");
    r.expect("the number of children", static_cast<std::int64_t>(r.value<std::uint64_t>("the number of children")),
             static_cast<std::int64_t>(children_.size()));
    load_state(r, users, items);
    load_children(r, children_, users, items);
    set_shape(users, items);
    r.finish();
  }

  void observe(const Feedback& feedback) override {
    forget_explained();
    for (const auto& c : children_)
      if (c.capabilities & kCapObserve) c.model->observe(feedback);
  }

  /// Acting as a policy: each row's candidates ranked by score_candidates
  /// (ties by item id).
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override {
    const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
    act_scores_.resize(users.size() * c);
    score_candidates(users, candidates, n_candidates, act_scores_);
    act_top_.resize(k);
    for (std::size_t r = 0; r < users.size(); ++r)
      topk_candidates(act_scores_.data() + r * c, candidates.subspan(r * c, c), slate_size, slates.data() + r * k,
                      act_top_.data());
  }

 protected:
  /// out[r * n_candidates + j]: the strategy's score, when acting, of
  /// candidate j of row r. The default reads score_all for the step's rows
  /// in one call: the default act scores (user, candidate) pairs, which
  /// reaches score_all one user at a time, and a child that keeps
  /// per-session state (plugins/rl: the k-th row of a user in a call is that
  /// user's k-th open session) needs the step's rows together to score each
  /// session in its own state. Strategies whose scores come from each
  /// child's top `depth` list (rank fusion, CombMNZ) override it to rank the
  /// step's candidates: the catalogue's top depth would leave most of a
  /// step's candidates out of every list, to be ordered by item id.
  virtual void score_candidates(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                                std::span<float> out) {
    const auto n = static_cast<std::size_t>(n_items()), c = static_cast<std::size_t>(n_candidates);
    act_rows_.resize(users.size() * n);
    score_all(users, act_rows_);
    for (std::size_t r = 0; r < users.size(); ++r)
      for (std::size_t j = 0; j < c; ++j) out[r * c + j] = act_rows_[r * n + static_cast<std::size_t>(candidates[r * c + j])];
  }

  /// The strategy's fitted state (what scoring, acting and diagnostics read
  /// besides the children), written after the shape and the number of
  /// children; load_state reads it back with children_ already set (their
  /// number checked) and may rely on that number. The shape is set after.
  virtual void save_state(ModelWriter& w) const = 0;
  virtual void load_state(ModelReader& r, std::int32_t n_users, std::int32_t n_items) = 0;

  /// Drops what explain keeps of the last user it was asked about
  /// (fusion_explain.hpp's ExplainCache); called on set_children, load and
  /// observe, and by the fit of every strategy that keeps one.
  virtual void forget_explained() {}

  std::vector<Child> children_;

 private:
  std::string algo_;
  std::vector<float> act_rows_, act_scores_, act_top_;  // act's reused buffers
};

/// A child trained on the validation ratings: a strategy of this library
/// answers for its whole subtree; any other model by its diagnostics().
inline bool child_trained_on_validation(const Child& c) {
  if (const auto* s = dynamic_cast<const FusionStrategy*>(c.model.get())) return s->trained_on_validation();
  for (const auto& [key, value] : c.model->diagnostics())
    if (key == kTrainedOnValidation && value != 0) return true;
  return false;
}

inline bool FusionStrategy::trained_on_validation() const {
  for (const Child& c : children_)
    if (child_trained_on_validation(c)) return true;
  return false;
}

/// Throws, naming the child and `algo`, when a child, or a model below it,
/// trained on the validation ratings (for strategies that fit on them).
inline void refuse_children_trained_on_validation(const std::vector<Child>& children, const std::string& algo) {
  for (const Child& c : children)
    if (child_trained_on_validation(c))
      throw Error("[" + algo + "] child '" + c.name + "' (" + c.plugin +
                  ") was trained on the validation ratings (it, or a rating_blend below it, has refit = true), so "
                  "its predictions there are in-sample and the " + algo + " fit on them would overrate it; set "
                  "refit = false on that rating_blend (a rating_blend parent with refit = true refits it, and its "
                  "children, on train + validation)");
}

inline constexpr std::size_t kAnyNumber = static_cast<std::size_t>(-1);

/// Checks the number of children a strategy got before its fit.
inline void require_children(const std::vector<Child>& children, std::size_t min, std::size_t max,
                             const std::string& algo) {
  if (children.size() < min || children.size() > max)
    throw Error("[" + algo + "] needs " +
                (min == max   ? std::to_string(min)
                 : max == kAnyNumber ? "at least " + std::to_string(min)
                                     : std::to_string(min) + ".." + std::to_string(max)) +
                " children ([[algorithms.children]] tables), got " + std::to_string(children.size()));
}

}  // namespace recfuse
