# Run at build time (cmake -P): a hash of the code that writes trial records
# (core/, the trial command in tools/cli/, and the build files), the
# "recfuse" part of every record's provenance. Unlike the git commit it
# ignores scenarios, documentation, the reports (built from records, never
# part of them) and plugins (stamped by their own files), and it sees
# uncommitted edits. Writes recfuse_source.hpp only when the hash changes.
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
     ${SOURCE_DIR}/core/* ${SOURCE_DIR}/tools/cli/* ${SOURCE_DIR}/cmake/*)
list(APPEND files CMakeLists.txt tools/CMakeLists.txt)
list(FILTER files INCLUDE REGEX "(\\.(cpp|hpp|h|in|cmake)|CMakeLists\\.txt)$")
# Editor lock files and other hidden entries (often dangling links) are not code.
list(FILTER files EXCLUDE REGEX "(^|/)\\.")
list(SORT files)
set(listing "")
foreach(f IN LISTS files)
  if(EXISTS ${SOURCE_DIR}/${f} AND NOT IS_DIRECTORY ${SOURCE_DIR}/${f})
    file(SHA256 ${SOURCE_DIR}/${f} h)
    string(APPEND listing "${f} ${h}\n")
  endif()
endforeach()
string(SHA256 hash "${listing}")
string(SUBSTRING "${hash}" 0 16 hash)
set(content "// Generated at build time by cmake/HostSourceHash.cmake.\n#pragma once\nnamespace recfuse::build_info {\ninline constexpr const char* kHostSourceHash = \"${hash}\";\n}\n")
include(${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake)
write_if_changed(${OUTPUT} "${content}")
