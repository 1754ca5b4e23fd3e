// RecBole atomic files (Zhao et al., "RecBole", CIKM 2021; docs
// "Atomic Files"): TAB-separated with a "name:type" header, types token,
// token_seq, float, float_seq. `.inter` holds user_id / item_id and optional
// rating / timestamp; `.item` and `.user` hold side information: token
// columns become "name=value" attributes, token_seq columns one attribute per
// space-separated token, a column whose name contains "title" the item title.
// Float columns are ignored (no attribute vocabulary for them).
#include "data/reader_families.hpp"
#include "recfuse/types.hpp"

namespace recfuse::data_detail {

namespace {

struct Column {
  std::string name, type;
};

std::vector<Column> parse_header(std::string_view text, const fs::path& file) {
  LineReader lines(text);
  std::string_view line;
  if (!lines.next(line) || trim(line).empty()) {
    throw Error(file.string() + ":1: missing RecBole header \"name:type\\t...\"");
  }
  std::vector<std::string_view> f;
  split_exact(line, "\t", f);
  std::vector<Column> columns;
  for (std::string_view field : f) {
    const std::size_t colon = field.rfind(':');
    if (colon == std::string_view::npos) {
      throw Error(file.string() + ":1: header field '" + std::string(field) +
                  "' is not \"name:type\" (type token, token_seq, float or float_seq)");
    }
    Column c{std::string(trim(field.substr(0, colon))), std::string(trim(field.substr(colon + 1)))};
    // RecBole itself refuses any other type (FeatureType); accepting one
    // here would silently drop the column (a typo such as "tokenseq").
    if (c.type != "token" && c.type != "token_seq" && c.type != "float" && c.type != "float_seq") {
      throw Error(file.string() + ":1: header field '" + std::string(field) + "' has type '" +
                  c.type + "'; RecBole types are token, token_seq, float and float_seq");
    }
    columns.push_back(std::move(c));
  }
  return columns;
}

int find_column(const std::vector<Column>& columns, const std::string& name) {
  for (std::size_t k = 0; k < columns.size(); ++k) {
    if (columns[k].name == name) return static_cast<int>(k);
  }
  return -1;
}

/// Reads a .item / .user file (through `sources`, after the .inter file):
/// rows keyed by `key` ("item_id"/"user_id").
void read_side_file(const fs::path& file, SourceHash& sources, const std::string& key,
                    const IdMap& ids, const std::vector<std::int32_t>& old_to_new, std::int32_t rows,
                    bool skip_bad_rows, std::int64_t& skipped, AttributeMatrix& features,
                    std::vector<std::string>* titles) {
  const std::string text = sources.read(file);
  const std::vector<Column> columns = parse_header(text, file);
  const int key_col = find_column(columns, key);
  if (key_col < 0) throw Error(file.string() + ":1: header has no '" + key + ":token' column");
  RowErrors errors(file.string(), skip_bad_rows, skipped);
  AttributeBuilder builder;
  bool any_title = false;
  std::vector<std::string> title_of(static_cast<std::size_t>(rows));
  LineReader lines(text);
  std::string_view line;
  lines.next(line);  // header
  std::vector<std::string_view> f, tokens;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    split_exact(line, "\t", f);
    if (f.size() != columns.size()) {
      errors.bad(lines.line_number(),
                 "expected " + std::to_string(columns.size()) + " TAB-separated fields, found " +
                     std::to_string(f.size()),
                 line);
      continue;
    }
    const std::int32_t old = ids.find(trim(f[key_col]));
    if (old < 0) continue;  // no interactions: not part of the dataset
    const std::int32_t row = old_to_new[old];
    for (std::size_t k = 0; k < columns.size(); ++k) {
      if (static_cast<int>(k) == key_col) continue;
      const Column& c = columns[k];
      const std::string_view value = trim(f[k]);
      if (value.empty()) continue;
      if (titles && c.name.find("title") != std::string::npos) {
        title_of[row] = std::string(value);
        any_title = true;
      } else if (c.type == "token") {
        builder.add(row, c.name + "=" + std::string(value));
      } else if (c.type == "token_seq") {
        split_whitespace(value, tokens);
        for (std::string_view t : tokens) builder.add(row, c.name + "=" + std::string(t));
      }
    }
  }
  features = builder.build(rows, true);
  if (titles && any_title) *titles = std::move(title_of);
}

}  // namespace

RecboleFiles recbole_files(const fs::path& path) {
  fs::path prefix = path;
  if (fs::is_directory(path)) {
    prefix = path / path.filename();
    if (!fs::exists(fs::path(prefix).concat(".inter"))) {
      // A directory with one .inter file of another name.
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.path().extension() == ".inter") found.push_back(entry.path());
      }
      if (found.size() == 1) prefix = found[0].parent_path() / found[0].stem();
    }
  } else if (path.extension() == ".inter") {
    prefix = path.parent_path() / path.stem();
  }
  RecboleFiles files;
  files.inter = fs::path(prefix).concat(".inter");
  files.item = fs::path(prefix).concat(".item");
  files.user = fs::path(prefix).concat(".user");
  return files;
}

Dataset read_recbole(const DatasetSpec& spec, const fs::path& path, SourceHash& sources) {
  const RecboleFiles files = recbole_files(path);
  require_file(files.inter, "RecBole datasets are a directory <name>/ with <name>.inter "
                            "(optionally .item, .user); see recbole.io atomic files");
  const std::string text = sources.read(files.inter);
  const std::vector<Column> columns = parse_header(text, files.inter);
  TableLayout layout;
  layout.separator = "\t";
  layout.header = true;
  layout.exact_fields = static_cast<int>(columns.size());
  layout.user = find_column(columns, "user_id");
  layout.item = find_column(columns, "item_id");
  layout.rating = find_column(columns, "rating");
  layout.timestamp = find_column(columns, "timestamp");
  if (layout.user < 0 || layout.item < 0) {
    throw Error(files.inter.string() + ":1: header needs 'user_id:token' and 'item_id:token' "
                "columns");
  }
  Dataset data;
  RawInteractions raw;
  read_interactions(spec, text, files.inter, layout, raw, data);
  if (fs::exists(files.item)) {
    read_side_file(files.item, sources, "item_id", raw.items, raw.item_map, data.n_items(),
                   spec.skip_bad_rows, data.skipped_rows, data.item_features, &data.item_titles);
  }
  if (fs::exists(files.user)) {
    read_side_file(files.user, sources, "user_id", raw.users, raw.user_map, data.n_users(),
                   spec.skip_bad_rows, data.skipped_rows, data.user_features, nullptr);
  }
  return data;
}

}  // namespace recfuse::data_detail
