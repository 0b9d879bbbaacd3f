// The health checks the server gave this agent, run from the host on their own timers: each check's
// probe (libs/health), its thresholds, and the restarts of a container that stays unhealthy or exits
// unexpectedly. The set is kept in the data folder, so checks go on while the server is away and after
// the agent restarts; state changes wait in telemetry's backlog until the server is back.
#pragma once

#include "commands/command_audit.hpp"

#include "dockmon/docker/client.hpp"
#include "dockmon/health/check_state.hpp"
#include "dockmon/health/probe.hpp"
#include "dockmon/protocol/health_check.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

namespace dockmon::agent {

struct health_options {
  std::string state_file;  // the synced set (DATA_PATH/health_checks.json, mode 0600: it may hold check credentials)
  std::size_t max_checks = 1000;
  std::size_t max_in_flight = 32;  // probes at once; the rest wait their turn
  std::chrono::milliseconds summary_every{std::chrono::seconds(60)};
  bool may_restart = true;  // false for an allow-list without restart (read_only): checks run, nothing restarts
};

class health_monitor {
 public:
  using emitter = std::function<void(std::string frame)>;  // an event frame, kept until a server takes it
  health_monitor(net::any_io_executor ex, docker::client& docker, health_options options, emitter emit,
                 command_audit* audit);

  // Loads the last synced set from the state file and starts its checks.
  void start();

  // A frame whose type starts with health_check_: handled (true), else not one of ours (false).
  bool handle_frame(const json::object& frame);
  // The server is there (thresholds: it advertised health_thresholds) or gone.
  void link_up(bool thresholds);
  void link_down() { connected_ = false; }
  // Docker's container events, from telemetry.
  void on_container_event(const std::string& action, const std::string& id, const json::object& attributes);

  std::size_t size() const { return checks_.size(); }

 private:
  struct check;
  void replace_all(std::vector<protocol::health_check_config> configs);
  void put(protocol::health_check_config config);
  void remove(const std::string& container_id);
  void save() const;
  net::awaitable<void> run(std::shared_ptr<check> c);
  net::awaitable<void> look_at_container(check& c);
  net::awaitable<health::probe_outcome> probe(check& c);
  // Restarts the container after its delay (reason: health_check or exited), or says the restarts ran out.
  net::awaitable<void> restart(std::shared_ptr<check> c, std::string reason, bool gave_up);
  // The check's last result from a probe's outcome and its state (empty: DockMon's fields only).
  void record(check& c, const health::probe_outcome& outcome, std::string state);
  void report(check& c, const health::probe_outcome& outcome, bool changed);
  // The container is not running: the check says so (it probes nothing meanwhile).
  void report_stopped(check& c);
  net::awaitable<void> summaries();
  void send_summary();
  bool applies_policy(const check& c) const;

  net::any_io_executor executor_;
  docker::client& docker_;
  health_options options_;
  emitter emit_;
  command_audit* audit_;
  health::prober prober_;
  std::map<std::string, std::shared_ptr<check>> checks_;  // by the container id the server gave
  bool thresholds_ = false;  // as the server last said (kept in the state file)
  bool connected_ = false;
  std::size_t in_flight_ = 0;
  std::deque<net::steady_timer*> waiting_;  // probes waiting for a turn
  std::minstd_rand spread_{std::random_device{}()};
};

}  // namespace dockmon::agent
