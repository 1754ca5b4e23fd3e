# recfuse_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>]
#                    [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds one plugin shared library against the recfuse SDK: no undefined
# symbols (so loading never fails late), hidden visibility but for the one
# exported descriptor, written to the plugin directory next to the binary.
# Used in-tree and by out-of-tree plugins after find_package(recfuse).
function(recfuse_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  if(TARGET recfuse::sdk)
    target_link_libraries(${name} PRIVATE recfuse::sdk)
  else()
    target_link_libraries(${name} PRIVATE recfuse_sdk)
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX "librecfuse_"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED RECFUSE_PLUGIN_BUILD_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${RECFUSE_PLUGIN_BUILD_DIR})
  endif()
  set_property(GLOBAL APPEND PROPERTY RECFUSE_PLUGIN_TARGETS ${name})
  if(DEFINED RECFUSE_PLUGIN_INSTALL_DIR AND NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${RECFUSE_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
