// Readers on bad input, written to temporary files by the tests themselves:
// every error names the file, the line and the field; formats' own rules
// (rating domains, integer ids, RecBole header types) hold for every file a
// trial reads, including ml-100k's fold files under split "fixed".
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>

#include "data/splits.hpp"
#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// A copy of the ml100k-mini fixture in a fresh directory, u1 fold files
/// replaced by `base` / `test`.
fs::path ml100k_with_fold(const std::string& tag, const std::string& base,
                          const std::string& test) {
  const fs::path dir = temp_dir(tag);
  for (const char* f : {"u.data", "u.item", "u.user"}) {
    fs::copy_file(fixture("data/ml100k-mini") / f, dir / f);
  }
  write_bytes(dir / "u1.base", base);
  write_bytes(dir / "u1.test", test);
  return dir;
}

Split fixed_u1(const Dataset& d) {
  SplitSpec spec;
  spec.method = "fixed";
  return make_split(d, spec, "u1", 1);
}

}  // namespace

TEST_CASE("fixed folds: rows get u.data's checks (rating domain, integer ids)", "[data][readers][splits]") {
  const std::string base_ok = "10\t2\t5\t100\n1\t1\t4\t50\n1\t2\t3\t60\n2\t1\t1\t70\n3\t5\t2\t80\n";
  // Rating 7 is outside ml-100k's whole stars 1..5; u.data refuses it.
  fs::path dir = ml100k_with_fold("fold-rating", base_ok + "1\t3\t7\t40\n",
                                  "2\t5\t4\t90\n3\t1\t3\t30\n10\t3\t4\t20\n");
  std::string msg = error_of([&] { fixed_u1(read_at("ml-100k", dir)); });
  CHECK_THAT(msg, Contains("u1.base:6:"));
  CHECK_THAT(msg, Contains("rating is not one of 1..5"));
  CHECK_THAT(msg, Contains("got '7'"));

  // 3.5 is not a whole star either.
  dir = ml100k_with_fold("fold-half", base_ok + "1\t3\t5\t40\n",
                         "2\t5\t4\t90\n3\t1\t3.5\t30\n10\t3\t4\t20\n");
  msg = error_of([&] { fixed_u1(read_at("ml-100k", dir)); });
  CHECK_THAT(msg, Contains("u1.test:2:"));
  CHECK_THAT(msg, Contains("rating"));

  // A non-numeric timestamp names the field.
  dir = ml100k_with_fold("fold-time", base_ok + "1\t3\t5\tsoon\n",
                         "2\t5\t4\t90\n3\t1\t3\t30\n10\t3\t4\t20\n");
  msg = error_of([&] { fixed_u1(read_at("ml-100k", dir)); });
  CHECK_THAT(msg, Contains("u1.base:6:"));
  CHECK_THAT(msg, Contains("timestamp is not a number"));

  // Trailing whitespace after a field is accepted in u.data; so in a fold.
  dir = ml100k_with_fold("fold-space", base_ok + "1\t3 \t5\t40 \r\n",
                         "2\t5\t4\t90\n3\t1\t3\t30\n10\t3\t4\t20");
  const Dataset d = read_at("ml-100k", dir);
  const Split s = fixed_u1(d);
  CHECK(s.train.size() == 6);
  CHECK(s.test.size() == 3);  // last line without a newline
}

TEST_CASE("RecBole header: a type other than token, token_seq, float, float_seq is an error", "[data][readers]") {
  const fs::path dir = temp_dir("rb-type") / "rbt";
  fs::create_directories(dir);
  write_bytes(dir / "rbt.inter", "user_id:token\titem_id:token\nu1\ti1\nu2\ti1\n");
  // "tokenseq" (a typo) silently dropped the genre column before.
  write_bytes(dir / "rbt.item", "item_id:token\tgenre:tokenseq\ni1\tDrama Comedy\n");
  const std::string msg = error_of([&] { read_at("recbole", dir); });
  CHECK_THAT(msg, Contains("rbt.item:1:"));
  CHECK_THAT(msg, Contains("genre:tokenseq"));
  CHECK_THAT(msg, Contains("token_seq"));
  write_bytes(dir / "rbt.item", "item_id:token\tgenre:token_seq\tyear:float\tv:float_seq\n"
                          "i1\tDrama Comedy\t1995\t1 2\n");
  const Dataset d = read_at("recbole", dir);
  CHECK(d.item_features.names == std::vector<std::string>{"genre=Comedy", "genre=Drama"});
}

TEST_CASE("ml-1m users.dat and ml-100k u.user errors name the field", "[data][readers]") {
  const fs::path dir = temp_dir("ml1m-users");
  write_bytes(dir / "ratings.dat", "1::10::5::978300760\n2::10::4::978300761\n");
  write_bytes(dir / "users.dat", "1::F::1::10::48067\n2::M::56::x::70072\n");
  std::string msg = error_of([&] { read_at("ml-1m", dir); });
  CHECK_THAT(msg, Contains("users.dat:2:"));
  CHECK_THAT(msg, Contains("occupation"));
  write_bytes(dir / "users.dat", "1::F::1::10::48067\n2::M::old::16::70072\n");
  msg = error_of([&] { read_at("ml-1m", dir); });
  CHECK_THAT(msg, Contains("users.dat:2:"));
  CHECK_THAT(msg, Contains("age"));
  write_bytes(dir / "users.dat", "1::F::1::10::48067\n2::M::56::16\n");
  msg = error_of([&] { read_at("ml-1m", dir); });
  CHECK_THAT(msg, Contains("users.dat:2:"));
  CHECK_THAT(msg, Contains("found 4"));

  const fs::path ml100k = temp_dir("ml100k-users");
  fs::copy_file(fixture("data/ml100k-mini/u.data"), ml100k / "u.data");
  write_bytes(ml100k / "u.user", "1|24|M|technician|85711\n2|old|F|other|94043\n");
  CHECK_THAT(error_of([&] { read_at("ml-100k", ml100k); }),
             Contains("u.user:2: age is not an integer (got 'old')"));
}

TEST_CASE("a timestamp beyond the 64-bit range is refused, not wrapped", "[data][readers]") {
  const fs::path dir = temp_dir("ts-range");
  write_bytes(dir / "d.csv", "a,x,1e30\nb,x,5\n");
  DatasetSpec spec;
  spec.format = "delimited";
  spec.delimited.timestamp_column = 2;
  const std::string msg = error_of([&] { read_dataset(spec, dir / "d.csv"); });
  CHECK_THAT(msg, Contains("d.csv:1:"));
  CHECK_THAT(msg, Contains("timestamp"));
}

TEST_CASE("a missing dataset's message says where to get it, without shared/", "[data][readers]") {
  // Absolute paths that do not exist: the data root plays no part.
  const fs::path nowhere = temp_dir("no-data");
  auto msg = [&](const std::string& path) {
    return error_of([&] { resolve_data_path((nowhere / path).string()); });
  };
  CHECK_THAT(msg("ml-1m-implicit-resn"), Contains("github.com/LIN452/ReSN"));
  CHECK_THAT(msg("amazon-beauty-s3rec/Beauty.txt"), Contains("github.com/RUCAIBox/CIKM2020-S3Rec"));
  CHECK_THAT(msg("amazon-video-sasrec/Video.txt"), Contains("github.com/kang205/SASRec"));
  CHECK_THAT(msg("ml-100k"), Contains("grouplens.org"));
  // A path recfuse knows nothing about: no pointer to a README the user may not have.
  const std::string other = msg("my-data/clicks.tsv");
  CHECK_THAT(other, Contains("RECFUSE_DATA"));
  CHECK_THAT(other, !Contains("shared/data/README"));

  // A copy that lacks one of its files says so, and where the files come from.
  const fs::path resn = nowhere / "ml-1m-implicit-resn";
  fs::create_directories(resn);
  write_bytes(resn / "train.txt", "0 1 2\n");
  const std::string part = error_of([&] { read_at("implicit-train-test", resn); });
  CHECK_THAT(part, Contains("ml-1m-implicit-resn/test.txt: required file not found"));
  CHECK_THAT(part, Contains("github.com/LIN452/ReSN"));
}

TEST_CASE("ml-100k u.item: a genre flag other than 0 or 1 is a bad row, not 'no genre'", "[data][readers]") {
  const fs::path dir = temp_dir("uitem-flag");
  fs::copy_file(fixture("data/ml100k-mini/u.data"), dir / "u.data");
  write_bytes(dir / "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                        "2|Heat (1995)|01-Jan-1995||http://y|0|1|0|0|0|0|0|0|x|0|0|0|0|0|0|0|0|0|0\n");
  const std::string msg = error_of([&] { read_at("ml-100k", dir); });
  CHECK_THAT(msg, Contains("u.item:2: genre flag 'Drama' is not 0 or 1 (got 'x')"));
  const Dataset d = read_at("ml-100k", dir, true);
  CHECK(d.skipped_rows == 1);
  CHECK(d.item_titles[0] == "Toy Story (1995)");
}

TEST_CASE("ml-latest-small: a ratings.csv without its header row is refused, not one row short", "[data][readers]") {
  const fs::path dir = temp_dir("mllatest-header");
  write_bytes(dir / "ratings.csv", "1,1,4.0,964982703\r\n1,3,4.0,964981247\r\n");
  const std::string msg = error_of([&] { read_at("ml-latest-small", dir); });
  CHECK_THAT(msg, Contains("ratings.csv:1:"));
  CHECK_THAT(msg, Contains("userId,movieId,rating,timestamp"));
  // With it (CRLF, a BOM, no final newline) both rows are read.
  write_bytes(dir / "ratings.csv",
        "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.0,964981247");
  CHECK(read_at("ml-latest-small", dir).interactions.size() == 2);
}

TEST_CASE("bad rows name file, line and field in every reader", "[data][readers]") {
  const fs::path dir = temp_dir("bad-rows");
  write_bytes(dir / "u.data", "1\t1\t4\t50\n1\t2\tfour\t60\n");
  std::string msg = error_of([&] { read_at("ml-100k", dir); });
  CHECK_THAT(msg, Contains("u.data:2: rating is not a number (got 'four')"));
  CHECK_THAT(msg, Contains("skip_bad_rows"));
  write_bytes(dir / "u.data", "1\t1\t4\t50\n1\tabc\t4\t60\n");
  CHECK_THAT(error_of([&] { read_at("ml-100k", dir); }),
             Contains("u.data:2: item id is not an integer"));
  write_bytes(dir / "u.data", "1\t1\t4\t50\n1\t2\t4\t60\t7\n");
  CHECK_THAT(error_of([&] { read_at("ml-100k", dir); }),
             Contains("u.data:2: expected 4 TAB-separated fields, found 5"));
  write_bytes(dir / "u.data", "");
  CHECK_THAT(error_of([&] { read_at("ml-100k", dir); }), Contains("u.data: no interactions read"));

  const fs::path rb = dir / "rb";
  fs::create_directories(rb);
  write_bytes(rb / "rb.inter", "user_id:token\titem_id:token\trating:float\nu1\ti1\t4\nu1\ti2\n");
  CHECK_THAT(error_of([&] { read_at("recbole", rb); }),
             Contains("rb.inter:3: expected 3 TAB-separated fields, found 2"));

  write_bytes(dir / "pairs.txt", "1 5\n1 3 7\n");
  CHECK_THAT(error_of([&] { read_at("sequence-pairs", dir / "pairs.txt"); }),
             Contains("pairs.txt:2: expected 2 space-separated fields, found 3"));
}

TEST_CASE("real ml-1m movies.dat and users.dat (latin-1, '::') with a generated ratings.dat", "[data][readers][real]") {
  if (!have_shared("ml-1m/movies.dat") || !have_shared("ml-1m/users.dat")) {
    WARN("ml-1m metadata not present; skipped");
    return;
  }
  // Links to the real metadata beside a ratings.dat this test writes: one
  // rating of every listed movie (user 1) and one by every user (movie 1).
  const fs::path dir = temp_dir("ml1m-real");
  fs::create_symlink(shared_data() / "ml-1m/movies.dat", dir / "movies.dat");
  fs::create_symlink(shared_data() / "ml-1m/users.dat", dir / "users.dat");
  std::string ratings;
  {
    std::ifstream movies(shared_data() / "ml-1m/movies.dat", std::ios::binary);
    std::string line;
    while (std::getline(movies, line)) {
      ratings += "1::" + line.substr(0, line.find("::")) + "::3::978300760\n";
    }
  }
  for (int u = 2; u <= 6040; ++u) ratings += std::to_string(u) + "::1::4::978300761\n";
  write_bytes(dir / "ratings.dat", ratings);
  const Dataset d = read_at("ml-1m", dir);
  CHECK(d.n_items() == 3883);
  CHECK(d.n_users() == 6040);
  CHECK(d.item_ids.back() == "3952");
  CHECK(d.item_titles[0] == "Toy Story (1995)");
  CHECK(d.item_features.names.size() == 18);  // the README's 18 genres
  int non_ascii = 0;
  for (const auto& t : d.item_titles) {
    CHECK_FALSE(t.empty());
    non_ascii += std::any_of(t.begin(), t.end(), [](char c) { return c & 0x80; });
  }
  CHECK(non_ascii == 50);  // shared/data README: 50 lines with latin-1 bytes
  CHECK(d.user_features.matrix.rows == 6040);
  for (UserId u = 0; u < d.n_users(); ++u) REQUIRE(d.user_features.matrix.row_size(u) == 3);
  CHECK(d.user_features.names.size() == 7 + 2 + 21);  // age buckets, genders, occupations
}

TEST_CASE("real Last.fm user_artists.dat through the delimited reader (TAB, header, CRLF)", "[data][readers][real]") {
  if (!have_shared("lastfm-hetrec2011/user_artists.dat")) {
    WARN("lastfm-hetrec2011 not present; skipped");
    return;
  }
  DatasetSpec spec;
  spec.format = "delimited";
  spec.delimited = DelimitedSpec{"\t", true, 0, 1, 2, -1};
  const Dataset d = read_dataset(spec, shared_data() / "lastfm-hetrec2011/user_artists.dat");
  CHECK(d.interactions.size() == 92834);
  CHECK(d.n_users() == 1892);
  CHECK(d.n_items() == 17632);
  float lo = d.interactions[0].value, hi = lo;
  for (const auto& x : d.interactions) lo = std::min(lo, x.value), hi = std::max(hi, x.value);
  CHECK(lo == 1.0f);
  CHECK(hi == 352698.0f);
}
