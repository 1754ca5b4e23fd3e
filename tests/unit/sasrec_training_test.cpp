// SASRec learns a sequence task with a known answer: item i is always followed by item
// i + 1 (mod n). After training, the loss has fallen far below its starting value and the
// top-ranked unseen item of every user is the successor of the user's last item.
// Also: training is deterministic given the seed; explain names items of the sequence.
#include <catch2/catch.hpp>

#include <omp.h>

#include <numeric>

#include "plugins/sasrec/sasrec.hpp"

using namespace recfuse;
using namespace recfuse::sasrec;

namespace {

constexpr std::int32_t kItems = 12, kUsers = 48, kLen = 8;

/// User u's sequence starts at item u mod kItems and walks the cycle.
TrainData successor_task() {
  TrainData d;
  d.n_users = kUsers;
  d.n_items = kItems;
  for (CsrMatrix* m : {&d.sequences, &d.by_user}) {
    m->rows = kUsers;
    m->cols = kItems;
  }
  for (std::int32_t u = 0; u < kUsers; ++u) {
    std::vector<std::int32_t> seq;
    for (std::int32_t j = 0; j < kLen; ++j) seq.push_back((u + j) % kItems);
    d.sequences.indices.insert(d.sequences.indices.end(), seq.begin(), seq.end());
    d.sequences.indptr.push_back(static_cast<std::int64_t>(d.sequences.indices.size()));
    std::sort(seq.begin(), seq.end());
    d.by_user.indices.insert(d.by_user.indices.end(), seq.begin(), seq.end());
    d.by_user.indptr.push_back(static_cast<std::int64_t>(d.by_user.indices.size()));
  }
  return d;
}

ParamSet params(std::map<std::string, ParamValue> over) {
  ParamSet p;
  for (const ParamSpec& s : sasrec_params()) p.set(s.name, s.default_value);
  for (auto& [k, v] : over) p.set(k, v);
  return p;
}

}  // namespace

TEST_CASE("SASRec learns that item i is followed by item i+1", "[sasrec][training]") {
  omp_set_num_threads(2);  // the thread count CI has; gradients are summed per thread
  const TrainData data = successor_task();
  for (const char* loss : {"bce", "ce", "sampled_softmax"}) {
    INFO("loss " << loss);
    SasrecRecommender r(params({{"epochs", std::int64_t{0}}, {"hidden", std::int64_t{16}},
                                {"maxlen", std::int64_t{10}}, {"dropout", 0.0}, {"lr", 0.01},
                                {"negatives", std::int64_t{5}}, {"loss", std::string(loss)}}));
    FitContext ctx;
    ctx.seed = 3;
    r.fit(data, ctx);  // epochs = 0: initialised, untrained
    std::vector<std::int32_t> users(kUsers);
    std::iota(users.begin(), users.end(), 0);
    const double first = r.train_batch(users, 1);
    double last = first;
    for (std::uint64_t e = 2; e <= 150; ++e) last = r.train_batch(users, e);
    CHECK(last < 0.25 * first);
    // Top-1 among the items the user has not seen (the evaluation protocol).
    std::vector<ItemId> top(kUsers);
    std::vector<float> score(kUsers);
    r.recommend(users, 1, SparseRowsView::of(data.by_user), top, score);
    int correct = 0;
    for (std::int32_t u = 0; u < kUsers; ++u)
      correct += top[static_cast<std::size_t>(u)] == (u + kLen) % kItems;  // successor of u + kLen − 1
    CHECK(correct == kUsers);
  }
}

TEST_CASE("SASRec training is deterministic given seed and thread count", "[sasrec][training]") {
  const TrainData data = successor_task();
  omp_set_num_threads(2);
  auto fit = [&](std::uint64_t seed) {
    SasrecRecommender r(params({{"epochs", std::int64_t{3}}, {"hidden", std::int64_t{8}},
                                {"batch", std::int64_t{16}}}));
    FitContext ctx;
    ctx.seed = seed;
    r.fit(data, ctx);
    return r.parameters();
  };
  const auto a = fit(1), b = fit(1), c = fit(2);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("SASRec explains by the items the last position attends to", "[sasrec][training]") {
  const TrainData data = successor_task();
  SasrecRecommender r(params({{"epochs", std::int64_t{2}}, {"hidden", std::int64_t{8}}}));
  FitContext ctx;
  r.fit(data, ctx);
  const std::string why = r.explain(0, 3);
  REQUIRE(why.rfind("because of item ", 0) == 0);
  // Both named items come from user 0's sequence 0..7.
  int named = 0;
  for (std::int32_t i = 0; i < kLen; ++i)
    named += why.find("item " + std::to_string(i) + ",") != std::string::npos ||
             why.size() >= 2 && why.substr(why.rfind("item ")) == "item " + std::to_string(i);
  CHECK(named == 2);
}
