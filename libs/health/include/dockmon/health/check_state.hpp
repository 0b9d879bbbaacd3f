// The state of one health check under its thresholds and restart policy, with no I/O and no clock: the
// agent (and the server, for checks it runs itself) feeds it each probe's outcome and does what it says.
#pragma once

#include "dockmon/protocol/health_check.hpp"

#include <chrono>
#include <string_view>

namespace dockmon::health {

struct restart_policy {
  int failure_threshold = 3;  // failed probes in a row before the check is unhealthy
  int success_threshold = 1;  // good probes in a row before it is healthy again
  bool auto_restart = false;
  int max_restarts = 3;  // restarts before giving up, counted since the container was last healthy
  std::chrono::seconds restart_delay{10};  // before the first restart; doubled for each next one, at most an hour
  bool restart_on_exit = false;
  bool on_demand = false;  // the container may be stopped: never restarted
};
restart_policy policy_of(const protocol::health_check_config& c);

class check_state {
 public:
  enum class health { unknown, healthy, unhealthy };
  // What the caller should do after a probe.
  struct step {
    bool changed = false;       // the state changed: tell the server
    bool restart = false;       // restart the container after restart_delay()
    bool gave_up = false;       // the restarts ran out just now: tell the server
  };

  explicit check_state(restart_policy p) : policy_(p) {}

  step observe(bool healthy);
  // An unexpected exit of the container (restart_on_exit, or auto_restart while unhealthy): whether to
  // restart it, or that the restarts ran out.
  step exited();
  // The restart was made (or failed: it still counts as an attempt).
  void restarted() { ++restarts_; }

  std::chrono::seconds restart_delay() const;
  health state() const { return state_; }
  std::string_view state_name() const;
  int consecutive_failures() const { return failures_; }
  int restarts() const { return restarts_; }
  bool gave_up() const { return gave_up_; }
  const restart_policy& policy() const { return policy_; }

 private:
  step failed_enough();

  restart_policy policy_;
  health state_ = health::unknown;
  int failures_ = 0, successes_ = 0;
  int restarts_ = 0;
  bool gave_up_ = false;
};

}  // namespace dockmon::health
