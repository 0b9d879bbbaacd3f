// Everything after registration (DESIGN.md section 4): commands and container operations from the
// server, responses, operation replies, events and host stats from the agent.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/protocol/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dockmon::protocol {

inline constexpr std::string_view container_actions[] = {"start", "stop", "restart", "kill",
                                                          "rename", "remove", "get_logs", "inspect"};
bool known_container_action(std::string_view action);

// self_update's build names. Versions: 1-64 of [A-Za-z0-9._+-] starting with a letter or digit; arches:
// 1-16 of [a-z0-9_] as Go names them (amd64, arm64). Neither can climb out of a folder.
bool valid_build_version(std::string_view version);
bool valid_build_arch(std::string_view arch);
// self_update's image in container mode: "<repository>@sha256:<64 lower-case hex>", at most 512
// characters. The digest's hex, or nullopt for anything else (a tag, a short or upper-case digest).
std::optional<std::string> pinned_image_digest(std::string_view image);
// The repository an image reference names, as Docker resolves it: tag and digest dropped, Docker Hub's
// short forms spelt out ("nginx:1" and "docker.io/library/nginx@sha256:..." are both
// "docker.io/library/nginx"). Moving a container to another repository runs someone else's code.
std::string image_repository(std::string_view image);

// ---- server -> agent ----

struct command {
  std::string id;    // correlation id
  std::string name;  // ping, get_system_info, list_containers, ...
  json::object payload;
};
json::object to_json(const command& c);

struct container_operation {
  std::string id;  // correlation id
  std::string action;
  std::string container_id;
  json::object params;  // the payload as sent: timeout, new_name, force, tail, ...
};
// The nested form this server sends.
json::object to_json(const container_operation& op);

// What the agent reads from the server.
struct server_message {
  enum class kind { command, container_operation, other };
  kind type = kind::other;
  std::string type_name;  // the "type" field, for logging what was not understood
  command cmd;
  container_operation op;
};
// Accepts container_operation in the nested and the older flat form.
result<server_message> parse_server_message(const json::value& frame);

// ---- agent -> server ----

// {"type":"response","id":C,"payload":...,"error":"..."}; error left out when empty.
json::object response_frame(std::string_view id, json::value payload, std::string_view error = {});
// Flat operation reply: {"correlation_id":C,"success":true, ...fields}.
json::object operation_success(std::string_view correlation_id, json::object fields);
json::object operation_failure(std::string_view correlation_id, std::string_view error);
json::object event_frame(std::string_view name, json::object payload);
json::object host_stats_frame(double cpu_percent, double mem_percent, double net_bytes_per_sec);

// What the server reads from an agent.
struct agent_message {
  enum class kind { response, operation_reply, event, host_stats, heartbeat, other };
  kind type = kind::other;
  std::string correlation_id;  // response and operation_reply
  bool success = true;         // false when the reply carries an error
  std::string error;
  json::value payload;  // response payload, the whole flat reply, event payload, or stats object
  std::string event_name;
};
result<agent_message> parse_agent_message(const json::value& frame);

}  // namespace dockmon::protocol
