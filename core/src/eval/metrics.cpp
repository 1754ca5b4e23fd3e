// Metric definitions (see metrics.hpp for the formulas). Binary relevance
// throughout, following RecBole's evaluator (Zhao et al. 2021, "RecBole: Towards
// a Unified, Comprehensive and Efficient Framework for Recommendation
// Algorithms") so that numbers are comparable with theirs.
#include "eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace recfuse {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool contains(std::span<const ItemId> sorted, ItemId item) {
  return std::binary_search(sorted.begin(), sorted.end(), item);
}

}  // namespace

double auc(std::span<const float> scores, std::span<const ItemId> relevant,
           std::span<const ItemId> excluded) {
  // Mann-Whitney form: AUC = P(score(pos) > score(neg)) + 1/2 P(tie). The
  // positives (few) are sorted once; each negative then counts the positives
  // above and tied with it by binary search: O(n log p + p log p), with one
  // scratch buffer per thread reused across calls.
  thread_local std::vector<float> pos;
  const auto n_items = static_cast<ItemId>(scores.size());
  const auto key = [](float s) {
    return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
  };
  pos.clear();
  for (ItemId item : relevant) {
    if (item < 0 || item >= n_items)
      throw Error("auc: relevant item " + std::to_string(item) + " outside [0, " +
                  std::to_string(n_items) + ")");
    if (!contains(excluded, item)) pos.push_back(key(scores[static_cast<std::size_t>(item)]));
  }
  if (pos.empty()) return kNaN;
  std::sort(pos.begin(), pos.end());
  const auto n_pos = static_cast<double>(pos.size());
  double wins = 0;  // sum over negatives of (#pos above + 1/2 #pos tied)
  std::int64_t n_neg = 0;
  std::size_t e = 0, r = 0;
  for (ItemId i = 0; i < n_items; ++i) {
    while (e < excluded.size() && excluded[e] < i) ++e;
    if (e < excluded.size() && excluded[e] == i) continue;
    while (r < relevant.size() && relevant[r] < i) ++r;
    if (r < relevant.size() && relevant[r] == i) continue;
    const float s = key(scores[static_cast<std::size_t>(i)]);
    // One binary search; ties are rare, so they are counted by a short scan.
    const auto lo = std::lower_bound(pos.begin(), pos.end(), s);
    auto hi = lo;
    while (hi != pos.end() && *hi == s) ++hi;
    wins += static_cast<double>(pos.end() - hi) + 0.5 * static_cast<double>(hi - lo);
    ++n_neg;
  }
  if (n_neg == 0) return kNaN;
  return wins / (n_pos * static_cast<double>(n_neg));
}

namespace {

/// Per-item recommendation counts of n_users x k lists (padding skipped).
std::vector<std::int64_t> item_counts(std::span<const ItemId> lists, int k, ItemId n_items,
                                      const char* who) {
  if (k < 1) throw Error(std::string(who) + ": k must be >= 1");
  if (lists.size() % static_cast<std::size_t>(k) != 0)
    throw Error(std::string(who) + ": list buffer of " + std::to_string(lists.size()) +
                " entries is not a multiple of k = " + std::to_string(k));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(std::max<ItemId>(n_items, 0)), 0);
  for (ItemId item : lists) {
    if (item == kNoItem) continue;
    if (item < 0 || item >= n_items)
      throw Error(std::string(who) + ": item " + std::to_string(item) + " outside [0, " +
                  std::to_string(n_items) + ")");
    ++counts[static_cast<std::size_t>(item)];
  }
  return counts;
}

}  // namespace

double catalogue_coverage(std::span<const ItemId> lists, int k, ItemId n_items) {
  if (n_items <= 0) return kNaN;
  const auto counts = item_counts(lists, k, n_items, "catalogue_coverage");
  const auto distinct = std::count_if(counts.begin(), counts.end(), [](auto c) { return c > 0; });
  return static_cast<double>(distinct) / n_items;
}

double gini_index(std::span<const ItemId> lists, int k, ItemId n_items) {
  // G = sum_{i=1..n} (2i - n - 1) x_(i) / (n sum x), x sorted ascending
  // (the form RecBole's GiniIndex uses), over every item of the catalogue.
  if (n_items <= 0) return kNaN;
  auto counts = item_counts(lists, k, n_items, "gini_index");
  std::sort(counts.begin(), counts.end());
  const double n = static_cast<double>(counts.size());
  double weighted = 0, total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double x = static_cast<double>(counts[i]);
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * x;
    total += x;
  }
  if (total == 0) return kNaN;
  return weighted / (n * total);
}

double novelty(std::span<const ItemId> list, std::span<const std::int32_t> item_popularity,
               std::int32_t n_users) {
  if (n_users <= 0) return kNaN;
  double sum = 0;
  int n = 0;
  for (ItemId item : list) {
    if (item == kNoItem) continue;
    const std::int32_t pop = std::max<std::int32_t>(item_popularity[static_cast<std::size_t>(item)], 1);
    sum += -std::log2(static_cast<double>(pop) / n_users);
    ++n;
  }
  return n > 0 ? sum / n : kNaN;
}

double average_popularity(std::span<const ItemId> list,
                          std::span<const std::int32_t> item_popularity) {
  double sum = 0;
  int n = 0;
  for (ItemId item : list) {
    if (item == kNoItem) continue;
    sum += item_popularity[static_cast<std::size_t>(item)];
    ++n;
  }
  return n > 0 ? sum / n : kNaN;
}

double intra_list_diversity(std::span<const ItemId> list, std::span<const std::int64_t> indptr,
                            std::span<const std::int32_t> indices) {
  // Ziegler et al. 2005 (intra-list similarity), as 1 - cosine over pairs.
  // Binary rows: cos(a, b) = |a ∩ b| / sqrt(|a| |b|).
  const auto n_rows = indptr.empty() ? std::size_t{0} : indptr.size() - 1;
  const auto row = [&](ItemId item) -> std::span<const std::int32_t> {
    if (item < 0 || static_cast<std::size_t>(item) >= n_rows) return {};
    const auto b = static_cast<std::size_t>(indptr[static_cast<std::size_t>(item)]);
    const auto e = static_cast<std::size_t>(indptr[static_cast<std::size_t>(item) + 1]);
    return indices.subspan(b, e - b);
  };
  double sum = 0;
  std::int64_t pairs = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto a = row(list[i]);
    if (a.empty()) continue;
    for (std::size_t j = i + 1; j < list.size(); ++j) {
      const auto b = row(list[j]);
      if (b.empty()) continue;
      std::size_t common = 0, x = 0, y = 0;
      while (x < a.size() && y < b.size()) {
        if (a[x] < b[y]) ++x;
        else if (b[y] < a[x]) ++y;
        else { ++common; ++x; ++y; }
      }
      const double cos = static_cast<double>(common) /
                         std::sqrt(static_cast<double>(a.size()) * static_cast<double>(b.size()));
      sum += 1.0 - cos;
      ++pairs;
    }
  }
  return pairs > 0 ? sum / static_cast<double>(pairs) : kNaN;
}

double RatingErrors::rmse() const { return n > 0 ? std::sqrt(sum_sq / n) : kNaN; }
double RatingErrors::mae() const { return n > 0 ? sum_abs / n : kNaN; }

}  // namespace recfuse
