// The shared interaction-table parser and the generic delimited reader.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "data/reader_families.hpp"
#include "recfuse/types.hpp"

namespace recfuse::data_detail {

namespace {

std::string separator_name(const std::string& sep) {
  if (sep == "\t") return "TAB";
  if (sep == " ") return "space";
  if (sep == "csv") return "comma";
  return "'" + sep + "'";
}

bool rating_allowed(const TableLayout& layout, float value) {
  if (!(layout.rating_max > layout.rating_min)) return true;
  if (value < layout.rating_min || value > layout.rating_max) return false;
  if (layout.rating_step <= 0.0f) return true;
  const double steps = (static_cast<double>(value) - layout.rating_min) / layout.rating_step;
  return std::abs(steps - std::round(steps)) < 1e-6;
}

std::string rating_domain(const TableLayout& layout) {
  std::ostringstream s;
  s << layout.rating_min << ".." << layout.rating_max;
  if (layout.rating_step > 0.0f) s << " in steps of " << layout.rating_step;
  return s.str();
}

}  // namespace

void read_table(std::string_view text, const fs::path& file, const TableLayout& layout,
                RawInteractions& raw, RowErrors& errors, std::vector<std::int64_t>* lines_kept) {
  const int needed = std::max({layout.user, layout.item, layout.rating, layout.timestamp}) + 1;
  const std::string sep_name = separator_name(layout.separator);
  const bool csv = layout.separator == "csv";
  const bool whitespace = layout.separator == " ";
  std::vector<std::string_view> f;
  std::vector<std::string> storage;
  LineReader lines(text);
  std::string_view line;
  bool header_pending = layout.header;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    if (header_pending) {
      header_pending = false;
      if (!layout.header_text.empty() && trim(line) != layout.header_text) {
        errors.bad(lines.line_number(),
                   "expected the header '" + std::string(layout.header_text) + "'", line);
      }
      continue;
    }
    if (csv) {
      split_csv(line, f, storage);
    } else if (whitespace) {
      split_whitespace(line, f);
    } else {
      split_exact(line, layout.separator, f);
    }
    const auto n = static_cast<int>(f.size());
    if (layout.exact_fields >= 0 ? n != layout.exact_fields : n < needed) {
      const int want = layout.exact_fields >= 0 ? layout.exact_fields : needed;
      errors.bad(lines.line_number(),
                 "expected " + std::string(layout.exact_fields >= 0 ? "" : "at least ") +
                     std::to_string(want) + " " + sep_name + "-separated fields, found " +
                     std::to_string(n),
                 line);
      continue;
    }
    const std::string_view user = trim(f[layout.user]);
    const std::string_view item = trim(f[layout.item]);
    if (user.empty() || item.empty()) {
      errors.bad(lines.line_number(), user.empty() ? "empty user id" : "empty item id", line);
      continue;
    }
    std::int64_t id = 0;
    if (layout.integer_ids && (!parse_int(user, id) || !parse_int(item, id))) {
      errors.bad(lines.line_number(),
                 std::string(parse_int(user, id) ? "item" : "user") + " id is not an integer",
                 line);
      continue;
    }
    Interaction x;
    if (layout.rating >= 0 && !parse_float(trim(f[layout.rating]), x.value)) {
      errors.bad(lines.line_number(), "rating is not a number", f[layout.rating]);
      continue;
    }
    if (layout.rating >= 0 && !rating_allowed(layout, x.value)) {
      errors.bad(lines.line_number(), "rating is not one of " + rating_domain(layout),
                 f[layout.rating]);
      continue;
    }
    if (layout.timestamp >= 0 && !parse_timestamp(trim(f[layout.timestamp]), x.timestamp)) {
      errors.bad(lines.line_number(), "timestamp is not a number", f[layout.timestamp]);
      continue;
    }
    // Ids are interned only once the whole row is valid, so a skipped row
    // never leaves an id with no interactions behind.
    x.user = raw.users.intern(user);
    x.item = raw.items.intern(item);
    raw.rows.push_back(x);
    if (lines_kept) lines_kept->push_back(lines.line_number());
  }
}

void read_interactions(const DatasetSpec& spec, std::string_view text, const fs::path& file,
                       const TableLayout& layout, RawInteractions& raw, Dataset& data) {
  RowErrors errors(file.string(), spec.skip_bad_rows, data.skipped_rows);
  read_table(text, file, layout, raw, errors);
  raw.finish(data);
  data.explicit_ratings = layout.rating >= 0;
  data.has_timestamps = layout.timestamp >= 0;
}

Dataset read_delimited(const DatasetSpec& spec, const fs::path& file, SourceHash& sources) {
  const DelimitedSpec& d = spec.delimited;
  if (d.separator.empty()) throw Error(file.string() + ": delimited.separator must not be empty");
  if (d.user_column < 0 || d.item_column < 0 || d.user_column == d.item_column) {
    throw Error(file.string() + ": delimited.user_column and item_column must be distinct "
                "columns >= 0 (got " + std::to_string(d.user_column) + " and " +
                std::to_string(d.item_column) + ")");
  }
  require_file(file, "");
  const std::string text = sources.read(file);
  Dataset data;
  TableLayout layout;
  layout.separator = d.separator == "\\t" ? "\t" : d.separator;
  // A single comma means CSV, so quoted fields with commas work.
  if (layout.separator == ",") layout.separator = "csv";
  layout.header = d.header;
  layout.user = d.user_column;
  layout.item = d.item_column;
  layout.rating = d.rating_column;
  layout.timestamp = d.timestamp_column;
  RawInteractions raw;
  read_interactions(spec, text, file, layout, raw, data);
  return data;
}

}  // namespace recfuse::data_detail
