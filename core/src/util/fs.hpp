// File helpers: atomic writes (temp file + rename) so a killed process never
// leaves a half-written record or report; an advisory lock between processes.
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

/// An exclusive advisory lock (flock(2)) on `file`, created when missing
/// and left in place, held until the object is destroyed or reset; the
/// constructor waits while another process holds it. The kernel drops it
/// when its holder dies, so a killed trial never leaves it held. Where the
/// file cannot be made or the file system has no locks (some NFS mounts),
/// the object holds nothing (held() false) and the caller goes on unlocked.
class FileLock {
 public:
  FileLock() = default;
  explicit FileLock(const std::filesystem::path& file);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() { reset(); }

  bool held() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

}  // namespace recfuse
