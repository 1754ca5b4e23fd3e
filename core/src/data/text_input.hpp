// Internal helpers shared by the dataset readers: whole-file input, line and
// field splitting without iostreams, number parsing with std::from_chars,
// id interning and attribute-matrix building. Not part of any public API.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/dataset.hpp"
#include "recfuse/train_data.hpp"
#include "util/sha256.hpp"

namespace recfuse::data_detail {

/// Bumped whenever a reader's output for the same bytes changes; part of the
/// cache header and cache key so stale caches are never reused. 2: UTF-8 BOM
/// skipped, MovieLens rows checked; 3: timestamps beyond 64 bits refused,
/// ml-latest-small's header and RecBole header types checked; 4: the
/// sequence formats' ids all integers or all tokens (read_sequences.cpp).
inline constexpr std::uint32_t kReaderVersion = 4;

/// Whole file as bytes; throws Error "path: cannot open ..." when unreadable.
std::string read_file(const std::filesystem::path& file);

/// Dataset::sha256 (the formula is in readers.cpp), fed each source file's
/// bytes as the reader reads them, in the documented order: the hash is of
/// exactly the bytes parsed, even if a file changes afterwards.
class SourceHash {
 public:
  /// read_file(file), its bytes added to the hash.
  std::string read(const std::filesystem::path& file);
  /// Adds one file: its name, NUL, its size in decimal, NUL, its bytes.
  void add(const std::filesystem::path& file, std::string_view bytes);
  /// Lower-case hex; nothing may be added afterwards.
  std::string hex_digest() { return sha_.hex_digest(); }

 private:
  Sha256 sha_;
};
/// Throws Error naming `file` (and `hint`, how to obtain it) when it is missing.
void require_file(const std::filesystem::path& file, std::string_view hint);

/// Iterates the lines of a buffer: strips a trailing '\r' (CRLF files) and
/// counts 1-based line numbers. The views point into the buffer.
class LineReader {
 public:
  /// Skips a leading UTF-8 byte order mark, which editors on Windows write
  /// and which would otherwise become part of the first id or header field.
  explicit LineReader(std::string_view text)
      : text_(text), pos_(text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0) {}
  bool next(std::string_view& line);
  std::int64_t line_number() const { return line_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 0;
};

/// Splits on an exact separator ("\t", "|", ",", "::"); keeps empty fields.
void split_exact(std::string_view line, std::string_view sep, std::vector<std::string_view>& out);
/// Splits on runs of spaces/tabs; no empty fields.
void split_whitespace(std::string_view line, std::vector<std::string_view>& out);
/// RFC 4180-style CSV within one line: "a,""b"",c" quoted fields may hold
/// commas and doubled quotes. Quoted fields are unescaped into `storage`.
void split_csv(std::string_view line, std::vector<std::string_view>& out,
               std::vector<std::string>& storage);

bool parse_int(std::string_view s, std::int64_t& out);
bool parse_float(std::string_view s, float& out);
/// Integer seconds, or a decimal ("978300760.0") rounded to seconds.
bool parse_timestamp(std::string_view s, std::int64_t& out);
std::string_view trim(std::string_view s);
/// ISO-8859-1 bytes to UTF-8 (every byte is a code point U+0000..U+00FF).
std::string latin1_to_utf8(std::string_view s);

/// Reports a malformed row: throws Error "file:line: why (got '...');
/// remedy" unless skipping, in which case it counts the row and returns.
class RowErrors {
 public:
  RowErrors(std::string file, bool skip, std::int64_t& skipped,
            std::string remedy = "set [dataset] skip_bad_rows = true (recfuse data info: --skip-bad-rows) "
                                 "to skip such rows")
      : file_(std::move(file)), remedy_(std::move(remedy)), skip_(skip), skipped_(skipped) {}
  void bad(std::int64_t line, std::string_view why, std::string_view got);

 private:
  std::string file_;
  std::string remedy_;
  bool skip_;
  std::int64_t& skipped_;
};

/// Interns raw id strings. Dense ids are first assigned in order of first
/// appearance; finalize() then renumbers them in ascending numeric order when
/// every id is an integer (so the mapping does not depend on row order), and
/// keeps first-appearance order otherwise. The views must outlive the map.
class IdMap {
 public:
  std::int32_t intern(std::string_view raw);
  /// Existing id or -1.
  std::int32_t find(std::string_view raw) const;
  std::int32_t size() const { return static_cast<std::int32_t>(names_.size()); }
  /// Returns old -> new ids and fills `names` with the originals in new order.
  std::vector<std::int32_t> finalize(std::vector<std::string>& names) const;

 private:
  std::unordered_map<std::string_view, std::int32_t> index_;
  std::vector<std::string_view> names_;
};

/// Rows = entities, columns = "name=value" attributes in registration order.
class AttributeBuilder {
 public:
  std::int32_t column(const std::string& name);
  void add(std::int32_t row, const std::string& name, float weight = 1.0f);
  bool empty() const { return cells_.empty(); }
  /// `sort_names` orders columns alphabetically (independent of file order).
  AttributeMatrix build(std::int32_t rows, bool sort_names) const;

 private:
  struct Cell {
    std::int32_t row, col;
    float weight;
  };
  std::unordered_map<std::string, std::int32_t> index_;
  std::vector<std::string> names_;
  std::vector<Cell> cells_;
};

/// Interactions whose user/item ids were interned as they were read; this
/// renumbers them (IdMap::finalize) and fills the Dataset's id tables.
struct RawInteractions {
  IdMap users, items;
  std::vector<Interaction> rows;  // user/item hold provisional ids
  std::vector<std::uint8_t> part;  // optional source_part per row
  /// Old -> new maps (valid after finish()), to re-index side information.
  std::vector<std::int32_t> user_map, item_map;
  void finish(Dataset& data);
};

/// ML-1M style age codes / ML-100K ages to one set of bucket labels.
std::string age_bucket(std::int64_t age);

}  // namespace recfuse::data_detail
