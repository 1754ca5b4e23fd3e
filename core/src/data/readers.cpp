// Dataset location, dispatch to the reader families, source hashing and the
// cached load path.
//
// Id remapping (all readers): raw ids become dense 0-based ids. When every
// raw id of a kind is an integer they are numbered in ascending numeric order
// (so the mapping does not depend on row order: ml-100k user "1" is user 0);
// otherwise in order of first appearance in the interaction file(s). Which
// ids must be integers is each format's: MovieLens ids always; the sequence
// formats' ids all integers or all tokens, as most are (read_sequences.cpp);
// delimited and RecBole ids any strings.
//
// Source hash (Dataset::sha256): SHA-256 over, for each source file in the
// fixed per-format order below that exists, its file name, NUL, its size in
// decimal, NUL, then its bytes. The readers read their files in this order
// through one SourceHash, so the hash is of the very bytes they parsed (a
// file edited after the read cannot give the parse another file's hash):
//   ml-100k             u.data, u.item, u.user
//   ml-latest-small     ratings.csv, movies.csv
//   ml-1m               ratings.dat, movies.dat, users.dat
//   implicit-train-test train.txt, test.txt
//   recbole             <name>.inter, <name>.item, <name>.user
//   sequence, sequence-pairs, delimited: the file
//   synthetic           no files: SHA-256 of the canonical spec text
#include <cstdlib>

#include "data/reader_families.hpp"
#include "data/readers.hpp"
#include "recfuse/types.hpp"
#include "recfuse_build_info.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace recfuse {

namespace fs = std::filesystem;
using namespace data_detail;

namespace {

const std::vector<std::string> kFormats = {"ml-100k",   "ml-latest-small", "ml-1m",
                                           "implicit-train-test", "sequence",
                                           "sequence-pairs", "recbole", "delimited", "synthetic"};

/// spec.name, else the last component of the path (the resolved one when the
/// scenario gave none), else the format.
std::string name_for(const DatasetSpec& spec, const fs::path& resolved = {}) {
  if (!spec.name.empty()) return spec.name;
  if (spec.format == "synthetic") return spec.format;
  fs::path p = (spec.path.empty() ? resolved : fs::path(spec.path)).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.empty() ? spec.format : p.filename().string();
}

/// Hash of the spec fields that change what a reader produces from the same
/// bytes (plus the reader version), for the cache key.
std::string parse_key(const DatasetSpec& spec) {
  std::string s = spec.format + "|v" + std::to_string(kReaderVersion) + "|skip=" +
                  (spec.skip_bad_rows ? "1" : "0");
  if (spec.format == "delimited") {
    const DelimitedSpec& d = spec.delimited;
    s += "|" + d.separator + "|" + (d.header ? "h" : "-") + "|" + std::to_string(d.user_column) +
         "," + std::to_string(d.item_column) + "," + std::to_string(d.rating_column) + "," +
         std::to_string(d.timestamp_column);
  }
  return sha256_hex(s).substr(0, 8);
}

std::string safe_file_name(std::string s) {
  for (char& c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) c = '_';
  }
  return s;
}

/// The files' hash as a reader of them computes it (for the cache key and
/// trial provenance, before or without a parse).
std::string hash_sources(const std::vector<fs::path>& files) {
  SourceHash h;
  for (const fs::path& f : files) h.read(f);
  return h.hex_digest();
}

}  // namespace

namespace data_detail {

/// Where a user without the shared data root gets a missing dataset: the
/// datasets of shared/data/README.md by their folder name (the derived ones
/// from the repositories that made them, since the publisher's raw files are
/// in another format), else the publisher by what the path names.
std::string where_to_get(const std::string& path) {
  struct Source {
    const char* folder;
    const char* where;
  };
  static const Source kKnown[] = {
      {"ml-1m-implicit-resn",
       "ml-1m-implicit-resn is train.txt and test.txt of https://github.com/LIN452/ReSN "
       "(data/ml-1m/), a split of MovieLens 1M"},
      {"amazon-beauty-s3rec",
       "amazon-beauty-s3rec is data/Beauty.txt of https://github.com/RUCAIBox/CIKM2020-S3Rec "
       "(S3-Rec's preprocessing of the UCSD Amazon Beauty reviews)"},
      {"amazon-video-sasrec",
       "amazon-video-sasrec is data/Video.txt of https://github.com/kang205/SASRec "
       "(SASRec's preprocessing of the UCSD Amazon Video Games reviews)"},
  };
  for (const Source& s : kKnown) {
    if (path.find(s.folder) != std::string::npos) return s.where;
  }
  if (path.find("ml-") != std::string::npos || path.find("movielens") != std::string::npos) {
    return "MovieLens datasets are published at https://grouplens.org/datasets/movielens/";
  }
  if (path.find("amazon") != std::string::npos || path.find("Beauty") != std::string::npos ||
      path.find("Video") != std::string::npos) {
    return "Amazon review data is published at https://cseweb.ucsd.edu/~jmcauley/datasets.html";
  }
  if (path.find("lastfm") != std::string::npos) {
    return "HetRec 2011 Last.fm is published at https://grouplens.org/datasets/hetrec-2011/";
  }
  return "put the dataset there, or set RECFUSE_DATA to the directory that holds it "
         "(recfuse knows no public source for this path)";
}

std::vector<fs::path> source_files(const DatasetSpec& spec, const fs::path& resolved) {
  std::vector<fs::path> candidates;
  const std::string& f = spec.format;
  if (f == "ml-100k") {
    candidates = {resolved / "u.data", resolved / "u.item", resolved / "u.user"};
  } else if (f == "ml-latest-small") {
    candidates = {resolved / "ratings.csv", resolved / "movies.csv"};
  } else if (f == "ml-1m") {
    candidates = {resolved / "ratings.dat", resolved / "movies.dat", resolved / "users.dat"};
  } else if (f == "implicit-train-test") {
    candidates = {resolved / "train.txt", resolved / "test.txt"};
  } else if (f == "recbole") {
    const RecboleFiles r = recbole_files(resolved);
    candidates = {r.inter, r.item, r.user};
  } else {
    candidates = {resolved};
  }
  std::vector<fs::path> present;
  for (const fs::path& p : candidates) {
    if (fs::is_regular_file(p)) present.push_back(p);
  }
  return present;
}

}  // namespace data_detail

fs::path data_root() {
  if (const char* env = std::getenv("RECFUSE_DATA"); env && *env) return fs::path(env);
  const fs::path beside_cwd = fs::path("..") / "shared" / "data";
  if (fs::is_directory(beside_cwd)) return fs::absolute(beside_cwd).lexically_normal();
  return (fs::path(build_info::kSourceDir) / ".." / "shared" / "data").lexically_normal();
}

fs::path resolve_data_path(const std::string& path) {
  if (path.empty()) throw Error("dataset path is empty; set [dataset] path");
  const fs::path p(path);
  const fs::path full = p.is_absolute() ? p : data_root() / p;
  if (fs::exists(full)) return full;
  const char* env = std::getenv("RECFUSE_DATA");
  const std::string root_origin =
      env && *env ? "$RECFUSE_DATA" : "default; set RECFUSE_DATA to use another directory";
  throw Error(full.string() + ": dataset not found (data root " + data_root().string() + ", " +
              root_origin + "); " + data_detail::where_to_get(path));
}

Dataset read_dataset(const DatasetSpec& spec, const fs::path& resolved) {
  Dataset data;
  SourceHash sources;
  const std::string& f = spec.format;
  if (f == "synthetic") {
    data = generate_synthetic(spec.synthetic);
  } else if (f == "ml-100k") {
    data = read_ml100k(spec, resolved, sources);
  } else if (f == "ml-latest-small") {
    data = read_ml_latest(spec, resolved, sources);
  } else if (f == "ml-1m") {
    data = read_ml1m(spec, resolved, sources);
  } else if (f == "implicit-train-test") {
    data = read_implicit_train_test(spec, resolved, sources);
  } else if (f == "sequence") {
    data = read_sequence(spec, resolved, sources);
  } else if (f == "sequence-pairs") {
    data = read_sequence_pairs(spec, resolved, sources);
  } else if (f == "recbole") {
    data = read_recbole(spec, resolved, sources);
  } else if (f == "delimited") {
    data = read_delimited(spec, resolved, sources);
  } else {
    std::string known;
    for (const auto& k : kFormats) known += (known.empty() ? "" : ", ") + k;
    throw Error("unknown dataset format '" + f + "'; known: " + known);
  }
  data.name = name_for(spec, resolved);
  data.format = f;
  if (data.interactions.empty()) {
    // An empty or header-only file (or one whose every row was skipped)
    // would otherwise give trials with nothing to fit or score, reported ok.
    const std::vector<fs::path> files = source_files(spec, resolved);
    throw Error((files.empty() ? resolved : files.front()).string() + ": no interactions read" +
                (data.skipped_rows > 0 ? " (all " + std::to_string(data.skipped_rows) +
                                             " data rows were malformed and skipped)"
                                       : std::string(" (empty file?)")));
  }
  if (f != "synthetic") {
    data.source = resolved.string();
    data.sha256 = sources.hex_digest();
  }
  return data;
}

std::string data_files_sha256(const DatasetSpec& spec, const SplitSpec& split, const std::string& fold) {
  if (spec.format == "synthetic") return {};
  const fs::path resolved = resolve_data_path(spec.path);
  std::vector<fs::path> files = data_detail::source_files(spec, resolved);
  if (split.method == "fixed") {  // fixed_split reads them beside the source (splits.cpp)
    const fs::path dir = fs::is_directory(resolved) ? resolved : resolved.parent_path();
    for (const char* ext : {".base", ".test"})
      if (const fs::path p = dir / (fold + ext); fs::is_regular_file(p)) files.push_back(p);
  }
  return hash_sources(files).substr(0, 16);
}

Dataset load_dataset(const DatasetSpec& spec, const fs::path& cache_dir) {
  // Synthetic data is regenerated (well under a second for typical sizes),
  // so it is never cached.
  if (spec.format == "synthetic") return read_dataset(spec, {});
  const fs::path resolved = resolve_data_path(spec.path);
  if (!spec.cache || cache_dir.empty()) return read_dataset(spec, resolved);

  const std::vector<fs::path> files = source_files(spec, resolved);
  if (files.empty()) return read_dataset(spec, resolved);  // the reader names what is missing
  const std::string sha = hash_sources(files);
  const fs::path file = cache_dir / (safe_file_name(name_for(spec, resolved)) + "-" +
                                     sha.substr(0, 16) + "-" + parse_key(spec) + ".bin");
  if (fs::is_regular_file(file)) {
    try {
      Dataset data = load_dataset_cache(file);
      if (data.sha256 == sha && data.format == spec.format) {
        data.name = name_for(spec, resolved);
        data.source = resolved.string();  // the cache may come from another checkout
        return data;
      }
    } catch (const Error&) {
      // Stale format or a torn file: fall through and rebuild it.
    }
  }
  Dataset data = read_dataset(spec, resolved);
  // A source edited between the key's hash and the parse: the parse is of
  // other bytes than the key names, so it is not cached under that key.
  if (data.sha256 != sha) return data;
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  const fs::path tmp = unique_temp_path(file);
  try {
    save_dataset_cache(data, tmp);
    fs::rename(tmp, file);  // atomic on POSIX: readers see the old or the new file
  } catch (const std::exception&) {
    fs::remove(tmp, ec);  // a cache we cannot write is not an error for the trial
  }
  return data;
}

}  // namespace recfuse
