// Fusion strategies deployed as policies, on examples worked by hand: acting
// ranks the step's candidates (training items included), a cascade retrieves
// from them, switching lets the chosen child act, and simulated feedback
// reaches the children that learn online. (Offline scoring: test_fusion_hand.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "test_fusion_support.hpp"
#include "plugins/fusion/cascade.hpp"
#include "plugins/fusion/rank_fusion.hpp"
#include "plugins/fusion/score_fusion.hpp"
#include "plugins/fusion/switching.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

// Six items, user 0 trained on item 5. Both children rank the catalogue
// 5, 0, 1, 2, 4, 3: their catalogue top 1 (training item aside) is item 0.
TrainData six_items() { return make_train_data(1, 6, {{0, 5}}, false); }
std::vector<Child> agreeing_children(const TrainData& d) {
  return {fixed_child("A", {{9, 8, 7, 1, 2, 10}}, d), fixed_child("B", {{90, 80, 70, 10, 20, 100}}, d)};
}
ItemId first_of(Recommender& f, std::vector<ItemId> cands) {
  const std::vector<UserId> users = {0};
  std::vector<ItemId> slate(1, kNoItem);
  f.act(users, cands, static_cast<int>(cands.size()), 1, slate);
  return slate[0];
}

}  // namespace

TEST_CASE("acting, fusion ranks the step's candidates: lists of the candidates, training items not pushed down",
          "[fusion]") {
  const TrainData d = six_items();
  // Candidates {3, 4}: outside every child's catalogue top `depth`, yet both
  // children prefer 4. Candidates {4, 5}: both children prefer 5, the user's
  // training item, which a simulated session may offer again.
  for (const char* method : {"rrf", "borda", "vote"}) {
    INFO(method);
    auto f = make_fused<RankFusion>({{"method", method}, {"depth", std::int64_t{1}}}, agreeing_children(d), d);
    CHECK(first_of(*f, {3, 4}) == 4);
    CHECK(first_of(*f, {4, 5}) == 5);
    CHECK(first_of(*f, {5, 4, 3, 0}) == 5);
  }
  for (const char* norm : {"minmax", "zscore", "rank"}) {
    INFO(norm);
    auto f = make_fused<ScoreFusion>({{"normalization", norm}}, agreeing_children(d), d);
    CHECK(first_of(*f, {4, 5}) == 5);
    CHECK(first_of(*f, {3, 4}) == 4);
    if (std::string(norm) == "zscore") continue;  // CombMNZ wants summands >= 0 (item 4's z is negative)
    f = make_fused<ScoreFusion>({{"normalization", norm}, {"method", "combmnz"}, {"depth", std::int64_t{1}}},
                                agreeing_children(d), d);
    CHECK(first_of(*f, {3, 4}) == 4);
  }
  // Offline nothing changes: item 5 is excluded and item 0 leads.
  auto f = make_fused<RankFusion>({{"depth", std::int64_t{1}}}, agreeing_children(d), d);
  CHECK(top_of(*f, 0, 1, d) == std::vector<ItemId>{0});
}

namespace {

// A child that learns online: an item's score is the clicks it got.
class ClickCounter final : public Recommender {
 public:
  void fit(const TrainData& d, const FitContext&) override {
    set_shape(d.n_users, d.n_items);
    clicks_.assign(static_cast<std::size_t>(d.n_items), 0.0f);
  }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy(clicks_.begin(), clicks_.end(), out.begin() + static_cast<std::ptrdiff_t>(r * clicks_.size()));
  }
  void observe(const Feedback& f) override {
    ++calls;
    for (std::size_t r = 0; r < f.users.size(); ++r)
      if (f.choice[r] >= 0)
        clicks_[static_cast<std::size_t>(f.slates[r * static_cast<std::size_t>(f.slate_size) +
                                                  static_cast<std::size_t>(f.choice[r])])] += 1.0f;
  }
  std::size_t model_bytes() const override { return clicks_.size() * sizeof(float); }
  int calls = 0;

 private:
  std::vector<float> clicks_;
};

Child counter_child(const std::string& name, std::uint32_t capabilities, const TrainData& d) {
  auto m = std::make_shared<ClickCounter>();
  m->fit(d, FitContext{});
  return Child{name, "counter", capabilities, m};
}

}  // namespace

TEST_CASE("fusion passes simulated feedback on to the children that learn online", "[fusion]") {
  const TrainData d = hand_data();
  auto children = [&] {
    return std::vector<Child>{fixed_child("A", {{3, 2, 2, 1, 9}, {1, 1, 1, 1, 1}}, d),
                              counter_child("learner", kCapObserve, d),
                              counter_child("deaf", 0, d)};  // observes, but did not declare it
  };
  // User 0 is shown items 3 and 2 twice and clicks item 3 (slate position 0).
  const UserId users[] = {0};
  const ItemId slates[] = {3, 2};
  const std::int32_t choice[] = {0};
  const float reward[] = {1.0f};
  const std::uint8_t done[] = {0};
  const Feedback fb{users, 2, slates, choice, reward, done};
  auto check = [&](Recommender& f, const std::vector<Child>& kids) {
    f.observe(fb);
    f.observe(fb);
    CHECK(static_cast<ClickCounter&>(*kids[1].model).calls == 2);
    CHECK(static_cast<ClickCounter&>(*kids[2].model).calls == 0);
    // Raw sum for user 0 over candidates 0..3: A [3, 2, 2, 1] + learner [0, 0, 0, 2]:
    // item 3 (1 + 2 = 3) ties item 0 and, by id, comes second.
    CHECK(top_of(f, 0, 2, d) == std::vector<ItemId>{0, 3});
  };
  {
    auto kids = children();
    auto f = make_fused<ScoreFusion>({{"normalization", "none"}}, kids, d);
    check(*f, kids);
  }
  {
    auto kids = children();
    auto f = make_fused<RankFusion>({{"method", "borda"}}, kids, d);
    f->observe(fb);
    CHECK(static_cast<ClickCounter&>(*kids[1].model).calls == 1);
    CHECK(static_cast<ClickCounter&>(*kids[2].model).calls == 0);
  }
  {
    auto kids = children();
    kids.pop_back();
    TrainData dv = d;
    dv.validation = make_train_data(2, 5, {{0, 3}, {1, 3}}, false).by_user;
    auto f = make_fused<Cascade>({{"candidates", std::int64_t{4}}}, kids, dv);
    f->observe(fb);
    CHECK(static_cast<ClickCounter&>(*kids[1].model).calls == 1);
  }
}

TEST_CASE("acting, a cascade retrieves from the step's candidates and re-ranks those", "[fusion]") {
  const TrainData d = six_items();  // user 0 trained on item 5
  // Child A retrieves (catalogue order 5, 0, 1, 2, 4, 3); child B re-ranks and
  // prefers item 3, which A ranks last.
  auto kids = [&] {
    return std::vector<Child>{fixed_child("A", {{9, 8, 7, 1, 2, 10}}, d), fixed_child("B", {{0, 0, 0, 5, 1, 0}}, d)};
  };
  auto f = make_fused<Cascade>({{"candidates", std::int64_t{2}}}, kids(), d);
  // Step {3, 4}: A retrieves both (the catalogue's top 2, items 0 and 1, are
  // not offered), and B puts 3 first.
  CHECK(first_of(*f, {3, 4}) == 3);
  // A training item a session offers takes part: A retrieves {5, 3} and B
  // re-ranks them.
  CHECK(first_of(*f, {5, 3}) == 3);
  // With one candidate, A retrieves item 4 alone and B never sees item 3.
  auto one = kids();
  auto* reranker = static_cast<FixedScores*>(one[1].model.get());
  f = make_fused<Cascade>({{"candidates", std::int64_t{1}}}, std::move(one), d);
  reranker->pairs_scored = 0;
  CHECK(first_of(*f, {3, 4}) == 4);
  CHECK(reranker->pairs_scored == 1);
  // Rows are independent: two rows of user 0 with their own candidates.
  f = make_fused<Cascade>({{"candidates", std::int64_t{2}}}, kids(), d);
  const std::vector<UserId> users = {0, 0};
  const std::vector<ItemId> cands = {4, 3, 1, 0};
  std::vector<ItemId> slates(4, kNoItem);
  f->act(users, cands, 2, 2, slates);
  CHECK(slates == std::vector<ItemId>{3, 4, 0, 1});
}

namespace {

// A policy whose act is its own (as a bandit's exploration or SlateQ's slate
// search): it shows the row's candidates from the last, whatever it scores.
class BackwardsActor final : public Recommender {
 public:
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    for (std::size_t j = 0; j < users.size() * static_cast<std::size_t>(n_items()); ++j)
      out[j] = -static_cast<float>(j % static_cast<std::size_t>(n_items()));  // prefers small ids
  }
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override {
    rows_acted += static_cast<int>(users.size());
    const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
    for (std::size_t r = 0; r < users.size(); ++r)
      for (std::size_t j = 0; j < k; ++j) slates[r * k + j] = candidates[r * c + c - 1 - j];
  }
  std::size_t model_bytes() const override { return 0; }
  int rows_acted = 0;
};

}  // namespace

TEST_CASE("acting, switching lets the chosen child act for its users with its own act", "[fusion]") {
  const TrainData d = hand_data();  // user 0: 1 training item (child 0), user 1: 3 (child 1)
  auto actor = std::make_shared<BackwardsActor>();
  actor->fit(d, FitContext{});
  auto f = make_fused<Switching>({{"min_history", std::int64_t{2}}},
                                 {Child{"actor", "backwards", 0, actor}, two_children(d)[1]}, d);
  // Rows: user 1 (B: 5, 4, 3, 2, 1 -> its top 2 of {2, 0, 1} is 0, 1), user 0
  // (the actor: the candidates from the last), user 0 again.
  const std::vector<UserId> users = {1, 0, 0};
  const std::vector<ItemId> cands = {2, 0, 1, 0, 1, 2, 3, 2, 1};
  std::vector<ItemId> slates(6, kNoItem);
  f->act(users, cands, 3, 2, slates);
  CHECK(slates == std::vector<ItemId>{0, 1, 2, 1, 1, 2});
  CHECK(actor->rows_acted == 2);
}
