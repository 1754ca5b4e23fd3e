// explain of stacking and cascade (plugins/fusion): stacking names each
// child's term (w_c + g_c h) ŝ_c of its score and the rest (popularity,
// history, intercept), then the reason of the child with the largest term;
// cascade says where child 0 retrieved the item and child 1's score and
// reason, or, for an item not retrieved, child 0's reason. Worked by hand on
// test_fusion_hand.cpp's children A and B (stacking's weights chosen and
// loaded from a hand-written model file), and checked on random children
// against an independent recomputation of every part.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "plugins/fusion/cascade.hpp"
#include "plugins/fusion/stacking.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// A and B of the hand-worked examples as saveable children that explain ("A says for user 0 item 1").
std::vector<Child> hand_children(const TrainData& d, bool fitted) {
  std::vector<Child> out;
  for (const Child& c : two_children(d)) {
    Rows rows;
    for (UserId u = 0; u < d.n_users; ++u) rows.push_back(row_of(*c.model, u));
    auto m = std::make_shared<Shifting>(std::move(rows), 0, c.name + " says");
    if (fitted) m->fit(d, FitContext{});
    out.push_back(Child{c.name, "shifting", kCapSaveLoad | kCapExplain, m});
  }
  return out;
}

/// Standardised log(1 + x) of `counts`, population sd (the meta-features, recomputed here).
std::vector<double> std_log(const std::vector<double>& counts) {
  std::vector<double> l;
  for (double x : counts) l.push_back(std::log1p(x));
  const double mean = std::accumulate(l.begin(), l.end(), 0.0) / static_cast<double>(l.size());
  double sq = 0;
  for (double v : l) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(l.size()));
  for (double& v : l) v = sd > 0 ? (v - mean) / sd : 0.0;
  return l;
}

}  // namespace

TEST_CASE("stacking explains each child's term and the rest, worked by hand", "[fusion][explain]") {
  const TrainData d = hand_data();
  // A model file with chosen weights over [A, B, pop, hist, A*hist, B*hist, pop*hist]:
  // 0.5, 0.25, 0.2, 0.1, 0.1, 0, 0, intercept 0; h = -1 (user 0), +1 (user 1); p = 1 for item 1, else 0.
  std::ostringstream file;
  {
    ModelWriter w(file);
    w.value<std::int32_t>(d.n_users);
    w.value<std::int32_t>(d.n_items);
    w.value<std::uint64_t>(2);
    TrainingRows rows;
    rows.assign(d.by_user);
    rows.save(w);
    w.values(std::vector<float>{0, 1, 0, 0, 0});
    w.values(std::vector<float>{-1, 1});
    w.values(std::vector<double>{0.5, 0.25, 0.2, 0.1, 0.1, 0.0, 0.0});
    w.value(0.0);             // intercept
    w.value(0.0);             // fit loss
    w.value(std::int64_t{0});  // training rows
    for (int c = 0; c < 2; ++c) {
      w.text("shifting");
      w.text(std::to_string(d.n_users) + " " + std::to_string(d.n_items) + " 0");
    }
  }
  Stacking s(validate_params(Stacking::params(), {{"normalization", std::string("none")}}, {}, "", "test"));
  s.set_children(hand_children(d, false));
  std::istringstream in(file.str());
  s.load(in);
  // User 0 (h = -1): w_A = 0.5 + 0.1·(-1) = 0.4, w_B = 0.25, rest = 0.1·(-1) + 0.2·p.
  //   item 1 (p = 1): rest 0.1, A 0.4·2 = 0.8, B 0.25·5 = 1.25; score 2.15; B's term is the largest.
  CHECK(s.explain(0, 1) == "stacked score 2.15 (popularity, history, intercept +0.1): A +0.8, B +1.25; B: B says for user 0 item 1");
  //   item 3 (p = 0): rest -0.1, A 0.4·1, B 0.25·4 = 1; score 1.3.
  CHECK(s.explain(0, 3) == "stacked score 1.3 (popularity, history, intercept -0.1): A +0.4, B +1; B: B says for user 0 item 3");
  // User 1 (h = 1): w_A = 0.6, rest 0.1 + 0; item 3: A 0.6·1, B 0.25·2 = 0.5; score 1.2; A's term is the largest.
  CHECK(s.explain(1, 3) == "stacked score 1.2 (popularity, history, intercept +0.1): A +0.6, B +0.5; A: A says for user 1 item 3");
  for (const auto& [u, i] : {std::pair{0, 1}, std::pair{0, 3}, std::pair{1, 3}})
    CHECK(s.parts(u, i).score == row_of(s, u)[static_cast<std::size_t>(i)]);  // score_all's value, bit for bit
  CHECK(s.explain(2, 0).empty());
  CHECK(s.explain(0, 5).empty());
}

TEST_CASE("stacking's explained parts match an independent recomputation", "[fusion][explain]") {
  const TrainData d = data_with_validation();
  const std::vector<Child> children = {fixed_child("p", random_rows(d, 5), d), fixed_child("q", random_rows(d, 6), d)};
  auto s = make_fused<Stacking>({{"objective", std::string("pointwise")}}, children, d);  // zscore, interactions
  const std::vector<double>& w = s->coefficients();
  REQUIRE(w.size() == 7);  // p, q, pop, hist, p*hist, q*hist, pop*hist
  std::vector<double> counts;
  for (UserId u = 0; u < d.n_users; ++u) counts.push_back(static_cast<double>(d.by_user.row_size(u)));
  const std::vector<double> hist = std_log(counts);
  counts.clear();
  for (ItemId i = 0; i < d.n_items; ++i) counts.push_back(static_cast<double>(d.by_item.row_size(i)));
  const std::vector<double> pop = std_log(counts);
  // The intercept is not exposed: recover it from one score, then check every other pair against it.
  const Stacking::Parts first = s->parts(0, 0);
  const double intercept = first.rest - (w[3] * hist[0] + (w[2] + w[6] * hist[0]) * pop[0]);
  for (const UserId u : {0, 3, 17}) {
    const std::vector<float> row = row_of(*s, u);
    const auto train = d.by_user.row(u);
    for (ItemId i = 0; i < d.n_items; ++i) {
      const Stacking::Parts p = s->parts(u, i);
      REQUIRE(p.terms.size() == 2);
      double sum = p.rest;
      for (std::size_t c = 0; c < 2; ++c) {
        // z-score of the child's row over u's candidates (population sd).
        const std::vector<float> raw = row_of(*children[c].model, u);
        double mean = 0, sq = 0, n = 0;
        for (ItemId j = 0; j < d.n_items; ++j)
          if (!std::binary_search(train.begin(), train.end(), j)) { mean += raw[j]; sq += double{raw[j]} * raw[j]; ++n; }
        mean /= n;
        const double sd = std::sqrt(sq / n - mean * mean);
        const double z = (raw[static_cast<std::size_t>(i)] - mean) / sd;
        CHECK(p.terms[c] == Approx((w[c] + w[4 + c] * hist[u]) * z).margin(1e-4));
        sum += p.terms[c];
      }
      CHECK(p.rest == Approx(intercept + w[3] * hist[u] + (w[2] + w[6] * hist[u]) * pop[i]).margin(1e-4));
      CHECK(p.score == row[static_cast<std::size_t>(i)]);
      CHECK(p.score == Approx(sum).margin(1e-4));
    }
  }
}

TEST_CASE("cascade explains where the item was retrieved and the re-ranker's score, worked by hand",
          "[fusion][explain]") {
  const TrainData d = hand_data();
  // User 0 (trained on item 4): A retrieves its top 2 of items 0..3 by 3, 2, 2, 1: item 0, then item 1
  // (ties by smaller id); B re-scores them 0 and 5; items 2 and 3 are not retrieved.
  auto c = make_fused<Cascade>({{"candidates", std::int64_t{2}}}, hand_children(d, true), d);
  CHECK(c->explain(0, 1) == "retrieved by A (rank 2 of its top 2), scored 5 by B; B: B says for user 0 item 1");
  CHECK(c->explain(0, 0) == "retrieved by A (rank 1 of its top 2), scored 0 by B; B: B says for user 0 item 0");
  CHECK(c->explain(0, 2) ==
        "not retrieved by A (not in its top 2): ranked below the re-ranked items in A's order; A: A says for user 0 item 2");
  // User 1 (trained on 0, 1, 2): A scores every item 1, so items 3 and 4 are its top 2; B gives them 2 and 1.
  CHECK(c->explain(1, 4) == "retrieved by A (rank 2 of its top 2), scored 1 by B; B: B says for user 1 item 4");
  CHECK(c->explain(-1, 0).empty());
}

TEST_CASE("cascade's explained parts match an independent recomputation", "[fusion][explain]") {
  const TrainData d = synthetic_train_data();
  auto retriever = std::make_shared<Shifting>(random_rows(d, 7), 0);
  retriever->fit(d, FitContext{});
  auto ranker = std::make_shared<FixedScores>(random_rows(d, 8));
  ranker->fit(d, FitContext{});
  constexpr int kCandidates = 7;
  auto c = make_fused<Cascade>({{"candidates", std::int64_t{kCandidates}}},
                               {Child{"r", "shifting", 0, retriever}, Child{"f", "fixed", 0, ranker}}, d);
  for (const UserId u : {0, 4, 9}) {
    // Child 0's candidates sorted by score, then item id.
    const std::vector<float> s0 = row_of(*retriever, u), s1 = row_of(*ranker, u), fused = row_of(*c, u);
    const auto train = d.by_user.row(u);
    std::vector<ItemId> order;
    for (ItemId i = 0; i < d.n_items; ++i)
      if (!std::binary_search(train.begin(), train.end(), i)) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](ItemId a, ItemId b) { return s0[a] != s0[b] ? s0[a] > s0[b] : a < b; });
    retriever->rows_scored = 0;
    for (ItemId i = 0; i < d.n_items; ++i) {
      const Cascade::Parts p = c->parts(u, i);
      const auto at = std::find(order.begin(), order.end(), i);
      const int want = at != order.end() && at - order.begin() < kCandidates ? static_cast<int>(at - order.begin()) + 1 : 0;
      CHECK(p.rank == want);
      CHECK(p.depth == kCandidates);
      if (want > 0) {
        CHECK(p.score == s1[static_cast<std::size_t>(i)]);
        CHECK(p.score == fused[static_cast<std::size_t>(i)]);  // score_all's value of a retrieved item
        CHECK(c->explain(u, i).rfind("retrieved by r (rank " + std::to_string(want) + " of its top 7), scored ", 0) == 0);
      } else {
        CHECK(c->explain(u, i).rfind("not retrieved by r (not in its top 7)", 0) == 0);
      }
    }
    CHECK(retriever->rows_scored == 1);  // one retrieval per user, however many items are explained
  }
}
