// DockMon's agent registration (DESIGN.md section 4): the first frame, its validation, and the replies.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/protocol/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::protocol {

inline constexpr std::string_view proto_version = "1.1";
inline constexpr std::size_t max_token_length = 255;
inline constexpr std::int64_t max_total_memory = std::int64_t{1} << 50;
inline constexpr std::int64_t max_num_cpus = 10000;

struct register_frame {
  std::string token;
  std::string engine_id;
  std::string hostname;
  std::string version;
  std::string proto_version;
  json::object capabilities;  // key -> bool
  std::string os_type;
  std::string os_version;
  std::string kernel_version;
  std::string docker_version;
  std::string daemon_started_at;
  std::int64_t total_memory = 0;  // 0: not sent
  std::int64_t num_cpus = 0;      // 0: not sent
  // DockMon 1.1 extras
  std::string hostname_source;
  bool force_unique_registration = false;
  std::string agent_os;
  std::string agent_arch;
  std::vector<std::string> host_ips;
  std::string host_ip;
};

// Validates as DockMon does: unknown fields refused, token and engine_id ^[A-Za-z0-9_:-]+$ and at most
// 255 characters, numbers in range; free-text strings are capped and stripped of '<', '>' and
// non-printable characters rather than refused.
result<register_frame> parse_register(const json::value& frame);
result<register_frame> parse_register(std::string_view text);

json::object to_json(const register_frame& f);

// Identifier rule shared by tokens and engine ids.
bool valid_identifier(std::string_view s);

// Caps to max_length characters and drops '<', '>' and bytes that are not printable ASCII or UTF-8.
std::string sanitize_text(std::string_view s, std::size_t max_length);

struct auth_success {
  std::string agent_id;
  std::string host_id;
  std::string permanent_token;
  // This server's own additions; DockMon agents ignore them.
  std::string server_version;
  bool stats_batch = false;
  // The agent may add `filesystems` (each mounted filesystem's use) to its host stats frame.
  bool host_filesystems = false;
  // Health checks: the agent applies the thresholds and restarts of each check itself and sends only
  // state changes, restarts and a summary a minute (DockMon's backend wants every probe's result).
  bool health_thresholds = false;
};

json::object to_json(const auth_success& s);
json::object auth_error_frame(std::string_view error);

// The agent's view of the server's answer to register.
struct auth_reply {
  bool ok = false;
  auth_success success;
  std::string error;
};
result<auth_reply> parse_auth_reply(const json::value& frame);

}  // namespace dockmon::protocol
