// Explanations name users and items as the dataset does (TrainData::user_ids,
// item_ids; item_label, user_label), never by recfuse's dense ids, which
// mean nothing to a reader ("user 0" is ml-100k's user "196" or whichever
// came first). A model saved and loaded names them the same way.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "conformance_support.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

// four_by_four(): u0 = {i0,i1}, u1 = {i0,i1,i2}, u2 = {i1,i2}, u3 = {i0,i3}.

/// Dataset ids unlike the dense ones: dense k is "k<100 - k>".
std::vector<std::string> foreign_ids(std::int32_t n) {
  std::vector<std::string> ids;
  for (std::int32_t k = 0; k < n; ++k) ids.push_back("k" + std::to_string(100 - k));
  return ids;
}

/// `text` with every "<word> <dense id>" renamed to "<word> <ids[id]>".
std::string renamed(const std::string& text, const std::string& word, const std::vector<std::string>& ids) {
  const std::regex re(word + " ([0-9]+)");
  std::string out;
  auto at = text.cbegin();
  for (std::sregex_iterator m(text.begin(), text.end(), re), end; m != end; ++m) {
    out.append(at, (*m)[0].first);
    out += word + " " + ids.at(std::stoul((*m)[1].str()));
    at = (*m)[0].second;
  }
  out.append(at, text.cend());
  return out;
}

RecommenderPtr reloaded(const std::string& name, Recommender& fitted, const ParamSet& params) {
  std::ostringstream saved;
  fitted.save(saved);
  RecommenderPtr r = create_recommender(plugin_registry().find(name), params);
  std::istringstream in(saved.str());
  r->load(in);
  return r;
}

}  // namespace

TEST_CASE("item_label and user_label prefer the title then the dataset id", "[explain]") {
  TrainData d = four_by_four();
  CHECK(item_label(d, 2) == "item 2");
  CHECK(user_label(d, 3) == "user 3");
  d.item_ids = {"a", "b", "c", "d"};
  d.user_ids = {"196", "186", "22", "244"};
  CHECK(item_label(d, 2) == "item c");
  CHECK(user_label(d, 3) == "user 244");
  d.item_titles = {"Toy Story (1995)", "", "GoldenEye (1995)", ""};
  CHECK(item_label(d, 0) == "Toy Story (1995)");
  CHECK(item_label(d, 1) == "item b");
  CHECK(item_labels(d) == std::vector<std::string>{"Toy Story (1995)", "item b", "GoldenEye (1995)", "item d"});
}

TEST_CASE("user_knn names its neighbours by their dataset ids, fitted and loaded", "[explain][knn]") {
  TrainData d = four_by_four();
  d.user_ids = {"196", "186", "22", "244"};
  const AlgorithmHandle& a = plugin_registry().find("user_knn");
  const ParamSet params = params_for(a);
  RecommenderPtr r = fit_algorithm(a, d, params);
  // u0's neighbours: u1 (2/√6 ≈ 0.82), u2 (1/2), u3 (1/2); u1 and u2 have i2.
  const std::string want = "2 of your 3 nearest neighbours interacted with it: user 186 (similarity 0.82), "
                           "user 22 (similarity 0.50)";
  CHECK(r->explain(0, 2) == want);
  CHECK(reloaded("user_knn", *r, params)->explain(0, 2) == want);
}

TEST_CASE("item explanations name untitled items by their dataset ids, fitted and loaded", "[explain]") {
  TrainData plain = synthetic_train_data();
  plain.item_titles.clear();  // untitled: items are named by id
  TrainData named = plain;
  named.item_ids = foreign_ids(named.n_items);
  named.user_ids = foreign_ids(named.n_users);
  for (const std::string name : {"item_knn", "ials", "ease", "sasrec", "user_knn"}) {
    INFO(name);
    const AlgorithmHandle& a = plugin_registry().find(name);
    const ParamSet params = name == "sasrec" ? params_for(a, {{"epochs", std::int64_t{2}}, {"hidden", std::int64_t{8}}})
                                             : params_for(a);
    RecommenderPtr dense = fit_algorithm(a, plain, params);
    RecommenderPtr ids = fit_algorithm(a, named, params);
    RecommenderPtr loaded = reloaded(name, *ids, params);
    const std::string word = name == "user_knn" ? "user" : "item";
    int named_some = 0;
    for (UserId u = 0; u < plain.n_users; u += 3)
      for (ItemId i = 0; i < plain.n_items; i += 2) {
        const std::string why = dense->explain(u, i);
        const std::string want = renamed(why, word, word == "user" ? named.user_ids : named.item_ids);
        CHECK(ids->explain(u, i) == want);
        CHECK(loaded->explain(u, i) == want);
        named_some += want != why;
      }
    CHECK(named_some > 0);  // the reasons did name someone
  }
}
