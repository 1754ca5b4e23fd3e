// explain of the fusion strategies that declare it (score_fusion,
// rank_fusion, switching; stacking and cascade in
// test_fusion_explain_learned.cpp): each child's exact part of the fused score,
// named by its scenario name, then the reason of the child that contributes
// most. Worked by hand on test_fusion_hand.cpp's children A and B, and on
// every (user, item) pair of real children: the named contributions add up
// to the fused score (score fusion) and the named ranks give the fused rank
// score back (rank fusion).
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../../plugins/fusion/rank_fusion.hpp"
#include "../../plugins/fusion/score_fusion.hpp"
#include "../../plugins/fusion/switching.hpp"
#include "test_fusion_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// Fixed scores, like FixedScores, and a reason naming the child and the pair.
class Says final : public Recommender {
 public:
  Says(std::string word, std::vector<std::vector<float>> s) : word_(std::move(word)), s_(std::move(s)) {}
  void fit(const TrainData& d, const FitContext&) override { set_shape(d.n_users, d.n_items); }
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy_n(s_[static_cast<std::size_t>(users[r])].begin(), n, out.begin() + static_cast<std::ptrdiff_t>(r * n));
  }
  std::size_t model_bytes() const override { return 0; }
  std::string explain(UserId u, ItemId i) override {
    return word_ + " for user " + std::to_string(u) + " item " + std::to_string(i);
  }

 private:
  std::string word_;
  std::vector<std::vector<float>> s_;
};

/// test_fusion_hand.cpp's A and B, each explaining itself ("A says for user 0 item 1").
std::vector<Child> two_explaining(const TrainData& d) {
  std::vector<Child> out;
  for (Child c : two_children(d)) {
    std::vector<std::vector<float>> rows;
    for (UserId u = 0; u < d.n_users; ++u) rows.push_back(row_of(*c.model, u));
    auto m = std::make_shared<Says>(c.name + " says", std::move(rows));
    m->fit(d, FitContext{});
    out.push_back(Child{c.name, "says", kCapExplain, m});
  }
  return out;
}

/// Real children fitted on `d`, named by their plugins' short names.
std::vector<Child> real_children(const TrainData& d, bool with_uknn) {
  std::vector<Child> out;
  for (const auto& [name, plugin] : std::vector<std::pair<std::string, std::string>>{
           {"pop", "popularity"}, {"knn", "item_knn"}, {"uknn", "user_knn"}}) {
    if (name == "uknn" && !with_uknn) continue;
    out.push_back(Child{name, plugin, plugin_registry().find(plugin).algorithm->capabilities, fit_algorithm(plugin, d)});
  }
  return out;
}

/// A reason cut into its lead ("fused score 1.09"), its children's parts
/// ("knn +0.62 (rank 3)" as name, value, note) and the tail after "; ".
struct Parsed {
  std::string lead, tail;
  std::vector<std::string> names, notes;
  std::vector<double> values;  // NaN when a child has no term
};

Parsed parse(const std::string& why) {
  Parsed p;
  const std::size_t colon = why.find(": "), semi = why.find("; ", colon);
  p.lead = why.substr(0, colon);
  if (semi != std::string::npos) p.tail = why.substr(semi + 2);
  const std::string body = why.substr(colon + 2, semi == std::string::npos ? std::string::npos : semi - colon - 2);
  for (std::size_t at = 0; at <= body.size();) {
    std::size_t end = body.find(", ", at);
    if (end == std::string::npos) end = body.size();
    const std::string part = body.substr(at, end - at);
    const std::size_t space = part.find(' ');
    p.names.push_back(part.substr(0, space));
    const bool valued = space + 1 < part.size() && (part[space + 1] == '+' || part[space + 1] == '-');
    p.values.push_back(valued ? std::stod(part.substr(space + 1)) : std::nan(""));
    const std::size_t open = part.find('(');
    p.notes.push_back(open == std::string::npos ? "" : part.substr(open + 1, part.size() - open - 2));
    at = end + 2;
  }
  return p;
}

}  // namespace

TEST_CASE("fusion: the strategies with exact per-child parts declare explain", "[fusion][explain]") {
  for (const char* name : {"score_fusion", "rank_fusion", "switching", "stacking", "cascade"})
    CHECK((plugin_registry().find(name).algorithm->capabilities & kCapExplain) != 0);
  CHECK((plugin_registry().find("rating_blend").algorithm->capabilities & kCapExplain) == 0);
}

TEST_CASE("score_fusion explains each child's weighted term, worked by hand", "[fusion][explain]") {
  const TrainData d = hand_data();
  // User 0, none, weights 0.7/0.3: item 1 = 0.7·2 + 0.3·5, item 3 = 0.7·1 + 0.3·4.
  auto w = make_fused<ScoreFusion>({{"normalization", std::string("none")}, {"weights", std::string("0.7,0.3")}},
                                   two_children(d), d);
  CHECK(w->explain(0, 1) == "fused score 2.9: A +1.4, B +1.5");
  CHECK(w->explain(0, 3) == "fused score 1.9: A +0.7, B +1.2");
  // Children that explain: the larger term's child adds its reason.
  auto says = make_fused<ScoreFusion>({{"normalization", std::string("none")}, {"weights", std::string("0.7,0.3")}},
                                      two_explaining(d), d);
  CHECK(says->explain(0, 1) == "fused score 2.9: A +1.4, B +1.5; B: B says for user 0 item 1");
  CHECK(says->explain(0, 0) == "fused score 2.1: A +2.1, B +0; A: A says for user 0 item 0");
  // CombMNZ, depth 2: A's top 2 of {0..3} are 0, 1 (1 before 2 by id), B's 1, 3.
  auto mnz = make_fused<ScoreFusion>({{"normalization", std::string("none")}, {"method", std::string("combmnz")},
                                      {"depth", std::int64_t{2}}}, two_children(d), d);
  CHECK(mnz->explain(0, 1) == "fused score 14 = 2 x 7 (2 children rank it in the top 2): A +2, B +5");
  CHECK(mnz->explain(0, 3) == "fused score 5 = 1 x 5 (1 child ranks it in the top 2): A +1, B +4");
  CHECK(mnz->explain(0, 2) == "fused score 0 = 0 x 3 (no child ranks it in the top 2): A +2, B +1");
  // z-scores over user 0's candidates {2, 1, 1, 0... }: a negative term keeps its sign.
  auto z = make_fused<ScoreFusion>({}, two_children(d), d);
  CHECK(parse(z->explain(0, 3)).values[0] < 0);
  CHECK(w->explain(2, 0).empty());
  CHECK(w->explain(0, 5).empty());
}

TEST_CASE("score_fusion's named terms add up to the fused score for every pair", "[fusion][explain]") {
  const TrainData d = synthetic_train_data();
  const std::vector<std::map<std::string, ParamValue>> configs{
      {{"weights", std::string("0.7,0.3")}},
      {{"normalization", std::string("minmax")}, {"method", std::string("combmnz")}, {"depth", std::int64_t{10}}},
  };
  for (std::size_t k = 0; k < configs.size(); ++k) {
    INFO("config " << k);
    const std::vector<Child> kids = real_children(d, k == 1);
    auto f = make_fused<ScoreFusion>(configs[k], kids, d);
    int checked_tail = 0;
    for (UserId u = 0; u < d.n_users; ++u) {
      const std::vector<float> row = row_of(*f, u);
      for (ItemId i = 0; i < d.n_items; ++i) {
        INFO("user " << u << " item " << i);
        const ScoreFusion::Parts p = f->parts(u, i);
        float sum = 0.0f;
        for (float t : p.terms) sum += t;
        CHECK(p.score == row[static_cast<std::size_t>(i)]);
        CHECK(static_cast<float>(p.lists) * sum == Approx(p.score).margin(1e-6));
        const std::string why = f->explain(u, i);
        const Parsed got = parse(why);
        REQUIRE(got.names.size() == p.terms.size());
        std::size_t top = p.terms.size();
        for (std::size_t c = 0; c < p.terms.size(); ++c) {
          CHECK(got.names[c] == kids[c].name);
          CHECK(got.values[c] == Approx(p.terms[c]).epsilon(0.006).margin(1e-6));
          if (p.terms[c] > 0 && (top == p.terms.size() || p.terms[c] > p.terms[top])) top = c;
        }
        // The largest positive term's child adds its own reason, when it explains.
        const bool says = top < p.terms.size() && (kids[top].capabilities & kCapExplain);
        const std::string child_why = says ? kids[top].model->explain(u, i) : "";
        CHECK(got.tail == (child_why.empty() ? "" : kids[top].name + ": " + child_why));
        checked_tail += !got.tail.empty();
      }
    }
    CHECK(checked_tail > 0);
  }
}

TEST_CASE("rank_fusion explains each child's rank and term, worked by hand", "[fusion][explain]") {
  const TrainData d = hand_data();
  // User 0's candidates 0..3: A ranks 0, 1, 2 (1 before 2 by id), B ranks 1, 3, 2.
  auto rrf = make_fused<RankFusion>({{"depth", std::int64_t{3}}}, two_children(d), d);
  CHECK(rrf->explain(0, 1) == "fused score 0.0325: A +0.0161 (rank 2), B +0.0164 (rank 1)");  // 1/62 + 1/61
  CHECK(rrf->explain(0, 2) == "fused score 0.0317: A +0.0159 (rank 3), B +0.0159 (rank 3)");  // 2/63
  CHECK(rrf->explain(0, 0) == "fused score 0.0164: A +0.0164 (rank 1), B (not in its top 3)");
  CHECK(rrf->explain(0, 4) == "fused score 0: A (not in its top 3), B (not in its top 3)");  // a training item
  auto borda = make_fused<RankFusion>({{"method", std::string("borda")}, {"depth", std::int64_t{3}},
                                       {"weights", std::string("2,1")}}, two_explaining(d), d);
  // 2·(3 + 1 − 2) + 1·(3 + 1 − 1): A's term is the larger.
  CHECK(borda->explain(0, 1) == "fused score 7: A +4 (rank 2), B +3 (rank 1); A: A says for user 0 item 1");
  CHECK(borda->explain(0, 4) == "fused score 0: A (not in its top 3), B (not in its top 3)");
  CHECK(rrf->explain(-1, 0).empty());
}

TEST_CASE("rank_fusion's named ranks give the fused score back for every pair", "[fusion][explain]") {
  const TrainData d = synthetic_train_data();
  const std::vector<Child> kids = real_children(d, true);
  for (const char* method : {"rrf", "borda", "vote"}) {
    INFO("method " << method);
    const double w[] = {0.5, 1.0, 2.0};
    auto f = make_fused<RankFusion>({{"method", std::string(method)}, {"depth", std::int64_t{10}},
                                     {"weights", std::string("0.5,1,2")}}, kids, d);
    const double tau = 0.5 * 0.5 / (0.5 / 61 + 1.0 / 61 + 2.0 / 61);  // the vote's tie-break (rank_fusion.hpp)
    for (UserId u = 0; u < d.n_users; ++u) {
      const std::vector<float> row = row_of(*f, u);
      for (ItemId i = 0; i < d.n_items; ++i) {
        INFO("user " << u << " item " << i);
        const Parsed got = parse(f->explain(u, i));
        REQUIRE(got.names.size() == kids.size());
        double rrf = 0.0, borda = 0.0, vote = 0.0;
        for (std::size_t c = 0; c < kids.size(); ++c) {
          CHECK(got.names[c] == kids[c].name);
          if (got.notes[c] == "not in its top 10") {
            CHECK(std::isnan(got.values[c]));
            continue;
          }
          REQUIRE(got.notes[c].rfind("rank ", 0) == 0);
          const int rank = std::stoi(got.notes[c].substr(5));
          CHECK((rank >= 1 && rank <= 10));
          rrf += w[c] / (60 + rank);
          borda += w[c] * (10 + 1 - rank);
          vote += w[c];
        }
        const double want = std::string(method) == "rrf" ? rrf : std::string(method) == "borda" ? borda : vote + tau * rrf;
        CHECK(row[static_cast<std::size_t>(i)] == Approx(want).epsilon(1e-6));
        const RankFusion::Parts p = f->parts(u, i);
        double sum = 0.0;
        for (double t : p.terms) sum += t;
        CHECK(p.score == row[static_cast<std::size_t>(i)]);
        CHECK(sum == Approx(p.score).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("switching explains with the child it chose and that child's reason", "[fusion][explain]") {
  const TrainData d = hand_data();  // user 0: 1 training item, user 1: 3
  auto s = make_fused<Switching>({{"min_history", std::int64_t{2}}}, two_explaining(d), d);
  CHECK(s->explain(0, 1) == "served by A, the child for users with fewer than 2 training items; A: A says for user 0 item 1");
  CHECK(s->explain(1, 3) == "served by B, the child for users with at least 2 training items; B: B says for user 1 item 3");
  auto one = make_fused<Switching>({{"min_history", std::int64_t{1}}}, two_children(d), d);
  CHECK(one->explain(0, 1) == "served by B, the child for users with at least 1 training item");
  CHECK(one->explain(2, 1).empty());

  const TrainData v = data_with_validation();
  const std::vector<Child> kids = real_children(v, true);
  auto learned = make_fused<Switching>({{"rule", std::string("learned")}}, kids, v);
  for (UserId u = 0; u < v.n_users; ++u) {
    const auto c = static_cast<std::size_t>(learned->choices()[static_cast<std::size_t>(u)]);
    const std::string child_why = (kids[c].capabilities & kCapExplain) ? kids[c].model->explain(u, 5) : "";
    CHECK(learned->explain(u, 5) == "served by " + kids[c].name +
                                        ", the child chosen on validation for your history-length quartile" +
                                        (child_why.empty() ? "" : "; " + kids[c].name + ": " + child_why));
  }
}
