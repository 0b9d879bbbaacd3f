# Sanitizers as an INTERFACE target, switched on by DOCKMON_SANITIZE (address,undefined or thread).
set(DOCKMON_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined or thread")
add_library(dockmon_sanitizers INTERFACE)
if(DOCKMON_SANITIZE)
  target_compile_options(dockmon_sanitizers INTERFACE -fsanitize=${DOCKMON_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(dockmon_sanitizers INTERFACE -fsanitize=${DOCKMON_SANITIZE})
endif()
