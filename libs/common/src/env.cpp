// Configuration value parsing.
#include "dockmon/common/env.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace dockmon {

config_error::config_error(std::string_view setting, std::string_view problem)
    : std::runtime_error(std::string(setting) + ": " + std::string(problem)), setting_(setting) {}

std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::chrono::milliseconds parse_duration(std::string_view setting, std::string_view text) {
  const auto bad = [&] {
    return config_error(setting, "'" + std::string(text) + "' is not a duration; use e.g. 500ms, 30s, 5m, 1h or 30d");
  };
  if (text.empty()) throw bad();
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end == text.data()) throw bad();
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::uint64_t factor_ms = 0;
  if (unit.empty() || unit == "s") factor_ms = 1000;
  else if (unit == "ms") factor_ms = 1;
  else if (unit == "m") factor_ms = 60'000;
  else if (unit == "h") factor_ms = 3'600'000;
  else if (unit == "d") factor_ms = 86'400'000;
  else throw bad();
  constexpr std::uint64_t limit_ms = 366ULL * 24 * 3'600'000;  // a year is past any sane setting
  if (number > limit_ms / factor_ms) throw config_error(setting, "'" + std::string(text) + "' is too long");
  return std::chrono::milliseconds(number * factor_ms);
}

bool parse_bool(std::string_view setting, std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  throw config_error(setting, "'" + std::string(text) + "' is not a boolean; use true or false");
}

host_port parse_host_port(std::string_view setting, std::string_view text) {
  const auto bad = [&] {
    return config_error(setting, "'" + std::string(text) + "' is not host:port (e.g. 127.0.0.1:8080)");
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw bad();
  host_port out;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  out.host = std::string(host);
  std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || port.empty() || value > 65535) throw bad();
  out.port = static_cast<unsigned short>(value);
  return out;
}

}  // namespace dockmon
