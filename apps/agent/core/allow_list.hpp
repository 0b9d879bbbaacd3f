// What this host's owner lets the server do here (AGENT_ALLOW): a compromised or impersonated server
// gets no more than that. Set at install, enforced by the agent for every command it receives.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace dockmon::agent {

class allow_list {
 public:
  // Everything this agent can do.
  allow_list();
  // "all", "read_only", or a comma list of commands and actions (ping, get_system_info, list_containers,
  // inspect, get_logs, start, stop, restart, kill, rename, remove, update_container, self_update).
  // Throws config_error("AGENT_ALLOW").
  static allow_list parse(std::string_view text);

  bool allows(std::string_view name) const { return allowed_.contains(std::string(name)); }
  // Whether running `name` changes a container or the agent (rate-limited, and what read_only leaves out).
  static bool changes_state(std::string_view name);
  // Whether `name` is a command or action this agent has (unknown ones get "unknown command" instead).
  static bool known(std::string_view name);
  bool read_only() const;
  std::string describe() const;

 private:
  std::set<std::string> allowed_;
};

}  // namespace dockmon::agent
