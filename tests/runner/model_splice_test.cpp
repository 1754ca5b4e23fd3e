// A parent's model file without its children's bytes (runner/model_splice.hpp):
// written through write_model_file with the children's files, it reads back
// byte for byte as written, whatever the chunks save wrote in; a run of bytes
// that only begins like a child, or that ends the body there, is kept as is;
// a child that changed since is an error naming it; splices nest; children
// that open alike are told apart; a list that outgrows its room is not kept.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "recfuse/model_io.hpp"
#include "runner/model_splice.hpp"
#include "runner/saved_models.hpp"
#include "test_support.hpp"

using namespace recfuse;
using json = nlohmann::json;

namespace {

/// A "model" whose save writes fixed bytes in chunks of `chunk` (1: byte by byte).
class Bytes final : public Recommender {
 public:
  Bytes(std::string bytes, std::size_t chunk) : bytes_(std::move(bytes)), chunk_(chunk) {}
  void fit(const TrainData&, const FitContext&) override {}
  void score_all(std::span<const UserId>, std::span<float>) override {}
  std::size_t model_bytes() const override { return bytes_.size(); }
  void save(std::ostream& out) const override {
    for (std::size_t at = 0; at < bytes_.size(); at += chunk_)
      out.write(bytes_.data() + at, static_cast<std::streamsize>(std::min(chunk_, bytes_.size() - at)));
  }

 private:
  std::string bytes_;
  std::size_t chunk_;
};

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

/// What ModelWriter::text writes: the length, then the bytes.
std::string as_text(const std::string& s) {
  std::ostringstream out;
  ModelWriter(out).text(s);
  return out.str();
}

std::string read_body(const std::filesystem::path& file) {
  BodyBuf buf(file);
  std::istream in(&buf);
  in.exceptions(std::ios::badbit);
  std::string out;
  std::vector<char> chunk(1000);  // as a plugin's load reads: istream::read
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0)
    out.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  return out;
}

void check_hash(const std::filesystem::path& file) {
  BodyBuf buf(file);
  std::istream in(&buf);
  in.exceptions(std::ios::badbit);
  check_body_sha256(in, buf.header(), file.string());
}

json header_of(const std::filesystem::path& file) { return BodyBuf(file).header(); }

}  // namespace

TEST_CASE("a parent's file leaves out its children's whole bodies and reads back as written") {
  const auto dir = test::temp_dir("model_splice");
  const std::string a = random_bytes(10000, 1), b = random_bytes(5000, 2);
  write_model_file(dir / "a.model", {{"n", "a"}}, Bytes(a, 4096));
  write_model_file(dir / "b.model", {{"n", "b"}}, Bytes(b, 4096));
  // A false start: a's length and first 64 bytes, then other bytes; a twice;
  // b; a small child that stays inline; and a body ending in another false start.
  std::string false_start = as_text(a).substr(0, 8 + 64 + 100);
  false_start[8 + 64 + 50] ^= 0x5a;
  const std::string small = random_bytes(100, 3);
  const std::string body = "own state" + false_start + as_text(a) + "between" + as_text(a) + as_text(b) +
                           as_text(small) + as_text(b).substr(0, 8 + 64 + 30);
  const std::size_t chunk = GENERATE(1, 7, 64, 4096, 1 << 20);
  INFO("save writes in chunks of " << chunk);
  std::size_t spliced = 0;
  const auto bytes = write_model_file(dir / "p.model", {{"n", "p"}}, Bytes(body, chunk),
                                      {dir / "a.model", dir / "b.model", dir / "a.model"}, &spliced);
  CHECK(spliced == 3);
  const json h = header_of(dir / "p.model");
  REQUIRE(h.at("spliced").size() == 3);
  CHECK(h.at("spliced")[0].at("file") == "a.model");
  CHECK(h.at("spliced")[2].at("file") == "b.model");
  CHECK(h.at("spliced")[0].at("at") == 9 + false_start.size() + 8);
  CHECK(bytes < body.size() - 2 * a.size() - b.size() + 2000);  // the header and its padding
  CHECK(read_body(dir / "p.model") == body);
  CHECK(BodyBuf(dir / "p.model").size() == body.size());
  CHECK_NOTHROW(check_hash(dir / "p.model"));

  SECTION("splices nest: a grandparent holding the parent whole reads back through both") {
    const std::string top = "top" + as_text(body) + "end";
    REQUIRE(write_model_file(dir / "q.model", {{"n", "q"}}, Bytes(top, chunk), {dir / "p.model"}, &spliced) > 0);
    CHECK(spliced == 1);
    CHECK(read_body(dir / "q.model") == top);
    CHECK_NOTHROW(check_hash(dir / "q.model"));
  }
  SECTION("a child fitted again since is an error naming it, never other bytes") {
    write_model_file(dir / "b.model", {{"n", "b"}}, Bytes(random_bytes(5000, 9), 4096));
    CHECK_THROWS_WITH(read_body(dir / "p.model"),
                      Catch::Contains("p.model: the model of its child " + (dir / "b.model").string() +
                                      " is not the one it was kept with"));
  }
  SECTION("a child's file gone is an error naming it") {
    std::filesystem::remove(dir / "a.model");
    CHECK_THROWS_WITH(read_body(dir / "p.model"), Catch::Contains((dir / "a.model").string()));
  }
}

TEST_CASE("a body without its children's bytes, or with children it cannot read, is written whole") {
  const auto dir = test::temp_dir("model_splice_none");
  const std::string a = random_bytes(10000, 4);
  write_model_file(dir / "a.model", {{"n", "a"}}, Bytes(a, 4096));
  std::ofstream(dir / "junk.model") << "not a model\n";
  const std::string body = "state" + a + as_text(a.substr(0, 9000));  // a, but not after its length
  std::size_t spliced = 9;
  write_model_file(dir / "p.model", {}, Bytes(body, 333), {dir / "a.model", dir / "junk.model", dir / "none.model"},
                   &spliced);
  CHECK(spliced == 0);
  CHECK(header_of(dir / "p.model").at("spliced").empty());
  CHECK(read_body(dir / "p.model") == body);
  CHECK_NOTHROW(check_hash(dir / "p.model"));
}

TEST_CASE("children of one length and first bytes are told apart and bodies past 64 KiB splice across chunks") {
  const auto dir = test::temp_dir("model_splice_twins");
  // Two children that open alike (as two item_knn models of one shape do).
  const std::string head = random_bytes(200, 5);
  const std::string a = head + random_bytes(150000, 6), b = head + random_bytes(150000, 7);
  write_model_file(dir / "a.model", {}, Bytes(a, 4096));
  write_model_file(dir / "b.model", {}, Bytes(b, 4096));
  // b's signature straddles the first 64 KiB the splicer takes in.
  const std::string body = random_bytes(65536 - 30, 8) + as_text(b) + "mid" + as_text(a) + "end";
  const std::size_t chunk = GENERATE(1, 4096, std::size_t{1} << 20);
  INFO("save writes in chunks of " << chunk);
  std::size_t spliced = 0;
  write_model_file(dir / "p.model", {}, Bytes(body, chunk), {dir / "a.model", dir / "b.model"}, &spliced);
  CHECK(spliced == 2);
  const json s = header_of(dir / "p.model").at("spliced");
  REQUIRE(s.size() == 2);
  CHECK(s[0].at("file") == "b.model");
  CHECK(s[1].at("file") == "a.model");
  CHECK(read_body(dir / "p.model") == body);
  CHECK_NOTHROW(check_hash(dir / "p.model"));
}

TEST_CASE("a child found more often than its room allows is written whole") {
  const auto dir = test::temp_dir("model_splice_room");
  const std::string a = random_bytes(5000, 10);
  write_model_file(dir / "a.model", {}, Bytes(a, 4096));
  std::string body;
  for (int k = 0; k < 6; ++k) body += as_text(a);  // six splices of ~130 characters each outgrow 512
  std::size_t spliced = 9;
  const auto bytes = write_model_file(dir / "p.model", {}, Bytes(body, 4096), {dir / "a.model"}, &spliced);
  CHECK(spliced == 0);
  CHECK(bytes > body.size());
  CHECK_FALSE(header_of(dir / "p.model").contains("spliced"));
  CHECK(read_body(dir / "p.model") == body);
}

TEST_CASE("a malformed or self-referencing splice list is an error naming the file") {
  const auto dir = test::temp_dir("model_splice_bad");
  const auto write = [&](const std::string& name, const json& spliced) {
    std::ofstream(dir / name, std::ios::binary) << kModelMagic << "\n"
                                                << json{{"spliced", spliced}}.dump() << "\nbody bytes";
    return dir / name;
  };
  const auto unsorted = write("unsorted.model", json::array({{{"at", 5}, {"bytes", 4}, {"file", "x.model"}},
                                                              {{"at", 2}, {"bytes", 1}, {"file", "x.model"}}}));
  CHECK_THROWS_WITH(BodyBuf(unsorted), Catch::Contains("unsorted.model: its header's \"spliced\" list is malformed"));
  const auto slash = write("slash.model", json::array({{{"at", 0}, {"bytes", 4}, {"file", "../x.model"}}}));
  CHECK_THROWS_WITH(BodyBuf(slash), Catch::Contains("slash.model: its header's \"spliced\" list is malformed"));
  const auto self = write("self.model", json::array({{{"at", 0}, {"bytes", 4}, {"file", "self.model"}}}));
  // Its own size can never be the one it lists for itself: caught before
  // the depth limit would be.
  CHECK_THROWS_WITH(read_body(self), Catch::StartsWith((dir / "self.model").string() + ": the model of its child"));
}
