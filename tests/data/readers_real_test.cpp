// Readers on the real datasets in shared/data (statistics from its README).
// Each test WARNs and returns when the data is not present.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>

#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;

#define REQUIRE_SHARED(rel)                                  \
  if (!have_shared(rel)) {                                   \
    WARN("shared data " << rel << " not present; skipped");  \
    return;                                                  \
  }

TEST_CASE("real ml-100k: counts, genres, rating histogram", "[data][real]") {
  REQUIRE_SHARED("ml-100k/u.data");
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = read_shared("ml-100k", "ml-100k");
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  std::cout << "[timing] ml-100k read (u.data+u.item+u.user+sha256): " << ms.count() << " ms\n";
  CHECK(d.n_users() == 943);
  CHECK(d.n_items() == 1682);
  CHECK(d.interactions.size() == 100000);
  CHECK(d.item_features.names.size() == 19);
  CHECK(d.item_titles.size() == 1682);
  CHECK(d.user_features.matrix.rows == 943);
  std::map<float, std::int64_t> hist;
  std::int64_t lo = d.interactions[0].timestamp, hi = lo;
  for (const auto& x : d.interactions) {
    ++hist[x.value];
    lo = std::min(lo, x.timestamp);
    hi = std::max(hi, x.timestamp);
  }
  CHECK(hist == std::map<float, std::int64_t>{
                    {1.f, 6110}, {2.f, 11370}, {3.f, 27145}, {4.f, 34174}, {5.f, 21201}});
  CHECK(lo == 874724710);
  CHECK(hi == 893286638);
  // u.item line 1 = Toy Story; ids are "1".."1682" in numeric order.
  CHECK(d.item_ids[0] == "1");
  CHECK(d.item_ids[1681] == "1682");
  CHECK(d.item_titles[0] == "Toy Story (1995)");
  // No latin-1 byte survives: every title is valid UTF-8 (no lone 0x80+ bytes).
  for (const auto& t : d.item_titles) {
    for (std::size_t k = 0; k < t.size(); ++k) {
      const auto b = static_cast<unsigned char>(t[k]);
      if (b >= 0x80) {
        REQUIRE((b & 0xE0) == 0xC0);
        REQUIRE(k + 1 < t.size());
        REQUIRE((static_cast<unsigned char>(t[++k]) & 0xC0) == 0x80);
      }
    }
  }
  const std::string info = describe_dataset(d);
  CHECK_THAT(info, Contains("users         943"));
  CHECK_THAT(info, Contains("1997-09-20 to 1998-04-22"));
  CHECK_THAT(info, Contains("21201"));
}

TEST_CASE("real ml-latest-small counts", "[data][real]") {
  REQUIRE_SHARED("ml-latest-small/ratings.csv");
  const Dataset d = read_shared("ml-latest-small", "ml-latest-small");
  CHECK(d.n_users() == 610);
  CHECK(d.n_items() == 9724);
  CHECK(d.interactions.size() == 100836);
  std::int64_t half = 0;
  for (const auto& x : d.interactions) half += x.value == 0.5f;
  CHECK(half == 1370);
  // Titles with commas come through unquoted.
  CHECK(std::count_if(d.item_titles.begin(), d.item_titles.end(), [](const std::string& t) {
          return t.find(", The (") != std::string::npos;
        }) > 10);
  CHECK(std::none_of(d.item_titles.begin(), d.item_titles.end(),
                     [](const std::string& t) { return t.empty() || t.front() == '"'; }));
}

TEST_CASE("real ml-1m-implicit-resn: train + test pairs", "[data][real]") {
  REQUIRE_SHARED("ml-1m-implicit-resn/train.txt");
  const Dataset d = read_shared("implicit-train-test", "ml-1m-implicit-resn");
  CHECK(d.interactions.size() == 1000209);
  CHECK(d.n_users() == 6040);
  CHECK(d.n_items() == 3706);
  CHECK(std::count(d.source_part.begin(), d.source_part.end(), 1) == 200042);
}

TEST_CASE("real Amazon Beauty (sequence) and Video (sequence-pairs)", "[data][real]") {
  if (have_shared("amazon-beauty-s3rec/Beauty.txt")) {
    const Dataset b = read_shared("sequence", "amazon-beauty-s3rec/Beauty.txt");
    CHECK(b.n_users() == 22363);
    CHECK(b.n_items() == 12101);
    CHECK(b.interactions.size() == 198502);
    // Integer ids, numbered in numeric order as every reader does.
    CHECK(b.user_ids.front() == "1");
    CHECK(b.user_ids.back() == "22363");
    CHECK(b.item_ids.back() == "12101");
  } else {
    WARN("Beauty.txt not present; skipped");
  }
  if (have_shared("amazon-video-sasrec/Video.txt")) {
    const Dataset v = read_shared("sequence-pairs", "amazon-video-sasrec/Video.txt");
    CHECK(v.n_users() == 31013);
    CHECK(v.n_items() == 23715);
    CHECK(v.interactions.size() == 287107);
  } else {
    WARN("Video.txt not present; skipped");
  }
}

TEST_CASE("real Amazon Beauty with one corrupt token is refused at its line and field", "[data][real]") {
  REQUIRE_SHARED("amazon-beauty-s3rec/Beauty.txt");
  // Line 1000 is "1000 5958 34 ..."; its third field becomes "3x4". Before,
  // the file loaded and every item id was renumbered by first appearance.
  std::ifstream in(shared_data() / "amazon-beauty-s3rec/Beauty.txt", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t at = text.find("\n1000 5958 34 ");
  REQUIRE(at != std::string::npos);
  text.replace(at + 11, 2, "3x4");
  const std::filesystem::path file = temp_dir("beauty-corrupt") / "Beauty.txt";
  std::ofstream(file, std::ios::binary) << text;
  DatasetSpec spec;
  spec.format = "sequence";
  spec.path = file.string();
  CHECK_THAT(error_of([&] { read_dataset(spec, file); }),
             Contains("Beauty.txt:1000: field 3 (item id) is not an integer") && Contains("(got '3x4')"));
  spec.skip_bad_rows = true;
  const Dataset d = read_dataset(spec, file);
  CHECK(d.skipped_rows == 1);
  CHECK(d.n_users() == 22362);
  CHECK(d.user_ids.back() == "22363");
}

TEST_CASE("real ml-1m without ratings.dat names the missing file", "[data][real]") {
  REQUIRE_SHARED("ml-1m/movies.dat");
  // Asks whether the file exists, not for it: its absence is what is tested.
  if (std::filesystem::exists(shared_data() / "ml-1m/ratings.dat")) {
    WARN("ml-1m/ratings.dat is present; the missing-file error cannot be checked");
    return;
  }
  const std::string msg = error_of([] { read_shared("ml-1m", "ml-1m"); });
  CHECK_THAT(msg, Contains("ml-1m/ratings.dat"));
  CHECK_THAT(msg, Contains("not found"));
}
