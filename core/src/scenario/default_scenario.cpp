// The scenario `recfuse run` uses when given none: it needs no data files
// (a seeded synthetic world) and only the baseline and knn plugins.
#include "scenario/scenario.hpp"

namespace recfuse {

std::string_view default_scenario_text() {
  static constexpr std::string_view kText = R"(# recfuse default scenario: a synthetic world and the baseline plugins.
name = "default"
description = "Non-personalised baselines and neighbourhood models on a seeded synthetic dataset"
seeds = [1]

[dataset]
format = "synthetic"

[split]
method = "leave_last_one_out"

[evaluation]
cutoffs = [10, 20]

[[algorithms]]
name = "random"
plugin = "random"

[[algorithms]]
name = "popularity"
plugin = "popularity"

[[algorithms]]
name = "item_knn"
plugin = "item_knn"
params = { neighbors = 50, similarity = "cosine" }

[[algorithms]]
name = "user_knn"
plugin = "user_knn"
params = { neighbors = 50 }

[[algorithms]]
name = "baseline_only"
plugin = "baseline_only"
)";
  return kText;
}

}  // namespace recfuse
