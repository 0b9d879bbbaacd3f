// Command and container-operation handlers on top of the Docker client. Every command is logged.
#include "commands/dispatcher.hpp"

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "core/system_info.hpp"
#include "core/version.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::agent {

namespace {

json::object docker_failure(std::string_view correlation_id, const docker::error& e) {
  auto reply = protocol::operation_failure(correlation_id, e.message);
  // Our addition (DockMon ignores it): lets the server answer 404/409 instead of a generic 502.
  if (e.code == docker::errc::status) reply["status_code"] = e.http_status;
  return reply;
}

std::optional<int> int_param(const json::object& p, std::string_view key, int min, int max) {
  auto* v = p.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64()) n = static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT32_MAX));
  else if (v->is_double()) n = static_cast<std::int64_t>(v->get_double());
  else return std::nullopt;
  return static_cast<int>(std::clamp<std::int64_t>(n, min, max));
}

bool bool_param(const json::object& p, std::string_view key) {
  auto* v = p.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

}  // namespace

json::object dispatcher::capabilities() const {
  json::object caps;
  caps["container_operations"] = !allowed_.read_only();
  caps["read_only"] = allowed_.read_only();  // ours; DockMon ignores it
  caps["container_updates"] = allowed_.allows("update_container");
  caps["event_streaming"] = true;
  caps["stats_collection"] = true;
  // Only with the operator's key, natively, with a binary it can replace, and when the owner allows it.
  caps["self_update"] = self_update_ != nullptr && self_update_->unavailable().empty() && allowed_.allows("self_update");
  // Ours: this agent updates from a signed image (container mode) rather than a signed binary.
  caps["self_update_image"] = caps["self_update"].as_bool() && self_update_->mode() == "container";
  caps["compose_deployments"] = false;
  caps["shell_access"] = false;
  caps["multi_env_files"] = false;
  caps["stats_batch"] = true;
  return caps;
}

net::awaitable<std::optional<json::object>> dispatcher::handle(protocol::server_message msg) {
  bool is_command = msg.type == protocol::server_message::kind::command;
  if (!is_command && msg.type != protocol::server_message::kind::container_operation) {
    spdlog::debug("ignoring server message of type '{}'", msg.type_name.substr(0, 64));
    co_return std::nullopt;
  }
  const std::string name = is_command ? msg.cmd.name : msg.op.action;
  const std::string id = is_command ? msg.cmd.id : msg.op.id;
  const std::string container = is_command ? string_field(msg.cmd.payload, "container_id") : msg.op.container_id;

  std::string refusal;
  int refusal_status = 0;
  if (allow_list::known(name) && !allowed_.allows(name)) {
    refusal = "refused by this host's allow-list (AGENT_ALLOW): " + name;
    refusal_status = 403;
  } else if (allow_list::changes_state(name) && !state_changes_.try_take()) {
    refusal = "refused: too many container changes at once, try again shortly";
    refusal_status = 429;
  }
  bool own = false;
  if (refusal.empty() && own_container_ && allow_list::changes_state(name) && !container.empty())
    own = co_await names_own_container(container);
  if (own) {
    // Whoever steers the server must not make the agent cut off its own head (or run it on another image
    // through update_container: its own update is self_update's, signed).
    refusal = "refused: " + name + " of the container this agent runs in";
    refusal_status = 403;
  }
  const auto kind = allow_list::changes_state(name) ? command_audit::kind::change : command_audit::kind::read;
  const bool audited = audit_ != nullptr && name != "ping";
  if (!refusal.empty()) {
    spdlog::warn("{} (id={})", refusal, id);
    if (audited) audit_->record(kind, name, container, id, refusal);
    if (is_command) co_return protocol::response_frame(id, json::object{{"status_code", refusal_status}}, refusal);
    auto reply = protocol::operation_failure(id, refusal);
    reply["status_code"] = refusal_status;
    co_return reply;
  }

  // Two statements, not a conditional with a co_await in each arm: g++ 12 miscompiles that.
  json::object reply;
  if (is_command) reply = co_await run_command(std::move(msg.cmd));
  else reply = co_await run_operation(std::move(msg.op));
  if (audited) {
    std::string error = string_field(reply, "error");
    audit_->record(kind, name, container, id, error.empty() ? "ok" : "error: " + error);
  }
  co_return reply;
}

net::awaitable<bool> dispatcher::names_own_container(const std::string& ref) {
  const auto& own = *own_container_;
  if (ref.size() >= 12 && own.starts_with(ref)) co_return true;
  // A name (or an id that is not a prefix of ours) may still be this container: ask Docker which it is.
  auto inspected = co_await docker_.inspect_container(ref);
  co_return inspected && string_field(*inspected, "Id") == own;
}

net::awaitable<json::object> dispatcher::run_command(protocol::command cmd) {
  spdlog::info("command {} id={}", cmd.name.substr(0, 64), cmd.id);
  if (cmd.name == "ping") {
    json::object pong;
    pong["pong"] = true;
    pong["timestamp"] = now_iso8601();
    co_return protocol::response_frame(cmd.id, std::move(pong));
  }
  if (cmd.name == "get_system_info") {
    auto facts = co_await read_host_facts(docker_);
    if (!facts) co_return protocol::response_frame(cmd.id, nullptr, facts.error().message);
    auto info = to_json(*facts);
    if (!agent_name_.empty()) info["hostname"] = agent_name_;
    info["agent_version"] = agent_version;
    co_return protocol::response_frame(cmd.id, std::move(info));
  }
  if (cmd.name == "list_containers") {
    auto list = co_await docker_.list_containers(true);
    if (!list) co_return protocol::response_frame(cmd.id, nullptr, list.error().message);
    co_return protocol::response_frame(cmd.id, std::move(*list));
  }
  if (cmd.name == "update_container") {
    auto parsed = parse_update_payload(cmd.payload);
    if (!parsed.request) co_return protocol::response_frame(cmd.id, nullptr, parsed.error);
    if (updates_ == nullptr) co_return protocol::response_frame(cmd.id, nullptr, "updates are not available on this agent");
    if (!updates_->start(std::move(*parsed.request)))
      co_return protocol::response_frame(cmd.id, nullptr, "an update of this container is already running");
    // Progress follows as update_progress events; the reply only says it began.
    co_return protocol::response_frame(cmd.id, json::object{{"status", "update_started"}});
  }
  if (cmd.name == "self_update") {
    if (self_update_ == nullptr) co_return protocol::response_frame(cmd.id, nullptr, "self-update is not available on this agent");
    auto refused = self_update_->start(cmd.payload);
    if (!refused.empty()) co_return protocol::response_frame(cmd.id, nullptr, refused);
    // Stages follow as selfupdate_progress events; the new build shows itself by registering.
    co_return protocol::response_frame(cmd.id, json::object{{"status", "update_started"}});
  }
  spdlog::warn("unknown command '{}' refused", cmd.name.substr(0, 64));
  co_return protocol::response_frame(cmd.id, nullptr, "unknown command: " + cmd.name.substr(0, 64));
}

net::awaitable<json::object> dispatcher::run_operation(protocol::container_operation op) {
  const auto& id = op.container_id;
  spdlog::info("container_operation {} container={} id={}", op.action.substr(0, 32), id.substr(0, 80), op.id);
  if (!protocol::known_container_action(op.action))
    co_return protocol::operation_failure(op.id, "unknown action: " + op.action.substr(0, 64));
  if (!docker::valid_container_ref(id))
    co_return protocol::operation_failure(op.id, "invalid container id");

  json::object fields;
  fields["container_id"] = id;
  const auto& p = op.params;
  if (op.action == "start" || op.action == "stop" || op.action == "restart" || op.action == "kill") {
    docker::result<void> r;
    std::string status;
    if (op.action == "start") {
      r = co_await docker_.start_container(id);
      status = "started";
    } else if (op.action == "stop") {
      r = co_await docker_.stop_container(id, int_param(p, "timeout", 0, 3600));
      status = "stopped";
    } else if (op.action == "restart") {
      r = co_await docker_.restart_container(id, int_param(p, "timeout", 0, 3600));
      status = "restarted";
    } else {
      r = co_await docker_.kill_container(id, "SIGKILL");
      status = "killed";
    }
    if (!r) co_return docker_failure(op.id, r.error());
    fields["status"] = status;
    co_return protocol::operation_success(op.id, std::move(fields));
  }
  if (op.action == "rename") {
    auto* name = p.if_contains("new_name");
    if (name == nullptr || !name->is_string() || !docker::valid_container_ref(name->get_string()))
      co_return protocol::operation_failure(op.id, "new_name is missing or not a valid container name");
    std::string new_name(name->get_string());
    auto r = co_await docker_.rename_container(id, new_name);
    if (!r) co_return docker_failure(op.id, r.error());
    fields["status"] = "renamed";
    fields["new_name"] = new_name;
    co_return protocol::operation_success(op.id, std::move(fields));
  }
  if (op.action == "remove") {
    auto r = co_await docker_.remove_container(id, bool_param(p, "force"));
    if (!r) co_return docker_failure(op.id, r.error());
    fields["removed"] = true;
    co_return protocol::operation_success(op.id, std::move(fields));
  }
  if (op.action == "get_logs") {
    auto tail = static_cast<unsigned>(int_param(p, "tail", 0, max_log_tail).value_or(100));
    auto logs = co_await docker_.container_logs(id, tail, max_log_bytes);
    if (!logs) co_return docker_failure(op.id, logs.error());
    fields["logs"] = std::move(*logs);
    co_return protocol::operation_success(op.id, std::move(fields));
  }
  // inspect
  auto inspected = co_await docker_.inspect_container(id);
  if (!inspected) co_return docker_failure(op.id, inspected.error());
  fields["container"] = std::move(*inspected);
  co_return protocol::operation_success(op.id, std::move(fields));
}

}  // namespace dockmon::agent
