// Sampled-negative protocol (as in He et al. 2017, "Neural Collaborative
// Filtering", §4.1: the held-out items ranked among 100 sampled items the user
// did not interact with). Reported next to the full ranking, never instead of
// it: Krichene & Rendle 2020 ("On Sampled Metrics for Item Recommendation")
// show sampled metrics can reorder algorithms.
#include <algorithm>

#include "eval/evaluator_detail.hpp"
#include "recfuse/topk.hpp"

namespace recfuse::eval_detail {

namespace {

bool contains(std::span<const ItemId> sorted, ItemId item) {
  return std::binary_search(sorted.begin(), sorted.end(), item);
}

/// Items of [0, n_items) in neither sorted list.
std::size_t eligible_count(ItemId n_items, std::span<const ItemId> seen,
                           std::span<const ItemId> relevant) {
  std::size_t in_both = 0;
  for (const ItemId item : relevant) in_both += contains(seen, item) ? 1 : 0;
  const std::size_t taken = seen.size() + relevant.size() - in_both;
  const auto n = static_cast<std::size_t>(n_items);
  return taken >= n ? 0 : n - taken;
}

}  // namespace

std::size_t sample_negatives(Rng& rng, ItemId n_items, std::span<const ItemId> seen,
                             std::span<const ItemId> relevant, std::size_t count, ItemId* out) {
  const std::size_t available = eligible_count(n_items, seen, relevant);
  const std::size_t want = std::min(count, available);
  if (want == 0) return 0;
  if (available <= 4 * want) {
    // Dense case: selection sampling (Knuth, TAOCP vol. 2, Algorithm 3.4.2 S)
    // over the eligible items; no rejection loop can stall.
    std::size_t chosen = 0, left = available;
    for (ItemId i = 0; i < n_items && chosen < want; ++i) {
      if (contains(seen, i) || contains(relevant, i)) continue;
      if (rng.below(left) < want - chosen) out[chosen++] = i;
      --left;
    }
    return chosen;
  }
  // Sparse case: rejection sampling; more than 3/4 of the draws are accepted.
  std::size_t chosen = 0;
  while (chosen < want) {
    const auto item = static_cast<ItemId>(rng.below(static_cast<std::uint64_t>(n_items)));
    if (contains(seen, item) || contains(relevant, item)) continue;
    if (std::find(out, out + chosen, item) != out + chosen) continue;
    out[chosen++] = item;
  }
  return chosen;
}

void sampled_metrics(EvalOutput& out, Recommender& rec, const TrainData& train,
                     SparseRowsView seen, const RelevantSets& rel, const std::vector<std::int32_t>& cutoffs,
                     std::int32_t negatives, std::uint64_t seed, const MetricFilter& filter) {
  const std::size_t n = rel.size();
  const auto want = static_cast<std::size_t>(negatives);
  // Lists stop at the catalogue (a longer cutoff must not allocate users x k).
  const int k_max = std::min(*std::max_element(cutoffs.begin(), cutoffs.end()), std::max(1, train.n_items));

  // Candidates of user i: its relevant items, then its negatives, at offset[i].
  std::vector<std::int64_t> offset(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t negs =
        std::min(want, eligible_count(train.n_items, seen.row(rel.users[i]), rel.row(i)));
    offset[i + 1] = offset[i] + static_cast<std::int64_t>(rel.row(i).size() + negs);
  }
  const auto total = static_cast<std::size_t>(offset[n]);
  std::vector<UserId> cand_users(total);
  std::vector<ItemId> cand_items(total);
#pragma omp parallel for schedule(dynamic, 64)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    const UserId u = rel.users[static_cast<std::size_t>(i)];
    const auto relevant = rel.row(static_cast<std::size_t>(i));
    const auto begin = static_cast<std::size_t>(offset[i]);
    const auto end = static_cast<std::size_t>(offset[i + 1]);
    std::fill(cand_users.begin() + begin, cand_users.begin() + end, u);
    std::copy(relevant.begin(), relevant.end(), cand_items.begin() + begin);
    Rng rng(derive_seed(seed, "sampled", static_cast<std::uint64_t>(u)));
    sample_negatives(rng, train.n_items, seen.row(u), relevant, want,
                     cand_items.data() + begin + relevant.size());
  }
  // One pairwise scoring call for every user (score() is not thread-safe).
  std::vector<float> cand_scores(total);
  rec.score(cand_users, cand_items, cand_scores);

  const auto k = static_cast<std::size_t>(k_max);
  std::vector<ItemId> lists(n * k);
  std::vector<float> list_scores(n * k);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    const auto begin = static_cast<std::size_t>(offset[i]);
    const auto len = static_cast<std::size_t>(offset[i + 1]) - begin;
    topk_candidates(cand_scores.data() + begin, {cand_items.data() + begin, len}, k_max,
                    lists.data() + static_cast<std::size_t>(i) * k,
                    list_scores.data() + static_cast<std::size_t>(i) * k);
  }
  accuracy_metrics(out, "sampled_", lists.data(), k_max, rel, cutoffs, filter);
}

}  // namespace recfuse::eval_detail
