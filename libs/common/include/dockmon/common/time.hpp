// Wall-clock times as DockMon writes them: ISO 8601 UTC with a Z.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon {

using sys_clock = std::chrono::system_clock;

// "2026-11-27T06:30:00Z" (seconds) or with ".123Z" when millis is true.
std::string to_iso8601(sys_clock::time_point t, bool millis = false);
std::string now_iso8601();

// Parses the form to_iso8601 writes and RFC 3339 times with a fraction and/or offset (as Docker writes them).
std::optional<sys_clock::time_point> parse_iso8601(std::string_view text);

std::int64_t unix_seconds(sys_clock::time_point t);

}  // namespace dockmon
