#include "runner/explanations.hpp"

#include <algorithm>
#include <vector>

#include "eval/evaluator.hpp"
#include "eval/evaluator_detail.hpp"
#include "runner/record_json.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;

/// The evaluated users' lists and hits, as the evaluator scored them
/// (explanations.hpp); "reason"s are added by add_reasons.
json evaluated_lists(Recommender& model, const Dataset& data, const CsrMatrix& test,
                     const CsrMatrix& excluded, const EvaluationSpec& spec) {
  // The evaluator's users (relevant_sets) and its k.
  const eval_detail::RelevantSets rel = eval_detail::relevant_sets(test, spec.relevance_threshold);
  json lists = json::array();
  const std::size_t n = rel.size();
  if (n == 0 || spec.cutoffs.empty()) return lists;
  const int k = ranked_list_length(spec.cutoffs, static_cast<std::int32_t>(data.n_items()));
  const auto stride = static_cast<std::size_t>(k);
  std::vector<ItemId> items(n * stride);
  std::vector<float> scores(n * stride);
  model.recommend(rel.users, k, SparseRowsView::of(excluded), items, scores);

  const std::size_t shown = static_cast<std::size_t>(std::min(kExplainedItems, k));
  const std::size_t users = std::min(n, static_cast<std::size_t>(spec.explain_users));
  for (std::size_t r = 0; r < users; ++r) {
    const UserId u = rel.users[r];
    const auto relevant = rel.row(r);
    json row = json::array();
    for (std::size_t j = 0; j < shown; ++j) {
      const ItemId item = items[r * stride + j];
      if (item == kNoItem) break;  // padding: the catalogue ran out
      json entry = {{"item", item},
                    {"item_id", data.item_ids.at(static_cast<std::size_t>(item))},
                    {"score", record_json::finite_or_null(scores[r * stride + j])},
                    {"hit", std::binary_search(relevant.begin(), relevant.end(), item)}};
      if (static_cast<std::size_t>(item) < data.item_titles.size() &&
          !data.item_titles[static_cast<std::size_t>(item)].empty())
        entry["title"] = data.item_titles[static_cast<std::size_t>(item)];
      row.push_back(std::move(entry));
    }
    lists.push_back({{"user", u}, {"user_id", data.user_ids.at(static_cast<std::size_t>(u))},
                     {"items", std::move(row)}});
  }
  return lists;
}

/// Adds each item's "reason", all or none: on the first throw, the reasons
/// already gathered are dropped and the returned note says where it threw.
std::string add_reasons(Recommender& model, json& lists) {
  std::vector<std::string> reasons;
  UserId user = 0;
  ItemId item = kNoItem;
  try {
    for (const json& list : lists) {
      user = list.at("user").get<UserId>();
      for (const json& entry : list.at("items")) {
        item = entry.at("item").get<ItemId>();
        reasons.push_back(model.explain(user, item));
      }
    }
  } catch (const std::exception& e) {
    return "explain() threw for user " + std::to_string(user) + ", item " + std::to_string(item) + ": " +
           e.what() + "; lists shown without reasons";
  } catch (...) {
    return "explain() threw a non-standard exception for user " + std::to_string(user) + ", item " +
           std::to_string(item) + "; lists shown without reasons";
  }
  std::size_t next = 0;
  for (json& list : lists)
    for (json& entry : list.at("items")) entry["reason"] = std::move(reasons[next++]);
  return {};
}

}  // namespace

void add_explanations(Recommender& model, bool declares_explain, const std::string& plugin,
                      const Dataset& data, const CsrMatrix& test, const CsrMatrix& excluded,
                      const EvaluationSpec& spec, json& rec) {
  if (spec.explain_users <= 0) return;
  json lists;
  try {
    lists = evaluated_lists(model, data, test, excluded, spec);
  } catch (const std::exception& e) {
    rec["explanations_note"] = std::string("no explanations: recommend() threw: ") + e.what();
    return;
  } catch (...) {
    rec["explanations_note"] = "no explanations: recommend() threw a non-standard exception";
    return;
  }
  std::string note;
  if (!declares_explain)
    note = plugin + " does not declare explain: lists shown without reasons";
  else
    note = add_reasons(model, lists);
  if (!note.empty()) rec["explanations_note"] = note;
  rec["explanations"] = std::move(lists);
}

}  // namespace recfuse
