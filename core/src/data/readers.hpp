// Dataset readers: each turns files on disk into a Dataset with dense ids.
// A malformed row throws Error "file:line: why" unless `skip_bad_rows`, in
// which case it is counted in Dataset::skipped_rows.
#pragma once

#include <filesystem>
#include <string>

#include "data/dataset.hpp"
#include "scenario/specs.hpp"

namespace recfuse {

/// Root of the shared datasets: $RECFUSE_DATA if set, else the first
/// existing of ./../shared/data, <repo>/../shared/data.
std::filesystem::path data_root();

/// Resolves a scenario's dataset path (absolute, or relative to data_root()).
/// Throws Error naming the missing file and how to obtain it (set
/// RECFUSE_DATA, or where the dataset is published) when it does not exist.
std::filesystem::path resolve_data_path(const std::string& path);

/// Reads `spec.format` from `resolved` (no cache, no filters).
///   ml-100k            directory with u.data, u.item (latin-1), u.user
///   ml-latest-small    directory with ratings.csv, movies.csv (quoted, CRLF)
///   ml-1m              directory with ratings.dat, movies.dat, users.dat ("::")
///   implicit-train-test directory with train.txt + test.txt ("user item item ...")
///   sequence           file, "user item item ..." per line, in time order
///   sequence-pairs     file, "user item" per line, grouped by user, in time order
///   recbole            directory or path prefix with .inter (+ .item, .user), "name:type" headers
///   delimited          file with spec.delimited column mapping
///   synthetic          no file: generate_synthetic(spec.synthetic)
Dataset read_dataset(const DatasetSpec& spec, const std::filesystem::path& resolved);

/// resolve + read, through the binary cache in `cache_dir` (keyed by the
/// sha256 of the source bytes and the reader version); empty `cache_dir`
/// disables caching.
Dataset load_dataset(const DatasetSpec& spec, const std::filesystem::path& cache_dir);

/// The first 16 hex digits of the SHA-256 of the files a trial of this
/// dataset reads (hashed as Dataset::sha256 is): the dataset's source files
/// and, for split method "fixed", the fold's own .base and .test. Empty for
/// synthetic data (the scenario text is its source). Trial provenance
/// carries it, so an edited data file is not resumed past.
std::string data_files_sha256(const DatasetSpec& spec, const SplitSpec& split, const std::string& fold);

/// Keeps interactions with value >= min_rating (then implicit), drops
/// values when `implicit`, applies the iterative k-core, and re-densifies ids
/// (side information follows the kept users and items).
void apply_filters(Dataset& data, const FilterSpec& filter);

/// Seeded latent-factor world: users and items with factors, genres and
/// timestamps; ratings 1..5 from the latent affinity plus noise.
Dataset generate_synthetic(const SyntheticSpec& spec);

/// Human-readable statistics (`recfuse data info`).
std::string describe_dataset(const Dataset& data);

/// Binary cache (exposed for tests).
void save_dataset_cache(const Dataset& data, const std::filesystem::path& file);
Dataset load_dataset_cache(const std::filesystem::path& file);

}  // namespace recfuse
