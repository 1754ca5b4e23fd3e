// The episodes of top-K REINFORCE (reinforce_topk.hpp): what a session
// records step by step for the learning update, and its part of the model
// file (reinforce_topk_io.hpp). load_episode refuses every offset, size or
// index that the update would read outside the episode or the catalogue.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rl_common.hpp"

namespace recfuse::rl {

struct ReinforceStep {
  std::size_t cand_at = 0;      // offset into ReinforceEpisode::cands; unused when catalogue
  int n_cands = 0;
  bool catalogue = false;       // logged step: the whole catalogue, β learned
  int action = -1;              // index of the clicked item in the candidates, −1 none
  double behavior = 0;          // π of the acting policy for the clicked item (recorded)
  // objectives "slate" and "positions" (a step of this policy's own act):
  std::ptrdiff_t slate_at = -1; // offset of the slate in ReinforceEpisode::slates, −1 none
  int slate_k = 0;              // its size
  int choice = -1;              // the clicked slate position, −1 none
  double reward = 0, ret = 0;
};

struct ReinforceEpisode {
  std::vector<double> phi;      // steps x D
  std::vector<ItemId> cands;
  std::vector<int> slates;      // objectives "slate", "positions": K candidate indices per own step
  std::vector<double> slate_terms;  // beside slates: each position's log π_acting(a_p | s, a_<p)
  std::vector<ReinforceStep> steps;

  /// log P(slate) of step s under the acting policy: its positions' terms
  /// summed in order (as slate_log_probability sums them when acting).
  double slate_log_behavior(const ReinforceStep& s) const {
    double log_p = 0;
    for (int q = 0; q < s.slate_k; ++q) log_p += slate_terms[static_cast<std::size_t>(s.slate_at + q)];
    return log_p;
  }
};

inline void save_episode(ModelWriter& w, const ReinforceEpisode& ep) {
  w.values(ep.phi);
  w.values(ep.cands);
  w.values(ep.slates);
  w.values(ep.slate_terms);
  w.value<std::uint64_t>(ep.steps.size());
  for (const ReinforceStep& s : ep.steps) {  // field by field: the struct's padding is not part of the file
    w.value<std::uint64_t>(s.cand_at);
    w.value<std::int32_t>(s.n_cands);
    w.value<std::uint8_t>(s.catalogue);
    w.value<std::int32_t>(s.action);
    w.value(s.behavior);
    w.value<std::int64_t>(s.slate_at);
    w.value<std::int32_t>(s.slate_k);
    w.value<std::int32_t>(s.choice);
    w.value(s.reward);
    w.value(s.ret);
  }
}

/// What save_episode wrote, checked against the state width `dim` and the
/// catalogue [0, n_items).
inline ReinforceEpisode load_episode(ModelReader& r, ItemId n_items, int dim) {
  ReinforceEpisode ep;
  ep.phi = r.values<double>("an episode's states");
  ep.cands = r.values<ItemId>("an episode's candidates");
  ep.slates = r.values<int>("an episode's slates");
  ep.slate_terms = r.values<double>("an episode's slate position log-probabilities");
  r.expect("the number of an episode's slate position log-probabilities",
           static_cast<std::int64_t>(ep.slate_terms.size()), static_cast<std::int64_t>(ep.slates.size()));
  for (const double x : ep.slate_terms)  // observe records finite ones only; one NaN would reach θ
    if (!std::isfinite(x)) r.fail("an episode's slate position log-probability", std::to_string(x) + " is not finite");
  const auto n = r.value<std::uint64_t>("the number of an episode's steps");
  for (std::uint64_t t = 0; t < n; ++t) {
    ReinforceStep s;
    s.cand_at = static_cast<std::size_t>(r.value<std::uint64_t>("a step's candidate offset"));
    s.n_cands = r.value<std::int32_t>("a step's number of candidates");
    s.catalogue = r.value<std::uint8_t>("a step's catalogue flag") != 0;
    s.action = r.value<std::int32_t>("a step's action");
    s.behavior = r.value<double>("a step's behaviour probability");
    s.slate_at = static_cast<std::ptrdiff_t>(r.value<std::int64_t>("a step's slate offset"));
    s.slate_k = r.value<std::int32_t>("a step's slate size");
    s.choice = r.value<std::int32_t>("a step's clicked slate position");
    s.reward = r.value<double>("a step's reward");
    s.ret = r.value<double>("a step's return");
    // What cands_of and the slate reads of the learning step index must be inside the episode.
    const bool candidates = !s.catalogue && (s.action >= 0 || s.slate_at >= 0);
    if (s.catalogue ? s.action < 0 || s.action >= n_items : s.action < -1 || (s.action >= 0 && s.action >= s.n_cands))
      r.fail("a step's action", std::to_string(s.action) + " is not one of its candidates");
    // Compared without sums that could wrap: a corrupt offset is any 64 bits.
    if (candidates && (s.n_cands < 1 || s.cand_at > ep.cands.size() ||
                       static_cast<std::size_t>(s.n_cands) > ep.cands.size() - s.cand_at))
      r.fail("a step's candidates", "are outside the episode's");
    if (s.slate_at >= 0) {
      const auto at = static_cast<std::size_t>(s.slate_at);
      if (s.catalogue || s.slate_k < 1 || at > ep.slates.size() ||
          static_cast<std::size_t>(s.slate_k) > ep.slates.size() - at)
        r.fail("a step's slate", "is outside the episode's");
      if (s.choice < -1 || s.choice >= s.slate_k)
        r.fail("a step's clicked slate position", std::to_string(s.choice) + " is outside its slate");
      for (int j = 0; j < s.slate_k; ++j)
        if (const int a = ep.slates[static_cast<std::size_t>(s.slate_at + j)]; a < 0 || a >= s.n_cands)
          r.fail("a step's slate", "names " + std::to_string(a) + ", not one of its candidates");
    }
    if (s.slate_at < 0 && s.choice != -1)
      r.fail("a step's clicked slate position", std::to_string(s.choice) + " on a step without a slate");
    ep.steps.push_back(s);
  }
  r.expect("the size of an episode's states", static_cast<std::int64_t>(ep.phi.size()),
           static_cast<std::int64_t>(n) * dim);
  for (const ItemId i : ep.cands)
    if (i < 0 || i >= n_items) r.fail("an episode's candidate", std::to_string(i) + " is outside the catalogue");
  return ep;
}

}  // namespace recfuse::rl
