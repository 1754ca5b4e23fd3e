// kCapSaveLoad conformance: every algorithm that declares it, over every
// plugin built (fusion strategies, which need children, in
// test_fusion_save_load.cpp), loads what it saved into a fresh instance that then scores
// bit for bit as the fitted one; a truncated, padded or mismatched model
// file is an Error that names the algorithm and what it was reading.
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "conformance_support.hpp"
#include "recfuse/model_io.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

std::string saved(const Recommender& r) {
  std::ostringstream out;
  r.save(out);
  return out.str();
}

/// Calls f(a, params) for every algorithm that declares save/load, each with
/// its name as Catch context; returns how many. Fusion strategies need
/// children: test_fusion_save_load.cpp builds them.
template <typename F>
int for_each_saveable(F&& f) {
  int checked = 0;
  for (const AlgorithmHandle& a : plugin_registry().algorithms()) {
    if ((a.algorithm->capabilities & kCapSaveLoad) == 0 || (a.algorithm->capabilities & kCapChildren)) continue;
    INFO(a.name());
    ++checked;
    f(a, params_for(a));
  }
  return checked;
}

}  // namespace

TEST_CASE("save/load: a loaded model scores as the fitted one, for every algorithm that declares it",
          "[save_load]") {
  const TrainData data = synthetic_train_data();
  int explaining = 0;
  const int checked = for_each_saveable([&](const AlgorithmHandle& a, const ParamSet& params) {
    RecommenderPtr fitted = fit_algorithm(a, data, params);
    const std::string bytes = saved(*fitted);
    RecommenderPtr loaded = create_recommender(a, params);
    std::istringstream in(bytes);
    loaded->load(in);
    CHECK(loaded->n_users() == data.n_users);
    CHECK(loaded->n_items() == data.n_items);
    CHECK(loaded->model_bytes() == fitted->model_bytes());
    CHECK(all_scores(*loaded, data.n_users) == all_scores(*fitted, data.n_users));
    // Every (user, item) pair, the cold item 39 included, through the pair paths.
    std::vector<UserId> users;
    std::vector<ItemId> items;
    for (UserId u = 0; u < data.n_users; ++u)
      for (ItemId i = 0; i < data.n_items; ++i) users.push_back(u), items.push_back(i);
    CHECK(score_pairs(*loaded, users, items) == score_pairs(*fitted, users, items));
    if (a.algorithm->capabilities & kCapPredictRating) {
      std::vector<float> want(users.size()), got(users.size());
      fitted->predict_rating(users, items, want);
      loaded->predict_rating(users, items, got);
      CHECK(got == want);
    }
    if (a.algorithm->capabilities & kCapExplain) {
      ++explaining;
      int differ = 0;
      for (std::size_t j = 0; j < users.size(); ++j)
        differ += loaded->explain(users[j], items[j]) != fitted->explain(users[j], items[j]);
      CHECK(differ == 0);
    }
    CHECK(saved(*loaded) == bytes);  // saving again gives the same file

    // Truncated anywhere: an Error naming the algorithm, never a model of garbage.
    for (const std::size_t keep : {std::size_t{0}, std::size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
      INFO("first " << keep << " of " << bytes.size() << " bytes");
      RecommenderPtr r = create_recommender(a, params);
      std::istringstream cut(bytes.substr(0, keep));
      CHECK_THROWS_WITH(r->load(cut), Catch::Contains(a.name() + ": model file") && Catch::Contains("truncated"));
    }
    RecommenderPtr padded = create_recommender(a, params);
    std::istringstream more(bytes + "x");
    CHECK_THROWS_WITH(padded->load(more), Catch::Contains("more bytes than the model has"));
  });
  // popularity, baseline_only, sgd_mf, svdpp, als_explicit, ials, bpr, ease, fm, content_tfidf, sasrec,
  // item_knn, user_knn; the policies epsilon_greedy, linucb, lin_ts, linucb_hybrid, reinforce_topk,
  // slateq, dqn (mid-deployment: test_policy_save_load.cpp)
  CHECK(checked >= 20);
  // Explaining after load from what they saved: item_knn, user_knn, sasrec, content_tfidf, ease, ials.
  CHECK(explaining >= 6);
}

TEST_CASE("save/load: a loaded model fitted again is a fresh fit, for every algorithm that declares it",
          "[save_load]") {
  // rating_blend refits its children in place, and a child may have been
  // read from a saved or cached file (recfuse run --fit-cache): fit must
  // reset whatever load restored. Loaded from a fit on other data, then
  // fitted on `data`: the scores of a plain fit on `data`.
  const TrainData data = synthetic_train_data();
  const TrainData other = synthetic_train_data(11);
  const int checked = for_each_saveable([&](const AlgorithmHandle& a, const ParamSet& params) {
    const std::string bytes = saved(*fit_algorithm(a, other, params, 5));
    RecommenderPtr refitted = create_recommender(a, params);
    std::istringstream in(bytes);
    refitted->load(in);
    FitContext ctx;
    ctx.seed = 1;
    ctx.threads = 2;
    refitted->fit(data, ctx);
    RecommenderPtr fresh = fit_algorithm(a, data, params, 1);
    CHECK(all_scores(*refitted, data.n_users) == all_scores(*fresh, data.n_users));
    CHECK(saved(*refitted) == saved(*fresh));
  });
  CHECK(checked >= 20);
}

TEST_CASE("save/load: sasrec refuses a model of another shape, and a loaded model scores without its training state",
          "[save_load][sasrec]") {
  const TrainData data = synthetic_train_data();
  const AlgorithmHandle a = plugin_registry().find("sasrec");
  const std::map<std::string, ParamValue> small{{"epochs", std::int64_t{1}}, {"hidden", std::int64_t{8}},
                                                {"maxlen", std::int64_t{6}}};
  RecommenderPtr fitted = fit_algorithm(a, data, params_for(a, small));
  const std::string bytes = saved(*fitted);
  // heads, activation and padding score the same buffer otherwise without changing its size.
  for (const auto& [key, value, named] : std::vector<std::tuple<std::string, ParamValue, std::string>>{
           {"hidden", std::int64_t{16}, "hidden is 8, expected 16"},
           {"maxlen", std::int64_t{7}, "maxlen is 6, expected 7"},
           {"blocks", std::int64_t{1}, "blocks is 2, expected 1"},
           {"heads", std::int64_t{2}, "heads is 1, expected 2"},
           {"activation", std::string("gelu"), "activation (1 = gelu) is 0, expected 1"},
           {"padding", std::string("mask"), "padding (1 = attend) is 1, expected 0"}}) {
    INFO(key);
    auto other = small;
    other[key] = value;
    RecommenderPtr r = create_recommender(a, params_for(a, other));
    std::istringstream in(bytes);
    CHECK_THROWS_WITH(r->load(in), Catch::Contains("sasrec: model file: " + named));
  }
  // The file's own pieces, read back as load reads them, to write altered copies.
  std::istringstream whole(bytes);
  ModelReader parts(whole, "test");
  const auto n_items = parts.value<std::int64_t>("n");
  std::vector<std::int64_t> arch;
  for (int k = 0; k < 6; ++k) arch.push_back(parts.value<std::int64_t>("arch"));
  const auto params = parts.values<float>("params");
  auto ptr = parts.values<std::int64_t>("ptr");
  auto items = parts.values<std::int32_t>("items");
  const auto app_ptr = parts.values<std::int64_t>("app ptr");
  const auto app_items = parts.values<std::int32_t>("app items");
  const auto write = [&](const std::vector<std::int64_t>& p, const std::vector<std::int32_t>& it) {
    std::ostringstream out;
    ModelWriter w(out);
    w.value(n_items);
    for (const auto v : arch) w.value(v);
    w.values(params);
    w.values(p);
    w.values(it);
    w.values(app_ptr);
    w.values(app_items);
    w.value<std::uint64_t>(0);
    return out.str();
  };
  {
    // User 0's input one item longer than maxlen (explain indexes its attention by length).
    REQUIRE(ptr.size() >= 2);
    std::vector<std::int32_t> longer(items.begin(), items.begin() + ptr[1]);
    while (static_cast<std::int64_t>(longer.size()) < 7) longer.push_back(0);
    longer.insert(longer.end(), items.begin() + ptr[1], items.end());
    std::vector<std::int64_t> p = ptr;
    for (std::size_t u = 1; u < p.size(); ++u) p[u] += 7 - ptr[1];
    RecommenderPtr r = create_recommender(a, params_for(a, small));
    std::istringstream in(write(p, longer));
    CHECK_THROWS_WITH(r->load(in), Catch::Contains("the input items of user 0 are longer than maxlen 6"));
  }
  {
    std::vector<std::int32_t> outside = items;
    REQUIRE(!outside.empty());
    outside.back() = static_cast<std::int32_t>(n_items);
    RecommenderPtr r = create_recommender(a, params_for(a, small));
    std::istringstream in(write(ptr, outside));
    CHECK_THROWS_WITH(r->load(in), Catch::Contains("an input item " + std::to_string(n_items) + " is outside the catalogue"));
  }
  // Loaded twice into one instance: the second load replaces the first whole.
  RecommenderPtr loaded = create_recommender(a, params_for(a, small));
  for (int k = 0; k < 2; ++k) {
    std::istringstream in(bytes);
    loaded->load(in);
  }
  CHECK(all_scores(*loaded, data.n_users) == all_scores(*fitted, data.n_users));
}

TEST_CASE("save/load: a model of other parameters is refused, naming the size", "[save_load]") {
  const TrainData data = synthetic_train_data();
  for (const char* name : {"ials", "bpr", "sgd_mf", "svdpp", "als_explicit", "fm"}) {
    INFO(name);
    const AlgorithmHandle a = plugin_registry().find(name);
    RecommenderPtr fitted = fit_algorithm(a, data, params_for(a, {{"factors", std::int64_t{8}}}));
    RecommenderPtr other = create_recommender(a, params_for(a, {{"factors", std::int64_t{16}}}));
    std::istringstream in(saved(*fitted));
    CHECK_THROWS_WITH(other->load(in), Catch::Contains("width") && Catch::Contains("is 8, expected 16"));
  }
  const AlgorithmHandle bpr = plugin_registry().find("bpr");
  RecommenderPtr biased = fit_algorithm(bpr, data, params_for(bpr));
  RecommenderPtr unbiased = create_recommender(bpr, params_for(bpr, {{"item_bias", false}}));
  std::istringstream in(saved(*biased));
  CHECK_THROWS_WITH(unbiased->load(in), Catch::Contains("item biases"));
}

TEST_CASE("save/load: an algorithm without the capability says so", "[save_load]") {
  RecommenderPtr r = fit_algorithm("random", synthetic_train_data());
  std::ostringstream out;
  CHECK_THROWS_WITH(r->save(out), Catch::Contains("does not save models"));
}

TEST_CASE("model files: the header lines are checked before any model byte", "[save_load]") {
  std::istringstream good(std::string(kModelMagic) + "\n{\"plugin\": \"ease\"}\nBYTES");
  CHECK(read_model_header(good, "m.model") == "{\"plugin\": \"ease\"}");
  std::string rest;
  std::getline(good, rest);
  CHECK(rest == "BYTES");
  std::istringstream foreign("PK\x03\x04 a zip file\n");
  CHECK_THROWS_WITH(read_model_header(foreign, "m.model"),
                    Catch::Contains("m.model: not a recfuse model file"));
  std::istringstream headless(std::string(kModelMagic) + "\n");
  CHECK_THROWS_WITH(read_model_header(headless, "m.model"), Catch::Contains("header line is missing"));
  // A corrupt count fails before allocating: beyond the bytes left, and a
  // matrix shape whose product wraps around to 0 (2^32 x 2^32).
  std::ostringstream big;
  ModelWriter(big).value<std::uint64_t>(std::uint64_t{1} << 62);
  std::istringstream in(big.str());
  ModelReader r(in, "test");
  CHECK_THROWS_WITH(r.values<float>("counts"), Catch::Contains("test: model file: counts is truncated or corrupt"));
  std::ostringstream small;
  ModelWriter(small).value<std::uint64_t>(1000);  // 1000 floats claimed, 8 bytes follow
  ModelWriter(small).value<double>(1.0);
  std::istringstream in2(small.str());
  ModelReader r2(in2, "test");
  CHECK_THROWS_WITH(r2.values<float>("counts"), Catch::Contains("claims 1000 elements of 4 bytes, and only 8 bytes are left"));
  std::ostringstream wrap;
  ModelWriter(wrap).value<std::int64_t>(std::int64_t{1} << 32);
  ModelWriter(wrap).value<std::int64_t>(std::int64_t{1} << 32);
  std::istringstream in3(wrap.str());
  ModelReader r3(in3, "test");
  CHECK_THROWS_WITH(r3.matrix<Eigen::MatrixXf>("factors"), Catch::Contains("test: model file: factors "));
}

TEST_CASE("save/load: sgd_mf and als_explicit refuse a biased model in an unbiased instance", "[save_load]") {
  const TrainData data = synthetic_train_data();
  for (const char* name : {"sgd_mf", "als_explicit"}) {
    INFO(name);
    const AlgorithmHandle a = plugin_registry().find(name);
    RecommenderPtr fitted = fit_algorithm(a, data, params_for(a));
    RecommenderPtr unbiased = create_recommender(a, params_for(a, {{"biased", false}}));
    std::istringstream in(saved(*fitted));
    CHECK_THROWS_WITH(unbiased->load(in), Catch::Contains(std::string(name) + ": model file: 'biased' is 1, expected 0"));
  }
}

TEST_CASE("save/load: an unbiased als_explicit model predicts as fitted after load", "[save_load]") {
  // The generic case runs the defaults (biased); unbiased, μ must stay out of r̂.
  const TrainData data = synthetic_train_data();
  const AlgorithmHandle a = plugin_registry().find("als_explicit");
  const ParamSet params = params_for(a, {{"biased", false}});
  RecommenderPtr fitted = fit_algorithm(a, data, params);
  RecommenderPtr loaded = create_recommender(a, params);
  std::istringstream in(saved(*fitted));
  loaded->load(in);
  const std::vector<UserId> users = {0, 3, 7, 29};
  const std::vector<ItemId> items = {1, 5, 39, 12};
  std::vector<float> want(users.size()), got(users.size());
  fitted->predict_rating(users, items, want);
  loaded->predict_rating(users, items, got);
  CHECK(got == want);
  CHECK(score_pairs(*loaded, users, items) == score_pairs(*fitted, users, items));
}

TEST_CASE("save/load: content_tfidf refuses an item profile that names no term", "[save_load]") {
  const TrainData data = synthetic_train_data();
  const AlgorithmHandle a = plugin_registry().find("content_tfidf");
  RecommenderPtr fitted = fit_algorithm(a, data, params_for(a));
  std::string bytes = saved(*fitted);
  // The first item profile term follows the names and the offsets; make it
  // the number of terms (one past the last).
  std::istringstream probe(bytes);
  ModelReader r(probe, "probe");
  const auto n_terms = r.value<std::uint64_t>("n");
  for (std::uint64_t t = 0; t < n_terms; ++t) r.text("name");
  r.values<std::int64_t>("offsets");
  const auto at = static_cast<std::size_t>(probe.tellg()) + sizeof(std::uint64_t);  // past the count
  const auto bad = static_cast<std::int32_t>(n_terms);
  bytes.replace(at, sizeof bad, reinterpret_cast<const char*>(&bad), sizeof bad);
  RecommenderPtr r2 = create_recommender(a, params_for(a));
  std::istringstream in(bytes);
  CHECK_THROWS_WITH(r2->load(in), Catch::Contains("content_tfidf: model file: an item profile term " +
                                                  std::to_string(n_terms) + " is not one of the"));
}

TEST_CASE("save/load: a rating range with lowest above highest is refused", "[save_load]") {
  // Predictions are clamped to [lowest, highest]; std::clamp with lo > hi is
  // undefined. Offsets of the two floats: after the rating mean (double),
  // and for the biased MFs after their 'biased' byte too.
  const TrainData data = synthetic_train_data();
  for (const auto& [name, at] : {std::pair<const char*, std::size_t>{"baseline_only", 8},
                                 {"sgd_mf", 9}, {"als_explicit", 9}, {"svdpp", 8}}) {
    INFO(name);
    const AlgorithmHandle a = plugin_registry().find(name);
    RecommenderPtr fitted = fit_algorithm(a, data, params_for(a));
    std::string bytes = saved(*fitted);
    const float lo = 5.0f, hi = 1.0f;  // swapped
    bytes.replace(at, sizeof lo, reinterpret_cast<const char*>(&lo), sizeof lo);
    bytes.replace(at + sizeof lo, sizeof hi, reinterpret_cast<const char*>(&hi), sizeof hi);
    RecommenderPtr r2 = create_recommender(a, params_for(a));
    std::istringstream in(bytes);
    CHECK_THROWS_WITH(r2->load(in), Catch::Contains(std::string(name) + ": model file: rating range is [5"));
  }
}

TEST_CASE("save/load: kNN refuses neighbour lists a lookup could not bisect, and another catalogue", "[save_load]") {
  // 2 users, 3 items; item 0's neighbours out of order: pair scores bisect each row.
  const auto file = [](std::vector<std::int32_t> neighbour_ids, std::vector<float> sims) {
    std::ostringstream out;
    ModelWriter w(out);
    w.value<std::int32_t>(2);
    w.value<std::int32_t>(3);
    w.values(std::vector<std::int64_t>{0, 2, 2, 2});
    w.values(neighbour_ids);
    w.values(sims);
    w.values(std::vector<std::int64_t>{0, 1, 2});
    w.values(std::vector<std::int32_t>{0, 2});
    w.values(std::vector<float>{1.0f, 1.0f});
    w.value<std::uint64_t>(0);
    return out.str();
  };
  const AlgorithmHandle a = plugin_registry().find("item_knn");
  {
    RecommenderPtr r = create_recommender(a, params_for(a));
    std::istringstream in(file({1, 2}, {0.5f, 0.4f}));
    r->load(in);
    CHECK(r->n_users() == 2);
    CHECK(r->n_items() == 3);
    std::vector<float> s(3);
    const UserId u = 0;  // rated item 0, whose neighbours are 1 (0.5) and 2 (0.4)
    r->score_all(std::span<const UserId>(&u, 1), s);
    CHECK(s == std::vector<float>{0.0f, 0.5f, 0.4f});
  }
  {
    RecommenderPtr r = create_recommender(a, params_for(a));
    std::istringstream in(file({2, 1}, {0.5f, 0.4f}));
    CHECK_THROWS_WITH(r->load(in), Catch::Contains("item_knn: model file: the neighbour ids of row 0 are not in ascending order"));
  }
  {
    RecommenderPtr r = create_recommender(a, params_for(a));
    std::istringstream in(file({1, 3}, {0.5f, 0.4f}));
    CHECK_THROWS_WITH(r->load(in), Catch::Contains("a neighbour id 3 is outside [0, 3)"));
  }
  {
    RecommenderPtr r = create_recommender(a, params_for(a));
    std::istringstream in(file({1, 2}, {0.5f, std::nanf("")}));
    CHECK_THROWS_WITH(r->load(in), Catch::Contains("the similarities include nan"));
  }
  // An item_knn file read by user_knn: its neighbour rows are items, not users.
  const TrainData data = synthetic_train_data();
  REQUIRE(data.n_users != data.n_items);
  RecommenderPtr fitted = fit_algorithm(a, data, params_for(a));
  const AlgorithmHandle u = plugin_registry().find("user_knn");
  RecommenderPtr other = create_recommender(u, params_for(u));
  std::istringstream in(saved(*fitted));
  CHECK_THROWS_WITH(other->load(in), Catch::Contains("user_knn: model file"));
}
