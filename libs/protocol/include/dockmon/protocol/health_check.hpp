// Agent-side health checks as DockMon 2.4.5 speaks them (backend/agent/health_check_sync.py and
// agent/internal/handlers/healthcheck.go): the config the server pushes, the frames that carry it, and
// the result the agent sends back. Each config from the wire is checked here before anything runs it.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/protocol/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockmon::protocol {

// The status codes a check accepts: "200", "200,204", "200-299" and mixes of them.
struct status_codes {
  std::vector<std::pair<int, int>> ranges;  // inclusive
  bool accepts(int code) const;
};
// Empty text is 200, as DockMon's agent has it; nullopt when a part is not a code or range of 100-599.
std::optional<status_codes> parse_status_codes(std::string_view text);

struct health_check_config {
  std::string container_id;  // DockMon sends the 12-character short id
  std::string host_id;
  bool enabled = true;
  std::string url;  // http://, https://, or tcp://host:port (ours: a port that must accept); may name {container}
  std::string method = "GET";
  std::string expected_status_codes = "200";
  int timeout_seconds = 10;
  int check_interval_seconds = 60;
  bool follow_redirects = true;
  bool verify_ssl = true;
  std::string headers_json;      // a JSON object of header names to values, as text; empty for none
  std::string auth_config_json;  // {"type":"basic","username","password"} or {"type":"bearer","token"}, as text

  // This server's additions (DockMon's agent ignores fields it does not know): the agent applies the
  // thresholds and restarts itself when they are present.
  std::optional<int> failure_threshold, success_threshold;
  std::optional<bool> auto_restart;
  std::optional<int> max_restarts, restart_delay_seconds;
  // Restart the container when it exits unexpectedly (its Docker restart policy being "no"), as for a
  // failed check; never one stopped on purpose.
  std::optional<bool> restart_on_exit;
  // "running" (the container should run: the restarts above apply) or "on_demand" (it may be stopped:
  // never restarted); empty: running.
  std::string desired_state;

  bool agent_applies_policy() const { return failure_threshold.has_value(); }
};

// The config, every field checked: ids, an http(s) URL of at most 2048 characters, a method, the status
// codes, a timeout of 1-300 s, an interval of 5 s to a day, headers that are an object of header names
// to values without line breaks, an auth object of a known type; the error names the field.
result<health_check_config> parse_health_check_config(const json::value& v);
json::object to_json(const health_check_config& c);

// Server -> agent, with every parameter under payload as DockMon's backend sends them.
json::object health_check_config_frame(const health_check_config& c);
json::object health_check_configs_sync_frame(const std::vector<health_check_config>& configs);
json::object health_check_config_remove_frame(std::string_view container_id);

// Agent -> server: {"type":"event","command":"health_check_result","payload":{...}}.
struct health_check_result {
  std::string container_id, host_id;
  bool healthy = false;
  int status_code = 0;  // 0: no answer (left out of the JSON, as Go's omitempty does)
  std::int64_t response_time_ms = 0;
  std::string error_message;  // empty: none (left out)
  std::string timestamp;      // RFC 3339

  // Ours, from an agent that applies the thresholds (left out otherwise): the check's state after this
  // probe ("healthy", "unhealthy", "unknown" before the first threshold is met, "stopped" while its
  // container is stopped on purpose), and the restarts since it was last healthy.
  std::string state;
  std::string container_name;  // so a server that lost the ids (restarted) still knows which check it is
  int consecutive_failures = 0;
  int restarts = 0;
  bool gave_up = false;
  // Summaries only: the response times (ms, -1 for a failed probe) since the previous summary, oldest first.
  std::vector<std::int64_t> recent_ms;
};
json::object to_json(const health_check_result& r);
json::object health_check_result_event(const health_check_result& r);
result<health_check_result> parse_health_check_result(const json::object& payload);

// Ours: every check's latest result and recent response times, sent once a minute by an agent that
// sends only state changes otherwise: {"type":"event","command":"health_check_summary","payload":{"checks":[...]}}.
json::object health_check_summary_event(const std::vector<health_check_result>& checks);
// At most 1000 checks; a malformed one is an error.
result<std::vector<health_check_result>> parse_health_check_summary(const json::object& payload);

// Ours: the agent restarted a container (after a failed check or an unexpected exit), or gave up.
struct auto_restart_report {
  std::string container_id, container_name, host_id;
  std::string reason;  // "health_check" or "exited"
  int attempt = 0;     // 1 for the first restart since the container was last healthy
  int max_restarts = 0;
  bool ok = false;     // Docker restarted it
  bool gave_up = false;  // no more restarts: the attempts ran out (attempt is then the last one made)
  std::string error;
  std::string timestamp;
};
json::object auto_restart_event(const auto_restart_report& r);
result<auto_restart_report> parse_auto_restart(const json::object& payload);

}  // namespace dockmon::protocol
