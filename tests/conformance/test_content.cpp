// content_tfidf on profiles worked by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "conformance_support.hpp"
#include "host/params_validation.hpp"
#include "plugins/content/content_tfidf.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

/// 3 items: genres {A}, {A, B}, {B}; titles as given.
TrainData three_items(std::vector<Interaction> e, bool explicit_ratings, std::vector<std::string> titles) {
  TrainData d = make_train_data(1, 3, e, explicit_ratings);
  AttributeMatrix& f = d.item_features;
  f.names = {"genre=A", "genre=B"};
  f.matrix.rows = 3;
  f.matrix.cols = 2;
  f.matrix.indptr = {0, 1, 3, 4};
  f.matrix.indices = {0, 0, 1, 1};
  f.matrix.values = {1, 1, 1, 1};
  d.item_titles = std::move(titles);
  return d;
}

std::unique_ptr<ContentTfidf> fit_content(const TrainData& d, const std::map<std::string, ParamValue>& v = {}) {
  auto m = std::make_unique<ContentTfidf>(validate_params(ContentTfidf::params(), v, {}, "", "content_tfidf"));
  m->fit(d, FitContext{});
  return m;
}

std::vector<float> scores(ContentTfidf& m) {
  std::vector<float> out(3);
  const UserId u[] = {0};
  m.score_all(u, out);
  return out;
}

}  // namespace

TEST_CASE("title tokens are lower-cased words without years", "[content]") {
  CHECK(title_tokens("Toy Story (1995)") == std::vector<std::string>{"toy", "story"});
  CHECK(title_tokens("Se7en (1995)") == std::vector<std::string>{"se7en"});
  CHECK(title_tokens("2001: A Space Odyssey (1968)") == std::vector<std::string>{"a", "space", "odyssey"});
  CHECK(title_tokens("Twelve Monkeys (a.k.a. 12)") == std::vector<std::string>{"twelve", "monkeys", "a", "k", "a", "12"});
}

TEST_CASE("content_tfidf scores the cosine of TF-IDF profiles", "[content]") {
  // Both genres have df 2 of N = 3, so equal idf: x_0 = (1, 0),
  // x_1 = (1, 1)/√2, x_2 = (0, 1). The user chose item 0: p = x_0.
  auto m = fit_content(three_items({{0, 0}}, false, {}));
  auto s = scores(*m);
  CHECK(s[0] == Approx(1.0));
  CHECK(s[1] == Approx(1 / std::sqrt(2.0)));
  CHECK(s[2] == Approx(0.0));
  CHECK(m->explain(0, 1) == "shares 'genre=A' with your history");
  // Titles: "alpha" is in two items (kept, idf log 3/2), the other words in
  // one (below min_df = 2, dropped); with title_weight 1 item 1's profile is
  // (1, 1, 1)·log(1.5)/norm over (A, B, alpha), item 0's (1, 0, 1)/√2.
  m = fit_content(three_items({{0, 0}}, false, {"Alpha Beta (1990)", "alpha gamma", "Delta"}),
                  {{"title_weight", 1.0}});
  CHECK(m->n_terms() == 3);
  s = scores(*m);
  CHECK(s[1] == Approx(2 / (std::sqrt(2.0) * std::sqrt(3.0))));
  CHECK(s[2] == Approx(0.0));
}

TEST_CASE("rating weighting pushes profiles away from disliked items", "[content]") {
  // Ratings 5 (item 0) and 1 (item 2), mean 3: p ∝ 2 x_0 − 2 x_2 = (2, −2).
  const TrainData d = three_items({{0, 0, 5.0f}, {0, 2, 1.0f}}, true, {});
  auto m = fit_content(d, {{"rating_weighting", true}});
  auto s = scores(*m);
  CHECK(s[0] == Approx(1 / std::sqrt(2.0)));
  CHECK(s[1] == Approx(0.0).margin(1e-6));
  CHECK(s[2] == Approx(-1 / std::sqrt(2.0)));
  // Unweighted, the same history likes both genres equally.
  s = scores(*fit_content(d));
  CHECK(s[0] == Approx(s[2]));
}

TEST_CASE("content_tfidf weights terms by log(N / df), and a user without history scores 0", "[content]") {
  // 4 items: {A, B}, {A}, {A}, {C}: df A = 3, B = C = 1, so item 0's profile
  // is (log 4/3, log 4, 0) / norm. User 0 chose item 1 (p = (1, 0, 0)):
  // cos = log(4/3) / √(log²(4/3) + log² 4) ≈ 0.2032 (without the idf, 1/√2).
  TrainData d = make_train_data(2, 4, {{0, 1}}, false);
  AttributeMatrix& f = d.item_features;
  f.names = {"genre=A", "genre=B", "genre=C"};
  f.matrix.rows = 4;
  f.matrix.cols = 3;
  f.matrix.indptr = {0, 2, 3, 4, 5};
  f.matrix.indices = {0, 1, 0, 0, 2};
  auto m = fit_content(d);
  std::vector<float> s(8);
  m->score_all(std::vector<UserId>{0, 1}, s);
  const double a = std::log(4.0 / 3.0), b = std::log(4.0);
  CHECK(s[0] == Approx(a / std::sqrt(a * a + b * b)));
  CHECK(s[1] == Approx(1.0));
  CHECK(s[2] == Approx(1.0));
  CHECK(s[3] == Approx(0.0));
  CHECK(score_pairs(*m, {0, 0, 0, 0}, {0, 1, 2, 3}) == std::vector<float>(s.begin(), s.begin() + 4));
  // User 1 has no history: a zero profile, zero scores, nothing to explain.
  CHECK(std::vector<float>(s.begin() + 4, s.end()) == std::vector<float>(4, 0.0f));
  CHECK(m->explain(1, 0).empty());
  CHECK(m->explain(0, 0) == "shares 'genre=A' with your history");
}
