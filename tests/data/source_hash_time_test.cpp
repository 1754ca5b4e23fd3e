// Dataset::sha256 is the hash of the bytes the reader parsed (one read), with
// the values of readers.cpp's documented formula; a time-based split on data
// without time order names the dataset's file and the method.
#include <catch2/catch.hpp>
#include <fstream>

#include "data/splits.hpp"
#include "data/time_order.hpp"
#include "data_test_util.hpp"
#include "util/sha256.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// readers.cpp's formula, written out again: per file its name, NUL, its
/// size in decimal, NUL, then its bytes.
std::string documented_hash(const std::vector<std::pair<std::string, std::string>>& files) {
  Sha256 h;
  for (const auto& [name, bytes] : files) {
    const std::string size = std::to_string(bytes.size());
    h.update(name.data(), name.size() + 1);
    h.update(size.data(), size.size() + 1);
    h.update(bytes);
  }
  return h.hex_digest();
}

std::string documented_hash_of(const fs::path& dir, const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& n : names) files.emplace_back(fs::path(n).filename().string(), bytes_of(dir / n));
  return documented_hash(files);
}

}  // namespace

TEST_CASE("dataset sha256: the documented formula over each format's files, in their order",
          "[data][readers]") {
  // The values trial records and cache keys carry: unchanged by hashing in
  // the reader's own read.
  const fs::path d = fixture("data");
  CHECK(read_fixture("ml-100k", "ml100k-mini").sha256 ==
        documented_hash_of(d / "ml100k-mini", {"u.data", "u.item", "u.user"}));
  CHECK(read_fixture("ml-latest-small", "ml-latest-mini").sha256 ==
        documented_hash_of(d / "ml-latest-mini", {"ratings.csv", "movies.csv"}));
  CHECK(read_fixture("ml-1m", "ml-1m-mini").sha256 ==
        documented_hash_of(d / "ml-1m-mini", {"ratings.dat", "movies.dat", "users.dat"}));
  CHECK(read_fixture("implicit-train-test", "implicit-mini").sha256 ==
        documented_hash_of(d / "implicit-mini", {"train.txt", "test.txt"}));
  CHECK(read_fixture("sequence", "seq.txt").sha256 == documented_hash_of(d, {"seq.txt"}));
  CHECK(read_fixture("sequence-pairs", "pairs.txt").sha256 == documented_hash_of(d, {"pairs.txt"}));
  CHECK(read_fixture("recbole", "rb").sha256 ==
        documented_hash_of(d / "rb", {"rb.inter", "rb.item", "rb.user"}));
  // One value written down, so that the formula itself cannot drift.
  CHECK(read_fixture("sequence", "seq.txt").sha256 ==
        "713c149d1369090987ff576dcef95c85dd09e763d1ef391596895a8075702ed0");
}

TEST_CASE("dataset sha256 is of the bytes parsed, even when the file changes after the read",
          "[data][readers]") {
  // /proc/self/io counts the bytes this process has read ("rchar: N"), so
  // each read of it returns other bytes than the one before: a file that
  // changes between the parse and any second read. Read as a sequence file
  // ("rchar:" a user, the count an item), the dataset must hash what it
  // parsed; a second read for the hash gave another file's hash.
  const fs::path io = "/proc/self/io";
  if (!fs::is_regular_file(io) || bytes_of(io).rfind("rchar: ", 0) != 0) {
    WARN("/proc/self/io not readable here; skipped");
    return;
  }
  DatasetSpec spec;
  spec.format = "sequence";
  spec.path = io.string();
  const Dataset d = read_dataset(spec, io);
  std::string parsed;  // each line "name: count", rebuilt from the parse
  for (const Interaction& x : d.interactions) parsed += d.user_ids[x.user] + " " + d.item_ids[x.item] + "\n";
  REQUIRE(d.user_ids.front() == "rchar:");
  CHECK(d.sha256 == documented_hash({{"io", parsed}}));

  // Through the cache: the key's hash is one read, the parse another, so
  // the parse is not stored under a key that names other bytes.
  const fs::path cache = temp_dir("io-cache");
  CHECK(load_dataset(spec, cache).user_ids.front() == "rchar:");
  CHECK(fs::is_empty(cache));
}

TEST_CASE("a time-based split on data without time order names the file and the method",
          "[data][splits]") {
  // Only the data can tell for RecBole (its .inter header); the other
  // formats are refused at [split.method] when the scenario loads.
  const fs::path rb = temp_dir("rb-notime");
  std::ofstream(rb / "rb.inter", std::ios::binary) << "user_id:token\titem_id:token\nu1\ti1\nu1\ti2\nu2\ti1\n";
  DatasetSpec spec;
  spec.format = "recbole";
  spec.path = rb.string();
  const Dataset d = read_dataset(spec, rb);
  SplitSpec split;
  split.method = "temporal_user";
  CHECK_THROWS_WITH(make_split(d, split, "", 1),
                    Contains(rb.string() + ": split 'temporal_user' orders interactions by time") &&
                        Contains("has no timestamps"));
  const Dataset pairs = read_fixture("implicit-train-test", "implicit-mini");
  split.method = "leave_last_one_out";
  CHECK_THROWS_WITH(make_split(pairs, split, "", 1),
                    Contains(fixture("data/implicit-mini").string() + ": split 'leave_last_one_out'"));
}

TEST_CASE("declared_time_order says what each reader produces", "[data][splits]") {
  // The scenario check trusts the declaration; the readers set the flags.
  const std::pair<const char*, const char*> fixtures[] = {
      {"ml-100k", "ml100k-mini"},         {"ml-latest-small", "ml-latest-mini"}, {"ml-1m", "ml-1m-mini"},
      {"implicit-train-test", "implicit-mini"}, {"sequence", "seq.txt"},        {"sequence-pairs", "pairs.txt"}};
  for (const auto& [format, name] : fixtures) {
    INFO(format);
    DatasetSpec spec;
    spec.format = format;
    const Dataset d = read_fixture(format, name);
    const std::optional<TimeOrder> declared = declared_time_order(spec);
    REQUIRE(declared);
    CHECK(declared->timestamps == d.has_timestamps);
    CHECK(declared->rows_within_user == d.rows_in_time_order);
  }
  DatasetSpec spec;
  spec.format = "delimited";
  spec.delimited.separator = ",";
  spec.delimited.header = true;
  for (int ts : {-1, 3}) {
    spec.delimited.timestamp_column = ts;
    const Dataset d = read_dataset(spec, fixture("data/delimited.csv"));
    CHECK(declared_time_order(spec)->timestamps == d.has_timestamps);
    CHECK_FALSE(d.rows_in_time_order);
  }
  spec.format = "synthetic";
  CHECK(declared_time_order(spec)->timestamps == generate_synthetic(spec.synthetic).has_timestamps);
  spec.format = "recbole";  // its header decides
  CHECK_FALSE(declared_time_order(spec));
  // Which methods need what.
  CHECK(time_order_problem("random", {}).empty());
  CHECK(time_order_problem("kfold", {}).empty());
  CHECK(time_order_problem("temporal_user", {false, true}).empty());
  CHECK_THAT(time_order_problem("temporal_global", {false, true}), Contains("within a user only"));
  CHECK_THAT(time_order_problem("leave_last_one_out", {}), Contains("does not list each user's rows"));
  // The advice names only methods that run on such data: 'source' only where
  // the format ships its own parts, the per-user methods where rows are in order.
  CHECK_THAT(time_order_problem("temporal_user", {}),
             Contains("use split 'random' or 'kfold', or a source with a timestamp column"));
  CHECK_THAT(time_order_problem("temporal_user", {}, true),
             Contains("use split 'random', 'kfold' or 'source' (the dataset's own train and test parts), or"));
  CHECK_THAT(time_order_problem("temporal_global", {false, true}),
             Contains("use split 'random', 'kfold', 'leave_last_one_out' or 'temporal_user', or a source"));
  CHECK(time_order_problem("temporal_global", {true, false}).empty());
}
