# Warnings as an INTERFACE target, linked PRIVATE so they never leak into users of a library.
# -Werror is on for debug builds (CI); optimised builds only warn, since g++ 12's flow analysis at -O3
# reports false positives inside Asio's coroutine frames.
add_library(dockmon_warnings INTERFACE)
target_compile_options(dockmon_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  # No -Wnull-dereference: with -O3 it fires inside inlined Asio code that cannot be null.
  -Woverloaded-virtual -Wimplicit-fallthrough
  # g++ 12 at -O3 reports impossible overlaps inside std::string (GCC bug 105329): a false positive.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<BOOL:${DOCKMON_WERROR}>:-Werror>)
