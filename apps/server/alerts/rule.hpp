// An alert rule as the engine uses it, parsed and checked from the JSON definition the API takes and the
// store keeps.
#pragma once

#include "alerts/alert_state.hpp"
#include "alerts/scope.hpp"
#include "dockmon/common/net.hpp"

#include <string>
#include <variant>
#include <vector>

namespace dockmon::server::alerts {

// What a rule watches for. Container kinds follow Docker's events; host_down follows the agent's link.
enum class rule_kind {
  container_stopped,
  container_started,
  container_restarting,
  container_unhealthy,
  container_oom,
  host_down,
  cpu_high,     // a container's or a host's CPU percent above a threshold for a duration
  memory_high,  // the same for memory
  disk_low,     // a host's filesystem fuller than a threshold (used percent) for a duration
  update_completed,    // a container update through this server went through (one-shot)
  update_failed,       // ... failed, and the original was brought back (one-shot)
  self_update_failed,  // an agent's self-update failed or was rolled back (one-shot, on the host)
  // Hooks: accepted and stored now, fired once the agent reports them (health checks, update checks).
  health_check_failed,
  auto_restart_gave_up,
  update_available,
};

std::string_view kind_name(rule_kind k);
// Rules on samples (cpu_high, memory_high) rather than on events.
bool is_metric_kind(rule_kind k);

struct rule {
  std::string id;
  std::string name;
  rule_kind kind = rule_kind::container_stopped;
  std::string severity = "error";  // info, warning, error, critical
  alerts::scope scope;
  noise_controls controls;
  bool only_unexpected = true;  // container_stopped: not after a stop, kill, restart or update through this server
  bool on_hosts = false;        // metric rules: the host's numbers rather than its containers'
  threshold limit;              // metric and disk rules: fire above, clear below
  std::string mount_pattern = "*";  // disk_low: which mount points, '*' and '?' as in a shell
  time_point snoozed_until{};   // the whole rule tells no one until then (its alerts still fire)
  std::vector<std::string> channel_ids;  // where its notifications go; none: the alerts are only shown
  std::string message_template;          // the notification's text, with {{fields}}; empty: the alert's message

  // host_down, self-updates, disks, and metric rules on hosts.
  bool watches_hosts() const {
    return kind == rule_kind::host_down || kind == rule_kind::self_update_failed || kind == rule_kind::disk_low || on_hosts;
  }
};

// The rule from its stored parts; the error says which field is wrong and what it takes.
std::variant<rule, std::string> parse_rule(std::string id, std::string name, const json::value& definition);

// The definition as the API shows it (and the store keeps), with every default filled in.
json::object definition_json(const rule& r);

}  // namespace dockmon::server::alerts
