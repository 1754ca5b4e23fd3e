#include "data/text_input.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "recfuse/types.hpp"

namespace recfuse::data_detail {

std::string read_file(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) {
    throw Error(file.string() + ": cannot open file for reading" +
                (std::filesystem::exists(file) ? "" : " (no such file)"));
  }
  std::string bytes;
  char buf[1 << 16];
  std::size_t n;
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long size = std::ftell(f);
    if (size > 0) bytes.reserve(static_cast<std::size_t>(size));
    std::fseek(f, 0, SEEK_SET);
  }
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw Error(file.string() + ": read error");
  return bytes;
}

std::string SourceHash::read(const std::filesystem::path& file) {
  std::string bytes = read_file(file);
  add(file, bytes);
  return bytes;
}

void SourceHash::add(const std::filesystem::path& file, std::string_view bytes) {
  const std::string name = file.filename().string();
  const std::string size = std::to_string(bytes.size());
  sha_.update(name.data(), name.size() + 1);  // including the NUL
  sha_.update(size.data(), size.size() + 1);
  sha_.update(bytes);
}

void require_file(const std::filesystem::path& file, std::string_view hint) {
  if (std::filesystem::is_regular_file(file)) return;
  throw Error(file.string() + ": required file not found" +
              (hint.empty() ? std::string() : "; " + std::string(hint)));
}

bool LineReader::next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  std::size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  line = text_.substr(pos_, end - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = end + 1;
  ++line_;
  return true;
}

void split_exact(std::string_view line, std::string_view sep, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t at = line.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(line.substr(start));
      return;
    }
    out.push_back(line.substr(start, at - start));
    start = at + sep.size();
  }
}

void split_whitespace(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
}

void split_csv(std::string_view line, std::vector<std::string_view>& out,
               std::vector<std::string>& storage) {
  out.clear();
  storage.clear();
  storage.reserve(line.size());  // views into storage must not move
  std::size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      std::string field;
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      // Anything between the closing quote and the comma is kept verbatim.
      const std::size_t comma = line.find(',', i);
      const std::size_t stop = comma == std::string_view::npos ? line.size() : comma;
      field.append(line.substr(i, stop - i));
      storage.push_back(std::move(field));
      out.push_back(storage.back());
      if (comma == std::string_view::npos) return;
      i = comma + 1;
    } else {
      const std::size_t comma = line.find(',', i);
      if (comma == std::string_view::npos) {
        out.push_back(line.substr(std::min(i, line.size())));
        return;
      }
      out.push_back(line.substr(i, comma - i));
      i = comma + 1;
    }
  }
}

bool parse_int(std::string_view s, std::int64_t& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_float(std::string_view s, float& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
}

bool parse_timestamp(std::string_view s, std::int64_t& out) {
  if (parse_int(s, out)) return true;
  double d = 0.0;
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d)) return false;
  // llround of a value outside the 64-bit range is unspecified (x86 gives
  // INT64_MIN for 1e30); such a timestamp is no timestamp. 2^63 is exact.
  constexpr double kLimit = 9223372036854775808.0;
  if (!(d > -kLimit && d < kLimit)) return false;
  out = std::llround(d);
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (b >> 6));
      out += static_cast<char>(0x80 | (b & 0x3F));
    }
  }
  return out;
}

void RowErrors::bad(std::int64_t line, std::string_view why, std::string_view got) {
  if (skip_) {
    ++skipped_;
    return;
  }
  std::string shown(got.substr(0, 120));
  for (char& c : shown) {
    if (c == '\t') c = ' ';  // keep the message on one readable line
  }
  throw Error(file_ + ":" + std::to_string(line) + ": " + std::string(why) + " (got '" + shown +
              (got.size() > 120 ? "...'" : "'") + "); " + remedy_);
}

std::int32_t IdMap::intern(std::string_view raw) {
  const auto [it, inserted] = index_.try_emplace(raw, static_cast<std::int32_t>(names_.size()));
  if (inserted) names_.push_back(raw);
  return it->second;
}

std::int32_t IdMap::find(std::string_view raw) const {
  const auto it = index_.find(raw);
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::int32_t> IdMap::finalize(std::vector<std::string>& names) const {
  const std::size_t n = names_.size();
  std::vector<std::int64_t> numeric(n);
  bool all_numeric = true;
  for (std::size_t i = 0; i < n && all_numeric; ++i) all_numeric = parse_int(names_[i], numeric[i]);
  std::vector<std::int32_t> order(n);  // new -> old
  std::iota(order.begin(), order.end(), 0);
  if (all_numeric) {
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      return numeric[a] != numeric[b] ? numeric[a] < numeric[b] : names_[a] < names_[b];
    });
  }
  std::vector<std::int32_t> old_to_new(n);
  names.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    old_to_new[order[k]] = static_cast<std::int32_t>(k);
    names[k] = std::string(names_[order[k]]);
  }
  return old_to_new;
}

std::int32_t AttributeBuilder::column(const std::string& name) {
  const auto [it, inserted] = index_.try_emplace(name, static_cast<std::int32_t>(names_.size()));
  if (inserted) names_.push_back(name);
  return it->second;
}

void AttributeBuilder::add(std::int32_t row, const std::string& name, float weight) {
  cells_.push_back({row, column(name), weight});
}

AttributeMatrix AttributeBuilder::build(std::int32_t rows, bool sort_names) const {
  AttributeMatrix out;
  const auto n_cols = static_cast<std::int32_t>(names_.size());
  std::vector<std::int32_t> remap(n_cols);
  std::vector<std::int32_t> order(n_cols);
  std::iota(order.begin(), order.end(), 0);
  if (sort_names) {
    std::sort(order.begin(), order.end(),
              [&](std::int32_t a, std::int32_t b) { return names_[a] < names_[b]; });
  }
  for (std::int32_t k = 0; k < n_cols; ++k) {
    remap[order[k]] = k;
    out.names.push_back(names_[order[k]]);
  }
  std::vector<Cell> cells;
  cells.reserve(cells_.size());
  for (const Cell& c : cells_) {
    if (c.row >= 0 && c.row < rows) cells.push_back({c.row, remap[c.col], c.weight});
  }
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    return a.row != b.row ? a.row < b.row : a.col < b.col;
  });
  CsrMatrix& m = out.matrix;
  m.rows = rows;
  m.cols = n_cols;
  m.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  for (std::size_t k = 0; k < cells.size(); ++k) {
    // A repeated (row, attribute) keeps its first weight: flags, not counts.
    if (k > 0 && cells[k].row == cells[k - 1].row && cells[k].col == cells[k - 1].col) continue;
    m.indices.push_back(cells[k].col);
    m.values.push_back(cells[k].weight);
    ++m.indptr[static_cast<std::size_t>(cells[k].row) + 1];
  }
  for (std::int32_t r = 0; r < rows; ++r) m.indptr[r + 1] += m.indptr[r];
  return out;
}

void RawInteractions::finish(Dataset& data) {
  user_map = users.finalize(data.user_ids);
  item_map = items.finalize(data.item_ids);
  for (Interaction& x : rows) {
    x.user = user_map[x.user];
    x.item = item_map[x.item];
  }
  data.interactions = std::move(rows);
  data.source_part = std::move(part);
  rows.clear();
  part.clear();
}

std::string age_bucket(std::int64_t age) {
  // The seven ML-1M ranges, so ML-100K exact ages and ML-1M codes agree.
  if (age < 18) return "age=<18";
  if (age < 25) return "age=18-24";
  if (age < 35) return "age=25-34";
  if (age < 45) return "age=35-44";
  if (age < 50) return "age=45-49";
  if (age < 56) return "age=50-55";
  return "age=56+";
}

}  // namespace recfuse::data_detail
