#include "runner/model_splice.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

#include "recfuse/model_io.hpp"

namespace recfuse {
namespace {

using json = nlohmann::json;

constexpr std::size_t kPrefix = 64;                // a child's first bytes that announce it,
constexpr std::size_t kSignature = 8 + kPrefix;   // after its length
constexpr std::uint64_t kMinChild = 4096;         // smaller children stay inline
constexpr std::size_t kChunk = std::size_t{1} << 16;
constexpr int kMaxDepth = 8;

const json& splices_of(const json& header) {
  static const json none = json::array();
  const auto it = header.find("spliced");
  return it == header.end() ? none : *it;
}

}  // namespace

BodyBuf::BodyBuf(const std::filesystem::path& file, int depth)
    : file_(file), in_(file, std::ios::binary), depth_(depth), buf_(kChunk) {
  if (depth > kMaxDepth)
    throw Error(file.string() + ": spliced children nest deeper than " + std::to_string(kMaxDepth) + " levels");
  if (!in_) throw Error(file.string() + ": cannot open file for reading");
  header_ = json::parse(read_model_header(in_, file.string()));
  const auto body = in_.tellg();
  in_.seekg(0, std::ios::end);  // this open file's size, whatever is renamed over its name meanwhile
  const auto end_of_file = in_.tellg();
  in_.seekg(body);
  if (!in_ || end_of_file < body) throw Error(file.string() + ": cannot size the file");
  size_ = static_cast<std::uint64_t>(end_of_file - body);
  std::uint64_t end = 0;  // of the previous splice, in the body
  for (const json& s : splices_of(header_)) {
    const auto at = s.value("at", std::uint64_t{0}), n = s.value("bytes", std::uint64_t{0});
    const std::string name = s.value("file", std::string());
    if (at < end || name.empty() || name.find('/') != std::string::npos)
      throw Error(file.string() + ": its header's \"spliced\" list is malformed");
    end = at + n;
    size_ += n;
  }
}

BodyBuf::int_type BodyBuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  const json& splices = splices_of(header_);
  std::size_t got = 0;
  while (got == 0) {
    if (child_) {
      const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(buf_.size(), child_left_));
      got = static_cast<std::size_t>(child_->sgetn(buf_.data(), want));
      if (got == 0) throw Error(file_.string() + ": a spliced child's body ends early");
      if ((child_left_ -= got) == 0) child_.reset(), ++next_;
      break;
    }
    const bool more = next_ < splices.size();
    const std::uint64_t limit = more ? splices[next_].value("at", std::uint64_t{0}) - pos_ : buf_.size();
    if (more && limit == 0) {  // a child's bytes come next
      const json& s = splices[next_];
      const std::filesystem::path file = file_.parent_path() / s.value("file", std::string());
      child_ = std::make_unique<BodyBuf>(file, depth_ + 1);
      child_left_ = s.value("bytes", std::uint64_t{0});
      if (child_->header().value("body_sha256", std::string()) != s.value("body_sha256", std::string()) ||
          child_->size() != child_left_)
        throw Error(file_.string() + ": the model of its child " + file.string() +
                    " is not the one it was kept with (fitted again since, or damaged)");
      if (child_left_ == 0) child_.reset(), ++next_;
      continue;
    }
    in_.read(buf_.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(buf_.size(), limit)));
    got = static_cast<std::size_t>(in_.gcount());
    if (got == 0) {
      if (more) throw Error(file_.string() + ": the file ends before a spliced child's place");
      return traits_type::eof();
    }
  }
  pos_ += got;
  setg(buf_.data(), buf_.data(), buf_.data() + got);
  return traits_type::to_int_type(buf_[0]);
}

struct SplicingBuf::Candidate {
  std::filesystem::path file;
  std::uint64_t bytes;
  std::string body_sha256;
  std::string signature;  // length (as ModelWriter::text writes it), first bytes
  bool gone = false;      // its file changed since: no longer looked for
};

SplicingBuf::SplicingBuf(std::streambuf* out, const std::vector<std::filesystem::path>& children)
    : out_(out), compare_(kChunk) {
  for (const auto& file : children) {
    if (std::any_of(candidates_.begin(), candidates_.end(), [&](const Candidate& c) { return c.file == file; }))
      continue;
    try {
      BodyBuf body(file);
      const std::string sha = body.header().value("body_sha256", std::string());
      if (body.size() < kMinChild || sha.empty()) continue;
      Candidate c{file, body.size(), sha, std::string(kSignature, '\0')};
      std::memcpy(c.signature.data(), &c.bytes, 8);
      if (body.sgetn(c.signature.data() + 8, kPrefix) != static_cast<std::streamsize>(kPrefix)) continue;
      candidates_.push_back(std::move(c));
    } catch (const std::exception&) {
      // An unreadable child file: the parent keeps that child's bytes inline.
    }
  }
}

SplicingBuf::~SplicingBuf() = default;

void SplicingBuf::put(const char* data, std::size_t n) {
  if (n > 0 && out_->sputn(data, static_cast<std::streamsize>(n)) != static_cast<std::streamsize>(n))
    throw Error("the model file's write failed");
}

SplicingBuf::int_type SplicingBuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  const char ch = traits_type::to_char_type(c);
  feed(&ch, 1);
  return c;
}

std::streamsize SplicingBuf::xsputn(const char* s, std::streamsize n) {
  feed(s, static_cast<std::size_t>(n));
  return n;
}

/// c's body, read again: the same file as when c was listed, or an Error
/// (a child rewritten meanwhile must not lend the parent other bytes).
std::unique_ptr<BodyBuf> SplicingBuf::open(const Candidate& c) const {
  auto body = std::make_unique<BodyBuf>(c.file);
  if (body->header().value("body_sha256", std::string()) != c.body_sha256 || body->size() != c.bytes)
    throw Error(c.file.string() + ": changed while its parent was kept");
  return body;
}

/// Writes the first n bytes of c's body (a match that broke off: they are
/// what the stream held there).
void SplicingBuf::copy_child_prefix(const Candidate& c, std::uint64_t n) {
  const auto body = open(c);
  while (n > 0) {
    const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(compare_.size(), n));
    if (body->sgetn(compare_.data(), want) != want) throw Error(c.file.string() + ": changed while its parent was kept");
    put(compare_.data(), static_cast<std::size_t>(want));
    n -= static_cast<std::uint64_t>(want);
  }
}

void SplicingBuf::end_match(std::uint64_t matched) {
  pending_at_ = match_at_ + matched;
  alive_.clear();
  alive_bodies_.clear();
}

void SplicingBuf::feed(const char* data, std::size_t n) {
  while (n > 0) {
    if (alive_.empty()) {  // hold back, then look for a child's signature
      const std::size_t take = std::min(n, kChunk);
      pending_.append(data, take);
      data += take, n -= take;
      scan();
      continue;
    }
    // Every live candidate has the same length (it is in the signature).
    const std::uint64_t bytes = candidates_[alive_[0]].bytes;
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>({n, bytes - matched_, compare_.size()}));
    std::size_t longest = 0, last = alive_[0];  // the furthest any candidate matched, and which
    std::vector<std::size_t> whole;             // those that matched all k
    std::vector<std::unique_ptr<BodyBuf>> whole_bodies;
    for (std::size_t a = 0; a < alive_.size(); ++a) {
      if (alive_bodies_[a]->sgetn(compare_.data(), static_cast<std::streamsize>(k)) != static_cast<std::streamsize>(k))
        throw Error(candidates_[alive_[a]].file.string() + ": changed while its parent was kept");
      const auto same = static_cast<std::size_t>(std::mismatch(data, data + k, compare_.data()).first - data);
      if (same >= longest) longest = same, last = alive_[a];
      if (same == k) whole.push_back(alive_[a]), whole_bodies.push_back(std::move(alive_bodies_[a]));
    }
    matched_ += longest, data += longest, n -= longest;
    if (!whole.empty() && matched_ < bytes) {
      alive_ = std::move(whole);
      alive_bodies_ = std::move(whole_bodies);
      continue;
    }
    if (!whole.empty()) {  // a child's whole body: left out, listed
      const Candidate& c = candidates_[whole[0]];
      splices_.push_back({{"at", match_at_},
                          {"bytes", c.bytes},
                          {"file", c.file.filename().string()},
                          {"body_sha256", c.body_sha256}});
    } else {
      copy_child_prefix(candidates_[last], matched_);  // no child after all
    }
    end_match(matched_);
  }
}

/// Finds the earliest signature in pending_: writes what precedes the
/// child's body and starts matching every candidate with that signature;
/// or writes all but the last bytes (which may begin a signature).
void SplicingBuf::scan() {
  std::size_t best = std::string::npos;
  for (const Candidate& c : candidates_) {
    if (c.gone) continue;
    const auto it = std::search(pending_.begin(), pending_.end(),
                                std::boyer_moore_horspool_searcher(c.signature.begin(), c.signature.end()));
    if (it != pending_.end()) best = std::min(best, static_cast<std::size_t>(it - pending_.begin()));
  }
  if (best == std::string::npos) {
    const std::size_t keep = std::min(pending_.size(), kSignature - 1);
    put(pending_.data(), pending_.size() - keep);
    pending_at_ += pending_.size() - keep;
    pending_.erase(0, pending_.size() - keep);
    return;
  }
  put(pending_.data(), best + 8);  // up to and with the child's length
  const std::string_view found(pending_.data() + best, kSignature);
  for (std::size_t k = 0; k < candidates_.size(); ++k) {
    Candidate& c = candidates_[k];
    if (c.gone || c.signature != found) continue;
    try {
      auto body = open(c);
      if (body->sgetn(compare_.data(), kPrefix) == static_cast<std::streamsize>(kPrefix) &&
          std::memcmp(compare_.data(), found.data() + 8, kPrefix) == 0) {
        alive_.push_back(k);
        alive_bodies_.push_back(std::move(body));
        continue;
      }
    } catch (const std::exception&) {
    }
    c.gone = true;  // rewritten since it was listed: its bytes stay inline
  }
  if (alive_.empty()) {
    pending_.erase(0, best + 8);
    pending_at_ += best + 8;
    scan();
    return;
  }
  match_at_ = pending_at_ + best + 8;
  matched_ = kPrefix;
  const std::string rest = pending_.substr(best + kSignature);
  pending_.clear();
  feed(rest.data(), rest.size());
}

void SplicingBuf::finish() {
  if (!alive_.empty()) {  // the body ended inside what looked like a child
    copy_child_prefix(candidates_[alive_[0]], matched_);
    end_match(matched_);
  }
  put(pending_.data(), pending_.size());
  pending_at_ += pending_.size();
  pending_.clear();
}

}  // namespace recfuse
