// explain's per-user cache in score_fusion and rank_fusion
// (fusion_explain.hpp's ExplainCache): a top-10 list asks about one user ten
// times, and the children score that user once; the answers are those of
// fresh objects that never explained anything (user A, then B, then A
// again), and whatever may change the scores (observe, set_children, fit,
// load) drops what was kept.
#include <catch2/catch.hpp>

#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "plugins/fusion/rank_fusion.hpp"
#include "plugins/fusion/score_fusion.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// Children "a" and "b" with shift `shift`, fitted on d; `keep` gets them.
std::vector<Child> shifting(const TrainData& d, int shift, std::vector<std::shared_ptr<Shifting>>* keep = nullptr) {
  std::vector<Child> out;
  for (const auto& [name, seed] : {std::pair{"a", 1u}, std::pair{"b", 2u}}) {
    auto m = std::make_shared<Shifting>(random_rows(d, seed), shift);
    m->fit(d, FitContext{});
    if (keep) keep->push_back(m);
    out.push_back(Child{name, "shifting", kCapObserve | kCapSaveLoad, m});
  }
  return out;
}

using Make = std::function<std::unique_ptr<Recommender>(std::vector<Child>, const TrainData&)>;

template <class T>
Make maker(std::map<std::string, ParamValue> params) {
  return [params](std::vector<Child> c, const TrainData& d) -> std::unique_ptr<Recommender> {
    return make_fused<T>(params, std::move(c), d);
  };
}

/// The strategies that explain from their children's rows, in each of their modes.
std::vector<std::pair<std::string, Make>> strategies() {
  return {{"score_fusion zscore", maker<ScoreFusion>({})},
          {"score_fusion combmnz", maker<ScoreFusion>({{"method", std::string("combmnz")},
                                                       {"normalization", std::string("minmax")},
                                                       {"depth", std::int64_t{5}}})},
          {"score_fusion rank", maker<ScoreFusion>({{"normalization", std::string("rank")},
                                                    {"weights", std::string("0.7,0.3")}})},
          {"rank_fusion rrf", maker<RankFusion>({{"depth", std::int64_t{10}}})},
          {"rank_fusion vote", maker<RankFusion>({{"method", std::string("vote")}, {"depth", std::int64_t{6}}})}};
}

/// What a fresh strategy over fresh children of shift `shift`, fitted on d, says about (u, i).
std::string fresh(const Make& make, const TrainData& d, int shift, UserId u, ItemId i) {
  return make(shifting(d, shift), d)->explain(u, i);
}

}  // namespace

TEST_CASE("fusion explain scores each child once per user and says what fresh objects say", "[fusion][explain]") {
  const TrainData d = synthetic_train_data();
  for (const auto& [label, make] : strategies()) {
    DYNAMIC_SECTION(label) {
      std::vector<std::shared_ptr<Shifting>> kids;
      auto f = make(shifting(d, 0, &kids), d);
      const std::vector<float> row_before = row_of(*f, 3);
      for (auto& k : kids) k->rows_scored = 0;
      std::int64_t users_asked = 0;
      for (const UserId u : {3, 8, 3}) {
        ++users_asked;
        for (ItemId i = 0; i < 10; ++i) {
          const std::string why = f->explain(u, i);
          CHECK(why.rfind("fused score ", 0) == 0);
          CHECK(why == fresh(make, d, 0, u, i));
        }
        for (auto& k : kids) CHECK(k->rows_scored == users_asked);  // one row per user, not per item
      }
      CHECK(f->explain(-1, 0).empty());  // out of range: nothing scored, nothing kept
      CHECK(f->explain(3, d.n_items).empty());
      for (auto& k : kids) CHECK(k->rows_scored == users_asked);
      CHECK(f->explain(3, 0) == fresh(make, d, 0, 3, 0));  // user 3 is still the one kept
      for (auto& k : kids) CHECK(k->rows_scored == users_asked);
      CHECK(row_of(*f, 3) == row_before);  // explain leaves score_all's buffers alone
    }
  }
}

TEST_CASE("fusion explain forgets its user on observe, set_children, fit and load", "[fusion][explain]") {
  const TrainData d = synthetic_train_data();
  const TrainData other = synthetic_train_data(11);  // other training rows: other candidates
  REQUIRE(other.n_users == d.n_users);
  REQUIRE(other.n_items == d.n_items);
  const UserId u = 5;
  const ItemId i = 2;
  for (const auto& [label, make] : strategies()) {
    DYNAMIC_SECTION(label) {
      auto f = make(shifting(d, 0), d);
      REQUIRE(f->explain(u, i) == fresh(make, d, 0, u, i));
      // observe: every child's shift becomes 1.
      const UserId users[] = {u};
      const ItemId slate[] = {i};
      const std::int32_t choice[] = {0};
      const float reward[] = {1};
      const std::uint8_t done[] = {0};
      f->observe(Feedback{users, 1, slate, choice, reward, done});
      const std::string after_observe = fresh(make, d, 1, u, i);
      REQUIRE(after_observe != fresh(make, d, 0, u, i));  // the test can tell
      CHECK(f->explain(u, i) == after_observe);
      // set_children: children of shift 2.
      f->set_children(shifting(d, 2));
      CHECK(f->explain(u, i) == fresh(make, d, 2, u, i));
      // fit on other data: other candidates (the training rows) for the normalisation and the lists.
      FitContext ctx;
      ctx.seed = 1;
      f->set_children(shifting(other, 0));
      (void)f->explain(u, i);  // the cache holds u again, from before the fit
      f->fit(other, ctx);
      const std::string on_other = fresh(make, other, 0, u, i);
      CHECK(f->explain(u, i) == on_other);
      // load: the file of a model over children of shift 3, fitted on d.
      std::ostringstream file;
      make(shifting(d, 3), d)->save(file);
      std::istringstream in(file.str());
      f->load(in);
      const std::string loaded = fresh(make, d, 3, u, i);
      REQUIRE(loaded != on_other);
      CHECK(f->explain(u, i) == loaded);
    }
  }
}
