// Implicit readers without ratings or timestamps: the two-file train/test
// layout (ReSN, LightGCN style), per-user sequence lines (S3-Rec style) and
// "user item" pair lines (SASRec style). Timestamps are 0. In the sequence
// formats each user's items are listed oldest first, so an interaction's
// position within its user is its time order (rows_in_time_order); the
// two-file layout documents no order, and time-based splits refuse it.
//
// Ids: these formats have no header and no id type, so a dataset's user ids
// are all integers or all tokens, and so are its item ids (each kind on its
// own), as most of them are (counted over every field of every file of the
// dataset; a tie counts as integers). An id of the other kind is a malformed
// row, named by file, line and field: a corrupt token in an integer file, or
// a header line, would otherwise make that kind's every id a token numbered
// by first appearance instead of numerically (IdMap::finalize). The published
// files (S3-Rec, SASRec, ReSN) have integer ids; token files (such as raw
// Amazon ids) keep first-appearance numbering, and an integer-looking token
// among them (an ISBN-style ASIN) is refused too: such a file reads as
// `delimited` or `recbole`, whose ids are strings of any kind.
#include "data/reader_families.hpp"
#include "recfuse/types.hpp"

namespace recfuse::data_detail {

namespace {

bool is_integer(std::string_view id) {
  std::int64_t value = 0;
  return parse_int(id, value);
}

/// How many of a dataset's ids of one kind are integers.
struct IdVote {
  std::int64_t integers = 0, total = 0;
  const char* kind;  // "user" or "item"

  void count(std::string_view id) {
    ++total;
    integers += is_integer(id) ? 1 : 0;
  }
  bool integer_ids() const { return 2 * integers >= total; }
  /// Why `id`, field `field` (1-based), is of the wrong kind; "" if it is not.
  std::string wrong(std::string_view id, std::size_t field) const {
    if (is_integer(id) == integer_ids()) return {};
    const std::string head = "field " + std::to_string(field) + " (" + kind + " id) ";
    const std::string of_total = " of the dataset's " + std::to_string(total) + " " + kind + " ids";
    const std::string rule = "; a dataset's " + std::string(kind) + " ids are all integers or all tokens";
    if (integer_ids()) return head + "is not an integer, unlike " + std::to_string(integers) + of_total + rule;
    return head + "is an integer, unlike " + std::to_string(total - integers) + of_total + ", which are tokens" +
           rule;
  }
};

/// One file of a dataset: its bytes, its path (for errors), its source part.
struct IdLines {
  std::string_view text;
  const fs::path& file;
  std::uint8_t part;
};

/// "user item item ..." lines, or exactly "user item" when `pairs`. In the
/// first form a line with only a user is a valid user with no interactions
/// in this file (the user still gets an id). A bad line is skipped whole
/// (one user's sequence, or one pair) under spec.skip_bad_rows.
void read_id_lines(const DatasetSpec& spec, const std::vector<IdLines>& files, bool pairs,
                   bool record_part, RawInteractions& raw, Dataset& data) {
  IdVote users{0, 0, "user"}, items{0, 0, "item"};
  std::vector<std::string_view> f;
  std::string_view line;
  for (const IdLines& in : files) {  // first pass: which kind each is
    LineReader lines(in.text);
    while (lines.next(line)) {
      split_whitespace(line, f);
      if (f.empty() || (pairs && f.size() != 2)) continue;
      users.count(f[0]);
      for (std::size_t k = 1; k < f.size(); ++k) items.count(f[k]);
    }
  }
  for (const IdLines& in : files) {
    RowErrors errors(in.file.string(), spec.skip_bad_rows, data.skipped_rows);
    LineReader lines(in.text);
    while (lines.next(line)) {
      split_whitespace(line, f);
      if (f.empty()) continue;
      if (pairs && f.size() != 2) {
        errors.bad(lines.line_number(),
                   "expected 2 space-separated fields, found " + std::to_string(f.size()), line);
        continue;
      }
      // The whole line is checked before any id is interned, so a skipped
      // line leaves no id without interactions behind.
      std::string why;
      std::size_t bad = 0;
      for (; bad < f.size(); ++bad) {
        why = (bad == 0 ? users : items).wrong(f[bad], bad + 1);
        if (!why.empty()) break;
      }
      if (!why.empty()) {
        errors.bad(lines.line_number(), why, f[bad]);
        continue;
      }
      const std::int32_t user = raw.users.intern(f[0]);
      for (std::size_t k = 1; k < f.size(); ++k) {
        Interaction x;
        x.user = user;
        x.item = raw.items.intern(f[k]);
        raw.rows.push_back(x);
        if (record_part) raw.part.push_back(in.part);
      }
    }
  }
  raw.finish(data);
}

}  // namespace

Dataset read_implicit_train_test(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources) {
  const fs::path train = dir / "train.txt";
  const fs::path test = dir / "test.txt";
  const std::string hint = "implicit-train-test expects train.txt and test.txt (\"user item item "
                           "...\"); " + where_to_get(spec.path);
  require_file(train, hint);
  require_file(test, hint);
  // Both buffers stay alive until finish(): the id maps hold views into them.
  const std::string train_text = sources.read(train);
  const std::string test_text = sources.read(test);
  Dataset data;
  RawInteractions raw;
  read_id_lines(spec, {{train_text, train, 0}, {test_text, test, 1}}, false, true, raw, data);
  return data;
}

Dataset read_sequence(const DatasetSpec& spec, const fs::path& file, SourceHash& sources) {
  require_file(file, "");
  const std::string text = sources.read(file);
  Dataset data;
  RawInteractions raw;
  read_id_lines(spec, {{text, file, 0}}, false, false, raw, data);
  data.rows_in_time_order = true;
  return data;
}

Dataset read_sequence_pairs(const DatasetSpec& spec, const fs::path& file, SourceHash& sources) {
  require_file(file, "");
  const std::string text = sources.read(file);
  Dataset data;
  RawInteractions raw;
  read_id_lines(spec, {{text, file, 0}}, true, false, raw, data);
  data.rows_in_time_order = true;
  return data;
}

}  // namespace recfuse::data_detail
