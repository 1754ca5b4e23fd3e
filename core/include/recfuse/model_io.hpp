// Binary model files (kCapSaveLoad): what Recommender::save writes and load
// reads, and the header the host puts in front of it.
//
//   void save(std::ostream& out) const override {
//     ModelWriter w(out);
//     w.matrix(user_factors_);
//     w.values(item_bias_);
//   }
//   void load(std::istream& in) override {
//     ModelReader r(in, "bpr");
//     user_factors_ = r.matrix<RowMatrixF>("user factors");
//     item_bias_ = r.values<float>("item biases");
//   }
//
// A file the host writes (`recfuse run --save-models`) is one text line
// "recfuse-model 1", one line of JSON naming the plugin library and its
// version, the algorithm and its parameters, the model tree ("model_tree":
// each node's name, plugin, plugin_version, params and children), the trial
// and the data it was fitted on, and "body_sha256", the SHA-256 of what
// follows (recfuse checks it before load), then the algorithm's own bytes. A program
// that serves the model reads the two lines with read_model_header, builds
// the algorithm from the plugin with the header's parameters (a fusion
// strategy's children from model_tree first, handed over with
// set_children), and calls load on the rest. Users and
// items are recfuse's dense ids of the dataset the header names (after its
// [filter]): to map raw ids, read that dataset with the same reader.
//
// Layout of the algorithm's bytes: little-endian as the machine writes them
// (files move between machines of one byte order); a value array is its
// element count (uint64) then the elements; a matrix its rows and columns
// (int64 each) then the entries in the matrix's storage order. Every read
// checks the stream, so a truncated file is an Error naming what was being
// read, never a model of garbage.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "recfuse/rng.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

inline constexpr const char* kModelMagic = "recfuse-model 1";

class ModelWriter {
 public:
  explicit ModelWriter(std::ostream& out) : out_(out) {}

  template <typename T>
  void value(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <typename T>
  void values(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    value<std::uint64_t>(v.size());
    out_.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }
  /// An Eigen dense matrix or vector (any storage order; read back into the same type).
  template <typename M>
  void matrix(const M& m) {
    value<std::int64_t>(m.rows());
    value<std::int64_t>(m.cols());
    out_.write(reinterpret_cast<const char*>(m.data()),
               static_cast<std::streamsize>(m.size() * sizeof(typename M::Scalar)));
  }
  void text(const std::string& s) {
    value<std::uint64_t>(s.size());
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
  /// Names explanations use (item_labels, user ids ...), so that a loaded
  /// model's explanations name items and users as the fitted one did.
  void labels(const std::vector<std::string>& t) {
    value<std::uint64_t>(t.size());
    for (const std::string& s : t) text(s);
  }
  /// Item titles or labels (item_labels; empty when the data has none).
  void titles(const std::vector<std::string>& t) { labels(t); }

 private:
  std::ostream& out_;
};

class ModelReader {
 public:
  /// `who` names the algorithm in errors ("bpr: model file truncated ...").
  ModelReader(std::istream& in, std::string who) : in_(in), who_(std::move(who)) {}

  template <typename T>
  T value(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    read(reinterpret_cast<char*>(&v), sizeof v, what);
    return v;
  }
  template <typename T>
  std::vector<T> values(const char* what) {
    const std::uint64_t n = value<std::uint64_t>(what);
    check_count(n, sizeof(T), what);
    std::vector<T> v(static_cast<std::size_t>(n));
    read(reinterpret_cast<char*>(v.data()), v.size() * sizeof(T), what);
    return v;
  }
  template <typename M>
  M matrix(const char* what) {
    const auto rows = value<std::int64_t>(what), cols = value<std::int64_t>(what);
    if (rows < 0 || cols < 0 || (M::RowsAtCompileTime == 1 && rows != 1) || (M::ColsAtCompileTime == 1 && cols != 1))
      fail(what, "has a shape of " + std::to_string(rows) + " x " + std::to_string(cols));
    // Each side first: their product could wrap around.
    check_count(static_cast<std::uint64_t>(rows), sizeof(typename M::Scalar), what);
    check_count(static_cast<std::uint64_t>(cols), sizeof(typename M::Scalar), what);
    if (cols > 0 && static_cast<std::uint64_t>(rows) > kMaxBytes / sizeof(typename M::Scalar) / static_cast<std::uint64_t>(cols))
      fail(what, "claims " + std::to_string(rows) + " x " + std::to_string(cols) + " entries");
    check_count(static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols), sizeof(typename M::Scalar), what);
    M m(rows, cols);
    read(reinterpret_cast<char*>(m.data()), static_cast<std::size_t>(m.size()) * sizeof(typename M::Scalar), what);
    return m;
  }
  /// A matrix of `width` columns (factor vectors, one per row): another width
  /// is a model of other parameters.
  template <typename M>
  M rows_of_width(const char* what, std::int64_t width) {
    M m = matrix<M>(what);
    if (m.cols() != width)
      fail(what, "width is " + std::to_string(m.cols()) + ", expected " + std::to_string(width));
    return m;
  }
  std::string text(const char* what) {
    const std::uint64_t n = value<std::uint64_t>(what);
    check_count(n, 1, what);
    std::string s(static_cast<std::size_t>(n), '\0');
    read(s.data(), s.size(), what);
    return s;
  }
  /// What ModelWriter::labels wrote: at most `n_max` strings, one per
  /// `entity` ("item", "user"), each a `what` ("an item title").
  std::vector<std::string> labels(std::int64_t n_max, const char* count, const char* entity, const char* what) {
    const auto n = value<std::uint64_t>(count);
    if (n > static_cast<std::uint64_t>(std::max<std::int64_t>(n_max, 0)))
      fail(count, std::to_string(n) + " exceeds the " + std::to_string(n_max) + " " + entity + "s");
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t k = 0; k < n; ++k) out.push_back(text(what));
    return out;
  }
  /// What ModelWriter::titles wrote: at most `n_items` titles.
  std::vector<std::string> titles(std::int64_t n_items) {
    return labels(n_items, "the title count", "item", "an item title");
  }
  /// Throws unless `got` == `want` (a size the rest of the model must agree with).
  void expect(const char* what, std::int64_t got, std::int64_t want) const {
    if (got != want) fail(what, "is " + std::to_string(got) + ", expected " + std::to_string(want));
  }
  /// Throws unless `indptr` indexes `indices` as CSR row offsets (from 0,
  /// non-decreasing, ending at indices.size()) and every index is in
  /// [0, n): "<offsets> do not index <entries>", "<entry> 12 <outside>".
  void expect_csr(const std::vector<std::int64_t>& indptr, const std::vector<std::int32_t>& indices,
                  std::int64_t n, const char* offsets, const char* entries, const char* entry,
                  const std::string& outside) const {
    if (indptr.empty() || indptr.front() != 0 || indptr.back() != static_cast<std::int64_t>(indices.size()) ||
        !std::is_sorted(indptr.begin(), indptr.end()))
      fail(offsets, std::string("do not index ") + entries);
    for (std::int32_t i : indices)
      if (i < 0 || i >= n) fail(entry, std::to_string(i) + " " + outside);
  }
  /// Throws unless [lo, hi] is a finite, non-empty range (a rating scale
  /// that predictions are clamped to: std::clamp needs lo <= hi).
  void expect_range(const char* what, double lo, double hi) const {
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi))
      fail(what, "is [" + std::to_string(lo) + ", " + std::to_string(hi) + "], not a range");
  }
  /// Throws when bytes are left: a file of another algorithm or version.
  void finish() {
    if (in_.peek() != std::char_traits<char>::eof()) fail("the end", "is followed by more bytes than the model has");
  }

  [[noreturn]] void fail(const char* what, const std::string& why) const {
    throw Error(who_ + ": model file: " + what + " " + why);
  }

 private:
  void read(char* dst, std::size_t bytes, const char* what) {
    in_.read(dst, static_cast<std::streamsize>(bytes));
    if (static_cast<std::size_t>(in_.gcount()) != bytes)
      fail(what, "is truncated (read " + std::to_string(in_.gcount()) + " of " + std::to_string(bytes) + " bytes)");
  }
  // A corrupt count must fail before it allocates: at most what the stream
  // has left when it can tell (a file), else 1 TiB.
  static constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;
  void check_count(std::uint64_t n, std::size_t elem, const char* what) {
    std::uint64_t limit = kMaxBytes;
    if (const auto here = in_.tellg(); here >= 0) {
      in_.seekg(0, std::ios::end);
      const auto end = in_.tellg();
      in_.seekg(here);
      if (end >= here) limit = static_cast<std::uint64_t>(end - here);
    }
    in_.clear(in_.rdstate() & ~std::ios::eofbit);
    if (n > limit / elem)
      fail(what, "is truncated or corrupt: it claims " + std::to_string(n) + " elements of " + std::to_string(elem) +
                     " bytes, and only " + std::to_string(limit) + " bytes are left");
  }

  std::istream& in_;
  std::string who_;
};

/// Opens a model file with the algorithm's name, so that a file of another
/// algorithm is refused by name (read_model_name) before any of its bytes is
/// taken for a model.
inline void write_model_name(ModelWriter& w, const std::string& who) { w.text(who); }
/// Throws unless the stream opens with `who` (write_model_name).
inline void read_model_name(ModelReader& r, const std::string& who) {
  if (r.text("the algorithm name") != who)
    r.fail("the algorithm name", "is not '" + who + "': a model file of another algorithm");
}

/// A generator's state as ModelWriter::value wrote it; the all-zero state,
/// which no seed gives and which would hang the first draw, is refused.
inline Rng read_rng(ModelReader& r, const char* what) {
  const Rng rng = r.value<Rng>(what);
  if (!rng.valid()) r.fail(what, "is all zero, which is no state of the generator");
  return rng;
}

/// Reads the host's two header lines from a model file; returns the JSON line.
/// Throws, naming `file`, when the stream does not start with kModelMagic.
inline std::string read_model_header(std::istream& in, const std::string& file) {
  std::string magic, header;
  if (!std::getline(in, magic) || magic != kModelMagic)
    throw Error(file + ": not a recfuse model file (its first line is not '" + kModelMagic + "')");
  if (!std::getline(in, header) || header.empty() || header.front() != '{')
    throw Error(file + ": the model file's header line is missing or not JSON");
  return header;
}

}  // namespace recfuse
