// kCapSaveLoad of the fusion strategies (plugins/fusion/fusion_io.hpp): every
// strategy over saveable children from the built plugins, a nested one too,
// saves a file that loads into the same tree built unfitted (children
// created, handed over with set_children, never fitted), which then scores,
// acts, rates and reports its diagnostics bit for bit as the fitted one; a
// cut or padded file, another number of children, a child of another plugin
// or one that refuses its bytes is an Error naming the strategy; a child
// that cannot be saved makes save throw, naming the strategy and the child.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// One node of a model tree, as a scenario's [[algorithms.children]] give it.
struct Node {
  std::string plugin;
  std::map<std::string, ParamValue> params = {};
  std::vector<Node> children = {};
  bool declares_save = true;  // false: handed over without kCapSaveLoad
  std::string name = {};      // the plugin's name when empty
  std::string label() const { return name.empty() ? plugin : name; }
};

/// The tree built as the host builds it: children first, handed over with
/// set_children, each node fitted after its children when `d` is given.
RecommenderPtr build(const Node& n, const TrainData* d) {
  const AlgorithmHandle h = plugin_registry().find(n.plugin);
  RecommenderPtr r = create_recommender(h, params_for(h, n.params));
  if (!n.children.empty()) {
    std::vector<Child> children;
    for (const Node& c : n.children) {
      std::uint32_t caps = plugin_registry().find(c.plugin).algorithm->capabilities;
      if (!c.declares_save) caps &= ~std::uint32_t{kCapSaveLoad};
      children.push_back({c.label(), c.plugin, caps, build(c, d)});
    }
    r->set_children(std::move(children));
  }
  if (d) {
    FitContext ctx;
    ctx.seed = 9;
    ctx.threads = 2;
    r->fit(*d, ctx);
  }
  return r;
}

std::string saved(const Recommender& r) {
  std::ostringstream out;
  r.save(out);
  return out.str();
}

void load(Recommender& r, const std::string& bytes) {
  std::istringstream in(bytes);
  r.load(in);
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

bool same_diagnostics(const std::vector<std::pair<std::string, double>>& a,
                      const std::vector<std::pair<std::string, double>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t j = 0; j < a.size(); ++j)
    if (a[j].first != b[j].first || std::bit_cast<std::uint64_t>(a[j].second) != std::bit_cast<std::uint64_t>(b[j].second))
      return false;
  return true;
}

/// Everything the host and a simulator read from a model, for every user.
struct Outputs {
  std::vector<float> all, pairs, ratings, top_scores;
  std::vector<ItemId> top, slates;
  std::vector<std::string> explained;
};

Outputs outputs(Recommender& r, std::uint32_t caps, const TrainData& d) {
  Outputs o;
  std::vector<UserId> users(static_cast<std::size_t>(d.n_users));
  for (UserId u = 0; u < d.n_users; ++u) users[static_cast<std::size_t>(u)] = u;
  o.all.resize(users.size() * static_cast<std::size_t>(d.n_items));
  r.score_all(users, o.all);
  std::vector<UserId> pu;
  std::vector<ItemId> pi;
  for (UserId u = 0; u < d.n_users; ++u)
    for (ItemId i = 0; i < d.n_items; ++i) pu.push_back(u), pi.push_back(i);
  o.pairs = score_pairs(r, pu, pi);
  if (caps & kCapPredictRating) {
    o.ratings.resize(pu.size());
    r.predict_rating(pu, pi, o.ratings);
  }
  if (caps & kCapExplain)
    for (std::size_t j = 0; j < pu.size(); ++j) o.explained.push_back(r.explain(pu[j], pi[j]));
  constexpr int kK = 10;
  o.top.resize(users.size() * kK);
  o.top_scores.resize(o.top.size());
  r.recommend(users, kK, SparseRowsView::of(d.by_user), o.top, o.top_scores);
  // Acting: 8 candidates per user (training items among them), slates of 3.
  constexpr int kCands = 8, kSlate = 3;
  std::vector<ItemId> cands;
  for (UserId u = 0; u < d.n_users; ++u)
    for (int j = 0; j < kCands; ++j) cands.push_back(static_cast<ItemId>((u * 7 + j * 5) % d.n_items));
  o.slates.resize(users.size() * kSlate);
  r.act(users, cands, kCands, kSlate, o.slates);
  return o;
}

struct SavedTreeCase {
  Node tree;
  bool rated = false;  // fitted on explicit validation ratings (rating_blend)
};

std::vector<SavedTreeCase> cases() {
  const Node pop{"popularity"}, knn{"item_knn"}, uknn{"user_knn"};
  return {
      {{"score_fusion", {}, {pop, knn}}},
      {{"score_fusion", {{"method", std::string("combmnz")}, {"normalization", std::string("rank")}, {"depth", std::int64_t{10}}}, {pop, knn}}},
      {{"rank_fusion", {{"method", std::string("vote")}, {"depth", std::int64_t{5}}}, {pop, knn}}},
      // Children that explain from saved state (ease's B, ials's confidences): the fused reasons end with theirs.
      {{"rank_fusion", {{"depth", std::int64_t{10}}}, {Node{"ease"}, Node{"ials", {{"factors", std::int64_t{4}}}}}}},
      {{"stacking", {}, {pop, knn}}},
      {{"stacking", {{"objective", std::string("pointwise")}, {"interactions", false}}, {pop, knn, uknn}}},
      {{"switching", {{"min_history", std::int64_t{8}}}, {pop, knn}}},
      {{"switching", {{"rule", std::string("learned")}}, {pop, knn, uknn}}},
      {{"cascade", {{"candidates", std::int64_t{12}}}, {pop, knn}}},
      {{"rating_blend", {}, {Node{"baseline_only"}, Node{"sgd_mf", {{"factors", std::int64_t{4}}}}}}, true},
      // Nested: the inner strategy's file is one of the outer's child blobs.
      {{"score_fusion", {{"normalization", std::string("minmax")}}, {pop, Node{"rank_fusion", {}, {knn, uknn}, true, "inner"}}}},
  };
}

}  // namespace

TEST_CASE("fusion save/load: a loaded tree scores, acts and reports as the fitted one, for every strategy",
          "[save_load][fusion]") {
  const std::vector<SavedTreeCase> all = cases();
  for (std::size_t c = 0; c < all.size(); ++c) {
    const Node& tree = all[c].tree;
    DYNAMIC_SECTION(tree.plugin << " #" << c) {
      const TrainData d = data_with_validation(all[c].rated);
      const std::uint32_t caps = plugin_registry().find(tree.plugin).algorithm->capabilities;
      REQUIRE((caps & kCapSaveLoad) != 0);
      RecommenderPtr fitted = build(tree, &d);
      const std::string bytes = saved(*fitted);
      RecommenderPtr loaded = build(tree, nullptr);
      load(*loaded, bytes);
      CHECK(loaded->n_users() == d.n_users);
      CHECK(loaded->n_items() == d.n_items);
      CHECK(loaded->model_bytes() == fitted->model_bytes());
      // Before any scoring: a cascade's serving times count from here.
      CHECK(same_diagnostics(loaded->diagnostics(), fitted->diagnostics()));
      if (tree.plugin != "score_fusion" && tree.plugin != "rank_fusion") CHECK_FALSE(fitted->diagnostics().empty());
      const Outputs want = outputs(*fitted, caps, d), got = outputs(*loaded, caps, d);
      CHECK(same_bits(got.all, want.all));
      CHECK(same_bits(got.pairs, want.pairs));
      CHECK(same_bits(got.ratings, want.ratings));
      CHECK(got.explained == want.explained);
      CHECK(got.top == want.top);
      CHECK(same_bits(got.top_scores, want.top_scores));
      CHECK(got.slates == want.slates);
      CHECK(saved(*loaded) == bytes);  // saving again gives the same file

      // Cut anywhere (in the shape, the state or a child's blob) or padded:
      // an Error naming the strategy, never a model of garbage.
      for (const std::size_t keep : {std::size_t{0}, std::size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
        INFO("first " << keep << " of " << bytes.size() << " bytes");
        RecommenderPtr r = build(tree, nullptr);
        CHECK_THROWS_WITH(load(*r, bytes.substr(0, keep)),
                          Catch::Contains(tree.plugin + ": model file") && Catch::Contains("truncated"));
      }
      RecommenderPtr padded = build(tree, nullptr);
      CHECK_THROWS_WITH(load(*padded, bytes + "x"),
                        Catch::Contains(tree.plugin + ": model file") && Catch::Contains("more bytes than the model has"));

      // A child handed over without save/load (the last, or the nested
      // strategy's last): save throws, naming that strategy and the child.
      Node unsaveable = tree;
      Node* parent = &unsaveable;
      while (!parent->children.back().children.empty()) parent = &parent->children.back();
      parent->children.back().declares_save = false;
      RecommenderPtr f = build(unsaveable, &d);
      CHECK_THROWS_WITH(saved(*f), Catch::Contains("[" + parent->plugin + "] child '" + parent->children.back().label() +
                                                   "' (plugin " + parent->children.back().plugin +
                                                   ") does not declare save/load"));
    }
  }
}

TEST_CASE("fusion save/load: another tree is refused, naming what differs", "[save_load][fusion]") {
  const TrainData d = data_with_validation();
  const Node pop{"popularity"}, knn{"item_knn"};
  const Node bpr8{"bpr", {{"factors", std::int64_t{8}}, {"epochs", std::int64_t{2}}}};
  const std::string bytes = saved(*build({"score_fusion", {}, {pop, bpr8}}, &d));
  RecommenderPtr r = build({"score_fusion", {}, {pop, bpr8}}, nullptr);
  load(*r, bytes);  // the same tree loads

  RecommenderPtr three = build({"score_fusion", {}, {pop, bpr8, knn}}, nullptr);
  CHECK_THROWS_WITH(load(*three, bytes), Catch::Contains("score_fusion: model file: the number of children is 2, expected 3"));
  RecommenderPtr other = build({"score_fusion", {}, {pop, Node{"item_knn", {}, {}, true, "bpr"}}}, nullptr);
  CHECK_THROWS_WITH(load(*other, bytes), Catch::Contains("score_fusion: model file: child 'bpr' was saved from plugin "
                                                         "'bpr', here it is 'item_knn'"));
  // The child's own check, inside its blob: another width.
  Node bpr16 = bpr8;
  bpr16.params["factors"] = std::int64_t{16};
  RecommenderPtr wider = build({"score_fusion", {}, {pop, bpr16}}, nullptr);
  CHECK_THROWS_WITH(load(*wider, bytes), Catch::Contains("score_fusion: model file: child 'bpr' does not load: bpr: "
                                                         "model file:") &&
                                             Catch::Contains("is 8, expected 16"));
  // A real plugin without save/load as a child.
  RecommenderPtr rnd = build({"score_fusion", {}, {pop, Node{"random"}}}, &d);
  CHECK_THROWS_WITH(saved(*rnd), Catch::Contains("[score_fusion] child 'random' (plugin random) does not declare save/load"));
}

TEST_CASE("fusion save/load: a nested rating_blend refitted by its parent still says so when loaded",
          "[save_load][fusion][rating_blend]") {
  // The outer blend's refit refits the inner one's children on train +
  // validation; the inner keeps its own refit = false, so only the saved
  // flag can tell a loaded inner that it trained on the validation ratings.
  const TrainData d = data_with_validation(true);
  const Node inner_node{"rating_blend", {{"refit", false}},
                        {Node{"baseline_only"}, Node{"sgd_mf", {{"factors", std::int64_t{4}}}}}};
  for (const bool outer_refit : {true, false}) {
    DYNAMIC_SECTION("outer refit = " << outer_refit) {
      auto tree = [&](const TrainData* data) {
        RecommenderPtr inner = build(inner_node, data), base = build(Node{"baseline_only"}, data);
        const AlgorithmHandle h = plugin_registry().find("rating_blend");
        RecommenderPtr outer = create_recommender(h, params_for(h, {{"refit", outer_refit}}));
        outer->set_children({{"inner", "rating_blend", h.algorithm->capabilities, inner},
                             {"base", "baseline_only", plugin_registry().find("baseline_only").algorithm->capabilities, base}});
        if (data) {
          FitContext ctx;
          ctx.seed = 9;
          outer->fit(*data, ctx);
        }
        return std::pair{outer, inner};
      };
      auto flag = [](const Recommender& r) {
        for (const auto& [key, value] : r.diagnostics())
          if (key == "trained_on_validation") return value;
        return -1.0;
      };
      const auto [fitted, fitted_inner] = tree(&d);
      CHECK(flag(*fitted_inner) == (outer_refit ? 1.0 : 0.0));
      const auto [loaded, loaded_inner] = tree(nullptr);
      load(*loaded, saved(*fitted));
      CHECK(flag(*loaded_inner) == flag(*fitted_inner));
      CHECK(same_diagnostics(loaded_inner->diagnostics(), fitted_inner->diagnostics()));
      CHECK(same_diagnostics(loaded->diagnostics(), fitted->diagnostics()));
    }
  }
}
