// Runs what the server asks: commands and container operations, each answered exactly as DockMon's
// agent answers (DESIGN.md section 4); unknown commands get an error reply, never silence.
#pragma once

#include "allow_list.hpp"
#include "command_audit.hpp"
#include "container_update.hpp"
#include "self_update.hpp"
#include "dockmon/common/rate_limit.hpp"
#include "dockmon/docker/client.hpp"
#include "dockmon/protocol/envelope.hpp"

namespace dockmon::agent {

inline constexpr unsigned max_log_tail = 10000;
inline constexpr std::size_t max_log_bytes = 10 * 1024 * 1024;

class dispatcher {
 public:
  // audit, updates and self_update may be null (tests; no updates then); state changes are limited to 5 a
  // second on average, bursts of 20.
  dispatcher(docker::client& docker, std::string agent_name, allow_list allowed = {}, command_audit* audit = nullptr,
             container_updater* updates = nullptr, self_updater* self_update = nullptr)
      : docker_(docker),
        agent_name_(std::move(agent_name)),
        allowed_(std::move(allowed)),
        audit_(audit),
        updates_(updates),
        self_update_(self_update) {}

  // The reply frame for one message from the server; nullopt for messages that take no reply.
  // Everything outside the allow-list, and state changes past the rate limit, are refused here.
  net::awaitable<std::optional<json::object>> handle(protocol::server_message msg);

  // The capabilities this agent registers with: what the allow-list leaves it.
  json::object capabilities() const;

 private:
  net::awaitable<json::object> run_command(protocol::command cmd);
  net::awaitable<json::object> run_operation(protocol::container_operation op);

  docker::client& docker_;
  std::string agent_name_;
  allow_list allowed_;
  command_audit* audit_;
  container_updater* updates_;
  self_updater* self_update_;
  token_bucket state_changes_{5, 20};
};

}  // namespace dockmon::agent
