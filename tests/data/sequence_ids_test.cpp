// Ids of the formats without a header or an id type (sequence,
// sequence-pairs, implicit-train-test): a dataset's user ids, and its item
// ids, are all integers or all tokens, decided by most of them; an id of the
// other kind is a bad row naming file:line:field, not a switch of every id to
// first-appearance numbering (readers.cpp, SCHEMA.md "Ids").
#include <catch2/catch.hpp>
#include <fstream>

#include "data_test_util.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("sequence ids: one token in an integer file is a bad row naming file, line and field",
          "[data][readers]") {
  const fs::path dir = temp_dir("seq-ids");
  // Before, "x4" was taken as an id and renumbered every item in order of
  // first appearance ("5" became item 0): a silent reordering.
  write_bytes(dir / "seq.txt", "1 5 3\n2 3 x4\n3 9 10\n");
  std::string msg = error_of([&] { read_at("sequence", dir / "seq.txt"); });
  CHECK_THAT(msg, Contains("seq.txt:2: field 3 (item id) is not an integer, unlike 5 of the "
                           "dataset's 6 item ids"));
  CHECK_THAT(msg, Contains("(got 'x4')"));
  CHECK_THAT(msg, Contains("skip_bad_rows"));

  // Skipped, the row is the whole line (one user's sequence), and the rest
  // keeps numeric numbering: "10" after "9".
  const Dataset d = read_at("sequence", dir / "seq.txt", true);
  CHECK(d.skipped_rows == 1);
  CHECK(d.user_ids == std::vector<std::string>{"1", "3"});
  CHECK(d.item_ids == std::vector<std::string>{"3", "5", "9", "10"});
  CHECK(d.interactions.size() == 4);

  // sequence-pairs: the user field.
  write_bytes(dir / "pairs.txt", "1 5\n1 3\nu2 4\n2 4\n");
  msg = error_of([&] { read_at("sequence-pairs", dir / "pairs.txt"); });
  CHECK_THAT(msg, Contains("pairs.txt:3: field 1 (user id) is not an integer, unlike 3 of the "
                           "dataset's 4 user ids"));
  // Its other structural error is unchanged.
  write_bytes(dir / "pairs.txt", "1 5\n1 3 7\n");
  CHECK_THAT(error_of([&] { read_at("sequence-pairs", dir / "pairs.txt"); }),
             Contains("pairs.txt:2: expected 2 space-separated fields, found 3"));

  // implicit-train-test decides over both files: the bad id is in test.txt.
  fs::create_directories(dir / "itt");
  write_bytes(dir / "itt" / "train.txt", "0 10 11\n1 12\n");
  write_bytes(dir / "itt" / "test.txt", "0 12\n1 1O\n");  // a letter O in "10"
  msg = error_of([&] { read_at("implicit-train-test", dir / "itt"); });
  CHECK_THAT(msg, Contains("test.txt:2: field 2 (item id) is not an integer"));
  CHECK_THAT(msg, Contains("(got '1O')"));
}

TEST_CASE("sequence ids: a header or garbage in the first row is found, not made the rule",
          "[data][readers]") {
  const fs::path dir = temp_dir("seq-header");
  // A header line would have made every id a token (first appearance).
  write_bytes(dir / "pairs.txt", "user item\n2 5\n1 3\n2 4\n");
  const std::string msg = error_of([&] { read_at("sequence-pairs", dir / "pairs.txt"); });
  CHECK_THAT(msg, Contains("pairs.txt:1: field 1 (user id) is not an integer"));
  const Dataset d = read_at("sequence-pairs", dir / "pairs.txt", true);
  CHECK(d.skipped_rows == 1);
  CHECK(d.user_ids == std::vector<std::string>{"1", "2"});  // numeric order
  CHECK(d.item_ids == std::vector<std::string>{"3", "4", "5"});
}

TEST_CASE("sequence ids: token files stay tokens, and an integer among tokens is a bad row",
          "[data][readers]") {
  const fs::path dir = temp_dir("seq-tokens");
  write_bytes(dir / "seq.txt", "alice B01 B02\nbob B02 C7\n");
  const Dataset d = read_at("sequence", dir / "seq.txt");
  CHECK(d.user_ids == std::vector<std::string>{"alice", "bob"});    // first appearance
  CHECK(d.item_ids == std::vector<std::string>{"B01", "B02", "C7"});

  // User ids may be tokens while item ids are integers: each kind on its own.
  write_bytes(dir / "seq.txt", "alice 7 3\nbob 3 10\n");
  const Dataset m = read_at("sequence", dir / "seq.txt");
  CHECK(m.user_ids == std::vector<std::string>{"alice", "bob"});
  CHECK(m.item_ids == std::vector<std::string>{"3", "7", "10"});

  write_bytes(dir / "seq.txt", "alice B01 B02\nbob B02 17\ncarol B03\n");
  const std::string msg = error_of([&] { read_at("sequence", dir / "seq.txt"); });
  CHECK_THAT(msg, Contains("seq.txt:2: field 3 (item id) is an integer, unlike 4 of the dataset's 5 "
                           "item ids, which are tokens"));
  CHECK_THAT(msg, Contains("(got '17')"));
}
