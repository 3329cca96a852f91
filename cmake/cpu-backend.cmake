# How ggml's CPU backend is built and linked. Included by CMakeLists.txt before ggml is added.
#
# Native build (default): ggml is static and linked into the .node, its CPU backend compiled for
# this machine (-march=native). One file, the fastest code, the fastest build.
#
# One-level build (MOONDREAM_ISA=avx2, scripts/build-native.mjs --isa avx2): static like the
# native build, ggml's CPU backend compiled for AVX2 without AVX-512 (the benchmark's avx2 mode).
#
# Portable build (MOONDREAM_PORTABLE=ON): one binary for any CPU of the architecture. ggml's CPU
# backend is built once per instruction-set level (GGML_CPU_ALL_VARIANTS: x64, sse42, haswell,
# skylakex, icelake, zen4, sapphirerapids, ...) as libggml-cpu-<variant>.so modules, and the addon
# loads the best one this CPU runs at start-up (native/src/cpu_variant.cpp). ggml only supports
# that with ggml-base and ggml's registry as shared libraries (GGML_BACKEND_DL requires
# BUILD_SHARED_LIBS, and GGML_NATIVE is refused with it), so they ship beside the .node too.
#
# Sets for the caller: MOONDREAM_GGML_CPU_TARGET (the CPU backend target moondream_core links, or
# empty when the backend is loaded at run time) and MOONDREAM_CPU_BACKEND_DL.

if(MOONDREAM_PORTABLE)
  set(MOONDREAM_CPU_BACKEND_DL ON)
  set(BUILD_SHARED_LIBS ON CACHE BOOL "" FORCE)
  set(GGML_BACKEND_DL ON CACHE BOOL "" FORCE)
  set(GGML_CPU_ALL_VARIANTS ON CACHE BOOL "" FORCE)
  set(GGML_NATIVE OFF CACHE BOOL "" FORCE)
  set(MOONDREAM_GGML_CPU_TARGET "")
  # Every library lands beside the .node (cmake-js points CMAKE_LIBRARY_OUTPUT_DIRECTORY at
  # build-portable/Release; ggml writes its CPU modules to CMAKE_RUNTIME_OUTPUT_DIRECTORY) and finds
  # its neighbours there, wherever the folder is copied to (the platform package).
  if(NOT CMAKE_LIBRARY_OUTPUT_DIRECTORY)
    set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/Release)
  endif()
  set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_LIBRARY_OUTPUT_DIRECTORY})
  set(CMAKE_BUILD_WITH_INSTALL_RPATH ON)
  set(CMAKE_INSTALL_RPATH "$ORIGIN")
else()
  set(MOONDREAM_CPU_BACKEND_DL OFF)
  set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
  set(GGML_BACKEND_DL OFF CACHE BOOL "" FORCE)
  set(GGML_CPU_ALL_VARIANTS OFF CACHE BOOL "" FORCE)
  set(MOONDREAM_GGML_CPU_TARGET ggml-cpu)
  if(MOONDREAM_ISA STREQUAL "")
    set(GGML_NATIVE ON CACHE BOOL "" FORCE)
  elseif(MOONDREAM_ISA STREQUAL "avx2")
    set(GGML_NATIVE OFF CACHE BOOL "" FORCE)
    foreach(feature AVX AVX2 FMA F16C BMI2)
      set(GGML_${feature} ON CACHE BOOL "" FORCE)
    endforeach()
    foreach(feature AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16 AVX_VNNI AMX_TILE AMX_INT8 AMX_BF16)
      set(GGML_${feature} OFF CACHE BOOL "" FORCE)
    endforeach()
  else()
    message(FATAL_ERROR "Expected avx2 or nothing for MOONDREAM_ISA but received \"${MOONDREAM_ISA}\"")
  endif()
endif()

# Called after ggml is added. Our shared ggml libraries get names of their own, without version
# suffixes or symlinks: node-llama-cpp (our test oracle, and any other ggml user in the process)
# loads a libggml-base.so of another ggml commit, and the dynamic loader would hand a library with
# the same soname to both.
function(moondream_rename_shared_ggml)
  if(NOT MOONDREAM_CPU_BACKEND_DL)
    return()
  endif()
  foreach(target ggml ggml-base)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME moondream-${target})
    set_property(TARGET ${target} PROPERTY VERSION)
    set_property(TARGET ${target} PROPERTY SOVERSION)
  endforeach()
endfunction()
