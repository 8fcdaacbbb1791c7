# Where an installed looplab takes LibTorch from, and the run paths that follow from it.
#
# LOOPLAB_INSTALL_LIBTORCH
#   bundle (default): `cmake --install` copies the LibTorch this build uses (its libraries,
#     headers and CMake files) and the CUDA libraries the torch wheel keeps beside it into
#     <prefix>/lib/looplab/libtorch/, in the wheel's own layout (torch/lib/*.so find
#     ../../nvidia/*/lib by their $ORIGIN run paths). Every installed binary finds it relative
#     to itself, so the prefix keeps working, and can be moved, after the source tree and its
#     .venv are gone. It costs about 3.5 GB with a CUDA wheel (0.5 GB of it LibTorch for CPUs).
#   external: nothing is copied; the installed binaries and the CMake package name the LibTorch
#     found at configure time (TORCH_INSTALL_PREFIX) by its absolute path, which must then stay
#     where it is (an unpacked LibTorch in /opt, say).
# Sets LOOPLAB_RPATH_BIN, LOOPLAB_RPATH_LIB and LOOPLAB_RPATH_PLUGINS: the LibTorch part of the
# INSTALL_RPATH of <prefix>/bin, <prefix>/lib and <prefix>/lib/looplab/plugins.
set(LOOPLAB_INSTALL_LIBTORCH bundle CACHE STRING
  "bundle: install copies LibTorch into the prefix; external: the prefix uses LibTorch where it is")
set_property(CACHE LOOPLAB_INSTALL_LIBTORCH PROPERTY STRINGS bundle external)
if(NOT LOOPLAB_INSTALL_LIBTORCH MATCHES "^(bundle|external)$")
  message(FATAL_ERROR "LOOPLAB_INSTALL_LIBTORCH must be bundle or external, not '${LOOPLAB_INSTALL_LIBTORCH}'")
endif()

# The torch wheel's CUDA libraries live in site-packages/nvidia/<package>/lib.
get_filename_component(LOOPLAB_TORCH_NVIDIA_DIR "${TORCH_INSTALL_PREFIX}/../nvidia" ABSOLUTE)
set(LOOPLAB_TORCH_NVIDIA_LIB_DIRS "")
if(IS_DIRECTORY "${LOOPLAB_TORCH_NVIDIA_DIR}")
  file(GLOB LOOPLAB_TORCH_NVIDIA_LIB_DIRS LIST_DIRECTORIES true "${LOOPLAB_TORCH_NVIDIA_DIR}/*/lib")
endif()
# looplab itself links the CUDA runtime (libcudart) when LibTorch has CUDA: the directory in the
# wheel that holds it, relative to nvidia/.
set(LOOPLAB_TORCH_CUDART_SUBDIR "")
foreach(dir IN LISTS LOOPLAB_TORCH_NVIDIA_LIB_DIRS)
  file(GLOB cudart "${dir}/libcudart.so*")
  if(cudart)
    file(RELATIVE_PATH LOOPLAB_TORCH_CUDART_SUBDIR "${LOOPLAB_TORCH_NVIDIA_DIR}" "${dir}")
    break()
  endif()
endforeach()

if(LOOPLAB_INSTALL_LIBTORCH STREQUAL "bundle")
  set(bundle lib/looplab/libtorch)
  set(LOOPLAB_RPATH_BIN "$ORIGIN/../${bundle}/torch/lib")
  if(LOOPLAB_TORCH_CUDART_SUBDIR)
    list(APPEND LOOPLAB_RPATH_BIN "$ORIGIN/../${bundle}/nvidia/${LOOPLAB_TORCH_CUDART_SUBDIR}")
  endif()
  set(LOOPLAB_RPATH_LIB "$ORIGIN/looplab/libtorch/torch/lib")
  set(LOOPLAB_RPATH_PLUGINS "$ORIGIN/../libtorch/torch/lib")

  # Python's own binding and static archives are of no use to a C++ program.
  install(DIRECTORY "${TORCH_INSTALL_PREFIX}/lib" "${TORCH_INSTALL_PREFIX}/include"
    DESTINATION ${bundle}/torch USE_SOURCE_PERMISSIONS
    PATTERN "libtorch_python.so" EXCLUDE PATTERN "*.a" EXCLUDE)
  install(DIRECTORY "${TORCH_INSTALL_PREFIX}/share/cmake" DESTINATION ${bundle}/torch/share)
  foreach(dir IN LISTS LOOPLAB_TORCH_NVIDIA_LIB_DIRS)
    file(RELATIVE_PATH sub "${LOOPLAB_TORCH_NVIDIA_DIR}" "${dir}/..")
    install(DIRECTORY "${dir}" DESTINATION ${bundle}/nvidia/${sub} USE_SOURCE_PERMISSIONS
      PATTERN "*.a" EXCLUDE)
  endforeach()
  unset(bundle)
else()
  get_filename_component(torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
  set(LOOPLAB_RPATH_BIN "${torch_lib_dir}")
  if(LOOPLAB_TORCH_CUDART_SUBDIR)
    list(APPEND LOOPLAB_RPATH_BIN "${LOOPLAB_TORCH_NVIDIA_DIR}/${LOOPLAB_TORCH_CUDART_SUBDIR}")
  endif()
  set(LOOPLAB_RPATH_LIB "${torch_lib_dir}")
  set(LOOPLAB_RPATH_PLUGINS "${torch_lib_dir}")
  unset(torch_lib_dir)
endif()
