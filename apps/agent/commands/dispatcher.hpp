// Runs what the server asks: commands and container operations, each answered exactly as DockMon's
// agent answers (DESIGN.md section 4); unknown commands get an error reply, never silence.
#pragma once

#include "core/allow_list.hpp"
#include "commands/command_audit.hpp"
#include "updates/container_update.hpp"
#include "updates/self_update.hpp"
#include "dockmon/common/rate_limit.hpp"
#include "dockmon/docker/client.hpp"
#include "dockmon/protocol/envelope.hpp"

#include <optional>
#include <string>

namespace dockmon::agent {

inline constexpr unsigned max_log_tail = 10000;
inline constexpr std::size_t max_log_bytes = 10 * 1024 * 1024;

class dispatcher {
 public:
  // audit, updates and self_update may be null (tests; no updates then); state changes are limited to 5 a
  // second on average, bursts of 20.
  // own_container: the id of the container this agent runs in (nullopt natively); changes to it are refused.
  dispatcher(docker::client& docker, std::string agent_name, allow_list allowed = {}, command_audit* audit = nullptr,
             container_updater* updates = nullptr, self_updater* self_update = nullptr,
             std::optional<std::string> own_container = std::nullopt)
      : docker_(docker),
        agent_name_(std::move(agent_name)),
        allowed_(std::move(allowed)),
        audit_(audit),
        updates_(updates),
        self_update_(self_update),
        own_container_(std::move(own_container)) {}

  // The reply frame for one message from the server; nullopt for messages that take no reply.
  // Everything outside the allow-list, and state changes past the rate limit, are refused here.
  net::awaitable<std::optional<json::object>> handle(protocol::server_message msg);

  // The capabilities this agent registers with: what the allow-list leaves it.
  json::object capabilities() const;

 private:
  net::awaitable<json::object> run_command(protocol::command cmd);
  net::awaitable<json::object> run_operation(protocol::container_operation op);
  // Whether an id, an id prefix or a name refers to own_container_ (a name is looked up in Docker).
  net::awaitable<bool> names_own_container(const std::string& ref);

  docker::client& docker_;
  std::string agent_name_;
  allow_list allowed_;
  command_audit* audit_;
  container_updater* updates_;
  self_updater* self_update_;
  std::optional<std::string> own_container_;
  token_bucket state_changes_{5, 20};
};

}  // namespace dockmon::agent
