// The evaluation protocol: latency of single-user requests, one batched
// full-ranking pass for the top-k metrics, AUC from full score rows, the
// optional sampled protocol and rating error. Metric definitions live in
// metrics.cpp; this file only decides who is evaluated on what.
#include "eval/evaluator.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "eval/evaluator_detail.hpp"
#include "eval/metrics.hpp"
#include "util/text.hpp"

namespace recfuse {

namespace eval_detail {

MetricFilter::MetricFilter(const std::vector<std::string>& wanted) : wanted_(wanted) {
  // The parser refuses these at their line already; a spec built in code
  // gets the same message here.
  for (const auto& name : wanted_) {
    const auto& known = evaluation_metric_names();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string guess = closest_match(name, known);
    throw Error("[evaluation] unknown metric '" + name + "'" +
                (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
                " known: " + join(known));
  }
}

bool MetricFilter::wants_ranking() const {
  return wanted_.empty() ||
         std::any_of(wanted_.begin(), wanted_.end(), [](const std::string& m) { return m != "rmse" && m != "mae"; });
}

bool MetricFilter::has(std::string_view base) const {
  return wanted_.empty() || std::find(wanted_.begin(), wanted_.end(), base) != wanted_.end();
}

RelevantSets relevant_sets(const CsrMatrix& test, double threshold) {
  RelevantSets rel;
  rel.indptr.push_back(0);
  for (UserId u = 0; u < test.rows; ++u) {
    const auto items = test.row(u);
    const std::size_t before = rel.items.size();
    for (std::size_t j = 0; j < items.size(); ++j) {
      const double value = test.values.empty() ? 1.0 : test.row_values(u)[j];
      if (value >= threshold) rel.items.push_back(items[j]);  // CSR rows are sorted
    }
    if (rel.items.size() == before) continue;
    rel.users.push_back(u);
    rel.indptr.push_back(static_cast<std::int64_t>(rel.items.size()));
  }
  return rel;
}

double nearest_rank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest-rank percentile: the smallest value with at least q of the data
  // at or below it, i.e. sorted[ceil(q n) - 1]. Always an observed latency.
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n - 1e-9)));
  return sorted[std::min(rank, sorted.size()) - 1];
}

/// "@k" (built by append: GCC 12 warns falsely on "@" + std::to_string(k)).
std::string at_k(int k) {
  std::string s(1, '@');
  s += std::to_string(k);
  return s;
}

double* column(EvalOutput& out, const std::string& name, std::size_t n) {
  auto& v = out.per_user[name];
  v.assign(n, 0.0);
  return v.data();
}

void check_lists(std::span<const ItemId> lists, std::span<const UserId> users, int k,
                 ItemId n_items, SparseRowsView exclude) {
  // last_row[item] = 1 + the last row that listed it: a repeat within a row
  // is found in O(1), where a scan of the row so far is O(k^2) per user
  // (minutes at a cutoff near the catalogue size).
  std::vector<std::size_t> last_row(static_cast<std::size_t>(std::max<ItemId>(n_items, 0)), 0);
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto seen = exclude.row(users[i]);
    for (int j = 0; j < k; ++j) {
      const ItemId item = lists[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)];
      if (item == kNoItem) continue;
      if (item < 0 || item >= n_items)
        throw Error("recommend() returned item " + std::to_string(item) + " for user " +
                    std::to_string(users[i]) + ", outside [0, " + std::to_string(n_items) + ")");
      if (std::binary_search(seen.begin(), seen.end(), item))
        throw Error("recommend() returned item " + std::to_string(item) + " for user " +
                    std::to_string(users[i]) + ", which is one of the user's training items");
      // A repeated item would count its hit twice (recall or NDCG above 1).
      if (std::exchange(last_row[static_cast<std::size_t>(item)], i + 1) == i + 1)
        throw Error("recommend() returned item " + std::to_string(item) + " twice for user " +
                    std::to_string(users[i]));
    }
  }
}

void accuracy_metrics(EvalOutput& out, const std::string& prefix, const ItemId* lists, int stride,
                      const RelevantSets& rel, const std::vector<std::int32_t>& cutoffs,
                      const MetricFilter& filter) {
  static constexpr std::array<const char*, 7> kNames = {"precision", "recall", "f1", "hr",
                                                        "ndcg",      "map",    "mrr"};
  const auto n = static_cast<std::ptrdiff_t>(rel.size());
  for (const std::int32_t k : cutoffs) {
    std::array<double*, kNames.size()> dst{};
    bool any = false;
    for (std::size_t m = 0; m < kNames.size(); ++m) {
      if (!filter.has(kNames[m])) continue;
      dst[m] = column(out, prefix + kNames[m] + at_k(k), rel.size());
      any = true;
    }
    if (!any) continue;
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const std::span<const ItemId> list(lists + i * stride, static_cast<std::size_t>(std::min(k, stride)));
      const RankingMetrics r = ranking_metrics(list, rel.row(static_cast<std::size_t>(i)), k);
      const std::array<double, kNames.size()> values = {r.precision, r.recall, r.f1, r.hr,
                                                        r.ndcg,      r.map,    r.mrr};
      for (std::size_t m = 0; m < kNames.size(); ++m)
        if (dst[m]) dst[m][i] = values[m];
    }
  }
}

void beyond_accuracy_metrics(EvalOutput& out, const ItemId* lists, int stride,
                             const TrainData& train, const std::vector<std::int32_t>& cutoffs,
                             const MetricFilter& filter) {
  const std::size_t n = out.users.size();
  std::vector<std::int32_t> popularity(static_cast<std::size_t>(train.n_items), 0);
  for (const ItemId item : train.by_user.indices) ++popularity[static_cast<std::size_t>(item)];
  const auto& features = train.item_features.matrix;
  const bool has_features = features.rows > 0;
  std::vector<ItemId> compact;  // n x k copy of the first k columns, for catalogue measures
  for (const std::int32_t k : cutoffs) {
    const std::string at = at_k(k);
    double* nov = filter.has("novelty") ? column(out, "novelty" + at, n) : nullptr;
    double* arp = filter.has("arp") ? column(out, "arp" + at, n) : nullptr;
    double* ild = has_features && filter.has("ild") ? column(out, "ild" + at, n) : nullptr;
    if (nov || arp || ild) {
#pragma omp parallel for schedule(dynamic, 64)
      for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
        const std::span<const ItemId> list(lists + i * stride, static_cast<std::size_t>(std::min(k, stride)));
        if (nov) nov[i] = novelty(list, popularity, train.n_users);
        if (arp) arp[i] = average_popularity(list, popularity);
        if (ild) ild[i] = intra_list_diversity(list, features.indptr, features.indices);
      }
    }
    if (!filter.has("coverage") && !filter.has("gini")) continue;
    const int kk = std::min(k, stride);  // lists hold at most the catalogue
    compact.resize(n * static_cast<std::size_t>(kk));
    for (std::size_t i = 0; i < n; ++i)
      std::copy_n(lists + i * stride, kk, compact.data() + i * static_cast<std::size_t>(kk));
    if (filter.has("coverage"))
      out.aggregate["coverage" + at] = catalogue_coverage(compact, kk, train.n_items);
    if (filter.has("gini")) out.aggregate["gini" + at] = gini_index(compact, kk, train.n_items);
  }
}

}  // namespace eval_detail

namespace {

using namespace eval_detail;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void validate(const TrainData& train, const CsrMatrix& test, const EvaluationSpec& spec) {
  if (spec.protocol != "full" && spec.protocol != "sampled")
    throw Error("[evaluation] unknown protocol '" + spec.protocol + "'; known: full, sampled");
  if (spec.cutoffs.empty()) throw Error("[evaluation] cutoffs must list at least one k");
  for (const auto k : spec.cutoffs)
    if (k < 1) throw Error("[evaluation] cutoff " + std::to_string(k) + " must be >= 1");
  if (spec.protocol == "sampled" && spec.sampled_negatives < 1)
    throw Error("[evaluation] sampled_negatives must be >= 1, got " +
                std::to_string(spec.sampled_negatives));
  if (spec.cold_user_max < 0)
    throw Error("[evaluation] cold_user_max must be >= 0, got " +
                std::to_string(spec.cold_user_max));
  if (!(spec.head_fraction > 0 && spec.head_fraction <= 1))
    throw Error("[evaluation] head_fraction must be in (0, 1], got " +
                std::to_string(spec.head_fraction));
  if (test.rows > train.n_users || test.cols > train.n_items)
    throw Error("evaluate: test matrix is " + std::to_string(test.rows) + " x " +
                std::to_string(test.cols) + " but training data has " +
                std::to_string(train.n_users) + " users and " + std::to_string(train.n_items) +
                " items");
  // Checked here, once, so that nothing can throw inside the parallel loops.
  const auto check_items = [&](const CsrMatrix& m, const char* what) {
    for (const ItemId item : m.indices)
      if (item < 0 || item >= train.n_items)
        throw Error(std::string("evaluate: ") + what + " holds item " + std::to_string(item) +
                    " outside [0, " + std::to_string(train.n_items) + ")");
  };
  check_items(test, "the test matrix");
  check_items(train.by_user, "the training matrix");
}

/// Single-user requests, timed one by one (never in parallel: we measure
/// what one request costs). One untimed warm-up call absorbs first-use
/// allocation inside the recommender.
LatencySummary measure_latency(Recommender& rec, std::span<const UserId> users, int k,
                               SparseRowsView exclude, std::int32_t max_users) {
  LatencySummary s;
  std::size_t n = users.size();
  if (max_users > 0) n = std::min(n, static_cast<std::size_t>(max_users));
  if (n == 0) return s;
  std::vector<ItemId> items(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  std::vector<double> ms(n);
  rec.recommend(users.first(1), k, exclude, items, scores);
  for (std::size_t i = 0; i < n; ++i) {
    const auto start = Clock::now();
    rec.recommend(users.subspan(i, 1), k, exclude, items, scores);
    ms[i] = 1e3 * seconds_since(start);
  }
  double sum = 0;
  for (double t : ms) sum += t;
  std::sort(ms.begin(), ms.end());
  s.n = static_cast<std::int64_t>(n);
  s.mean_ms = sum / static_cast<double>(n);
  s.p50_ms = nearest_rank(ms, 0.50);
  s.p95_ms = nearest_rank(ms, 0.95);
  s.p99_ms = nearest_rank(ms, 0.99);
  s.max_ms = ms.back();
  return s;
}

void auc_metric(EvalOutput& out, Recommender& rec, const TrainData& train,
                SparseRowsView exclude, const RelevantSets& rel) {
  constexpr std::size_t kBlock = 256;
  const std::size_t n = rel.size();
  const auto n_items = static_cast<std::size_t>(train.n_items);
  auto& dst = out.per_user["auc"];
  dst.assign(n, std::numeric_limits<double>::quiet_NaN());
  if (n == 0 || n_items == 0) return;
  std::vector<float> block(std::min(kBlock, n) * n_items);
  for (std::size_t b = 0; b < n; b += kBlock) {
    const std::size_t nb = std::min(kBlock, n - b);
    rec.score_all(std::span<const UserId>(rel.users).subspan(b, nb),
                  std::span<float>(block.data(), nb * n_items));
#pragma omp parallel for schedule(dynamic, 8)
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(nb); ++i) {
      const std::size_t r = b + static_cast<std::size_t>(i);
      dst[r] = auc({block.data() + static_cast<std::size_t>(i) * n_items, n_items}, rel.row(r),
                   exclude.row(rel.users[r]));
    }
  }
}

void rating_metrics(EvalOutput& out, Recommender& rec, const CsrMatrix& test,
                    const MetricFilter& filter) {
  const auto nnz = static_cast<std::size_t>(test.nnz());
  if (test.values.empty() || nnz == 0) return;
  std::vector<UserId> users(nnz);
  for (UserId u = 0; u < test.rows; ++u)
    std::fill(users.begin() + test.indptr[u], users.begin() + test.indptr[u + 1], u);
  std::vector<float> predicted(nnz);
  rec.predict_rating(users, test.indices, predicted);
  RatingErrors errors;
  out.rating_sq_errors.resize(nnz);
  out.rating_abs_errors.resize(nnz);
  for (std::size_t j = 0; j < nnz; ++j) {
    const double e = static_cast<double>(predicted[j]) - static_cast<double>(test.values[j]);
    out.rating_sq_errors[j] = e * e;
    out.rating_abs_errors[j] = std::fabs(e);
    errors.sum_sq += e * e;
    errors.sum_abs += std::fabs(e);
  }
  errors.n = static_cast<std::int64_t>(nnz);
  out.rating_user_offsets.clear();
  out.rating_users.clear();
  for (UserId u = 0; u < test.rows; ++u)
    if (test.indptr[u + 1] > test.indptr[u]) {
      out.rating_user_offsets.push_back(static_cast<std::size_t>(test.indptr[u]));
      out.rating_users.push_back(u);
    }
  out.rating_user_offsets.push_back(nnz);
  if (filter.has("rmse")) out.aggregate["rmse"] = errors.rmse();
  if (filter.has("mae")) out.aggregate["mae"] = errors.mae();
}

}  // namespace

EvalOutput evaluate(Recommender& rec, const TrainData& train, const CsrMatrix& test,
                    const EvaluationSpec& spec, bool predicts_ratings, std::uint64_t seed) {
  return evaluate(rec, train, test, train.by_user, spec, predicts_ratings, seed);
}

EvalOutput evaluate(Recommender& rec, const TrainData& train, const CsrMatrix& test,
                    const CsrMatrix& excluded, const EvaluationSpec& spec, bool predicts_ratings,
                    std::uint64_t seed) {
  validate(train, test, spec);
  if (excluded.rows != train.n_users || excluded.cols != train.n_items)
    throw Error("evaluate: the exclusion matrix is " + std::to_string(excluded.rows) + " x " +
                std::to_string(excluded.cols) + ", not n_users x n_items");
  const MetricFilter filter(spec.metrics);
  const RelevantSets rel = relevant_sets(test, spec.relevance_threshold);
  if (rel.size() == 0 && test.nnz() > 0 && filter.wants_ranking())  // an ok trial with no metric would hide the mistake
    throw Error("evaluation.relevance_threshold = " + (std::ostringstream() << spec.relevance_threshold).str() +
                ": none of the " +
                std::to_string(test.nnz()) + " test interactions reaches it" +
                (train.explicit_ratings ? std::string()
                                        : std::string(" (the data is implicit: every value is 1, so use a threshold "
                                                      "<= 1 or keep the ratings)")) +
                ", so no user can be evaluated");
  const int k_max = ranked_list_length(spec.cutoffs, train.n_items);
  const auto exclude = SparseRowsView::of(excluded);
  const std::size_t n = rel.size();

  EvalOutput out;
  out.users = rel.users;
  if (n > 0) {
    out.latency = measure_latency(rec, rel.users, k_max, exclude, spec.max_latency_users);

    std::vector<ItemId> lists(n * static_cast<std::size_t>(k_max));
    std::vector<float> scores(n * static_cast<std::size_t>(k_max));
    const auto start = Clock::now();
    rec.recommend(rel.users, k_max, exclude, lists, scores);
    out.batch_seconds = seconds_since(start);
    out.throughput_users_per_s = out.batch_seconds > 0 ? n / out.batch_seconds : 0;
    check_lists(lists, rel.users, k_max, train.n_items, exclude);

    accuracy_metrics(out, "", lists.data(), k_max, rel, spec.cutoffs, filter);
    beyond_accuracy_metrics(out, lists.data(), k_max, train, spec.cutoffs, filter);
    segment_metrics(out, lists.data(), k_max, train, rel, spec, filter);
    if (filter.has("auc")) auc_metric(out, rec, train, exclude, rel);
    if (spec.protocol == "sampled")
      sampled_metrics(out, rec, train, exclude, rel, spec.cutoffs, spec.sampled_negatives, seed, filter);
  }
  if (predicts_ratings && train.explicit_ratings && (filter.has("rmse") || filter.has("mae")))
    rating_metrics(out, rec, test, filter);
  return out;
}

}  // namespace recfuse
