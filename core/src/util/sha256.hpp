// SHA-256 (FIPS 180-4), for dataset cache keys and scenario/trial hashes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace recfuse {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// Lower-case hex digest; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const unsigned char* block);
  std::uint32_t h_[8];
  unsigned char buffer_[64];
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

std::string sha256_hex(std::string_view data);
/// Streams the file; throws Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace recfuse
