// The checks that the bandit and rl model files run on load, tested on
// hand-built parts: DQN's and SlateQ's replay buffers (replay_ring.hpp),
// top-K REINFORCE's episodes (reinforce_episode.hpp) and the bandits' ridge
// models (ridge_models.hpp). A corrupt value must be refused with a message
// naming it, never read later by train_step or score: these are the values
// that a whole-file test cannot reach without rebuilding the file byte by byte.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "plugins/bandit/ridge_models.hpp"
#include "plugins/rl/reinforce_episode.hpp"
#include "plugins/rl/replay_ring.hpp"

using namespace recfuse;
using namespace recfuse::rl;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t kD = 2;  // state width
constexpr ItemId kItems = 5;   // catalogue

/// A DQN ring of capacity 3 holding two entries, the second with 2 next candidates.
DqnReplay dqn_replay() {
  DqnReplay b;
  b.capacity = 3;
  b.allocate(kD);
  b.widen(1);
  std::size_t at = b.claim();
  b.phi_at(at, kD)[0] = 0.5;
  b.action[at] = 1;
  b.reward[at] = 1.0;
  b.discount[at] = 0.9;
  b.next_cands[at * b.width] = 4;
  b.n_next[at] = 1;
  b.widen(2);
  at = b.claim();
  b.action[at] = 3;
  b.next_cands[at * b.width] = 0;
  b.next_cands[at * b.width + 1] = 2;
  b.n_next[at] = 2;
  return b;
}

SlateQReplay slateq_replay() {
  SlateQReplay b;
  b.capacity = 2;
  b.allocate(kD, 2);
  const std::size_t at = b.claim();
  b.action[at] = kNoItem;  // ⊥: no click
  b.next_slate_at(at)[0] = 4;
  b.next_slate_at(at)[1] = 1;
  b.ret[at] = 0.7;
  b.discount[at] = 0.81;
  b.next_slate_at(1)[0] = b.next_slate_at(1)[1] = 0;  // the unused entry holds items too
  return b;
}

/// save, then load and check as the model's load does; returns the copy.
template <typename Replay>
Replay round_trip(const Replay& b, std::size_t capacity) {
  std::stringstream file;
  ModelWriter w(file);
  b.save(w);
  ModelReader r(file, "test");
  Replay got;
  got.load(r);
  r.finish();
  got.check(r, capacity, kD, kItems);
  return got;
}

std::stringstream ridge_file(std::int32_t d, double lambda, const std::vector<double>& data) {
  std::stringstream file;
  ModelWriter w(file);
  w.value<std::int32_t>(d);
  w.value(lambda);
  w.values(data);
  return file;
}

}  // namespace

TEST_CASE("a DQN replay buffer survives its file and the ring advances over the oldest entry", "[rl][save_load]") {
  DqnReplay b = dqn_replay();
  const DqnReplay got = round_trip(b, 3);
  CHECK(got.size == 2);
  CHECK(got.next == 2);
  CHECK(got.width == 2);
  CHECK(got.phi == b.phi);
  CHECK(got.next_cands == b.next_cands);
  CHECK(got.n_next == b.n_next);
  CHECK(got.reward == b.reward);
  // widen kept the first entry's candidate in its slot of the wider layout
  CHECK(got.next_cands_at(0)[0] == 4);
  CHECK(got.next_cands_at(0)[1] == kNoItem);
  CHECK(b.claim() == 2);
  CHECK(b.claim() == 0);  // full: the oldest entry is next
  CHECK(b.size == 3);
}

TEST_CASE("a DQN replay file with a missing next candidate after the first is refused", "[rl][save_load]") {
  DqnReplay b = dqn_replay();
  b.next_cands[1 * b.width + 1] = kNoItem;  // entry 1 says 2 candidates, has 1
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("a replay next-candidate count") && Contains("does not fit"));
  b = dqn_replay();
  b.n_next[0] = 3;  // more than the width
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("a replay next-candidate count 3"));
  b = dqn_replay();
  b.next_cands[1] = 7;
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("a replay next candidate 7 is outside the catalogue"));
  b = dqn_replay();
  b.n_next.push_back(0);
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the number of replay next-candidate counts is 4, expected 3"));
  b = dqn_replay();
  b.next_cands.pop_back();
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the size of the replay next candidates is 5, expected 6"));
  // a width whose product with the capacity wraps to the file's 2 candidates
  b = dqn_replay();
  b.next_cands.resize(2);
  b.width = std::numeric_limits<std::size_t>::max() / 3 + 1;  // 3 x width = 2^64 + 2
  REQUIRE(b.capacity * b.width == b.next_cands.size());
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the replay's next-candidate width") && Contains("is too large"));
}

TEST_CASE("a replay ring that would index outside itself or the catalogue is refused", "[rl][save_load]") {
  DqnReplay b = dqn_replay();
  CHECK_THROWS_WITH(round_trip(b, 4), Contains("the replay capacity is 3, expected 4"));
  b.next = 3;
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the replay buffer has size 2 and next 3"));
  b = dqn_replay();
  b.size = 4;
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the replay buffer has size 4"));
  b = dqn_replay();
  b.action[0] = kNoItem;  // DQN has no ⊥ action
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("a replay action -1 is outside the catalogue"));
  b = dqn_replay();
  b.next_phi.pop_back();
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the size of the replay next states"));
  b = dqn_replay();
  b.reward.push_back(0);
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the number of replay rewards"));
  b = dqn_replay();
  b.discount.pop_back();
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the number of replay discounts is 2, expected 3"));
  b = dqn_replay();
  b.action.push_back(0);
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the number of replay actions is 4, expected 3"));
  b = dqn_replay();
  b.phi.push_back(0);
  CHECK_THROWS_WITH(round_trip(b, 3), Contains("the size of the replay states is 7, expected 6"));
  // nothing allocated yet (no feedback): an empty ring is a valid file, a non-empty size is not
  DqnReplay empty;
  empty.capacity = 3;
  CHECK(round_trip(empty, 3).size == 0);
  empty.size = 1;
  CHECK_THROWS_WITH(round_trip(empty, 3), Contains("the replay buffer has size 1"));
}

TEST_CASE("a SlateQ replay buffer keeps its no-click actions and refuses items outside the catalogue",
          "[rl][save_load]") {
  SlateQReplay b = slateq_replay();
  const SlateQReplay got = round_trip(b, 2);
  CHECK(got.k == 2);
  CHECK(got.action[0] == kNoItem);
  CHECK(got.next_slate == b.next_slate);
  CHECK(got.ret == b.ret);
  b.next_slate[1] = kItems;
  CHECK_THROWS_WITH(round_trip(b, 2), Contains("a replay next slate item 5 is outside the catalogue"));
  b = slateq_replay();
  b.action[1] = -2;
  CHECK_THROWS_WITH(round_trip(b, 2), Contains("a replay action -2"));
  b = slateq_replay();
  b.ret.pop_back();
  CHECK_THROWS_WITH(round_trip(b, 2), Contains("the number of replay returns is 1, expected 2"));
  b = slateq_replay();
  b.next_slate.pop_back();
  CHECK_THROWS_WITH(round_trip(b, 2), Contains("the size of the replay next slates is 3, expected 4"));
  b = slateq_replay();
  b.k = -1;
  CHECK_THROWS_WITH(round_trip(b, 2), Contains("the replay's slate size is -1"));
  b = slateq_replay();
  b.k = 0;  // entries but no slate size: train_step would bootstrap from empty slates
  CHECK_THROWS_WITH(round_trip(b, 2), Contains("the replay buffer has size 1"));
}

namespace {

/// One episode of two steps over 3 candidates (offsets 0 and 3 in cands).
ReinforceEpisode episode() {
  ReinforceEpisode ep;
  ep.phi.assign(2 * kD, 0.25);
  ep.cands = {0, 1, 2, 3, 4, 0};
  ep.slates = {0, 2, 1, 0};
  ep.slate_terms = {-1.25, -0.5, -0.75, -2.0};
  for (int t = 0; t < 2; ++t) {
    ReinforceStep s;
    s.cand_at = static_cast<std::size_t>(3 * t);
    s.n_cands = 3;
    s.action = 1;
    s.behavior = 0.4;
    s.slate_at = 2 * t;
    s.slate_k = 2;
    s.choice = t == 0 ? 1 : -1;
    ep.steps.push_back(s);
  }
  return ep;
}

ReinforceEpisode episode_round_trip(const ReinforceEpisode& ep) {
  std::stringstream file;
  ModelWriter w(file);
  save_episode(w, ep);
  ModelReader r(file, "test");
  ReinforceEpisode got = load_episode(r, kItems, static_cast<int>(kD));
  r.finish();
  return got;
}

}  // namespace

TEST_CASE("a REINFORCE episode survives its file", "[rl][save_load]") {
  const ReinforceEpisode ep = episode();
  const ReinforceEpisode got = episode_round_trip(ep);
  CHECK(got.phi == ep.phi);
  CHECK(got.cands == ep.cands);
  CHECK(got.slates == ep.slates);
  CHECK(got.slate_terms == ep.slate_terms);
  REQUIRE(got.steps.size() == 2);
  CHECK(got.steps[1].cand_at == 3);
  CHECK(got.steps[1].slate_at == 2);
  CHECK(got.steps[1].behavior == 0.4);
  CHECK(got.steps[0].choice == 1);
  CHECK(got.steps[1].choice == -1);
}

TEST_CASE("a REINFORCE episode whose offsets wrap past the end is refused", "[rl][save_load]") {
  // offset + count overflows to a small number: a check by sum would pass it
  ReinforceEpisode ep = episode();
  ep.steps[1].cand_at = std::numeric_limits<std::size_t>::max() - 1;
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's candidates are outside the episode's"));
  ep = episode();
  ep.steps[1].n_cands = 4;  // 3 + 4 > 6
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's candidates are outside the episode's"));
  ep = episode();
  ep.steps[0].slate_at = std::numeric_limits<std::ptrdiff_t>::max();
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's slate is outside the episode's"));
  ep = episode();
  ep.slates[3] = 3;  // not one of the step's 3 candidates
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("names 3, not one of its candidates"));
  ep = episode();
  ep.steps[0].action = 3;
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's action 3 is not one of its candidates"));
  ep = episode();
  ep.cands[5] = kItems;
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("an episode's candidate 5 is outside the catalogue"));
  ep = episode();
  ep.steps[0].choice = 2;  // slates of 2: positions 0 and 1
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's clicked slate position 2 is outside its slate"));
  ep = episode();
  ep.steps[1].choice = -2;
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's clicked slate position -2 is outside its slate"));
  ep = episode();
  ep.steps[1].slate_at = -1;
  ep.steps[1].slate_k = 0;
  ep.steps[1].choice = 0;
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("a step's clicked slate position 0 on a step without a slate"));
  ep = episode();
  ep.phi.pop_back();
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("the size of an episode's states"));
  ep = episode();
  ep.slate_terms.pop_back();  // ratio "position" reads one per slate entry
  CHECK_THROWS_WITH(episode_round_trip(ep),
                    Contains("the number of an episode's slate position log-probabilities is 3, expected 4"));
  ep = episode();
  ep.slate_terms[2] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(episode_round_trip(ep), Contains("an episode's slate position log-probability nan is not finite"));
}

TEST_CASE("a ridge model file of dimension 0 is refused, not divided by", "[bandit][save_load]") {
  RidgeModels m;
  std::stringstream zero = ridge_file(0, 1.0, {});
  ModelReader r0(zero, "test");
  CHECK_THROWS_WITH(m.load(r0, 0, 1.0), Contains("the ridge dimension is 0, not a feature dimension"));
  // a whole file of d = 2 (one slot of 2 x 4 values) loads; a partial slot does not
  std::stringstream two = ridge_file(2, 1.0, std::vector<double>(8, 0.5));
  ModelReader r2(two, "test");
  m.load(r2, 2, 1.0);
  CHECK(m.size() == 1);
  CHECK(m.theta(0)[1] == 0.5);
  std::stringstream partial = ridge_file(2, 1.0, std::vector<double>(7, 0.5));
  ModelReader rp(partial, "test");
  CHECK_THROWS_WITH(m.load(rp, 2, 1.0), Contains("not whole slots of 8"));
}
