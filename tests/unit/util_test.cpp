// Utilities every part relies on: SHA-256 (FIPS 180-2 test vectors),
// did-you-mean, atomic writes, and the SDK's RNG streams.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "recfuse/rng.hpp"
#include "test_support.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

using namespace recfuse;

TEST_CASE("sha256 matches the FIPS 180-2 test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces to exercise the buffering.
  Sha256 h;
  const std::string chunk(997, 'a');
  std::size_t left = 1000000;
  while (left) {
    const std::size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_file hashes the bytes and names a missing file") {
  const auto dir = test::temp_dir("sha");
  write_file_atomic(dir / "x.txt", "abc");
  CHECK(sha256_file(dir / "x.txt") == sha256_hex("abc"));
  REQUIRE_THROWS_WITH(sha256_file(dir / "missing.txt"), Catch::Contains("missing.txt"));
}

TEST_CASE("closest_match suggests near names only") {
  const std::vector<std::string> keys{"neighbors", "shrinkage", "similarity"};
  CHECK(closest_match("neigbors", keys) == "neighbors");
  CHECK(closest_match("Shrinkage", keys) == "shrinkage");
  CHECK(closest_match("learning_rate", keys).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("ndgc", "ndcg") == 1);  // adjacent swap
  CHECK(closest_match("ndgc", {"ndcg", "hr", "mrr"}) == "ndcg");
  CHECK(join({"a", "b", "c"}) == "a, b, c");
}

TEST_CASE("write_file_atomic replaces whole files and leaves no temp files") {
  const auto dir = test::temp_dir("atomic");
  const auto file = dir / "sub" / "record.json";
  write_file_atomic(file, "first");
  write_file_atomic(file, "second version");
  CHECK(read_file(file) == "second version");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "sub")) (void)e, ++entries;
  CHECK(entries == 1);
  REQUIRE_THROWS_WITH(read_file(dir / "nope"), Catch::Contains("nope"));
}

TEST_CASE("rng streams are deterministic and independent") {
  CHECK(derive_seed(1, "split") == derive_seed(1, "split"));
  CHECK(derive_seed(1, "split") != derive_seed(1, "sampler"));
  CHECK(derive_seed(1, "user", 0) != derive_seed(1, "user", 1));
  CHECK(derive_seed(1, "split") != derive_seed(2, "split"));
  Rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    CHECK(x == b.next());
    differs |= x != c.next();
  }
  CHECK(differs);
}

TEST_CASE("rng distributions stay in range and are roughly uniform") {
  Rng r(123);
  std::vector<int> counts(10, 0);
  double sum = 0, sum_sq = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const auto k = r.below(10);
    REQUIRE(k < 10);
    ++counts[k];
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    const double z = r.normal();
    sum += z;
    sum_sq += z * z;
  }
  for (int c : counts) CHECK(std::abs(c - n / 10) < 600);  // ~6 sd of a binomial(1e5, 0.1)
  CHECK(std::abs(sum / n) < 0.02);
  CHECK(std::abs(sum_sq / n - 1.0) < 0.03);
}
