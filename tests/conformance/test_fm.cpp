// The factorization machine: the O(kn) scoring equals eq. 1 computed pair by
// pair, training fits the data, and runs are reproducible.
#include <catch2/catch.hpp>

#include <cmath>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "plugins/fm/fm.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// synthetic_train_data plus user attributes (two one-hot fields).
TrainData fm_data() {
  TrainData d = synthetic_train_data();
  AttributeMatrix& f = d.user_features;
  f.names = {"gender=F", "gender=M", "age=young", "age=old"};
  f.matrix.rows = d.n_users;
  f.matrix.cols = 4;
  for (UserId u = 0; u < d.n_users; ++u) {
    f.matrix.indices.push_back(u % 2);
    f.matrix.indices.push_back(2 + (u / 3) % 2);
    f.matrix.values.insert(f.matrix.values.end(), {1.0f, 1.0f});
    f.matrix.indptr.push_back(f.matrix.nnz());
  }
  return d;
}

std::unique_ptr<FmRecommender> fit_fm(const TrainData& d, const std::map<std::string, ParamValue>& v,
                                      std::uint64_t seed = 3) {
  auto m = std::make_unique<FmRecommender>(validate_params(FmRecommender::params(), v, {}, "", "fm"));
  FitContext ctx;
  ctx.seed = seed;
  m->fit(d, ctx);
  return m;
}

std::vector<float> all_scores(Recommender& m, const TrainData& d) {
  std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
  for (UserId u = 0; u < d.n_users; ++u) users[static_cast<std::size_t>(u)] = u;
  std::vector<float> out(users.size() * static_cast<std::size_t>(d.n_items));
  m.score_all(users, out);
  return out;
}

}  // namespace

TEST_CASE("fm: precomputed user/item embeddings give eq. 1 exactly", "[fm]") {
  const TrainData d = fm_data();
  for (const char* loss : {"bpr", "logistic"}) {
    INFO(loss);
    auto m = fit_fm(d, {{"loss", loss}, {"epochs", std::int64_t{5}}, {"factors", std::int64_t{8}}});
    const auto s = all_scores(*m, d);
    for (UserId u : {0, 7, 29})
      for (ItemId i : {0, 5, 39}) {
        const double want = m->naive_score(u, i);
        CHECK(s[static_cast<std::size_t>(u) * d.n_items + i] == Approx(want).margin(1e-4));
        std::vector<float> one(1);
        const UserId uu[] = {u};
        const ItemId ii[] = {i};
        m->score(uu, ii, one);
        CHECK(one[0] == Approx(want).margin(1e-4));
      }
  }
}

TEST_CASE("fm: training ranks training items above the rest", "[fm]") {
  const TrainData d = fm_data();
  for (const char* opt : {"sgd", "adam"})
    for (const char* loss : {"bpr", "logistic"}) {
      INFO(opt << " " << loss);
      auto m = fit_fm(d, {{"optimizer", opt}, {"loss", loss}, {"epochs", std::int64_t{40}},
                          {"lr", std::string(opt) == "adam" ? 0.01 : 0.05}});
      const auto s = all_scores(*m, d);
      // Training AUC: fraction of (positive, negative) pairs of a user ordered right.
      double right = 0, pairs = 0;
      for (UserId u = 0; u < d.n_users; ++u) {
        const auto row = d.by_user.row(u);
        for (ItemId i : row)
          for (ItemId j = 0; j < d.n_items; ++j) {
            if (std::binary_search(row.begin(), row.end(), j)) continue;
            right += s[static_cast<std::size_t>(u) * d.n_items + i] > s[static_cast<std::size_t>(u) * d.n_items + j];
            pairs += 1;
          }
      }
      CHECK(right / pairs > 0.75);
    }
}

TEST_CASE("fm: same seed, same model, another seed, another model", "[fm]") {
  const TrainData d = fm_data();
  const std::map<std::string, ParamValue> p{{"epochs", std::int64_t{3}}};
  const auto a = all_scores(*fit_fm(d, p, 1), d);
  CHECK(a == all_scores(*fit_fm(d, p, 1), d));
  CHECK(a != all_scores(*fit_fm(d, p, 2), d));
}

TEST_CASE("fm: users without history and items without features or interactions score alike everywhere", "[fm]") {
  // Items 0 and 1 have genres, 2 and 3 none (their attribute weights must
  // not divide by a zero total); item 3 and user 2 have no interactions.
  TrainData d = make_train_data(3, 4, {{0, 0}, {0, 1}, {1, 1}, {1, 2}}, false);
  AttributeMatrix& f = d.item_features;
  f.names = {"genre=A", "genre=B"};
  f.matrix.rows = 4;
  f.matrix.cols = 2;
  f.matrix.indptr = {0, 1, 3, 3, 3};
  f.matrix.indices = {0, 0, 1};
  f.matrix.values = {1, 1, 1};
  for (const char* loss : {"bpr", "logistic"}) {
    INFO(loss);
    auto m = fit_fm(d, {{"loss", loss}, {"epochs", std::int64_t{5}}, {"factors", std::int64_t{4}}});
    const auto s = all_scores(*m, d);
    for (UserId u = 0; u < d.n_users; ++u)
      for (ItemId i = 0; i < d.n_items; ++i) {
        INFO("(" << u << ", " << i << ")");
        const float got = s[static_cast<std::size_t>(u) * 4 + static_cast<std::size_t>(i)];
        REQUIRE(std::isfinite(got));
        CHECK(got == Approx(m->naive_score(u, i)).margin(1e-5));
        CHECK(score_pairs(*m, {u}, {i})[0] == got);
      }
  }
}
