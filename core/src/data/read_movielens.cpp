// MovieLens readers: ml-100k (u.data / u.item / u.user), ml-latest-small
// (ratings.csv / movies.csv) and ml-1m (ratings.dat / movies.dat / users.dat).
// Formats as documented by GroupLens (Harper & Konstan, ACM TiiS 5(4), 2015)
// and in shared/data/README.md. The item universe is the set of rated items;
// metadata rows of never-rated movies are ignored.
#include <algorithm>
#include <array>
#include <unordered_map>

#include "data/reader_families.hpp"
#include "recfuse/types.hpp"

namespace recfuse::data_detail {

namespace {

constexpr std::array<const char*, 19> kMl100kGenres = {
    "unknown", "Action",  "Adventure", "Animation", "Children's", "Comedy",  "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",  "Musical", "Mystery",
    "Romance", "Sci-Fi",  "Thriller",  "War",       "Western"};

// ML-1M README: occupation codes 0..20.
constexpr std::array<const char*, 21> kMl1mOccupations = {
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer"};

constexpr const char* kGroupLensHint =
    "MovieLens datasets are published at https://grouplens.org/datasets/movielens/";

// u.data and its fold files (GroupLens README): TAB-separated integer ids,
// whole-star ratings 1-5, Unix seconds.
const TableLayout kMl100kLayout{"\t", false, 4, 0, 1, 2, 3, true, 1, 5, 1};

std::int32_t mapped(const IdMap& ids, const std::vector<std::int32_t>& old_to_new,
                    std::string_view raw) {
  const std::int32_t old = ids.find(trim(raw));
  return old < 0 ? -1 : old_to_new[old];
}

/// Genres separated by '|' ("(no genres listed)" = none), as "genre=<name>".
void add_genre_list(AttributeBuilder& features, std::int32_t row, std::string_view genres) {
  std::vector<std::string_view> parts;
  split_exact(genres, "|", parts);
  for (std::string_view g : parts) {
    g = trim(g);
    if (g.empty() || g == "(no genres listed)") continue;
    features.add(row, "genre=" + std::string(g));
  }
}

/// u.user / users.dat demographics as "age=..", "gender=..", "occupation=..".
void add_user_features(AttributeBuilder& features, std::int32_t row, std::int64_t age,
                       std::string_view gender, std::string_view occupation) {
  features.add(row, age_bucket(age));
  features.add(row, "gender=" + std::string(trim(gender)));
  features.add(row, "occupation=" + std::string(trim(occupation)));
}

}  // namespace

Dataset read_ml100k(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources) {
  const fs::path ratings = dir / "u.data";
  require_file(ratings, kGroupLensHint);
  const std::string text = sources.read(ratings);
  Dataset data;
  RawInteractions raw;
  read_interactions(spec, text, ratings, kMl100kLayout, raw, data);

  // u.item: id|title|release|video release|url|19 genre flags (latin-1).
  const fs::path items = dir / "u.item";
  if (fs::exists(items)) {
    const std::string bytes = sources.read(items);
    RowErrors errors(items.string(), spec.skip_bad_rows, data.skipped_rows);
    AttributeBuilder genres;
    for (const char* g : kMl100kGenres) genres.column(std::string("genre=") + g);
    data.item_titles.assign(data.item_ids.size(), "");
    LineReader lines(bytes);
    std::string_view line;
    std::vector<std::string_view> f;
    while (lines.next(line)) {
      if (trim(line).empty()) continue;
      split_exact(line, "|", f);
      if (f.size() != 24) {
        errors.bad(lines.line_number(),
                   "expected 24 '|'-separated fields, found " + std::to_string(f.size()),
                   latin1_to_utf8(line));
        continue;
      }
      // GroupLens README: each genre field is 0 or 1 (anything else would
      // silently read as "not this genre").
      const auto bad_flag = std::find_if(f.begin() + 5, f.end(), [](std::string_view v) {
        return trim(v) != "0" && trim(v) != "1";
      });
      if (bad_flag != f.end()) {
        const auto g = static_cast<std::size_t>(bad_flag - f.begin() - 5);
        errors.bad(lines.line_number(),
                   std::string("genre flag '") + kMl100kGenres[g] + "' is not 0 or 1", *bad_flag);
        continue;
      }
      const std::int32_t item = mapped(raw.items, raw.item_map, f[0]);
      if (item < 0) continue;  // listed but never rated
      data.item_titles[item] = latin1_to_utf8(trim(f[1]));
      for (std::size_t g = 0; g < kMl100kGenres.size(); ++g) {
        if (trim(f[5 + g]) == "1") genres.add(item, std::string("genre=") + kMl100kGenres[g]);
      }
    }
    data.item_features = genres.build(data.n_items(), false);
  }

  // u.user: id|age|gender|occupation|zip.
  const fs::path users = dir / "u.user";
  if (fs::exists(users)) {
    const std::string bytes = sources.read(users);
    RowErrors errors(users.string(), spec.skip_bad_rows, data.skipped_rows);
    AttributeBuilder features;
    LineReader lines(bytes);
    std::string_view line;
    std::vector<std::string_view> f;
    while (lines.next(line)) {
      if (trim(line).empty()) continue;
      split_exact(line, "|", f);
      std::int64_t age = 0;
      if (f.size() != 5) {
        errors.bad(lines.line_number(),
                   "expected 5 '|'-separated fields, found " + std::to_string(f.size()), line);
        continue;
      }
      if (!parse_int(trim(f[1]), age)) {
        errors.bad(lines.line_number(), "age is not an integer", f[1]);
        continue;
      }
      const std::int32_t user = mapped(raw.users, raw.user_map, f[0]);
      if (user >= 0) add_user_features(features, user, age, f[2], f[3]);
    }
    data.user_features = features.build(data.n_users(), true);
  }
  return data;
}

Dataset read_ml_latest(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources) {
  const fs::path ratings = dir / "ratings.csv";
  require_file(ratings, kGroupLensHint);
  const std::string text = sources.read(ratings);
  Dataset data;
  RawInteractions raw;
  // GroupLens README: a header row, integer ids, half-star ratings 0.5-5.0.
  read_interactions(spec, text, ratings,
                    TableLayout{"csv", true, 4, 0, 1, 2, 3, true, 0.5f, 5.0f, 0.5f,
                                "userId,movieId,rating,timestamp"},
                    raw, data);

  // movies.csv: movieId,title,genres with quoted titles and CRLF endings (UTF-8).
  const fs::path movies = dir / "movies.csv";
  if (fs::exists(movies)) {
    const std::string bytes = sources.read(movies);
    RowErrors errors(movies.string(), spec.skip_bad_rows, data.skipped_rows);
    AttributeBuilder genres;
    data.item_titles.assign(data.item_ids.size(), "");
    LineReader lines(bytes);
    std::string_view line;
    std::vector<std::string_view> f;
    std::vector<std::string> storage;
    bool header = true;
    while (lines.next(line)) {
      if (trim(line).empty()) continue;
      if (header) {
        header = false;
        if (trim(line) != "movieId,title,genres") {
          errors.bad(lines.line_number(), "expected the header 'movieId,title,genres'", line);
        }
        continue;
      }
      split_csv(line, f, storage);
      if (f.size() != 3) {
        errors.bad(lines.line_number(),
                   "expected 3 comma-separated fields, found " + std::to_string(f.size()), line);
        continue;
      }
      const std::int32_t item = mapped(raw.items, raw.item_map, f[0]);
      if (item < 0) continue;
      data.item_titles[item] = std::string(trim(f[1]));
      add_genre_list(genres, item, f[2]);
    }
    data.item_features = genres.build(data.n_items(), true);
  }
  return data;
}

Dataset read_ml1m(const DatasetSpec& spec, const fs::path& dir, SourceHash& sources) {
  const fs::path ratings = dir / "ratings.dat";
  require_file(ratings,
               "this ml-1m copy lacks ratings.dat (\"UserID::MovieID::Rating::Timestamp\"); "
               "download ml-1m.zip from https://grouplens.org/datasets/movielens/1m/ and put "
               "ratings.dat there, or set RECFUSE_DATA to a data root that has it");
  const std::string text = sources.read(ratings);
  Dataset data;
  RawInteractions raw;
  // GroupLens README: integer ids, whole-star ratings 1-5.
  TableLayout layout = kMl100kLayout;
  layout.separator = "::";
  read_interactions(spec, text, ratings, layout, raw, data);

  const fs::path movies = dir / "movies.dat";  // MovieID::Title::Genres, latin-1
  if (fs::exists(movies)) {
    const std::string bytes = sources.read(movies);
    RowErrors errors(movies.string(), spec.skip_bad_rows, data.skipped_rows);
    AttributeBuilder genres;
    data.item_titles.assign(data.item_ids.size(), "");
    LineReader lines(bytes);
    std::string_view line;
    std::vector<std::string_view> f;
    while (lines.next(line)) {
      if (trim(line).empty()) continue;
      split_exact(line, "::", f);
      if (f.size() != 3) {
        errors.bad(lines.line_number(),
                   "expected 3 '::'-separated fields, found " + std::to_string(f.size()),
                   latin1_to_utf8(line));
        continue;
      }
      const std::int32_t item = mapped(raw.items, raw.item_map, f[0]);
      if (item < 0) continue;
      data.item_titles[item] = latin1_to_utf8(trim(f[1]));
      add_genre_list(genres, item, f[2]);
    }
    data.item_features = genres.build(data.n_items(), true);
  }

  const fs::path users = dir / "users.dat";  // UserID::Gender::Age::Occupation::Zip
  if (fs::exists(users)) {
    const std::string bytes = sources.read(users);
    RowErrors errors(users.string(), spec.skip_bad_rows, data.skipped_rows);
    AttributeBuilder features;
    LineReader lines(bytes);
    std::string_view line;
    std::vector<std::string_view> f;
    while (lines.next(line)) {
      if (trim(line).empty()) continue;
      split_exact(line, "::", f);
      std::int64_t age = 0, occupation = 0;
      if (f.size() != 5) {
        errors.bad(lines.line_number(),
                   "expected 5 '::'-separated fields (UserID::Gender::Age::Occupation::Zip-code), "
                   "found " + std::to_string(f.size()),
                   line);
        continue;
      }
      if (!parse_int(trim(f[2]), age)) {
        errors.bad(lines.line_number(), "age is not an integer", f[2]);
        continue;
      }
      if (!parse_int(trim(f[3]), occupation)) {
        errors.bad(lines.line_number(), "occupation is not an integer", f[3]);
        continue;
      }
      const std::int32_t user = mapped(raw.users, raw.user_map, f[0]);
      if (user < 0) continue;
      const std::string occ = occupation >= 0 && occupation < 21
                                  ? kMl1mOccupations[static_cast<std::size_t>(occupation)]
                                  : std::to_string(occupation);
      add_user_features(features, user, age, f[1], occ);
    }
    data.user_features = features.build(data.n_users(), true);
  }
  return data;
}

std::vector<Interaction> read_ml100k_fold(const fs::path& file, const Dataset& data) {
  require_file(file, std::string("split method 'fixed' reads the dataset's own fold files "
                                 "(ml-100k ships u1..u5 and ua/ub .base/.test); ") +
                         kGroupLensHint);
  const std::string text = read_file(file);
  std::int64_t never = 0;
  RowErrors errors(file.string(), false, never,
                   "fold files are read as they are (skip_bad_rows does not apply to them)");
  RawInteractions raw;
  std::vector<std::int64_t> lines;
  read_table(text, file, kMl100kLayout, raw, errors, &lines);
  Dataset fold;
  raw.finish(fold);
  // The fold's dense ids to the dataset's, by original id.
  const auto to_dataset = [](const std::vector<std::string>& fold_ids,
                             const std::vector<std::string>& ids) {
    std::unordered_map<std::string_view, std::int32_t> index;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      index.emplace(ids[k], static_cast<std::int32_t>(k));
    }
    std::vector<std::int32_t> out(fold_ids.size(), -1);
    for (std::size_t k = 0; k < fold_ids.size(); ++k) {
      if (const auto it = index.find(fold_ids[k]); it != index.end()) out[k] = it->second;
    }
    return out;
  };
  const std::vector<std::int32_t> users = to_dataset(fold.user_ids, data.user_ids);
  const std::vector<std::int32_t> items = to_dataset(fold.item_ids, data.item_ids);
  std::vector<Interaction> out = std::move(fold.interactions);
  for (std::size_t k = 0; k < out.size(); ++k) {
    Interaction& x = out[k];
    const bool user_known = users[x.user] >= 0;
    if (!user_known || items[x.item] < 0) {
      const std::string id = user_known ? "item id '" + fold.item_ids[x.item]
                                        : "user id '" + fold.user_ids[x.user];
      throw Error(file.string() + ":" + std::to_string(lines[k]) + ": " + id +
                  "' is not in dataset '" + data.name +
                  "' (did a filter remove it? fixed folds need the unfiltered data)");
    }
    x.user = users[x.user];
    x.item = items[x.item];
    if (!data.explicit_ratings) x.value = 1.0f;
  }
  return out;
}

}  // namespace recfuse::data_detail
