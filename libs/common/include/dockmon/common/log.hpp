// Logging set-up shared by both programs: text or JSON lines on stderr, level by name; text from outside
// (user names, agents' errors) made safe for a log line; refusals logged at a bounded rate.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

namespace dockmon {

// Throws config_error on an unknown level name (trace, debug, info, warn, error).
void init_logging(std::string_view level, bool json_lines);

// Text that came from outside, fit for a log line or the audit table: at most max_length bytes (cut at a
// character boundary, "…" added), control characters (CR, LF, ESC...) shown as '?', so that nobody can
// forge a line or paint a terminal.
std::string log_text(std::string_view text, std::size_t max_length = 200);

namespace detail {
// True when a refusal may be logged now (a shared budget of about 10 lines a second, bursts of 50);
// `suppressed` gets how many were skipped since the last one that was logged.
bool refusal_log_budget(std::size_t& suppressed);
}  // namespace detail

// A warning about something refused (a bad frame, a failed sign-in, a connection over a cap): logged at a
// bounded rate, so that a flood of refusals cannot flood the log; what was skipped is counted in the next.
template <class... Args>
void log_refusal(spdlog::format_string_t<Args...> format, Args&&... args) {
  std::size_t suppressed = 0;
  if (!detail::refusal_log_budget(suppressed)) return;
  if (suppressed > 0) spdlog::warn("({} similar refusals were not logged)", suppressed);
  spdlog::warn(format, std::forward<Args>(args)...);
}

}  // namespace dockmon
