// A fusion strategy's fit-cache file without its children's bytes
// (runner/fit_cache.hpp). A strategy's save writes each child's whole model
// inside its own, verbatim, after its length (plugins/fusion/fusion_io.hpp,
// ModelWriter::text); the cache keeps those children in files of their own
// already. So the body of a node with children goes to disk through
// SplicingBuf, which leaves out every run of bytes that is the whole body
// of one of its children's files, and the header lists what it left out:
//
//   "spliced": [{"at": offset in the body, "bytes": n, "file": "<name>.model",
//                "body_sha256": that file's}, ...]      (ascending "at")
//
// BodyBuf reads such a body back as one stream, each child's bytes taken
// from its file in the same folder (itself perhaps spliced: recursively).
// The header's "body_sha256" is of the whole body, so a child file that
// changed or vanished fails the parent's check, never loads a wrong model.
// Streaming on both sides: neither the body nor a child is held in memory
// (a trial's peak RSS is a metric of record).
//
// Nothing here reads a strategy's format: a child's body is found by
// matching bytes, announced by its 8-byte little-endian length followed by
// its first 64 bytes. A strategy that stored a child otherwise is kept
// whole. Children under 4 KiB are kept inline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace recfuse {

/// Reads a model file's body, spliced children put back. The constructor
/// reads the header (an Error naming the file when it is not a model file).
class BodyBuf final : public std::streambuf {
 public:
  explicit BodyBuf(const std::filesystem::path& file, int depth = 0);
  const nlohmann::json& header() const { return header_; }
  /// Bytes of the whole body, spliced children included.
  std::uint64_t size() const { return size_; }

 protected:
  int_type underflow() override;

 private:
  std::filesystem::path file_;
  std::ifstream in_;
  nlohmann::json header_;
  int depth_;
  std::uint64_t size_ = 0;
  std::size_t next_ = 0;   // the next splice of header_["spliced"]
  std::uint64_t pos_ = 0;  // body offset of the end of what the buffer holds
  std::unique_ptr<BodyBuf> child_;
  std::uint64_t child_left_ = 0;
  std::vector<char> buf_;
};

/// Writes a node's body to `out`, leaving out the whole bodies of the model
/// files `children` (kept files in the same folder) where it finds them.
class SplicingBuf final : public std::streambuf {
 public:
  SplicingBuf(std::streambuf* out, const std::vector<std::filesystem::path>& children);
  ~SplicingBuf() override;
  /// Writes what is held back; once, after the last byte.
  void finish();
  /// What was left out, in order (the header's "spliced").
  const nlohmann::json& splices() const { return splices_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  struct Candidate;
  void feed(const char* data, std::size_t n);
  void scan();
  std::unique_ptr<BodyBuf> open(const Candidate& c) const;
  void copy_child_prefix(const Candidate& c, std::uint64_t n);
  void put(const char* data, std::size_t n);
  void end_match(std::uint64_t matched);

  std::streambuf* out_;
  std::vector<Candidate> candidates_;
  std::string pending_;          // held back: may begin a child's body
  std::uint64_t pending_at_ = 0;  // body offset of pending_[0]
  // Inside a child's body: the candidates whose bytes the stream still
  // matches (children of one length and first bytes: several), each read
  // along; from where, how far.
  std::vector<std::size_t> alive_;
  std::vector<std::unique_ptr<BodyBuf>> alive_bodies_;
  std::uint64_t match_at_ = 0, matched_ = 0;
  std::vector<char> compare_;
  nlohmann::json splices_ = nlohmann::json::array();
};

}  // namespace recfuse
