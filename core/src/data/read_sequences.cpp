// Implicit readers without ratings or timestamps: the two-file train/test
// layout (ReSN, LightGCN style), per-user sequence lines (S3-Rec style) and
// "user item" pair lines (SASRec style). Timestamps are 0. In the sequence
// formats each user's items are listed oldest first, so an interaction's
// position within its user is its time order (rows_in_time_order); the
// two-file layout documents no order, and time-based splits refuse it.
#include "data/reader_families.hpp"
#include "recfuse/types.hpp"

namespace recfuse::data_detail {

namespace {

/// "user item item ..." lines. A line with only a user is a valid user with
/// no interactions in this file (the user still gets an id).
/// Every whitespace-separated token is an id, so no line is malformed.
void read_user_lines(std::string_view text, std::uint8_t part, bool record_part,
                     RawInteractions& raw) {
  LineReader lines(text);
  std::string_view line;
  std::vector<std::string_view> f;
  while (lines.next(line)) {
    split_whitespace(line, f);
    if (f.empty()) continue;
    const std::int32_t user = raw.users.intern(f[0]);
    for (std::size_t k = 1; k < f.size(); ++k) {
      Interaction x;
      x.user = user;
      x.item = raw.items.intern(f[k]);
      raw.rows.push_back(x);
      if (record_part) raw.part.push_back(part);
    }
  }
}

}  // namespace

Dataset read_implicit_train_test(const DatasetSpec& spec, const fs::path& dir) {
  const fs::path train = dir / "train.txt";
  const fs::path test = dir / "test.txt";
  const std::string hint = "implicit-train-test expects train.txt and test.txt (\"user item item "
                           "...\"); " + where_to_get(spec.path);
  require_file(train, hint);
  require_file(test, hint);
  // Both buffers stay alive until finish(): the id maps hold views into them.
  const std::string train_text = read_file(train);
  const std::string test_text = read_file(test);
  Dataset data;
  RawInteractions raw;
  read_user_lines(train_text, 0, true, raw);
  read_user_lines(test_text, 1, true, raw);
  raw.finish(data);
  return data;
}

Dataset read_sequence(const DatasetSpec& spec, const fs::path& file) {
  require_file(file, "");
  const std::string text = read_file(file);
  Dataset data;
  RawInteractions raw;
  read_user_lines(text, 0, false, raw);
  raw.finish(data);
  data.rows_in_time_order = true;
  return data;
}

Dataset read_sequence_pairs(const DatasetSpec& spec, const fs::path& file) {
  require_file(file, "");
  const std::string text = read_file(file);
  Dataset data;
  RawInteractions raw;
  RowErrors errors(file.string(), spec.skip_bad_rows, data.skipped_rows);
  TableLayout layout{" ", false, 2, 0, 1, -1, -1};
  read_table(text, file, layout, raw, errors);
  raw.finish(data);
  data.rows_in_time_order = true;
  return data;
}

}  // namespace recfuse::data_detail
