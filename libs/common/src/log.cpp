// Logging set-up: one stderr sink, text or JSON (each line one JSON object, every value escaped).
#include "dockmon/common/log.hpp"

#include "dockmon/common/env.hpp"
#include "dockmon/common/net.hpp"
#include "dockmon/common/rate_limit.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace dockmon {

namespace {

// {"time":"...Z","level":"info","msg":"..."}: the message is escaped as JSON, so that quotes, backslashes
// and newlines in it (from a user name, a container name, an agent's error) cannot break or forge a line.
class json_line_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto t = std::chrono::system_clock::to_time_t(msg.time);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    char when[80];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms));
    json::object line;
    line["time"] = when;
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string_view(level.data(), level.size());
    line["msg"] = std::string_view(msg.payload.data(), msg.payload.size());
    const auto text = json::serialize(line);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_line_formatter>(); }
};

}  // namespace

void init_logging(std::string_view level, bool json_lines) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw config_error("LOG_LEVEL", "unknown level '" + std::string(level) +
                                        "'; use trace, debug, info, warn or error");
  }
  auto logger = std::make_shared<spdlog::logger>("dockmon", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (json_lines) {
    logger->set_formatter(std::make_unique<json_line_formatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::string log_text(std::string_view text, std::size_t max_length) {
  std::string out;
  out.reserve(std::min(text.size(), max_length) + 3);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (out.size() >= max_length) {
      // Cut at a character boundary: drop the continuation bytes of a character left half-written.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out += "\u2026";
      break;
    }
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  return out;
}

namespace detail {

bool refusal_log_budget(std::size_t& suppressed) {
  static std::mutex mutex;
  static token_bucket budget(10, 50);
  static std::size_t skipped = 0;
  std::lock_guard lock(mutex);
  if (!budget.try_take()) {
    ++skipped;
    return false;
  }
  suppressed = std::exchange(skipped, 0);
  return true;
}

}  // namespace detail

}  // namespace dockmon
