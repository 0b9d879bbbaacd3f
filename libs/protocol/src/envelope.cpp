// Envelope encoding and decoding.
#include "dockmon/protocol/envelope.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/protocol/registration.hpp"

#include <algorithm>
#include <cctype>

namespace dockmon::protocol {

namespace {

protocol_error fail(std::string message) { return protocol_error::because(std::move(message)); }

constexpr std::size_t max_id = 128;

result<std::string> correlation(const json::object& o) {
  std::string id = string_field(o, "correlation_id");
  if (id.empty()) id = string_field(o, "id");
  if (id.empty() || id.size() > max_id || !valid_identifier(id)) return fail("missing or malformed correlation id");
  return id;
}

}  // namespace

bool known_container_action(std::string_view action) {
  for (auto a : container_actions)
    if (a == action) return true;
  return false;
}

namespace {
bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
}  // namespace

std::optional<std::string> pinned_image_digest(std::string_view image) {
  constexpr std::string_view marker = "@sha256:";
  const auto at = image.find(marker);
  if (image.size() > 512 || at == std::string_view::npos || at == 0) return std::nullopt;
  const auto digest = image.substr(at + marker.size());
  if (!is_sha256_hex(digest)) return std::nullopt;
  return std::string(digest);
}

std::string image_repository(std::string_view image) {
  auto name = image.substr(0, image.find('@'));
  // A tag follows the last ':' only when no '/' comes after it (registry:5000/app has a port, not a tag).
  if (auto colon = name.rfind(':'); colon != std::string_view::npos && name.find('/', colon) == std::string_view::npos)
    name = name.substr(0, colon);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto slash = out.find('/');
  const auto first = out.substr(0, slash);
  const bool has_registry = slash != std::string::npos &&
                            (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost");
  if (has_registry) {
    if (first == "index.docker.io" || first == "registry-1.docker.io") out = "docker.io" + out.substr(slash);
    if (out.starts_with("docker.io/") && out.find('/', 10) == std::string::npos) out.insert(10, "library/");
    return out;
  }
  return slash == std::string::npos ? "docker.io/library/" + out : "docker.io/" + out;
}

bool valid_build_version(std::string_view version) {
  if (version.empty() || version.size() > 64 || !alnum(version.front())) return false;
  return std::all_of(version.begin(), version.end(),
                     [](char c) { return alnum(c) || c == '.' || c == '_' || c == '+' || c == '-'; });
}

bool valid_build_arch(std::string_view arch) {
  if (arch.empty() || arch.size() > 16 || !alnum(arch.front())) return false;
  return std::all_of(arch.begin(), arch.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

json::object to_json(const command& c) {
  json::object o;
  o["type"] = "command";
  o["id"] = c.id;
  o["correlation_id"] = c.id;
  o["command"] = c.name;
  o["payload"] = c.payload;
  o["timestamp"] = now_iso8601();
  return o;
}

json::object to_json(const container_operation& op) {
  json::object payload = op.params;
  payload["action"] = op.action;
  payload["container_id"] = op.container_id;
  json::object o;
  o["type"] = "container_operation";
  o["id"] = op.id;
  o["correlation_id"] = op.id;
  o["payload"] = std::move(payload);
  o["timestamp"] = now_iso8601();
  return o;
}

result<server_message> parse_server_message(const json::value& frame) {
  if (!frame.is_object()) return fail("message must be a JSON object");
  const auto& o = frame.get_object();
  server_message m;
  m.type_name = string_field(o, "type");
  if (m.type_name == "command") {
    auto id = correlation(o);
    if (!id) return id.error();
    m.type = server_message::kind::command;
    m.cmd.id = *id;
    m.cmd.name = string_field(o, "command");
    if (m.cmd.name.empty()) return fail("command without a name");
    if (auto* p = o.if_contains("payload"); p != nullptr && p->is_object()) m.cmd.payload = p->get_object();
    else if (p != nullptr && !p->is_null()) return fail("command payload must be an object");
    return m;
  }
  if (m.type_name == "container_operation") {
    auto id = correlation(o);
    if (!id) return id.error();
    m.type = server_message::kind::container_operation;
    m.op.id = *id;
    // Nested form carries the fields in payload; the older flat form at top level.
    const json::object* fields = &o;
    if (auto* p = o.if_contains("payload"); p != nullptr && p->is_object()) fields = &p->get_object();
    m.op.params = *fields;
    for (auto key : {"type", "id", "correlation_id", "payload", "timestamp"})
      if (fields == &o) m.op.params.erase(key);
    m.op.action = string_field(*fields, "action");
    m.op.container_id = string_field(*fields, "container_id");
    m.op.params.erase("action");
    m.op.params.erase("container_id");
    if (m.op.action.empty()) return fail("container_operation without an action");
    return m;
  }
  m.type = server_message::kind::other;
  return m;
}

json::object response_frame(std::string_view id, json::value payload, std::string_view error) {
  json::object o;
  o["type"] = "response";
  o["id"] = id;
  o["payload"] = std::move(payload);
  if (!error.empty()) o["error"] = error;
  o["timestamp"] = now_iso8601();
  return o;
}

json::object operation_success(std::string_view correlation_id, json::object fields) {
  json::object o = std::move(fields);
  o["correlation_id"] = correlation_id;
  o["success"] = true;
  return o;
}

json::object operation_failure(std::string_view correlation_id, std::string_view error) {
  json::object o;
  o["correlation_id"] = correlation_id;
  o["success"] = false;
  o["error"] = error;
  return o;
}

json::object event_frame(std::string_view name, json::object payload) {
  json::object o;
  o["type"] = "event";
  o["command"] = name;
  o["payload"] = std::move(payload);
  o["timestamp"] = now_iso8601();
  return o;
}

json::object host_stats_frame(double cpu_percent, double mem_percent, double net_bytes_per_sec) {
  json::object stats;
  stats["cpu_percent"] = cpu_percent;
  stats["mem_percent"] = mem_percent;
  stats["net_bytes_per_sec"] = net_bytes_per_sec;
  json::object o;
  o["type"] = "stats";
  o["stats"] = std::move(stats);
  return o;
}

result<agent_message> parse_agent_message(const json::value& frame) {
  if (!frame.is_object()) return fail("message must be a JSON object");
  const auto& o = frame.get_object();
  agent_message m;
  std::string type = string_field(o, "type");
  if (type == "response") {
    auto id = correlation(o);
    if (!id) return id.error();
    m.type = agent_message::kind::response;
    m.correlation_id = *id;
    m.error = string_field(o, "error");
    m.success = m.error.empty();
    if (auto* p = o.if_contains("payload")) m.payload = *p;
    return m;
  }
  if (type.empty() && o.contains("correlation_id") && o.contains("success")) {
    auto id = correlation(o);
    if (!id) return id.error();
    m.type = agent_message::kind::operation_reply;
    m.correlation_id = *id;
    auto* ok = o.if_contains("success");
    m.success = ok->is_bool() && ok->get_bool();
    m.error = string_field(o, "error");
    if (!m.success && m.error.empty()) m.error = "operation failed";
    m.payload = o;
    return m;
  }
  if (type == "event") {
    m.type = agent_message::kind::event;
    m.event_name = string_field(o, "command");
    if (m.event_name.empty()) return fail("event without a name");
    if (auto* p = o.if_contains("payload"); p != nullptr && p->is_object()) m.payload = *p;
    else return fail("event payload must be an object");
    return m;
  }
  if (type == "stats") {
    auto* s = o.if_contains("stats");
    if (s == nullptr || !s->is_object()) return fail("stats without a stats object");
    m.type = agent_message::kind::host_stats;
    m.payload = *s;
    return m;
  }
  if (type == "heartbeat") {
    m.type = agent_message::kind::heartbeat;
    return m;
  }
  m.type = agent_message::kind::other;
  return m;
}

}  // namespace dockmon::protocol
