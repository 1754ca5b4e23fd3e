// The size check of a scenario's trial list (trial_count.hpp).
#include "scenario/trial_count.hpp"

#include <sstream>

namespace recfuse::scenario_detail {

void check_trial_count(const Section& root, const Scenario& sc) {
  constexpr double kMaxTrials = 1e6;
  const SplitSpec& p = sc.split;
  double folds = 1;
  if (p.method == "kfold") folds = p.fold_numbers.empty() ? p.folds : p.fold_numbers.size();
  if (p.method == "fixed") folds = p.fold_names.empty() ? 5 : p.fold_names.size();
  double fold_runs = 0;  // folds summed over protocols: the simulated ones have none
  for (const auto& protocol : sc.protocols) fold_runs += protocol == "offline" ? folds : 1;
  double points = 0, largest_grid = 0;
  const AlgorithmSpec* largest = nullptr;
  for (const auto& a : sc.algorithms) {
    double n = 1;
    for (const auto& [key, values] : a.grid) n *= static_cast<double>(values.size());
    points += n;
    if (n > largest_grid) largest_grid = n, largest = &a;
  }
  const double total = fold_runs * points * static_cast<double>(sc.seeds.size());
  if (total <= kMaxTrials) return;
  std::ostringstream msg;
  msg.precision(0);
  msg << std::fixed << "the scenario expands into " << total << " trials (" << fold_runs
      << " fold run(s) x " << points << " algorithm grid point(s) x " << sc.seeds.size()
      << " seed(s)), more than the " << kMaxTrials << " one run can hold";
  if (root.has("split") && folds > kMaxTrials / 10 && p.method == "kfold") {
    const Section split(sc.file, *root.table().get("split")->as_table(), "split", "split");
    if (split.has("folds")) split.fail("folds", msg.str());
  }
  if (largest && largest_grid > kMaxTrials / 10) {
    const std::string& key = largest->grid.begin()->first;
    throw Error(largest->locations.at(key) + ": [" + largest->key_path + "." + largest->name +
                ".grid] " + msg.str());
  }
  root.fail_table(msg.str());
}

}  // namespace recfuse::scenario_detail
