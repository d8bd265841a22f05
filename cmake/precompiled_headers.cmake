# Precompiled headers (STAGEPASS_PCH: on by default with Clang, off with GCC; see the top-level
# CMakeLists.txt): the third-party headers most translation units parse (the standard library,
# Boost.JSON, Asio, Beast's HTTP messages; GoogleTest for the tests) are compiled once per
# tree, and every target of the project reuses them. Parsing them was most of the compile time
# of a typical file in the sanitizer tree, which CI builds from a cold cache.
#
# A precompiled header can only be shared by files compiled with the same language options
# and the same values of the macros its headers look at, so:
# - the macros Boost::json's CMake package gives its users are defined for every target
#   (top-level CMakeLists.txt), not only for those that link it;
# - targets built as position-independent code (the SDK library) compile their headers
#   themselves;
# - the tests share a second header set that adds gtest.h: stagepass_unit_test() marks them
#   with the target property STAGEPASS_PCH_SET "test" (a test made otherwise sets it too);
# - a target whose flags change the language (for example -pthread from a pkg-config
#   package, which Clang refuses to mix with a header compiled without it) sets
#   STAGEPASS_PCH_SET to "none" and parses its headers itself.
# Code still includes what it uses: the precompiled set is an accelerator, and a build with
# -DSTAGEPASS_PCH=OFF compiles the same sources.

set(STAGEPASS_PCH_HEADERS
  <algorithm> <array> <atomic> <chrono> <cstdint> <cstring> <filesystem> <functional>
  <map> <memory> <mutex> <optional> <set> <string> <string_view> <thread> <unordered_map>
  <utility> <vector>
  <boost/json.hpp>
  <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp> <boost/asio/io_context.hpp>
  <boost/asio/thread_pool.hpp>
  <boost/beast/http.hpp>)

add_library(sp_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch_anchor.cpp)
target_link_libraries(sp_pch PRIVATE Boost::json Boost::headers)
target_precompile_headers(sp_pch PRIVATE ${STAGEPASS_PCH_HEADERS})
if(STAGEPASS_TESTS)
  add_library(sp_pch_test OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch_anchor.cpp)
  target_link_libraries(sp_pch_test PRIVATE Boost::json Boost::headers GTest::gtest)
  target_precompile_headers(sp_pch_test PRIVATE ${STAGEPASS_PCH_HEADERS} <gtest/gtest.h>)
endif()

# Every target defined under `dir`, recursively.
function(stagepass_targets_under dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    stagepass_targets_under(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

stagepass_targets_under(${PROJECT_SOURCE_DIR} all_targets)
foreach(target IN LISTS all_targets)
  get_target_property(type ${target} TYPE)
  if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|OBJECT_LIBRARY)$" OR
     target MATCHES "^sp_pch")
    continue()
  endif()
  get_target_property(pic ${target} POSITION_INDEPENDENT_CODE)
  if(pic)
    continue()
  endif()
  get_target_property(pch_set ${target} STAGEPASS_PCH_SET)
  if(pch_set STREQUAL "none")
    continue()
  elseif(pch_set STREQUAL "test" AND STAGEPASS_TESTS)
    target_precompile_headers(${target} REUSE_FROM sp_pch_test)
  else()
    target_precompile_headers(${target} REUSE_FROM sp_pch)
  endif()
endforeach()
