// The health checks users set, by host and container name, with what the agents last said of each: the
// state, the recent results (for the sparkline), the restarts. It makes the frames that give each host's
// agent its checks (DockMon's health_check_configs_sync, _config, _config_remove, with the container's
// current id), and turns the agents' results into the changes worth recording as events (type "health"),
// which the alert engine reads. Checks made against DockMon's own agent, which sends every probe's result,
// get their thresholds applied here. Runs on the I/O thread; no I/O.
#pragma once

#include "health/check_settings.hpp"

#include "dockmon/health/check_state.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dockmon::server {

struct health_point {
  std::string timestamp;
  bool healthy = false;
  std::int64_t response_time_ms = 0;
};

struct restart_record {
  std::string timestamp, reason, error;
  int attempt = 0;
  bool ok = false, gave_up = false;
};

struct health_entry {
  std::string host_id, container_name;
  check_settings settings;
  std::string updated_at;
  std::string container_id;  // the short id last given to the agent; empty while no container of that name is known
  std::string container_full_id;  // the same container's full id when known (events carry it, as Docker's do)
  std::string state = "unknown";  // healthy, unhealthy, unknown, stopped
  int consecutive_failures = 0, restarts = 0;
  bool gave_up = false;
  std::optional<protocol::health_check_result> last;
  std::deque<health_point> recent;  // oldest first, at most max_recent
  std::deque<restart_record> restart_log;  // oldest first
  std::optional<health::check_state> own;  // thresholds applied here, for an agent that sends every probe
};

// A change to record as an event of type "health": healthy, unhealthy, stopped (the check's state),
// auto_restart, restart_failed, gave_up (the agent's restarts).
struct health_change {
  std::string host_id, container_id, container_name, action;
  json::object attributes;
};

class health_book {
 public:
  static constexpr std::size_t max_recent = 120;
  static constexpr std::size_t max_restart_log = 20;
  static constexpr std::size_t max_checks_per_host = 500;

  void put(const std::string& host_id, const std::string& container_name, check_settings settings, std::string updated_at);
  bool remove(const std::string& host_id, const std::string& container_name);
  const health_entry* find(const std::string& host_id, const std::string& container_name) const;
  // By the container's id (full, or a prefix of at least 12) or its name.
  const health_entry* find_ref(const std::string& host_id, const std::string& ref) const;
  std::vector<const health_entry*> of_host(const std::string& host_id) const;
  std::size_t count_on(const std::string& host_id) const;
  // The checks the server runs itself (check_from: server), across hosts.
  std::vector<const health_entry*> server_checks() const;

  // Frames for the host's agent. The checks run from the agent, for the containers known by name (id by
  // name from its list); the ids are remembered, to match results and later pushes.
  json::object sync_frame(const std::string& host_id, const std::map<std::string, std::string>& id_by_name);
  // A container of that name has this id (it started, or an update made it): the frames to send when the
  // check must follow it (the old id's removal, the new id's config); none when nothing changed.
  std::vector<json::object> container_seen(const std::string& host_id, const std::string& container_id, const std::string& name);
  // The frame that gives the agent this check now (after a change), or its removal; nullopt when the agent
  // has nothing to do (the check runs from the server, or no container is known).
  std::optional<json::object> push_frame(const std::string& host_id, const std::string& container_name) const;

  // From the agent.
  std::optional<health_change> on_result(const std::string& host_id, const protocol::health_check_result& r);
  std::vector<health_change> on_summary(const std::string& host_id, const std::vector<protocol::health_check_result>& checks);
  std::optional<health_change> on_restart(const std::string& host_id, const protocol::auto_restart_report& r);

  // GET .../health-check: {container_name, container_id, config, state, healthy, last_results, restarts, restart_log, ...}
  static json::object status_json(const health_entry& e);

 private:
  // By the id the agent was given, else by the name it says (after this server restarted, before the ids
  // are known again).
  health_entry* by_container(const std::string& host_id, const std::string& container_id, const std::string& name = {});
  health_change change(const health_entry& e, std::string action, json::object attributes) const;

  std::map<std::pair<std::string, std::string>, health_entry> entries_;  // (host id, container name)
};

}  // namespace dockmon::server
