# Warnings as an INTERFACE target, linked PRIVATE so they never leak into users of a library.
add_library(dockmon_warnings INTERFACE)
target_compile_options(dockmon_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${DOCKMON_WERROR}>:-Werror>)
