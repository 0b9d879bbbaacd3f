// Runs what the server asks: commands and container operations, each answered exactly as DockMon's
// agent answers (DESIGN.md section 4); unknown commands get an error reply, never silence.
#pragma once

#include "dockmon/docker/client.hpp"
#include "dockmon/protocol/envelope.hpp"

namespace dockmon::agent {

inline constexpr unsigned max_log_tail = 10000;
inline constexpr std::size_t max_log_bytes = 10 * 1024 * 1024;

class dispatcher {
 public:
  dispatcher(docker::client& docker, std::string agent_name) : docker_(docker), agent_name_(std::move(agent_name)) {}

  // The reply frame for one message from the server; nullopt for messages that take no reply.
  net::awaitable<std::optional<json::object>> handle(protocol::server_message msg);

  // The capabilities this agent registers with.
  static json::object capabilities();

 private:
  net::awaitable<json::object> run_command(protocol::command cmd);
  net::awaitable<json::object> run_operation(protocol::container_operation op);

  docker::client& docker_;
  std::string agent_name_;
};

}  // namespace dockmon::agent
