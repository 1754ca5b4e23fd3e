# Run at build time (cmake -P) so the report's commit is the one built, not
# the one configured: writes recfuse_git.hpp only when the commit changes.
execute_process(COMMAND git rev-parse --verify -q HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(dirty)
    string(APPEND commit "-dirty")
  endif()
endif()
set(content "// Generated at build time by cmake/GitCommit.cmake.\n#pragma once\nnamespace recfuse::build_info {\ninline constexpr const char* kGitCommit = \"${commit}\";\n}\n")
include(${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake)
write_if_changed(${OUTPUT} "${content}")
