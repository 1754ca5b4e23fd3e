// Basic scalar types shared by the host and every plugin.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace recfuse {

/// Dense, 0-based user index assigned by the host's id remapping.
using UserId = std::int32_t;
/// Dense, 0-based item index assigned by the host's id remapping.
using ItemId = std::int32_t;
/// Padding value in caller-owned result arrays (Faiss convention).
inline constexpr ItemId kNoItem = -1;

/// The one exception type recfuse code throws on bad input or failed work.
/// Host and plugins share one toolchain (checked by the build fingerprint),
/// so it may cross the plugin boundary.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace recfuse
