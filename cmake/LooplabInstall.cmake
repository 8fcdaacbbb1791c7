# `cmake --install build --prefix P`: bin/looplab, lib/liblooplab_sdk.so, the bundled plugins in
# lib/looplab/plugins, include/looplab/sdk/*.h and the CMake package in lib/cmake/looplab.
include(CMakePackageConfigHelpers)

set(LOOPLAB_PACKAGE_DIR lib/cmake/looplab)
string(REGEX MATCH "^[0-9]+\\.[0-9]+" LOOPLAB_TORCH_MAJOR_MINOR "${Torch_VERSION}")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/include/looplab DESTINATION include)
install(EXPORT looplabTargets NAMESPACE looplab:: FILE looplabTargets.cmake
  DESTINATION ${LOOPLAB_PACKAGE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/looplabConfig.cmake.in
  ${PROJECT_BINARY_DIR}/looplabConfig.cmake INSTALL_DESTINATION ${LOOPLAB_PACKAGE_DIR})
# Same rule as the host's plugin check: SDK minors stay compatible within a major.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/looplabConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/looplabConfig.cmake ${PROJECT_BINARY_DIR}/looplabConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/LooplabPlugin.cmake DESTINATION ${LOOPLAB_PACKAGE_DIR})
