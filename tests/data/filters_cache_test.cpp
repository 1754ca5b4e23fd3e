// Filters (threshold, k-core), the binary cache, the synthetic generator and
// the TrainData builder.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "data/splits.hpp"
#include "data/train_data_builder.hpp"
#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;
namespace fs = std::filesystem;

namespace {

Dataset hand_made(const std::vector<std::pair<UserId, ItemId>>& edges, std::int32_t users,
                  std::int32_t items) {
  Dataset d;
  // Names built by appending (GCC 12 warns falsely on "x" + std::string at -O3).
  auto name = [](std::string prefix, std::int32_t k) { return prefix.append(std::to_string(k)); };
  for (std::int32_t u = 0; u < users; ++u) d.user_ids.push_back(name("u", u));
  for (std::int32_t i = 0; i < items; ++i) {
    d.item_ids.push_back(name("i", i));
    d.item_titles.push_back(name("title ", i));
  }
  float v = 1;
  for (auto [u, i] : edges) d.interactions.push_back({u, i, v++, 0});
  return d;
}

bool satisfies(const std::vector<std::pair<UserId, ItemId>>& edges, int min_u, int min_i) {
  std::map<UserId, int> cu;
  std::map<ItemId, int> ci;
  for (auto [u, i] : edges) ++cu[u], ++ci[i];
  for (auto [u, c] : cu) if (c < min_u) return false;
  for (auto [i, c] : ci) if (c < min_i) return false;
  return true;
}

void check_same(const Dataset& a, const Dataset& b) {
  CHECK(a.name == b.name);
  CHECK(a.format == b.format);
  CHECK(a.sha256 == b.sha256);
  CHECK(a.explicit_ratings == b.explicit_ratings);
  CHECK(a.has_timestamps == b.has_timestamps);
  CHECK(a.user_ids == b.user_ids);
  CHECK(a.item_ids == b.item_ids);
  REQUIRE(a.interactions.size() == b.interactions.size());
  for (std::size_t k = 0; k < a.interactions.size(); ++k) {
    const auto &x = a.interactions[k], &y = b.interactions[k];
    REQUIRE((x.user == y.user && x.item == y.item && x.value == y.value &&
             x.timestamp == y.timestamp));
  }
  CHECK(a.item_titles == b.item_titles);
  CHECK(a.item_features.names == b.item_features.names);
  CHECK(a.item_features.matrix.indptr == b.item_features.matrix.indptr);
  CHECK(a.item_features.matrix.indices == b.item_features.matrix.indices);
  CHECK(a.user_features.names == b.user_features.names);
  CHECK(a.user_features.matrix.indices == b.user_features.matrix.indices);
  CHECK(a.source_part == b.source_part);
  CHECK(a.skipped_rows == b.skipped_rows);
}

}  // namespace

TEST_CASE("k-core is the maximal core on a hand-made graph", "[data][filters]") {
  // u0: i0 i1 i2 | u1: i0 i1 | u2: i2 i3 | u3: i3. The 2-core peels u3, then
  // i3, u2, i2 and leaves u0, u1 x i0, i1.
  const std::vector<std::pair<UserId, ItemId>> edges = {{0, 0}, {0, 1}, {0, 2}, {1, 0},
                                                        {1, 1}, {2, 2}, {2, 3}, {3, 3}};
  Dataset d = hand_made(edges, 4, 4);
  FilterSpec f;
  f.min_user_interactions = 2;
  f.min_item_interactions = 2;
  apply_filters(d, f);
  // Brute force: the largest edge subset meeting both thresholds.
  std::size_t best = 0;
  for (unsigned mask = 0; mask < (1u << edges.size()); ++mask) {
    std::vector<std::pair<UserId, ItemId>> sub;
    for (std::size_t k = 0; k < edges.size(); ++k) if (mask >> k & 1u) sub.push_back(edges[k]);
    if (satisfies(sub, 2, 2)) best = std::max(best, sub.size());
  }
  CHECK(d.interactions.size() == best);
  CHECK(d.interactions.size() == 4);
  CHECK(d.user_ids == std::vector<std::string>{"u0", "u1"});
  CHECK(d.item_ids == std::vector<std::string>{"i0", "i1"});
  CHECK(d.item_titles == std::vector<std::string>{"title 0", "title 1"});
  std::vector<std::pair<UserId, ItemId>> kept;
  for (const auto& x : d.interactions) kept.push_back({x.user, x.item});
  CHECK(satisfies(kept, 2, 2));
  CHECK(d.interactions[3].value == 5.0f);  // (u1, i1) kept its rating
}

TEST_CASE("min_rating keeps >= threshold, goes implicit and re-indexes side info", "[data][filters]") {
  Dataset d = read_fixture("ml-100k", "ml100k-mini");
  FilterSpec f;
  f.min_rating = 4.0;
  apply_filters(d, f);
  CHECK(d.interactions.size() == 5);  // ratings 5,4,5,4,4
  CHECK_FALSE(d.explicit_ratings);
  for (const auto& x : d.interactions) CHECK(x.value == 1.0f);
  // User "3" (ratings 2 and 3) is gone; ids stay dense and ordered.
  CHECK(d.user_ids == std::vector<std::string>{"1", "2", "10"});
  CHECK(d.user_features.matrix.rows == 3);
  CHECK(d.item_features.matrix.rows == d.n_items());
  CHECK(d.item_titles.size() == static_cast<std::size_t>(d.n_items()));
  for (const auto& x : d.interactions) {
    CHECK(x.user < d.n_users());
    CHECK(x.item < d.n_items());
  }
}

TEST_CASE("cache round trip equals the original, a changed source changes the key", "[data][cache]") {
  const fs::path dir = temp_dir("data-cache");
  const Dataset d = read_fixture("ml-100k", "ml100k-mini");
  save_dataset_cache(d, dir / "x.bin");
  check_same(load_dataset_cache(dir / "x.bin"), d);

  { std::ofstream(dir / "junk.bin") << "not a cache"; }
  CHECK_THROWS_AS(load_dataset_cache(dir / "junk.bin"), Error);

  // load_dataset: copy the fixture, load twice (second from cache), then edit.
  const fs::path src = dir / "ml100k-copy";
  fs::create_directories(src);
  for (const char* f : {"u.data", "u.item", "u.user"}) {
    fs::copy_file(fixture("data/ml100k-mini") / f, src / f);
  }
  const fs::path cache = dir / "cache";
  DatasetSpec spec;
  spec.format = "ml-100k";
  spec.path = src.string();
  const Dataset first = load_dataset(spec, cache);
  auto bins = [&] {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(cache)) out.push_back(e.path());
    return out;
  };
  REQUIRE(bins().size() == 1);
  CHECK(bins()[0].filename().string().rfind("ml100k-copy-" + first.sha256.substr(0, 16), 0) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset second = load_dataset(spec, cache);
  std::cout << "[timing] fixture cache load: "
            << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
            << " ms\n";
  check_same(first, second);
  { std::ofstream(src / "u.data", std::ios::app) << "1\t5\t1\t10\n"; }
  const Dataset third = load_dataset(spec, cache);
  CHECK(third.sha256 != first.sha256);
  CHECK(third.interactions.size() == first.interactions.size() + 1);
  CHECK(bins().size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("real ml-100k cache timing", "[data][cache][real]") {
  if (!have_shared("ml-100k/u.data")) {
    WARN("ml-100k not present; skipped");
    return;
  }
  const fs::path dir = temp_dir("data-cache-real");
  DatasetSpec spec;
  spec.format = "ml-100k";
  spec.path = (shared_data() / "ml-100k").string();
  auto time = [&](const char* what) {
    const auto t0 = std::chrono::steady_clock::now();
    Dataset d = load_dataset(spec, dir);
    std::cout << "[timing] ml-100k " << what << ": "
              << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
              << " ms\n";
    return d;
  };
  const Dataset built = time("read + cache write");
  const Dataset cached = time("cache load (incl. source sha256)");
  const auto t0 = std::chrono::steady_clock::now();
  Dataset raw;
  for (const auto& e : fs::directory_iterator(dir)) raw = load_dataset_cache(e.path());
  std::cout << "[timing] ml-100k load_dataset_cache alone: "
            << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
            << " ms\n";
  check_same(built, cached);
  check_same(built, raw);
  fs::remove_all(dir);
}

TEST_CASE("synthetic generator: deterministic, shaped as specified", "[data][synthetic]") {
  SyntheticSpec spec;
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset a = generate_synthetic(spec);
  std::cout << "[timing] synthetic default spec: "
            << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
            << " ms\n";
  const Dataset b = generate_synthetic(spec);
  check_same(a, b);
  spec.seed = 43;
  const Dataset c = generate_synthetic(spec);
  CHECK(pairs_of(a.interactions) != pairs_of(c.interactions));
  CHECK(a.sha256 != c.sha256);

  REQUIRE(a.n_users() == 1000);
  REQUIRE(a.n_items() == 800);
  CHECK(a.explicit_ratings);
  CHECK(a.item_features.names.size() == 12);
  for (ItemId i = 0; i < a.n_items(); ++i) {
    const auto g = a.item_features.matrix.row_size(i);
    REQUIRE((g >= 1 && g <= 3));
  }
  std::map<UserId, std::vector<const Interaction*>> by_user;
  for (const auto& x : a.interactions) {
    REQUIRE((x.value >= 1.0f && x.value <= 5.0f && x.value == std::round(x.value)));
    by_user[x.user].push_back(&x);
  }
  REQUIRE(by_user.size() == 1000u);
  double total = 0;
  for (const auto& [u, xs] : by_user) {
    REQUIRE(xs.size() >= 5u);
    std::set<ItemId> items;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      items.insert(xs[k]->item);
      if (k > 0) REQUIRE(xs[k]->timestamp > xs[k - 1]->timestamp);
    }
    REQUIRE(items.size() == xs.size());
    total += static_cast<double>(xs.size());
  }
  CHECK(total / 1000.0 == Approx(40.0).epsilon(0.15));
  // Popularity skew: the most popular item is far above the median.
  std::vector<int> counts(800);
  for (const auto& x : a.interactions) ++counts[x.item];
  std::sort(counts.begin(), counts.end());
  CHECK(counts.back() > 4 * std::max(1, counts[400]));
}

TEST_CASE("TrainData: merged duplicates, sequences keep them, transpose, validation", "[data][train]") {
  Dataset d;
  d.user_ids = {"a", "b"};
  d.item_ids = {"x", "y", "z"};
  d.has_timestamps = true;
  d.explicit_ratings = true;
  d.item_titles = {"X", "Y", "Z"};
  Split s;
  s.train = {{0, 2, 3.0f, 50}, {0, 1, 4.0f, 10}, {0, 2, 5.0f, 20}, {1, 0, 1.0f, 5}};
  s.validation = {{1, 1, 2.0f, 60}};
  const TrainData td = build_train_data(d, s);
  CHECK(td.n_users == 2);
  CHECK(td.explicit_ratings);
  REQUIRE(td.by_user.nnz() == 3);
  CHECK(td.by_user.indptr == std::vector<std::int64_t>{0, 2, 3});
  CHECK(td.by_user.indices == std::vector<std::int32_t>{1, 2, 0});
  CHECK(td.by_user.values == std::vector<float>{4.0f, 3.0f, 1.0f});  // latest (t=50) wins
  CHECK(td.by_user.timestamps == std::vector<std::int64_t>{10, 50, 5});
  CHECK(td.by_item.rows == 3);
  CHECK(td.by_item.indptr == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(td.by_item.indices == std::vector<std::int32_t>{1, 0, 0});
  CHECK(td.by_item.values == std::vector<float>{1.0f, 4.0f, 3.0f});
  CHECK(td.sequences.indptr == std::vector<std::int64_t>{0, 3, 4});
  CHECK(td.sequences.indices == std::vector<std::int32_t>{1, 2, 2, 0});  // t = 10, 20, 50
  CHECK(td.validation.nnz() == 1);
  CHECK(td.validation.indptr == std::vector<std::int64_t>{0, 0, 1});
  CHECK(td.item_titles == d.item_titles);
}

TEST_CASE("TrainData from a split of the fixture: train-only matrix", "[data][train]") {
  const Dataset d = read_fixture("ml-100k", "ml100k-mini");
  SplitSpec spec;
  const Split s = make_split(d, spec, "", 0);
  const TrainData td = build_train_data(d, s);
  CHECK(td.by_user.nnz() == static_cast<std::int64_t>(s.train.size()));
  CHECK(td.item_features.names.size() == 19);
  for (const auto& x : s.test) {
    const auto row = td.by_user.row(x.user);
    CHECK(std::find(row.begin(), row.end(), x.item) == row.end());
  }
}

TEST_CASE("min_rating compares in the ratings' own precision", "[data][filters]") {
  // 3.3f is 3.2999999523 < 3.3 as a double: a rating written "3.3" was
  // dropped by min_rating = 3.3.
  Dataset d = hand_made({{0, 0}, {0, 1}, {1, 0}}, 2, 2);
  d.explicit_ratings = true;
  d.interactions[0].value = 3.3f;
  d.interactions[1].value = 3.2f;
  d.interactions[2].value = 0.7f;
  FilterSpec f;
  f.min_rating = 3.3;
  apply_filters(d, f);
  REQUIRE(d.interactions.size() == 1);
  CHECK(d.user_ids == std::vector<std::string>{"u0"});
  CHECK(d.item_ids == std::vector<std::string>{"i0"});
  Dataset e = hand_made({{0, 0}}, 1, 1);
  e.interactions[0].value = 0.7f;
  f.min_rating = 0.7;
  apply_filters(e, f);
  CHECK(e.interactions.size() == 1);
}

TEST_CASE("a filter that removes every interaction is an error naming the filter", "[data][filters]") {
  Dataset d = read_fixture("ml-100k", "ml100k-mini");
  FilterSpec f;
  f.min_rating = 6.0;
  const std::string msg = error_of([&] { apply_filters(d, f); });
  CHECK_THAT(msg, Catch::Matchers::Contains("min_rating"));
  CHECK_THAT(msg, Catch::Matchers::Contains("ml100k-mini"));
  Dataset k = read_fixture("ml-100k", "ml100k-mini");
  FilterSpec core;
  core.min_user_interactions = 50;
  CHECK_THAT(error_of([&] { apply_filters(k, core); }),
             Catch::Matchers::Contains("min_user_interactions"));
}

namespace {

/// A copy of the ml100k-mini fixture in `dir` (a cache keyed on its own files), as a spec.
DatasetSpec mini_copy(const fs::path& dir) {
  const fs::path src = dir / "ml100k-copy";
  fs::create_directories(src);
  for (const char* f : {"u.data", "u.item", "u.user"}) fs::copy_file(fixture("data/ml100k-mini") / f, src / f);
  DatasetSpec spec;
  spec.format = "ml-100k";
  spec.path = src.string();
  return spec;
}

}  // namespace

TEST_CASE("a corrupt dataset cache is detected and rebuilt, not trusted", "[data][cache]") {
  const fs::path dir = temp_dir("data-cache-corrupt");
  const DatasetSpec spec = mini_copy(dir);
  const fs::path cache = dir / "cache";
  const Dataset fresh = load_dataset(spec, cache);
  fs::path bin;
  for (const auto& e : fs::directory_iterator(cache)) bin = e.path();
  REQUIRE(!bin.empty());
  std::string bytes;
  {
    std::ifstream in(bin, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The interactions' user column: the first user id (a little-endian
  // int32) right after its count. Find it by saving a copy whose first
  // user differs and comparing.
  Dataset other = fresh;
  other.interactions[0].user ^= 0x40000000;
  save_dataset_cache(other, dir / "other.bin");
  std::string other_bytes;
  {
    std::ifstream in(dir / "other.bin", std::ios::binary);
    other_bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(other_bytes.size() == bytes.size());
  std::size_t at = 0;
  while (at < bytes.size() && bytes[at] == other_bytes[at]) ++at;
  REQUIRE(at < bytes.size());
  // A one-byte flip: the user id leaves the 4 x 4 matrix.
  bytes[at] = static_cast<char>(bytes[at] ^ 0x40);
  { std::ofstream(bin, std::ios::binary) << bytes; }
  CHECK_THROWS_AS(load_dataset_cache(bin), Error);
  const Dataset rebuilt = load_dataset(spec, cache);
  check_same(rebuilt, fresh);
  CHECK_NOTHROW(load_dataset_cache(bin));  // rewritten
  // Truncated: rebuilt too.
  fs::resize_file(bin, fs::file_size(bin) / 2);
  CHECK_THROWS_AS(load_dataset_cache(bin), Error);
  check_same(load_dataset(spec, cache), fresh);
  fs::remove_all(dir);
}

TEST_CASE("concurrent loads of one dataset leave one whole cache file", "[data][cache]") {
  const fs::path dir = temp_dir("data-cache-race");
  const DatasetSpec spec = mini_copy(dir);
  const fs::path cache = dir / "cache";
  std::vector<Dataset> loaded(4);
  std::vector<std::thread> writers;
  for (std::size_t t = 0; t < loaded.size(); ++t) {
    writers.emplace_back([&, t] { loaded[t] = load_dataset(spec, cache); });
  }
  for (auto& w : writers) w.join();
  for (const Dataset& d : loaded) check_same(d, loaded[0]);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache)) files.push_back(e.path());
  REQUIRE(files.size() == 1);  // no temporary file left behind
  CHECK(files[0].extension() == ".bin");
  check_same(load_dataset_cache(files[0]), loaded[0]);
  fs::remove_all(dir);
}
