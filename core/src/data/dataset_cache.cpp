// Binary dataset cache. Layout (little-endian, as written by this host):
//   magic "RFDSCACH", u32 format version, u32 reader version,
//   then every Dataset field; strings as u64 length + bytes, arrays as
//   u64 count + raw elements; interactions column by column (no padding
//   bytes from the struct ever reach the file); last, a u64 checksum of
//   every byte before it (checksum() below).
// A file with another magic or version, a truncated one or one whose bytes
// do not match its checksum (a flipped bit would otherwise become an id
// outside the matrix) is rejected with an Error, and load_dataset()
// rebuilds it.
#include <cstdio>
#include <cstring>
#include <memory>

#include "data/readers.hpp"
#include "data/text_input.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

namespace {

constexpr char kMagic[8] = {'R', 'F', 'D', 'S', 'C', 'A', 'C', 'H'};
constexpr std::uint32_t kFormatVersion = 3;  // 2: rows_in_time_order; 3: checksum

/// Detects corruption, not tampering: 8 bytes per step, each step a
/// bijection of the state for a given word, so a change within one word
/// always changes the result (and the length is mixed in first). Far
/// cheaper than SHA-256, which would cost as much as reading ml-100k.
std::uint64_t checksum(std::string_view bytes) {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ bytes.size();
  std::size_t k = 0;
  const auto mix = [&h](std::uint64_t w) {
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
  };
  for (; k + 8 <= bytes.size(); k += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + k, 8);
    mix(w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + k, bytes.size() - k);
  mix(tail);
  return h;
}

class Writer {
 public:
  void raw(const void* p, std::size_t n) {
    if (n > 0) out_.append(static_cast<const char*>(p), n);
  }
  template <class T>
  void pod(const T& v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    raw(s.data(), s.size());
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    raw(v.data(), v.size() * sizeof(T));
  }
  void strings(const std::vector<std::string>& v) {
    pod<std::uint64_t>(v.size());
    for (const auto& s : v) str(s);
  }
  void csr(const CsrMatrix& m) {
    pod(m.rows);
    pod(m.cols);
    vec(m.indptr);
    vec(m.indices);
    vec(m.values);
    vec(m.timestamps);
  }
  /// Appends the checksum of everything written so far; the last write.
  void append_checksum() { pod(checksum(out_)); }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string bytes, std::string file) : in_(std::move(bytes)), file_(std::move(file)) {}
  void raw(void* p, std::size_t n) {
    if (n == 0) return;
    if (n > in_.size() - pos_) throw Error(file_ + ": truncated dataset cache");
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  template <class T>
  T pod() {
    T v;
    raw(&v, sizeof v);
    return v;
  }
  std::size_t count(std::size_t element) {
    const auto n = pod<std::uint64_t>();
    if (element > 0 && n > (in_.size() - pos_) / element) {
      throw Error(file_ + ": corrupt dataset cache (count " + std::to_string(n) + ")");
    }
    return static_cast<std::size_t>(n);
  }
  std::string str() {
    std::string s(count(1), '\0');
    raw(s.data(), s.size());
    return s;
  }
  template <class T>
  std::vector<T> vec() {
    std::vector<T> v(count(sizeof(T)));
    raw(v.data(), v.size() * sizeof(T));
    return v;
  }
  std::vector<std::string> strings() {
    std::vector<std::string> v(count(8));
    for (auto& s : v) s = str();
    return v;
  }
  CsrMatrix csr() {
    CsrMatrix m;
    m.rows = pod<std::int32_t>();
    m.cols = pod<std::int32_t>();
    m.indptr = vec<std::int64_t>();
    m.indices = vec<std::int32_t>();
    m.values = vec<float>();
    m.timestamps = vec<std::int64_t>();
    if (m.indptr.size() != static_cast<std::size_t>(m.rows) + 1) {
      throw Error(file_ + ": corrupt dataset cache (CSR row pointer size)");
    }
    return m;
  }
  bool at_end() const { return pos_ == in_.size(); }
  /// Checks the trailing checksum against every byte before it and drops it.
  void verify_checksum() {
    constexpr std::size_t kSize = sizeof(std::uint64_t);
    if (in_.size() - pos_ < kSize) throw Error(file_ + ": truncated dataset cache");
    const std::size_t end = in_.size() - kSize;
    std::uint64_t stored;
    std::memcpy(&stored, in_.data() + end, kSize);
    if (checksum(std::string_view(in_).substr(0, end)) != stored) {
      throw Error(file_ + ": corrupt dataset cache (checksum mismatch)");
    }
    in_.resize(end);
  }

 private:
  std::string in_;
  std::size_t pos_ = 0;
  std::string file_;
};

}  // namespace

void save_dataset_cache(const Dataset& data, const std::filesystem::path& file) {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.pod(kFormatVersion);
  w.pod(data_detail::kReaderVersion);
  w.str(data.name);
  w.str(data.format);
  w.str(data.source);
  w.str(data.sha256);
  w.pod<std::uint8_t>(data.explicit_ratings);
  w.pod<std::uint8_t>(data.has_timestamps);
  w.pod<std::uint8_t>(data.rows_in_time_order);
  w.strings(data.user_ids);
  w.strings(data.item_ids);
  const std::size_t n = data.interactions.size();
  std::vector<std::int32_t> users(n), items(n);
  std::vector<float> values(n);
  std::vector<std::int64_t> times(n);
  for (std::size_t k = 0; k < n; ++k) {
    users[k] = data.interactions[k].user;
    items[k] = data.interactions[k].item;
    values[k] = data.interactions[k].value;
    times[k] = data.interactions[k].timestamp;
  }
  w.vec(users);
  w.vec(items);
  w.vec(values);
  w.vec(times);
  w.strings(data.item_titles);
  w.csr(data.item_features.matrix);
  w.strings(data.item_features.names);
  w.csr(data.user_features.matrix);
  w.strings(data.user_features.names);
  w.vec(data.source_part);
  w.pod(data.skipped_rows);
  w.append_checksum();

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "wb"), std::fclose);
  if (!f) throw Error(file.string() + ": cannot open dataset cache for writing");
  const std::string& bytes = w.bytes();
  if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size() ||
      std::fflush(f.get()) != 0) {
    throw Error(file.string() + ": cannot write dataset cache (disk full?)");
  }
}

Dataset load_dataset_cache(const std::filesystem::path& file) {
  Reader r(data_detail::read_file(file), file.string());
  char magic[8];
  r.raw(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) {
    throw Error(file.string() + ": not a recfuse dataset cache");
  }
  const auto format = r.pod<std::uint32_t>();
  const auto reader = r.pod<std::uint32_t>();
  if (format != kFormatVersion || reader != data_detail::kReaderVersion) {
    throw Error(file.string() + ": dataset cache version " + std::to_string(format) + "/" +
                std::to_string(reader) + ", this build reads " + std::to_string(kFormatVersion) +
                "/" + std::to_string(data_detail::kReaderVersion));
  }
  r.verify_checksum();
  Dataset d;
  d.name = r.str();
  d.format = r.str();
  d.source = r.str();
  d.sha256 = r.str();
  d.explicit_ratings = r.pod<std::uint8_t>() != 0;
  d.has_timestamps = r.pod<std::uint8_t>() != 0;
  d.rows_in_time_order = r.pod<std::uint8_t>() != 0;
  d.user_ids = r.strings();
  d.item_ids = r.strings();
  const auto users = r.vec<std::int32_t>();
  const auto items = r.vec<std::int32_t>();
  const auto values = r.vec<float>();
  const auto times = r.vec<std::int64_t>();
  const std::size_t n = users.size();
  if (items.size() != n || values.size() != n || times.size() != n) {
    throw Error(file.string() + ": corrupt dataset cache (interaction columns differ in size)");
  }
  d.interactions.resize(n);
  for (std::size_t k = 0; k < n; ++k) d.interactions[k] = {users[k], items[k], values[k], times[k]};
  d.item_titles = r.strings();
  d.item_features.matrix = r.csr();
  d.item_features.names = r.strings();
  d.user_features.matrix = r.csr();
  d.user_features.names = r.strings();
  d.source_part = r.vec<std::uint8_t>();
  d.skipped_rows = r.pod<std::int64_t>();
  if (!r.at_end()) throw Error(file.string() + ": corrupt dataset cache (trailing bytes)");
  return d;
}

}  // namespace recfuse
