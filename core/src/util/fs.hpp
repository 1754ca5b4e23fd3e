// File helpers: atomic writes (temp file + rename) so a killed process never
// leaves a half-written record or report.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace recfuse {

/// `file` + ".tmp.<host>.<pid>.<n>": unique among the writers of a folder
/// that several machines share (NFS, MPI ranks, job arrays), where process
/// ids repeat, and among the calls of one process.
std::filesystem::path unique_temp_path(const std::filesystem::path& file);
/// Writes `content` to `file` atomically; creates parent directories.
/// Throws Error naming the file on failure.
void write_file_atomic(const std::filesystem::path& file, std::string_view content);
/// Reads a whole file; throws Error naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& file);

}  // namespace recfuse
