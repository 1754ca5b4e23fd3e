// Every reader on small hand-written fixtures (tests/fixtures/data).
#include <algorithm>
#include <catch2/catch.hpp>

#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;

namespace {

bool has_feature(const AttributeMatrix& m, std::int32_t row, const std::string& name) {
  const auto it = std::find(m.names.begin(), m.names.end(), name);
  if (it == m.names.end()) return false;
  const auto col = static_cast<std::int32_t>(it - m.names.begin());
  const auto r = m.matrix.row(row);
  return std::find(r.begin(), r.end(), col) != r.end();
}

}  // namespace

TEST_CASE("ml-100k fixture: ids, ratings, latin-1 titles, genres, demographics", "[data][readers]") {
  const Dataset d = read_fixture("ml-100k", "ml100k-mini");
  CHECK(d.format == "ml-100k");
  CHECK(d.name == "ml100k-mini");
  REQUIRE(d.n_users() == 4);
  REQUIRE(d.n_items() == 4);  // item 4 is listed in u.item but never rated
  REQUIRE(d.interactions.size() == 9);
  CHECK(d.explicit_ratings);
  CHECK(d.has_timestamps);
  // Numeric ids in ascending numeric order: "10" after "3".
  CHECK(d.user_ids == std::vector<std::string>{"1", "2", "3", "10"});
  CHECK(d.item_ids == std::vector<std::string>{"1", "2", "3", "5"});
  // First row "10 2 5 100" -> user 3, item 1.
  CHECK(d.interactions[0].user == 3);
  CHECK(d.interactions[0].item == 1);
  CHECK(d.interactions[0].value == 5.0f);
  CHECK(d.interactions[0].timestamp == 100);
  REQUIRE(d.item_titles.size() == 4);
  CHECK(d.item_titles[1] == "Mis\xc3\xa9rables, Les (1995)");  // latin-1 0xE9 -> UTF-8
  CHECK(d.item_titles[0] == "Toy Story (1995)");
  REQUIRE(d.item_features.names.size() == 19);
  CHECK(d.item_features.names[0] == "genre=unknown");
  CHECK(d.item_features.matrix.rows == 4);
  CHECK(has_feature(d.item_features, 0, "genre=Animation"));
  CHECK(has_feature(d.item_features, 0, "genre=Children's"));
  CHECK(has_feature(d.item_features, 0, "genre=Comedy"));
  CHECK_FALSE(has_feature(d.item_features, 0, "genre=Drama"));
  CHECK(d.item_features.matrix.row_size(0) == 3);
  CHECK(has_feature(d.item_features, 3, "genre=unknown"));
  CHECK(d.user_features.matrix.rows == 4);
  CHECK(has_feature(d.user_features, 2, "age=<18"));
  CHECK(has_feature(d.user_features, 2, "gender=M"));
  CHECK(has_feature(d.user_features, 2, "occupation=student"));
  CHECK(has_feature(d.user_features, 3, "age=56+"));
  CHECK(d.sha256.size() == 64);
}

TEST_CASE("malformed rows: error names file:line, or are skipped and counted", "[data][readers]") {
  const std::string msg = error_of([] { read_fixture("ml-100k", "ml100k-bad"); });
  CHECK_THAT(msg, Contains("u.data:3:"));
  CHECK_THAT(msg, Contains("expected 4 TAB-separated fields, found 3"));
  CHECK_THAT(msg, Contains("got '2 1 1'"));

  const Dataset d = read_fixture("ml-100k", "ml100k-bad", true);
  CHECK(d.skipped_rows == 3);  // line 3 (3 fields), 5 (rating 'x'), 6 (empty user id)
  CHECK(d.interactions.size() == 4);
  CHECK(d.n_users() == 3);

  const std::string bad = error_of([] {
    DatasetSpec spec;
    spec.format = "delimited";
    spec.delimited = DelimitedSpec{"\t", false, 0, 1, 2, -1};
    read_dataset(spec, fixture("data/delimited-bad.tsv"));
  });
  CHECK_THAT(bad, Contains("delimited-bad.tsv:2:"));
}

TEST_CASE("ml-latest-small fixture: CRLF, quoted titles with commas, no genres", "[data][readers]") {
  const Dataset d = read_fixture("ml-latest-small", "ml-latest-mini");
  REQUIRE(d.n_users() == 2);
  REQUIRE(d.n_items() == 3);  // rated movies only: 1, 3, 50
  REQUIRE(d.interactions.size() == 4);
  CHECK(d.item_ids == std::vector<std::string>{"1", "3", "50"});
  CHECK(d.item_titles[1] == "Good, the Bad and the Ugly, The (1966)");
  CHECK(d.item_titles[2] == "Usual Suspects, The (1995)");
  CHECK(d.interactions[1].value == 2.5f);
  CHECK(d.interactions[2].value == 0.5f);
  CHECK(d.interactions[3].timestamp == 964983815);  // no '\r' left on the last field
  CHECK(d.item_features.matrix.row_size(2) == 0);   // "(no genres listed)"
  CHECK(has_feature(d.item_features, 1, "genre=Western"));
  // Vocabulary: genres of rated movies only, sorted.
  CHECK(d.item_features.names.size() == 7);
  CHECK(std::is_sorted(d.item_features.names.begin(), d.item_features.names.end()));
}

TEST_CASE("ml-1m fixture and the missing ratings.dat error", "[data][readers]") {
  const Dataset d = read_fixture("ml-1m", "ml-1m-mini");
  REQUIRE(d.n_users() == 2);
  REQUIRE(d.n_items() == 2);
  CHECK(d.item_ids == std::vector<std::string>{"661", "1193"});
  CHECK(d.item_titles[1] == "One Flew Over the Cuckoo's Nest (1975)");
  CHECK(has_feature(d.item_features, 0, "genre=Musical"));
  CHECK(has_feature(d.user_features, 0, "age=<18"));
  CHECK(has_feature(d.user_features, 0, "occupation=K-12 student"));
  CHECK(has_feature(d.user_features, 1, "occupation=self-employed"));

  const std::string msg = error_of([] { read_fixture("ml-1m", "ml-1m-noratings"); });
  CHECK_THAT(msg, Contains("ml-1m-noratings/ratings.dat"));
  CHECK_THAT(msg, Contains("grouplens.org"));
}

TEST_CASE("implicit-train-test fixture: source parts and user-only lines", "[data][readers]") {
  const Dataset d = read_fixture("implicit-train-test", "implicit-mini");
  CHECK(d.n_users() == 4);  // "5" has a line but no items
  CHECK(d.n_items() == 4);
  REQUIRE(d.interactions.size() == 9);
  REQUIRE(d.source_part.size() == 9);
  CHECK(std::count(d.source_part.begin(), d.source_part.end(), 1) == 3);
  CHECK_FALSE(d.explicit_ratings);
  CHECK_FALSE(d.has_timestamps);
  CHECK(d.user_ids.back() == "5");
}

TEST_CASE("sequence and sequence-pairs fixtures keep order and duplicates", "[data][readers]") {
  const Dataset s = read_fixture("sequence", "seq.txt");
  CHECK(s.n_users() == 3);
  CHECK(s.n_items() == 4);
  REQUIRE(s.interactions.size() == 7);
  // "1 5 3 9 5": items 3,4,5,9 -> 0,1,2,3
  std::vector<ItemId> first;
  for (const auto& x : s.interactions) {
    if (x.user == 0) first.push_back(x.item);
    CHECK(x.timestamp == 0);
    CHECK(x.value == 1.0f);
  }
  CHECK(first == std::vector<ItemId>{2, 0, 3, 2});

  const Dataset p = read_fixture("sequence-pairs", "pairs.txt");
  CHECK(p.n_users() == 3);
  CHECK(p.n_items() == 4);
  CHECK(p.interactions.size() == 6);
  CHECK(p.interactions[1].item == 0);  // "1 3"
}

TEST_CASE("recbole atomic files: header types, item and user side files", "[data][readers]") {
  const Dataset d = read_fixture("recbole", "rb");
  REQUIRE(d.n_users() == 2);
  REQUIRE(d.n_items() == 2);  // i9 only in .item
  CHECK(d.user_ids == std::vector<std::string>{"u1", "u2"});  // first appearance
  CHECK(d.explicit_ratings);
  CHECK(d.has_timestamps);
  CHECK(d.interactions[1].value == 3.5f);
  CHECK(d.interactions[1].timestamp == 978300761);  // "978300761.0"
  CHECK(d.item_titles == std::vector<std::string>{"Toy Story", "Heat"});
  CHECK(has_feature(d.item_features, 0, "genre=Animation"));
  CHECK(has_feature(d.item_features, 0, "genre=Comedy"));
  CHECK(has_feature(d.item_features, 1, "release_year=1995"));
  CHECK(has_feature(d.user_features, 1, "gender=F"));
  // Also reachable through the .inter path itself.
  DatasetSpec spec;
  spec.format = "recbole";
  CHECK(read_dataset(spec, fixture("data/rb/rb.inter")).interactions.size() == 3);
}

TEST_CASE("delimited reader follows the column mapping", "[data][readers]") {
  DatasetSpec spec;
  spec.format = "delimited";
  spec.delimited.separator = ",";
  spec.delimited.header = true;
  spec.delimited.rating_column = 2;
  spec.delimited.timestamp_column = 3;
  const Dataset d = read_dataset(spec, fixture("data/delimited.csv"));
  REQUIRE(d.interactions.size() == 3);
  CHECK(d.user_ids == std::vector<std::string>{"alice", "bob"});
  CHECK(d.item_ids == std::vector<std::string>{"x, y", "z"});
  CHECK(d.interactions[2].value == 5.0f);
  CHECK(d.interactions[2].timestamp == 300);
  CHECK(d.name == "delimited.csv");

  spec.format = "no-such-format";
  CHECK_THAT(error_of([&] { read_dataset(spec, fixture("data/delimited.csv")); }),
             Contains("unknown dataset format 'no-such-format'"));
}

TEST_CASE("resolve_data_path names the missing path and the remedy", "[data][readers]") {
  const std::string msg = error_of([] { resolve_data_path("ml-does-not-exist"); });
  CHECK_THAT(msg, Contains("ml-does-not-exist"));
  CHECK_THAT(msg, Contains("RECFUSE_DATA"));
  CHECK_THAT(msg, Contains("grouplens.org"));
  const auto abs = fixture("data/seq.txt");
  CHECK(resolve_data_path(abs.string()) == abs);
}
