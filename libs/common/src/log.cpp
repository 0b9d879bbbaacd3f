// Logging set-up: one stderr sink, text or JSON.
#include "dockmon/common/log.hpp"

#include "dockmon/common/env.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace dockmon {

void init_logging(std::string_view level, bool json_lines) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw config_error("LOG_LEVEL", "unknown level '" + std::string(level) +
                                        "'; use trace, debug, info, warn or error");
  }
  auto logger = std::make_shared<spdlog::logger>("dockmon", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (json_lines) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace dockmon
