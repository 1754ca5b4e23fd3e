// Who falls in which segment (rules in segments.cpp), and the per-user
// accuracy of item segments, measured on the same full-ranking lists as the
// headline metrics so that segment values add up to nothing new but a split.
#include <algorithm>

#include "eval/evaluator_detail.hpp"
#include "eval/segments.hpp"

namespace recfuse::eval_detail {
namespace {

// The sub-problem of `rel` whose relevant items satisfy `keep`: users left
// with none are dropped; `members` receives the kept rows' indices.
template <class Keep>
RelevantSets restrict_items(const RelevantSets& rel, Keep keep, std::vector<std::size_t>& members) {
  RelevantSets sub;
  sub.indptr.push_back(0);
  for (std::size_t i = 0; i < rel.size(); ++i) {
    const std::size_t before = sub.items.size();
    for (const ItemId item : rel.row(i))
      if (keep(item)) sub.items.push_back(item);
    if (sub.items.size() == before) continue;
    sub.users.push_back(rel.users[i]);
    sub.indptr.push_back(static_cast<std::int64_t>(sub.items.size()));
    members.push_back(i);
  }
  return sub;
}

}  // namespace

void segment_metrics(EvalOutput& out, const ItemId* lists, int stride, const TrainData& train,
                     const RelevantSets& rel, const EvaluationSpec& spec,
                     const MetricFilter& filter) {
  const std::size_t n = rel.size();
  SegmentDefinition& def = out.segment_definition;
  def.cold_user_max = spec.cold_user_max;
  def.head_fraction = spec.head_fraction;

  out.history.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.history[i] = train.by_user.row_size(rel.users[i]);
  def.history_edges = history_quartile_edges(out.history);
  for (const auto& name : segment_names()) {
    if (is_item_segment(name)) continue;
    auto& members = out.segments[name].members;
    for (std::size_t i = 0; i < n; ++i)
      if (in_user_segment(name, out.history[i], def)) members.push_back(i);
  }

  // Popularity as beyond_accuracy_metrics counts it: training users per item.
  std::vector<std::int32_t> popularity(static_cast<std::size_t>(train.n_items), 0);
  for (const ItemId item : train.by_user.indices) ++popularity[static_cast<std::size_t>(item)];
  define_head(popularity, def);
  const auto is_head = [&](ItemId item) {
    return popularity[static_cast<std::size_t>(item)] >= def.head_min_popularity;
  };
  std::vector<ItemId> sub_lists;
  for (const bool head : {true, false}) {
    EvalSegment& seg = out.segments[head ? "items:head" : "items:tail"];
    const RelevantSets sub = restrict_items(
        rel, [&](ItemId item) { return is_head(item) == head; }, seg.members);
    // Rows of `lists` for the members only: accuracy_metrics reads row i for sub user i.
    sub_lists.resize(seg.members.size() * static_cast<std::size_t>(stride));
    for (std::size_t r = 0; r < seg.members.size(); ++r)
      std::copy_n(lists + seg.members[r] * static_cast<std::size_t>(stride), stride,
                  sub_lists.data() + r * static_cast<std::size_t>(stride));
    EvalOutput scratch;
    accuracy_metrics(scratch, "", sub_lists.data(), stride, sub, spec.cutoffs, filter);
    seg.per_user = std::move(scratch.per_user);
  }
}

}  // namespace recfuse::eval_detail
