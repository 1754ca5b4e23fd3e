// [evaluation] explain_users: an offline trial record keeps the first
// evaluated users' lists, exactly as the evaluator scored them, with the
// plugin's reasons (runner/explanations.hpp); a plugin without explain, or
// whose explain throws, is noted and keeps its trial; the report shows a
// few lists (reports/report.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "recfuse/ranking_metrics.hpp"
#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;
using json = nlohmann::json;

namespace {

/// A small ml-100k-format dataset with titles ("Film <id> (1990)"): 40
/// users, 30 items; u1.test holds every fourth of a user's ratings, u1.base
/// the rest. Ids are kept as written (original ids).
struct Data {
  std::filesystem::path dir;
  std::map<int, std::set<int>> base;      // user -> training items
  std::map<int, std::map<int, int>> test;  // user -> item -> rating
  std::map<int, int> popularity;           // item -> training users
};

Data write_dataset(const std::filesystem::path& dir) {
  Data d;
  d.dir = dir / "ml100k";
  std::filesystem::create_directories(d.dir);
  std::string all, base, test, items;
  for (int u = 1; u <= 40; ++u) {
    int n = 0;
    for (int i = 1; i <= 30; ++i) {
      if ((u * 31 + i * 17 + (u * i) % 7) % 10 >= 4) continue;
      const std::string row = std::to_string(u) + "\t" + std::to_string(i) + "\t" +
                              std::to_string(1 + (u * i) % 5) + "\t" + std::to_string(100000 + u * 100 + i) + "\n";
      all += row;
      if (n++ % 4 == 3) {
        test += row;
        d.test[u][i] = 1 + (u * i) % 5;
      } else {
        base += row;
        d.base[u].insert(i);
        ++d.popularity[i];
      }
    }
  }
  for (int i = 1; i <= 30; ++i) {
    items += std::to_string(i) + "|Film " + std::to_string(i) + " (1990)|01-Jan-1990||http://x";
    for (int g = 0; g < 19; ++g) items += g == i % 19 ? "|1" : "|0";
    items += "\n";
  }
  write_text(d.dir, "u.data", all);
  write_text(d.dir, "u1.base", base);
  write_text(d.dir, "u1.test", test);
  write_text(d.dir, "u.item", items);
  return d;
}

std::string scenario(const Data& d, const std::string& explain_line) {
  return "name = \"explain\"\nseeds = [1]\nthreads = 1\n[dataset]\nformat = \"ml-100k\"\npath = \"" +
         d.dir.string() +
         "\"\n[split]\nmethod = \"fixed\"\nfold = [\"u1\"]\n"
         "[evaluation]\ncutoffs = [4, 8]\nbootstrap = 20\nrelevance_threshold = 3.0\n" + explain_line +
         "[[algorithms]]\nname = \"item_knn\"\nplugin = \"item_knn\"\n[algorithms.params]\nneighbors = 10\n"
         "[[algorithms]]\nname = \"popularity\"\nplugin = \"popularity\"\n"
         "[[algorithms]]\nname = \"throws_explain\"\nplugin = \"test_throws_explain\"\n";
}

std::map<std::string, json> records_by_algorithm(const std::filesystem::path& out) {
  std::map<std::string, json> records;
  for (const auto& e : std::filesystem::directory_iterator(out / "trials")) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const json r = json::parse(ss.str());
    records[r.at("algorithm").get<std::string>()] = r;
  }
  return records;
}

int id_of(const json& j, const char* key) { return std::stoi(j.at(key).get<std::string>()); }

/// The record's lists are the evaluated ones: every evaluated user in
/// order, the top min(10, 8) of a full ranking outside the user's training
/// items, hits as the metrics count them (rating >= 3), and each cutoff's
/// metrics recomputed from the list equal to the evaluator's per-user values.
void check_lists_are_the_evaluated_ones(const json& rec, const Data& d) {
  const json& lists = rec.at("explanations");
  const json& per_user = rec.at("per_user");
  REQUIRE(lists.size() == per_user.at("users").size());  // explain_users = 100 > evaluated users
  REQUIRE(lists.size() > 10);
  for (std::size_t r = 0; r < lists.size(); ++r) {
    const json& list = lists[r];
    CHECK(list.at("user") == per_user.at("users")[r]);
    const int user = id_of(list, "user_id");
    const std::map<int, int>& ratings = d.test.at(user);  // evaluated: it has test items
    const json& items = list.at("items");
    REQUIRE(items.size() == 8);
    std::vector<recfuse::ItemId> ranked;
    for (std::size_t j = 0; j < items.size(); ++j) {
      const int item = id_of(items[j], "item_id");
      ranked.push_back(item);
      CHECK(d.base.at(user).count(item) == 0);
      const auto t = ratings.find(item);
      CHECK(items[j].at("hit") == (t != ratings.end() && t->second >= 3));
      CHECK(items[j].at("title") == "Film " + std::to_string(item) + " (1990)");
      if (j > 0) CHECK(items[j].at("score").get<double>() <= items[j - 1].at("score").get<double>());
    }
    std::vector<recfuse::ItemId> relevant;
    for (const auto& [item, rating] : ratings)
      if (rating >= 3) relevant.push_back(item);
    for (const int k : {4, 8}) {
      const recfuse::RankingMetrics m = recfuse::ranking_metrics(ranked, relevant, k);
      const std::string at = "@" + std::to_string(k);
      INFO("user " << user << " cutoff " << k);
      CHECK(per_user.at("ndcg" + at)[r].get<double>() == Approx(m.ndcg).margin(1e-12));
      CHECK(per_user.at("precision" + at)[r].get<double>() == Approx(m.precision).margin(1e-12));
      CHECK(per_user.at("map" + at)[r].get<double>() == Approx(m.map).margin(1e-12));
    }
  }
}

}  // namespace

TEST_CASE("explain_users: records keep the evaluated lists with reasons, notes where there are none") {
  const auto dir = temp_dir("explanations");
  const Data d = write_dataset(dir);
  const auto s = write_text(dir, "s.toml", scenario(d, "explain_users = 100\n"));
  const auto out = dir / "out";
  const auto r = run_recfuse("run " + s.string() + " --output " + out.string() + " --plugin-path " +
                             bad_plugin_dir().string() + " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto records = records_by_algorithm(out);
  REQUIRE(records.size() == 3);
  for (const auto& [name, rec] : records) {
    INFO(name);
    REQUIRE(rec.at("status") == "ok");
    CHECK(rec.at("metrics").contains("ndcg@8"));
    CHECK(rec.at("timing").contains("explain_s"));
    check_lists_are_the_evaluated_ones(rec, d);
  }

  // item_knn explains every item; its reasons name training items by title.
  const json& knn = records.at("item_knn");
  CHECK_FALSE(knn.contains("explanations_note"));
  std::size_t because = 0;
  for (const auto& list : knn.at("explanations"))
    for (const auto& item : list.at("items")) {
      REQUIRE(item.contains("reason"));
      because += item.at("reason").get<std::string>().rfind("because you interacted with Film ", 0) == 0;
    }
  CHECK(because > 0);

  // Popularity declares no explain: one note, no reasons; its lists are
  // the catalogue by training users (ties: lower id), training items left out.
  const json& pop = records.at("popularity");
  CHECK(pop.at("explanations_note") == "popularity does not declare explain: lists shown without reasons");
  std::vector<int> by_popularity;
  for (int i = 1; i <= 30; ++i) by_popularity.push_back(i);
  std::stable_sort(by_popularity.begin(), by_popularity.end(), [&](int a, int b) {
    return (d.popularity.count(a) ? d.popularity.at(a) : 0) > (d.popularity.count(b) ? d.popularity.at(b) : 0);
  });
  for (const auto& list : pop.at("explanations")) {
    std::vector<int> expected, got;
    for (const int i : by_popularity)
      if (expected.size() < 8 && !d.base.at(id_of(list, "user_id")).count(i)) expected.push_back(i);
    for (const auto& item : list.at("items")) {
      CHECK_FALSE(item.contains("reason"));
      got.push_back(id_of(item, "item_id"));
    }
    CHECK(got == expected);
  }

  // explain throws: the trial stands, with its lists and a note.
  const json& thrown = records.at("throws_explain");
  CHECK_THAT(thrown.at("explanations_note").get<std::string>(),
             Catch::StartsWith("explain() threw for user ") && Catch::Contains("boom in explain") &&
                 Catch::EndsWith("lists shown without reasons"));
  for (const auto& list : thrown.at("explanations"))
    for (const auto& item : list.at("items")) CHECK_FALSE(item.contains("reason"));

  // The report: report.json keeps the trials' lists and a bounded digest,
  // which report.md and report.html show.
  const json report = read_report(out);
  const json& digest = report.at("explanations");
  REQUIRE(digest.size() == 3);
  CHECK(digest[0].at("algorithm") == "item_knn");
  CHECK(digest[1].at("note") == pop.at("explanations_note"));
  for (const auto& e : digest) {
    CHECK(e.at("users").size() == 3);
    for (const auto& u : e.at("users")) CHECK(u.at("items").size() == 5);
  }
  CHECK(digest[0].at("users")[0] == [&] {
    json first = knn.at("explanations")[0];
    first["items"].erase(first["items"].begin() + 5, first["items"].end());
    return first;
  }());
  for (const auto& t : report.at("trials"))
    CHECK(t.at("explanations") == records.at(t.at("algorithm").get<std::string>()).at("explanations"));
  std::ifstream md_in(out / "report.md"), html_in(out / "report.html");
  std::stringstream md, html;
  md << md_in.rdbuf();
  html << html_in.rdbuf();
  CHECK_THAT(md.str(), Catch::Contains("## Explanations") && Catch::Contains("### item_knn") &&
                           Catch::Contains("| user | rank | item | score | hit | reason |") &&
                           Catch::Contains("because you interacted with Film ") &&
                           Catch::Contains("popularity does not declare explain"));
  CHECK_THAT(html.str(), Catch::Contains("<h2 id=\"explanations\">Explanations</h2>") &&
                             Catch::Contains("because you interacted with Film ") &&
                             Catch::Contains("boom in explain"));
}

TEST_CASE("explain_users = 0 writes no explanations and no report section") {
  const auto dir = temp_dir("explanations-off");
  const Data d = write_dataset(dir);
  const auto s = write_text(dir, "s.toml", scenario(d, ""));
  const auto out = dir / "out";
  const auto r = run_recfuse("run " + s.string() + " --output " + out.string() + " --plugin-path " +
                             bad_plugin_dir().string() + " --no-cache --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const auto& [name, rec] : records_by_algorithm(out)) {
    CHECK_FALSE(rec.contains("explanations"));
    CHECK_FALSE(rec.contains("explanations_note"));
    CHECK_FALSE(rec.at("timing").contains("explain_s"));
  }
  CHECK_FALSE(read_report(out).contains("explanations"));
  std::ifstream md_in(out / "report.md");
  std::stringstream md;
  md << md_in.rdbuf();
  CHECK(md.str().find("## Explanations") == std::string::npos);
}
