// The "explanations" of an offline trial record ([evaluation] explain_users,
// scenarios/SCHEMA.md): what the evaluated lists of a few users were and,
// from a plugin that declares kCapExplain, why.
//
// Which users: the first explain_users evaluated users by (dense) id, not a
// seeded draw, so every algorithm and seed of one test set shows the same
// users and the report can set their lists side by side.
// Which list: exactly the one the evaluator scored. The evaluator keeps no
// lists, so its full-ranking call is made again as it was made
// (eval/evaluator.cpp): every evaluated user in one batch, k = the largest
// cutoff capped at the catalogue, the same exclusion rows. Not for the
// explained users alone: a batch's scores may round differently with its
// size (blocked GEMM), and a tie broken otherwise would show a list the
// metrics never saw. It costs one more untimed batch pass, only when
// explain_users > 0. Each explained list is that list's first
// min(kExplainedItems, k) items, the list every metric@k up to 10 scored.
// "hit": a relevant item of the evaluated part (value >= the scenario's
// relevance_threshold), as the metrics count it.
//
// Never fails the trial: the metrics are in the record before this runs.
// A plugin without kCapExplain, or whose explain throws, gets the lists
// without reasons and one "explanations_note" saying why.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "recfuse/recommender.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// Items shown of each explained list (fewer when the largest cutoff is).
inline constexpr int kExplainedItems = 10;

/// Sets rec["explanations"] = [{"user": dense id, "user_id": source id,
/// "items": [{"item", "item_id", "title" (when the dataset has one),
/// "score", "hit", "reason" (kCapExplain only)}, ...]}, ...] for the first
/// spec.explain_users evaluated users (none when 0), and
/// rec["explanations_note"] when there are no reasons (the plugin does not
/// declare explain, or its explain threw) or no lists (recommend threw).
/// `test` and `excluded` are the matrices the evaluator was given; `data`
/// names users, items and titles. `plugin` names the algorithm in the note.
/// Never throws.
void add_explanations(Recommender& model, bool declares_explain, const std::string& plugin,
                      const Dataset& data, const CsrMatrix& test, const CsrMatrix& excluded,
                      const EvaluationSpec& spec, nlohmann::json& rec);

}  // namespace recfuse
