// Scenario -> trial specs: fold x algorithm x grid point x seed, each with a
// content hash so that a resumed sweep recognises work already done.
#include <charconv>
#include <cmath>
#include <set>

#include "recfuse/types.hpp"
#include "scenario/scenario.hpp"
#include "util/sha256.hpp"

namespace recfuse {
namespace {

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip: stable text
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

/// Labels show values as written: strings bare, floats with a point.
std::string label_value(const ParamValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return number(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return std::get<std::string>(v);
}

/// Typed, unambiguous rendering for hashing (1 and 1.0 differ; strings quoted).
std::string canonical_value(const ParamValue& v) {
  if (std::holds_alternative<std::string>(v)) {
    const std::string& s = std::get<std::string>(v);
    std::string out(1, 's');  // appended piecewise: GCC 12 warns on "s" + string (PR105329)
    out += std::to_string(s.size());
    out += ':';
    out += s;
    return out;
  }
  std::string out(1, "ifb"[v.index()]);
  out += ':';
  out += label_value(v);
  return out;
}

std::string b(bool v) { return v ? "1" : "0"; }

std::string canonical_dataset(const DatasetSpec& d) {
  std::string s = "format=" + d.format + ";path=" + d.path + ";name=" + d.name +
                  ";skip_bad_rows=" + b(d.skip_bad_rows);
  if (d.format == "delimited") {
    const DelimitedSpec& c = d.delimited;
    s += ";sep=" + c.separator + ";header=" + b(c.header) + ";cols=" +
         std::to_string(c.user_column) + "," + std::to_string(c.item_column) + "," +
         std::to_string(c.rating_column) + "," + std::to_string(c.timestamp_column);
  }
  if (d.format == "synthetic") {
    const SyntheticSpec& y = d.synthetic;
    s += ";users=" + std::to_string(y.users) + ";items=" + std::to_string(y.items) +
         ";factors=" + std::to_string(y.factors) + ";genres=" + std::to_string(y.genres) +
         ";ipu=" + number(y.interactions_per_user) + ";skew=" + number(y.popularity_skew) +
         ";noise=" + number(y.noise) + ";seed=" + std::to_string(y.seed);
  }
  return s;
}

std::string canonical_filter(const FilterSpec& f) {
  return "min_rating=" + (f.min_rating ? number(*f.min_rating) : std::string("none")) +
         ";implicit=" + b(f.implicit) + ";min_user=" + std::to_string(f.min_user_interactions) +
         ";min_item=" + std::to_string(f.min_item_interactions);
}

// The list of folds to run is not part of a fold's identity: fold 3 of 5 is
// the same work whether or not folds 1 and 2 are selected too.
std::string canonical_split(const SplitSpec& p) {
  return "method=" + p.method + ";test_ratio=" + number(p.test_ratio) +
         ";validation_ratio=" + number(p.validation_ratio) + ";validation=" + b(p.validation) +
         ";folds=" + std::to_string(p.folds) + ";seed=" + std::to_string(p.seed) + ";ties=" + p.ties +
         (p.validation_item == SplitSpec{}.validation_item ? "" : ";validation_item=" + p.validation_item) +
         (p.validation_train == SplitSpec{}.validation_train ? "" : ";validation_train=" + p.validation_train);
}

std::string canonical_evaluation(const EvaluationSpec& e) {
  std::string s = "protocol=" + e.protocol + ";negatives=" + std::to_string(e.sampled_negatives) +
                  ";metrics=";
  for (const auto& m : e.metrics) s += m + ",";
  s += ";cutoffs=";
  for (auto c : e.cutoffs) s += std::to_string(c) + ",";
  s += ";bootstrap=" + std::to_string(e.bootstrap) +
       ";relevance_threshold=" + number(e.relevance_threshold) +
       ";max_latency_users=" + std::to_string(e.max_latency_users);
  if (e.target != "test") s += ";target=" + e.target;  // keeps earlier ids stable
  if (e.nested_validation) s += ";nested_validation=1";
  // The segment definitions shape the record's "segments" (and its
  // per-user item-segment vectors): a record of other segments must not be
  // resumed. Written only when not the defaults, so earlier ids stay.
  const EvaluationSpec defaults;
  if (e.cold_user_max != defaults.cold_user_max) s += ";cold_user_max=" + std::to_string(e.cold_user_max);
  if (e.head_fraction != defaults.head_fraction) s += ";head_fraction=" + number(e.head_fraction);
  // Explanations change the record, not its metrics; in the id (when on) so
  // that turning them on does not resume records without them. The fitted
  // models do not depend on it: --fit-cache reads them back (fit_cache.hpp).
  if (e.explain_users != defaults.explain_users) s += ";explain_users=" + std::to_string(e.explain_users);
  return s;
}

/// Cartesian product of the grid, keys in map (sorted) order, the last key
/// varying fastest. One empty point when there is no grid.
std::vector<std::map<std::string, ParamValue>> grid_points(const AlgorithmSpec& a) {
  std::vector<std::map<std::string, ParamValue>> points{{}};
  for (const auto& [key, values] : a.grid) {
    std::vector<std::map<std::string, ParamValue>> next;
    next.reserve(points.size() * values.size());
    for (const auto& p : points) {
      for (const auto& v : values) {
        auto q = p;
        q[key] = v;
        next.push_back(std::move(q));
      }
    }
    points = std::move(next);
  }
  return points;
}

std::string point_label(const std::string& name, const std::map<std::string, ParamValue>& point) {
  if (point.empty()) return name;
  std::string s = name + "[";
  bool first = true;
  for (const auto& [k, v] : point) {
    if (!first) s += ",";
    first = false;
    s += k + "=" + label_value(v);
  }
  return s + "]";
}

/// The child tree, canonically: name, plugin, params, children (recursive).
std::string canonical_children(const std::vector<AlgorithmSpec>& children) {
  std::string s;
  for (const auto& c : children) {
    s += "{" + c.name + ":" + c.plugin + ":";
    for (const auto& [k, v] : c.params) s += k + "=" + canonical_value(v) + ";";
    s += canonical_children(c.children) + "}";
  }
  return s;
}

std::string canonical_params(const std::map<std::string, ParamValue>& params) {
  std::string s;
  for (const auto& [k, v] : params) s += k + "=" + canonical_value(v) + ";";
  return s;
}

/// The environment and the simulated protocols' settings; only part of the
/// identity of online and off-policy trials (offline ids stay as they were).
std::string canonical_simulation(const Scenario& sc, const std::string& protocol) {
  const OnlineSpec& o = sc.online;
  return "\nprotocol=" + protocol + "\nenvironment=" + sc.environment.plugin + ":" +
         canonical_params(sc.environment.params) + "\nonline=log_episodes=" +
         std::to_string(o.log_episodes) + ";logging=" + o.logging_policy + ";epsilon=" +
         number(o.logging_epsilon) + ";episodes=" + std::to_string(o.episodes) +
         ";ope_episodes=" + std::to_string(o.ope_episodes) + ";batch=" + std::to_string(o.batch) +
         ";window=" + std::to_string(o.window) + ";weight_cap=" + number(o.weight_cap) +
         // only where it acts, so that the ids of other logging policies stay as they were
         (o.logging_reads_temperature() ? ";temperature=" + number(o.logging_temperature) : "");
}

/// Report label suffix of a protocol: "linucb (online)".
std::string protocol_suffix(const std::string& protocol) {
  if (protocol == "online") return " (online)";
  if (protocol == "off_policy") return " (off-policy)";
  return "";
}

/// What every trial of one protocol shares in its identity. The simulated
/// protocols build their world from the whole (filtered) dataset and read
/// only `bootstrap` of [evaluation] (schema::evaluation_key_protocols), so
/// their text holds the defaults for the split and for the offline-only
/// keys: in a scenario that also runs offline, a changed cutoff or split
/// reruns the offline trials only. A scenario without an offline protocol
/// has those defaults already (its [split] and offline-only keys are
/// refused), so its ids are what they were.
std::string common_identity(const Scenario& s, bool offline) {
  EvaluationSpec evaluation;
  if (offline) {
    evaluation = s.evaluation;
  } else {
    evaluation.bootstrap = s.evaluation.bootstrap;
  }
  return "recfuse-trial-v2\nscenario=" + s.name + "\ndataset=" + canonical_dataset(s.dataset) +
         "\nfilter=" + canonical_filter(s.filter) +
         "\nsplit=" + canonical_split(offline ? s.split : SplitSpec{}) +
         "\nevaluation=" + canonical_evaluation(evaluation);
}

}  // namespace

std::vector<TrialSpec> expand_trials(const Scenario& s) {
  std::vector<TrialSpec> out;
  std::set<std::string> ids;
  for (const std::string& protocol : s.protocols) {
   const bool offline = protocol == "offline";
   const std::string common = common_identity(s, offline);
   // The simulated protocols build their world from the whole dataset: no folds.
   const std::vector<std::string> folds = offline ? split_fold_labels(s.split)
                                                  : std::vector<std::string>{""};
   for (const std::string& fold : folds) {
    for (std::size_t ai = 0; ai < s.algorithms.size(); ++ai) {
      const AlgorithmSpec& a = s.algorithms[ai];
      for (const auto& point : grid_points(a)) {
        std::map<std::string, ParamValue> params = a.params;
        for (const auto& [k, v] : point) params[k] = v;
        const std::string params_text = canonical_params(params);
        for (std::uint64_t seed : s.seeds) {
          TrialSpec t;
          t.index = out.size();
          t.algorithm = point_label(a.name, point) + protocol_suffix(protocol);
          t.protocol = protocol;
          t.plugin = a.plugin;
          t.params = params;
          t.fold = fold;
          t.seed = seed;
          t.algorithm_index = ai;
          // The label is part of the identity: two entries of one plugin with
          // equal parameters are still two trials with two records.
          const std::string key = common + "\nfold=" + fold + "\nalgorithm=" + t.algorithm +
                                  "\nplugin=" + a.plugin + "\nparams=" + params_text +
                                  "\nseed=" + std::to_string(seed) +
                                  (a.children.empty() ? std::string()
                                                      : "\nchildren=" + canonical_children(a.children)) +
                                  (offline ? std::string() : canonical_simulation(s, protocol));
          t.id = sha256_hex(key).substr(0, 16);
          // Two trials of one id would share one record and count twice in
          // the report (e.g. an entry named like another's grid point).
          if (!ids.insert(t.id).second)
            throw Error(s.file + ": trial '" + t.algorithm + "' (fold '" + fold + "', seed " +
                        std::to_string(seed) + ") would run twice; give the entries distinct "
                        "names and grid values");
          out.push_back(std::move(t));
        }
      }
    }
   }
  }
  return out;
}

}  // namespace recfuse
