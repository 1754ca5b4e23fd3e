// Train / validation / test splits (see splits.hpp for the methods).
//
// Decisions written down:
// - Seed: spec.seed when non-zero, else the trial seed; every random draw
//   comes from derive_seed(that, "split") (and "split.validation").
// - Units: random and kfold assign whole (user, item) pairs, so a repeated
//   pair never straddles train and test; the ratio counts pairs.
// - Time order of a user's interactions: by timestamp when the source has
//   them, else position in the source for sequence files (their
//   rows_in_time_order); temporal_global needs timestamps, and a dataset with
//   neither is refused by every time-based method (time_order.hpp). Equal timestamps:
//   spec.ties = "source" keeps source order (a stable sort by time, as
//   Python's sorted or pandas' stable sort give); "item" orders them by item
//   id. Item ids often follow catalogue age or popularity (ml-100k's do: items
//   1..500 average 132 ratings, 1001..1682 eleven), so "item" makes the held-out
//   last item systematically rarer wherever a user rated several at once;
//   ml-100k's u.data is in random order, so "source" is a random tie-break
//   there. The training sequences (train_data_builder.cpp) follow the same
//   rule through Split::ties_by_item.
// - leave_last_one_out: a user with >= 3 interactions gives the last to test
//   and the second-last to validation (when spec.validation); exactly 2 ->
//   last to test, no validation; 1 -> train only (nothing to evaluate).
//   validation_item = "before_test_time" holds out instead the latest
//   interaction timed strictly before the test item (the last of its own
//   equal timestamps by the ties rule, as the test item is the last of its
//   own), or the second-last when the whole timeline shares one timestamp.
//   validation_train = "before_validation_item" leaves out of every part
//   the interactions between the validation and the test item (under
//   before_test_time the test item's earlier same-second items), so the
//   validation item is the last of its user's training timeline as the test
//   item is of the full one; the scenario parser allows it for validation
//   trials only.
//   Under ties = "item" the second-last item, whenever it shares the test
//   item's second, has the lower id, so the validation item is
//   systematically more popular than the test item (ml-100k: 415 of 943
//   users; median popularity in the whole u.data 121 against the test
//   item's 92), where the item timed before is picked as the test item is
//   (101).
// - temporal_user: each user with >= 2 interactions gives its latest
//   round(test_ratio * n), at least 1 and at most n - 1, to test.
// - temporal_global: the latest round(test_ratio * N) interactions overall.
// - Leaks: afterwards any test or validation interaction whose (user, item)
//   pair is also in train is dropped (only possible for repeated pairs in
//   time-based methods), so full-ranking targets are never excluded items.
// - validation_ratio: per user, round(ratio * pairs) of the user's training
//   pairs (at most all but one) move to validation, drawn at random; for
//   temporal_user each user's latest training interactions, for
//   temporal_global the latest round(ratio * N_train) overall, so validation
//   lies between train and test in time (as RecBole's ordered split).
// - Each part lists interactions in source order.
#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "data/reader_families.hpp"
#include "data/splits.hpp"
#include "data/time_order.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

namespace {

namespace fs = std::filesystem;

/// kLeftOut: in no part (validation_train = "before_validation_item").
enum Part : std::uint8_t { kTrain = 0, kValidation = 1, kTest = 2, kLeftOut = 3 };

const std::vector<std::string> kMethods = {"random", "temporal_global", "temporal_user",
                                           "leave_last_one_out", "kfold", "fixed", "source"};

std::uint64_t pair_key(const Interaction& x) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(x.user)) << 32) |
         static_cast<std::uint32_t>(x.item);
}

/// Interactions grouped by (user, item) pair, groups in order of first appearance.
std::vector<std::vector<std::size_t>> pair_groups(const std::vector<Interaction>& xs) {
  std::unordered_map<std::uint64_t, std::size_t> index;
  index.reserve(xs.size());
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const auto [it, inserted] = index.try_emplace(pair_key(xs[k]), groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(k);
  }
  return groups;
}

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[rng.below(k)]);
}

/// Per user, indices of their interactions in time order (see top comment).
std::vector<std::vector<std::size_t>> user_timelines(const Dataset& data, bool ties_by_item) {
  std::vector<std::vector<std::size_t>> lines(static_cast<std::size_t>(data.n_users()));
  for (std::size_t k = 0; k < data.interactions.size(); ++k) {
    lines[data.interactions[k].user].push_back(k);
  }
  if (data.has_timestamps) {
    const auto& xs = data.interactions;
    for (auto& line : lines) {
      std::sort(line.begin(), line.end(), [&](std::size_t a, std::size_t b) {
        if (xs[a].timestamp != xs[b].timestamp) return xs[a].timestamp < xs[b].timestamp;
        if (ties_by_item && xs[a].item != xs[b].item) return xs[a].item < xs[b].item;
        return a < b;
      });
    }
  }
  return lines;
}

/// Time-based methods need time (time_order.hpp). The scenario refuses the
/// formats that have none when it loads; this is the check for the rest
/// (RecBole without a timestamp column), naming the dataset's file.
void require_time_order(const Dataset& data, const std::string& method) {
  const std::string problem = time_order_problem(method, {data.has_timestamps, data.rows_in_time_order},
                                                data.format == "implicit-train-test");
  if (problem.empty()) return;
  throw Error((data.source.empty() ? std::string() : data.source + ": ") + "split '" + method +
              "' orders interactions by time, but dataset '" + data.name + "' (" + data.format + ") " + problem);
}

double checked_ratio(double r, const char* key, const std::string& method) {
  if (!(r > 0.0 && r < 1.0)) {
    throw Error("split." + std::string(key) + " must be in (0, 1) for method '" + method +
                "' (got " + std::to_string(r) + ")");
  }
  return r;
}

/// Every interaction's index, oldest first (stable: source order, or item id
/// on equal timestamps with ties by item).
std::vector<std::size_t> global_time_order(const Dataset& data, bool by_item) {
  const auto& xs = data.interactions;
  std::vector<std::size_t> order(xs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (xs[a].timestamp != xs[b].timestamp) return xs[a].timestamp < xs[b].timestamp;
    return by_item && xs[a].item < xs[b].item;
  });
  return order;
}

/// Moves round(ratio * pairs) of each user's training pairs to validation:
/// the latest ones for the temporal methods (validation sits between train
/// and test in time, as test does after validation), a random draw else.
void carve_validation(const Dataset& data, double ratio, const std::string& method,
                      std::uint64_t seed, bool by_item, std::vector<std::uint8_t>& part) {
  if (ratio <= 0.0) return;
  checked_ratio(ratio, "validation_ratio", method);
  if (method == "temporal_global") {  // the latest round(ratio * N) training interactions overall
    std::vector<std::size_t> train;
    for (std::size_t k : global_time_order(data, by_item))
      if (part[k] == kTrain) train.push_back(k);
    const auto take = static_cast<std::size_t>(std::llround(ratio * static_cast<double>(train.size())));
    for (std::size_t j = train.size() - std::min(take, train.size()); j < train.size(); ++j) part[train[j]] = kValidation;
    return;
  }
  if (method == "temporal_user") {  // each user's latest training interactions
    for (const auto& line : user_timelines(data, by_item)) {
      std::vector<std::size_t> train;
      for (std::size_t k : line)
        if (part[k] == kTrain) train.push_back(k);
      if (train.size() < 2) continue;
      const auto m = static_cast<double>(train.size());
      const auto take = std::min<std::size_t>(static_cast<std::size_t>(std::llround(ratio * m)), train.size() - 1);
      for (std::size_t j = train.size() - take; j < train.size(); ++j) part[train[j]] = kValidation;
    }
    return;
  }
  std::vector<std::vector<std::vector<std::size_t>>> per_user(
      static_cast<std::size_t>(data.n_users()));
  std::vector<Interaction> train;
  std::vector<std::size_t> where;
  for (std::size_t k = 0; k < part.size(); ++k) {
    if (part[k] != kTrain) continue;
    train.push_back(data.interactions[k]);
    where.push_back(k);
  }
  for (auto& group : pair_groups(train)) {
    for (auto& k : group) k = where[k];
    per_user[data.interactions[group[0]].user].push_back(std::move(group));
  }
  Rng rng(derive_seed(seed, "split.validation"));
  for (auto& groups : per_user) {
    if (groups.size() < 2) continue;
    shuffle(groups, rng);
    const auto n = static_cast<double>(groups.size());
    const auto take = std::min<std::size_t>(static_cast<std::size_t>(std::llround(ratio * n)),
                                            groups.size() - 1);
    for (std::size_t g = 0; g < take; ++g) {
      for (std::size_t k : groups[g]) part[k] = kValidation;
    }
  }
}

Split assemble(const std::vector<Interaction>& xs, const std::vector<std::uint8_t>& part,
               std::string label) {
  Split split;
  split.label = std::move(label);
  std::unordered_set<std::uint64_t> train_pairs;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (part[k] == kTrain) {
      split.train.push_back(xs[k]);
      train_pairs.insert(pair_key(xs[k]));
    }
  }
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (part[k] == kTrain || part[k] == kLeftOut || train_pairs.count(pair_key(xs[k]))) continue;
    (part[k] == kTest ? split.test : split.validation).push_back(xs[k]);
  }
  return split;
}

/// Where in a user's time-ordered `line` (at least 3 long) leave_last_one_out's
/// validation item sits, by SplitSpec::validation_item.
std::size_t validation_position(const std::vector<Interaction>& xs, const std::vector<std::size_t>& line,
                                const std::string& rule) {
  const std::size_t second_last = line.size() - 2;
  if (rule != "before_test_time") return second_last;  // make_split checked the name
  const std::int64_t test_time = xs[line.back()].timestamp;
  for (std::size_t k = line.size() - 1; k-- > 0;)
    if (xs[line[k]].timestamp < test_time) return k;
  return second_last;
}

Split fixed_split(const Dataset& data, const std::string& fold) {
  const std::vector<std::string>& known = fixed_split_folds();
  if (std::find(known.begin(), known.end(), fold) == known.end()) {
    std::string list;
    for (const auto& f : known) list += (list.empty() ? "" : ", ") + f;
    throw Error("split 'fixed': unknown fold '" + fold + "'; known: " + list);
  }
  const fs::path dir = fs::is_directory(data.source) ? fs::path(data.source)
                                                      : fs::path(data.source).parent_path();
  // u.data's layout and row checks (rating domain, integer ids), one reader.
  std::vector<Interaction> xs = data_detail::read_ml100k_fold(dir / (fold + ".base"), data);
  std::vector<std::uint8_t> part(xs.size(), kTrain);
  const std::vector<Interaction> test = data_detail::read_ml100k_fold(dir / (fold + ".test"), data);
  xs.insert(xs.end(), test.begin(), test.end());
  part.resize(xs.size(), kTest);
  return assemble(xs, part, "fixed " + fold);
}

}  // namespace

std::vector<std::string> split_folds(const SplitSpec& spec) { return split_fold_labels(spec); }

namespace {

Split split_by_method(const Dataset& data, const SplitSpec& spec, const std::string& fold,
                      std::uint64_t seed, bool by_item) {
  const std::string& method = spec.method;
  const std::uint64_t base = spec.seed != 0 ? spec.seed : seed;
  const std::uint64_t split_seed = derive_seed(base, "split");
  const auto& xs = data.interactions;
  const std::size_t n = xs.size();
  std::vector<std::uint8_t> part(n, kTrain);
  std::string label = method;

  if (method == "fixed") {
    Split split = fixed_split(data, fold);
    if (spec.validation_ratio > 0.0) {
      Dataset view;  // carve from the fold's own train part
      view.user_ids = data.user_ids;
      view.interactions = split.train;
      std::vector<std::uint8_t> p(split.train.size(), kTrain);
      carve_validation(view, spec.validation_ratio, method, split_seed, by_item, p);
      std::vector<Interaction> all = split.train;
      all.insert(all.end(), split.test.begin(), split.test.end());
      p.resize(all.size(), kTest);
      return assemble(all, p, split.label);
    }
    return split;
  } else if (method == "random") {
    const double ratio = checked_ratio(spec.test_ratio, "test_ratio", method);
    auto groups = pair_groups(xs);
    Rng rng(split_seed);
    shuffle(groups, rng);
    const auto n_test = static_cast<std::size_t>(std::llround(ratio * groups.size()));
    for (std::size_t g = 0; g < n_test; ++g) {
      for (std::size_t k : groups[g]) part[k] = kTest;
    }
  } else if (method == "kfold") {
    if (spec.folds < 2) {
      throw Error("split.folds must be >= 2 for kfold (got " + std::to_string(spec.folds) + ")");
    }
    std::int64_t which = 0;
    if (!data_detail::parse_int(fold, which) || which < 1 || which > spec.folds) {
      throw Error("split 'kfold': fold '" + fold + "' is not a number in 1.." +
                  std::to_string(spec.folds));
    }
    auto groups = pair_groups(xs);
    Rng rng(split_seed);  // the same permutation for every fold: folds partition the data
    shuffle(groups, rng);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (static_cast<std::int64_t>(g % spec.folds) + 1 != which) continue;
      for (std::size_t k : groups[g]) part[k] = kTest;
    }
    label = "kfold " + fold + "/" + std::to_string(spec.folds);
  } else if (method == "temporal_global") {
    require_time_order(data, method);
    const double ratio = checked_ratio(spec.test_ratio, "test_ratio", method);
    const std::vector<std::size_t> order = global_time_order(data, by_item);
    const auto n_test = static_cast<std::size_t>(std::llround(ratio * static_cast<double>(n)));
    for (std::size_t k = n - n_test; k < n; ++k) part[order[k]] = kTest;
  } else if (method == "temporal_user") {
    require_time_order(data, method);
    const double ratio = checked_ratio(spec.test_ratio, "test_ratio", method);
    for (const auto& line : user_timelines(data, by_item)) {
      const std::size_t m = line.size();
      if (m < 2) continue;
      const auto want = static_cast<std::size_t>(std::llround(ratio * static_cast<double>(m)));
      const std::size_t n_test = std::clamp<std::size_t>(want, 1, m - 1);
      for (std::size_t k = m - n_test; k < m; ++k) part[line[k]] = kTest;
    }
  } else if (method == "leave_last_one_out") {
    require_time_order(data, method);
    const bool cut = spec.validation && spec.validation_train == "before_validation_item";
    for (const auto& line : user_timelines(data, by_item)) {
      const std::size_t m = line.size();
      if (m < 2) continue;
      part[line[m - 1]] = kTest;
      if (!spec.validation || m < 3) continue;
      const std::size_t v = validation_position(xs, line, spec.validation_item);
      part[line[v]] = kValidation;
      if (cut)
        for (std::size_t k = v + 1; k + 1 < m; ++k) part[line[k]] = kLeftOut;
    }
    if (spec.validation && spec.validation_item != "second_last") label += ", validation " + spec.validation_item;
    if (cut) label += ", training before it";
    return assemble(xs, part, label);  // no validation_ratio carving
  } else if (method == "source") {
    if (data.source_part.size() != n) {
      throw Error("split 'source' needs a dataset that ships its own train/test parts "
                  "(format implicit-train-test); '" + data.name + "' (" + data.format +
                  ") has none");
    }
    for (std::size_t k = 0; k < n; ++k) part[k] = data.source_part[k] == 1 ? kTest : kTrain;
  } else {
    std::string known;
    for (const auto& m : kMethods) known += (known.empty() ? "" : ", ") + m;
    throw Error("unknown split method '" + method + "'; known: " + known);
  }
  carve_validation(data, spec.validation_ratio, method, split_seed, by_item, part);
  return assemble(xs, part, label);
}

}  // namespace

Split make_split(const Dataset& data, const SplitSpec& spec, const std::string& fold,
                 std::uint64_t seed) {
  if (spec.ties != "source" && spec.ties != "item")
    throw Error("split.ties must be \"source\" or \"item\" (got \"" + spec.ties + "\")");
  if (spec.validation_item != "second_last" && spec.validation_item != "before_test_time")
    throw Error("split.validation_item must be \"second_last\" or \"before_test_time\" (got \"" +
                spec.validation_item + "\")");
  if (spec.validation_train != "all" && spec.validation_train != "before_validation_item")
    throw Error("split.validation_train must be \"all\" or \"before_validation_item\" (got \"" +
                spec.validation_train + "\")");
  Split split = split_by_method(data, spec, fold, seed, spec.ties == "item");
  split.ties_by_item = spec.ties == "item";
  return split;
}

Split nested_validation_split(const Dataset& data, const SplitSpec& spec, const Split& outer,
                              std::uint64_t seed) {
  Dataset view;  // the outer training part, in its order (user ids give n_users)
  view.user_ids = data.user_ids;
  view.has_timestamps = data.has_timestamps;
  view.rows_in_time_order = data.rows_in_time_order;
  view.interactions = outer.train;
  std::vector<std::uint8_t> part(view.interactions.size(), kTrain);
  if (spec.method == "leave_last_one_out") {
    // The latest training item whose pair the user has only once: a repeat
    // would be dropped as a leak (assemble) and lost to both parts.
    // Under validation_item = "before_test_time", the latest such item timed
    // strictly before the user's own validation item, as that one is before
    // the test item (under validation_train = "all" train keeps the rest of
    // the test item's second, later than the validation item); the latest
    // such item when none is. Under "before_validation_item" what follows
    // the nested item in the user's training timeline is left out too.
    std::unordered_map<std::uint64_t, int> times;
    for (const Interaction& x : view.interactions) ++times[pair_key(x)];
    std::unordered_map<UserId, std::int64_t> before;
    if (spec.validation_item == "before_test_time")
      for (const Interaction& x : outer.validation) before[x.user] = x.timestamp;
    for (const auto& line : user_timelines(view, outer.ties_by_item)) {
      if (line.size() < 2) continue;
      const auto cut = before.find(view.interactions[line.front()].user);
      const std::size_t* latest = nullptr;  // the latest single pair, the fallback
      const std::size_t* chosen = nullptr;
      for (auto k = line.rbegin(); k != line.rend() && !chosen; ++k) {
        const Interaction& x = view.interactions[*k];
        if (times[pair_key(x)] != 1) continue;
        if (!latest) latest = &*k;
        if (cut == before.end() || x.timestamp < cut->second) chosen = &*k;
      }
      if (!chosen) chosen = latest;
      if (!chosen) continue;
      part[*chosen] = kValidation;
      if (spec.validation_train == "before_validation_item")
        for (const std::size_t* k = chosen + 1; k != line.data() + line.size(); ++k) part[*k] = kLeftOut;
    }
  } else {
    const std::uint64_t base = spec.seed != 0 ? spec.seed : seed;
    carve_validation(view, spec.validation_ratio, spec.method, derive_seed(base, "split.nested"), outer.ties_by_item,
                     part);
  }
  Split inner = assemble(view.interactions, part, outer.label + ", nested validation");
  inner.ties_by_item = outer.ties_by_item;
  return inner;
}

}  // namespace recfuse
