// Parsing of configuration values (environment variables and flags) with errors that name the setting.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dockmon {

// A bad or missing setting; the message says which one and what is expected.
class config_error : public std::runtime_error {
 public:
  config_error(std::string_view setting, std::string_view problem);
  const std::string& setting() const { return setting_; }

 private:
  std::string setting_;
};

// The variable's value, or nullopt when it is unset or empty.
std::optional<std::string> env_value(const char* name);

// "250ms", "30s", "5m", "1h", "30d" or a plain number of seconds (at most a year). Throws config_error naming `setting`.
std::chrono::milliseconds parse_duration(std::string_view setting, std::string_view text);

// true/false, 1/0, yes/no, on/off (any case). Throws config_error naming `setting`.
bool parse_bool(std::string_view setting, std::string_view text);

// "host:port" with a numeric port; the host may be empty (all addresses) or [v6].
struct host_port {
  std::string host;
  unsigned short port = 0;
};
host_port parse_host_port(std::string_view setting, std::string_view text);

}  // namespace dockmon
