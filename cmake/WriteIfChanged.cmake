# write_if_changed(FILE CONTENT): writes FILE only when its text differs, so a
# generated header's dependants rebuild only when it really changes. Included
# by the build-time scripts GitCommit.cmake and HostSourceHash.cmake.
function(write_if_changed file content)
  set(old "")
  if(EXISTS ${file})
    file(READ ${file} old)
  endif()
  if(NOT "${old}" STREQUAL "${content}")
    file(WRITE ${file} "${content}")
  endif()
endfunction()
