# looplab_add_plugin(NAME <name> KIND block|task|analysis|baseline SOURCES <files...>
#                    [MODULE_SOURCES <files...>] [LIBRARIES <libs...>]
#                    [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
# Builds a plugin library the way the host expects: one exported entry symbol (hidden
# visibility for everything else), no undefined symbols, named liblooplab_<kind>_<name>.so.
# It lands in LOOPLAB_PLUGIN_OUTPUT_DIR (looplab's own tree: build/lib/looplab/plugins) or,
# in a project that found the installed package, in <build>/plugins. `cmake --install`
# copies it to <prefix>/lib/looplab/plugins, where a looplab installed in the same prefix
# finds it without --plugin-path, unless NO_INSTALL is given or LOOPLAB_PLUGIN_NO_INSTALL is set
# (test fixtures). The same file serves looplab's tree and its package.
# MODULE_SOURCES (optional): the plugin's module, the code that does the work apart from its
# SDK glue. It becomes a static library looplab_<kind>_<name>_module (position-independent,
# hidden visibility like the plugin, linked PUBLIC with looplab::sdk and LIBRARIES, the calling
# directory, i.e. the plugin's source folder, as its PUBLIC include directory; never installed)
# that the plugin library links; tests and benchmarks link it too, to use the module without
# recompiling it. SOURCES then holds the glue only (plugin.cpp). Without MODULE_SOURCES,
# SOURCES is the whole plugin.
# Inside looplab's tree (where the looplab_warnings target exists) both are built with
# -Wall -Wextra.
function(looplab_add_plugin)
  cmake_parse_arguments(P "NO_INSTALL" "NAME;KIND;OUTPUT_DIRECTORY" "SOURCES;MODULE_SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_NAME OR NOT P_KIND OR NOT P_SOURCES)
    message(FATAL_ERROR "looplab_add_plugin needs NAME, KIND and SOURCES")
  endif()
  if(NOT P_KIND MATCHES "^(block|task|analysis|baseline)$")
    message(FATAL_ERROR "looplab_add_plugin: KIND must be block, task, analysis or baseline, not '${P_KIND}'")
  endif()
  if(NOT P_OUTPUT_DIRECTORY)
    if(LOOPLAB_PLUGIN_OUTPUT_DIR)
      set(P_OUTPUT_DIRECTORY ${LOOPLAB_PLUGIN_OUTPUT_DIR})
    else()
      set(P_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins)
    endif()
  endif()
  set(target looplab_${P_KIND}_${P_NAME})
  if(P_MODULE_SOURCES)
    # Static, but compiled like the plugin's own code: it ends up inside the plugin library.
    add_library(${target}_module STATIC ${P_MODULE_SOURCES})
    target_include_directories(${target}_module PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${target}_module PUBLIC looplab::sdk ${P_LIBRARIES})
    set_target_properties(${target}_module PROPERTIES
      POSITION_INDEPENDENT_CODE ON
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
  endif()
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE looplab::sdk ${P_LIBRARIES})
  if(P_MODULE_SOURCES)
    target_link_libraries(${target} PRIVATE ${target}_module)
  endif()
  # -Wall -Wextra for looplab's own plugins (and fixtures); the target exists only in looplab's tree.
  if(TARGET looplab_warnings)
    target_link_libraries(${target} PRIVATE looplab_warnings)
    if(P_MODULE_SOURCES)
      target_link_libraries(${target}_module PRIVATE looplab_warnings)
    endif()
  endif()
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    PREFIX "lib"
    OUTPUT_NAME ${target}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  # Installed plugins find liblooplab_sdk.so (<prefix>/lib, two levels up) and LibTorch by
  # themselves: looplab's own plugins where the prefix keeps it (LOOPLAB_RPATH_PLUGINS, from
  # LooplabLibTorch.cmake), others by its directory; outside looplab's tree also the prefix
  # looplab is installed in (a link path).
  if(DEFINED LOOPLAB_RPATH_PLUGINS)
    set(torch_rpath "${LOOPLAB_RPATH_PLUGINS}")
  else()
    get_filename_component(torch_rpath "${TORCH_LIBRARY}" DIRECTORY)
  endif()
  set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..;${torch_rpath}")
  get_target_property(sdk_imported looplab::sdk IMPORTED)
  if(sdk_imported)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  endif()
  if(NOT P_NO_INSTALL AND NOT LOOPLAB_PLUGIN_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION lib/looplab/plugins)
  endif()
  set(LOOPLAB_LAST_PLUGIN_TARGET ${target} PARENT_SCOPE)
endfunction()
