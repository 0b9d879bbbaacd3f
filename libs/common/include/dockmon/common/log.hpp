// Logging set-up shared by both programs: text or JSON lines on stderr, level by name.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace dockmon {

// Throws config_error on an unknown level name (trace, debug, info, warn, error).
void init_logging(std::string_view level, bool json_lines);

}  // namespace dockmon
