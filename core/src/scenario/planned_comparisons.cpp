#include "scenario/planned_comparisons.hpp"

#include <map>
#include <string>

#include "util/text.hpp"

namespace recfuse::scenario_detail {
namespace {

/// "a, b, c", the first 20 only (a grid can expand into hundreds of labels).
std::string listing(const std::vector<std::string>& labels) {
  constexpr std::size_t kShown = 20;
  if (labels.size() <= kShown) return join(labels);
  return join(std::vector<std::string>(labels.begin(), labels.begin() + kShown)) + ", ... (" +
         std::to_string(labels.size()) + " in all)";
}

}  // namespace

void parse_compare(const Section& s, std::vector<PlannedComparison>& out) {
  if (!s.has("compare")) return;
  const std::string pair = "[\"treatment\", \"baseline\"] pair";
  const std::string pair_shape = "a " + pair + " of algorithm labels";
  const toml::node& value = *s.table().get("compare");
  const toml::array* pairs = value.as_array();
  if (!pairs) {
    s.fail("compare",
           "expected an array of " + pair + "s of algorithm labels, got " + node_type_name(value));
  }
  if (pairs->empty()) s.fail("compare", "expected at least one " + pair);
  for (const toml::node& e : *pairs) {
    const toml::array* entry = e.as_array();
    if (!entry) {
      s.fail_at(e, "compare", "expected " + pair_shape + ", got " + node_type_name(e));
    }
    if (entry->size() != 2) {
      s.fail_at(e, "compare", "expected " + pair_shape + ", got an array of " +
                                  std::to_string(entry->size()) + " element(s)");
    }
    std::string labels[2];
    for (std::size_t i = 0; i < 2; ++i) {
      const toml::node& n = *entry->get(i);
      auto label = n.value_exact<std::string>();
      if (!label) {
        s.fail_at(n, "compare", "expected " + pair_shape + ", got an element of type " +
                                    node_type_name(n));
      }
      if (label->empty()) s.fail_at(n, "compare", "labels must not be empty");
      labels[i] = *label;
    }
    if (labels[0] == labels[1]) {
      s.fail_at(e, "compare", "compares '" + labels[0] + "' with itself; the baseline must be "
                                  "another algorithm");
    }
    // Both tests are two-sided: b vs a asks what a vs b asks, and a repeated
    // pair would count one hypothesis twice in Holm's family.
    for (const auto& p : out) {
      if ((p.treatment == labels[0] && p.baseline == labels[1]) ||
          (p.treatment == labels[1] && p.baseline == labels[0])) {
        s.fail_at(e, "compare", "'" + labels[0] + "' vs '" + labels[1] +
                                    "' is already planned (as '" + p.treatment + "' vs '" +
                                    p.baseline + "')");
      }
    }
    out.push_back({labels[0], labels[1]});
  }
}

// Both sides of a pair must run under one protocol: only trials of one
// protocol share metrics and pair on (fold, seed).
void check_compare_labels(const Section& evaluation, const Scenario& sc) {
  if (sc.evaluation.compare.empty()) return;
  std::vector<std::string> labels;
  std::map<std::string, std::string> protocol_of;
  for (const TrialSpec& t : expand_trials(sc)) {
    if (protocol_of.emplace(t.algorithm, t.protocol).second) labels.push_back(t.algorithm);
  }
  const toml::array& pairs = *evaluation.array("compare");
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const toml::array& pair = *pairs.get(i)->as_array();
    const PlannedComparison& p = sc.evaluation.compare[i];
    const std::string* sides[2] = {&p.treatment, &p.baseline};
    for (std::size_t j = 0; j < 2; ++j) {
      const std::string& label = *sides[j];
      if (protocol_of.count(label)) continue;
      std::vector<std::string> points;  // a grid's labels when `label` is its bare name
      for (const auto& l : labels) {
        if (l.rfind(label + "[", 0) == 0) points.push_back(l);
      }
      std::string msg = "unknown algorithm label '" + label + "'; ";
      if (!points.empty()) {
        msg += "'" + label + "' sweeps a grid, name one of its points: " + listing(points);
      } else {
        if (const std::string near = closest_match(label, labels); !near.empty())
          msg += "did you mean '" + near + "'? ";
        msg += "labels: " + listing(labels);
      }
      evaluation.fail_at(*pair.get(j), "compare", msg);
    }
    const std::string& pa = protocol_of[p.treatment];
    const std::string& pb = protocol_of[p.baseline];
    if (pa != pb) {
      evaluation.fail_at(*pairs.get(i), "compare",
                         "'" + p.treatment + "' runs under protocol " + pa + " and '" +
                             p.baseline + "' under " + pb +
                             "; a comparison pairs trials of one protocol");
    }
  }
}

}  // namespace recfuse::scenario_detail
