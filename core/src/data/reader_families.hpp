// Internal: one function per reader family (read_dataset() dispatches), plus
// the table parser they share and the list of source files each one hashes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/text_input.hpp"
#include "scenario/specs.hpp"

namespace recfuse::data_detail {

namespace fs = std::filesystem;

/// Column layout of one interaction table.
struct TableLayout {
  std::string separator = "\t";  // exact separator; "csv" = quoted CSV; " " = whitespace runs
  bool header = false;           // first non-empty line is skipped
  int exact_fields = -1;         // required field count, or -1 = at least max column + 1
  int user = 0, item = 1, rating = -1, timestamp = -1;
  // What the format documents, checked per row so that a corrupt row is an
  // error (or skipped) instead of data: integer ids (a stray "abc" would
  // also renumber every id, IdMap::finalize), and ratings in
  // [rating_min, rating_max] in steps of rating_step (0 = any value; the
  // range applies when rating_max > rating_min).
  bool integer_ids = false;
  float rating_min = 0.0f, rating_max = 0.0f, rating_step = 0.0f;
  // The header line a format documents (compared after trimming); a file
  // without it would otherwise lose its first row. Empty: any header.
  std::string_view header_text = {};
};

/// Parses `text` (the bytes of `file`) into `raw`; empty lines are ignored.
/// `lines`, when given, receives each kept row's 1-based line number.
void read_table(std::string_view text, const fs::path& file, const TableLayout& layout,
                RawInteractions& raw, RowErrors& errors,
                std::vector<std::int64_t>* lines = nullptr);

/// A dataset's interaction table: read_table over `text` (the bytes of
/// `file`, which must outlive `raw`: its id maps view them), bad rows per
/// spec.skip_bad_rows, finished into `data`, whose ratings are explicit and
/// timestamps present when the layout has those columns.
void read_interactions(const DatasetSpec& spec, std::string_view text, const fs::path& file,
                       const TableLayout& layout, RawInteractions& raw, Dataset& data);

// Each reads its source files through `sources`, in source_files()' order.
Dataset read_ml100k(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources);
Dataset read_ml_latest(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources);
Dataset read_ml1m(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources);
Dataset read_implicit_train_test(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources);
Dataset read_sequence(const DatasetSpec& spec, const fs::path& file, SourceHash& sources);
Dataset read_sequence_pairs(const DatasetSpec& spec, const fs::path& file, SourceHash& sources);
Dataset read_recbole(const DatasetSpec& spec, const fs::path& path, SourceHash& sources);
Dataset read_delimited(const DatasetSpec& spec, const fs::path& file, SourceHash& sources);

/// One ml-100k fold file (u1..u5, ua, ub .base/.test; split method "fixed"),
/// with u.data's layout and row checks, through `data`'s dense ids (the
/// value is 1 when `data` is implicit). A bad row is always an error: the
/// fold files are the benchmark's split, read as they are.
std::vector<Interaction> read_ml100k_fold(const fs::path& file, const Dataset& data);

/// Where a user without the shared data root gets the dataset at `path` (a
/// sentence for error messages): a derived dataset from the repository that
/// made it, else the publisher the path names.
std::string where_to_get(const std::string& path);

/// RecBole paths: the .inter file and the optional .item / .user beside it
/// (accepts a directory "d/name", a prefix "d/name" or the .inter file).
struct RecboleFiles {
  fs::path inter, item, user;
};
RecboleFiles recbole_files(const fs::path& path);

/// The files whose bytes identify the dataset, in the fixed order they are
/// hashed (documented in readers.cpp). Optional files are listed only when
/// present, so adding one changes the hash.
std::vector<fs::path> source_files(const DatasetSpec& spec, const fs::path& resolved);

}  // namespace recfuse::data_detail
