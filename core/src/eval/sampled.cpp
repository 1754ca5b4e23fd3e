// Sampled-negative protocol (as in He et al. 2017, "Neural Collaborative
// Filtering", §4.1: the held-out items ranked among 100 sampled items the user
// did not interact with). Reported next to the full ranking, never instead of
// it: Krichene & Rendle 2020 ("On Sampled Metrics for Item Recommendation")
// show sampled metrics can reorder algorithms.
//
// Decisions written down:
// - Count: `negatives` per test item (SCHEMA.md), so a user with r relevant
//   items ranks them together among r x negatives draws (RecBole's "uniN"),
//   fewer when fewer items are eligible.
// - Ties: a test item tied with a sampled negative ranks below it (NaN ranks
//   as -inf, as everywhere). Breaking such ties by item id instead would let a
//   constant scorer hit whenever the test item's id is the smallest, and item
//   ids follow popularity on some datasets (ml-100k).
#include <algorithm>
#include <numeric>
#include <vector>

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
  // Drawn items are flagged in a per-thread catalogue bitmap (cleared before
  // returning), so a repeat is found in O(1) however many a user needs.
  thread_local std::vector<char> drawn;
  if (drawn.size() < static_cast<std::size_t>(n_items)) drawn.resize(static_cast<std::size_t>(n_items), 0);
  std::size_t chosen = 0;
  while (chosen < want) {
    const auto item = static_cast<ItemId>(rng.below(static_cast<std::uint64_t>(n_items)));
    if (drawn[static_cast<std::size_t>(item)] || contains(seen, item) || contains(relevant, item)) continue;
    drawn[static_cast<std::size_t>(item)] = 1;
    out[chosen++] = item;
  }
  for (std::size_t j = 0; j < chosen; ++j) drawn[static_cast<std::size_t>(out[j])] = 0;
  return chosen;
}

void sampled_metrics(EvalOutput& out, Recommender& rec, const TrainData& train,
                     SparseRowsView seen, const RelevantSets& rel, const std::vector<std::int32_t>& cutoffs,
                     std::int32_t negatives, std::uint64_t seed, const MetricFilter& filter) {
  const std::size_t n = rel.size();
  const auto per_item = static_cast<std::size_t>(negatives);
  // Lists stop at the catalogue (a longer cutoff must not allocate users x k).
  const int k_max = ranked_list_length(cutoffs, train.n_items);

  // Candidates of user i: its negatives, then its relevant items, at offset[i].
  std::vector<std::int64_t> offset(n + 1, 0);
  std::size_t longest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t negs = std::min(per_item * rel.row(i).size(),
                                      eligible_count(train.n_items, seen.row(rel.users[i]), rel.row(i)));
    offset[i + 1] = offset[i] + static_cast<std::int64_t>(rel.row(i).size() + negs);
    longest = std::max(longest, rel.row(i).size() + negs);
  }
  // Ranked by score, a tie going to the earlier candidate (top-k's smaller
  // "id" is the position): negatives come first, so they win ties with test items.
  std::vector<ItemId> position(longest);
  std::iota(position.begin(), position.end(), ItemId{0});
  const auto k = static_cast<std::size_t>(k_max);
  std::vector<ItemId> lists(n * k);
  std::vector<float> list_scores(n * k);

  // Users in blocks of at most kBlock candidates (or one user), one
  // pairwise scoring call per block (score() is not thread-safe): memory
  // stays bounded when heavy users ask for thousands of negatives each.
  constexpr std::int64_t kBlock = std::int64_t{1} << 22;
  std::vector<UserId> cand_users;
  std::vector<ItemId> cand_items;
  std::vector<float> cand_scores;
  for (std::size_t b = 0; b < n;) {
    std::size_t e = b + 1;
    while (e < n && offset[e + 1] - offset[b] <= kBlock) ++e;
    const auto base = offset[b];
    const auto block = static_cast<std::size_t>(offset[e] - base);
    cand_users.resize(block);
    cand_items.resize(block);
    cand_scores.resize(block);
#pragma omp parallel for schedule(dynamic, 64)
    for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(b); i < static_cast<std::ptrdiff_t>(e); ++i) {
      const UserId u = rel.users[static_cast<std::size_t>(i)];
      const auto relevant = rel.row(static_cast<std::size_t>(i));
      const auto begin = static_cast<std::size_t>(offset[i] - base);
      const auto end = static_cast<std::size_t>(offset[i + 1] - base);
      std::fill(cand_users.begin() + begin, cand_users.begin() + end, u);
      Rng rng(derive_seed(seed, "sampled", static_cast<std::uint64_t>(u)));
      sample_negatives(rng, train.n_items, seen.row(u), relevant, per_item * relevant.size(),
                       cand_items.data() + begin);
      std::copy(relevant.begin(), relevant.end(), cand_items.begin() + (end - relevant.size()));
    }
    rec.score(cand_users, cand_items, cand_scores);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(b); i < static_cast<std::ptrdiff_t>(e); ++i) {
      const auto begin = static_cast<std::size_t>(offset[i] - base);
      const auto len = static_cast<std::size_t>(offset[i + 1] - offset[i]);
      ItemId* list = lists.data() + static_cast<std::size_t>(i) * k;
      const int real = topk_candidates(cand_scores.data() + begin, {position.data(), len}, k_max, list,
                                       list_scores.data() + static_cast<std::size_t>(i) * k);
      for (int j = 0; j < real; ++j) list[j] = cand_items[begin + static_cast<std::size_t>(list[j])];
    }
    b = e;
  }
  accuracy_metrics(out, "sampled_", lists.data(), k_max, rel, cutoffs, filter);
}

}  // namespace recfuse::eval_detail
