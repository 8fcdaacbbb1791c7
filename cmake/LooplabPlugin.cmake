# looplab_add_plugin(NAME <name> KIND block|task|analysis SOURCES <files...> [LIBRARIES <libs...>])
# Builds a plugin library the way the host expects: one exported entry symbol (hidden
# visibility for everything else), no undefined symbols, named liblooplab_<kind>_<name>.so,
# placed in the plugin directory of the build tree.
function(looplab_add_plugin)
  cmake_parse_arguments(P "" "NAME;KIND;OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_NAME OR NOT P_KIND OR NOT P_SOURCES)
    message(FATAL_ERROR "looplab_add_plugin needs NAME, KIND and SOURCES")
  endif()
  if(NOT P_KIND MATCHES "^(block|task|analysis)$")
    message(FATAL_ERROR "looplab_add_plugin: KIND must be block, task or analysis, not '${P_KIND}'")
  endif()
  if(NOT P_OUTPUT_DIRECTORY)
    set(P_OUTPUT_DIRECTORY ${LOOPLAB_PLUGIN_OUTPUT_DIR})
  endif()
  set(target looplab_${P_KIND}_${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE looplab::sdk ${P_LIBRARIES})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    PREFIX "lib"
    OUTPUT_NAME ${target}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  set(LOOPLAB_LAST_PLUGIN_TARGET ${target} PARENT_SCOPE)
endfunction()
