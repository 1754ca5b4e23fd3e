# Run at build time (cmake -P): a hash of the host's code (core, reports,
# tools and the build files), the "recfuse" part of every trial record's
# provenance. Unlike the git commit it ignores scenarios, documentation and
# plugins (which are stamped by their own files), and it sees uncommitted
# edits. Writes recfuse_source.hpp only when the hash changes.
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
     ${SOURCE_DIR}/core/* ${SOURCE_DIR}/reports/* ${SOURCE_DIR}/tools/* ${SOURCE_DIR}/cmake/*)
list(APPEND files CMakeLists.txt)
list(FILTER files INCLUDE REGEX "(\\.(cpp|hpp|h|in|cmake)|CMakeLists\\.txt)$")
list(SORT files)
set(listing "")
foreach(f IN LISTS files)
  file(SHA256 ${SOURCE_DIR}/${f} h)
  string(APPEND listing "${f} ${h}\n")
endforeach()
string(SHA256 hash "${listing}")
string(SUBSTRING "${hash}" 0 16 hash)
set(content "// Generated at build time by cmake/HostSourceHash.cmake.\n#pragma once\nnamespace recfuse::build_info {\ninline constexpr const char* kHostSourceHash = \"${hash}\";\n}\n")
include(${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake)
write_if_changed(${OUTPUT} "${content}")
