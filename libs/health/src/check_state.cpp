// Thresholds, restarts with a growing delay, and giving up.
#include "dockmon/health/check_state.hpp"

#include <algorithm>

namespace dockmon::health {

restart_policy policy_of(const protocol::health_check_config& c) {
  restart_policy p;
  p.failure_threshold = c.failure_threshold.value_or(p.failure_threshold);
  p.success_threshold = c.success_threshold.value_or(p.success_threshold);
  p.auto_restart = c.auto_restart.value_or(false);
  p.max_restarts = c.max_restarts.value_or(p.max_restarts);
  p.restart_delay = std::chrono::seconds(c.restart_delay_seconds.value_or(static_cast<int>(p.restart_delay.count())));
  p.restart_on_exit = c.restart_on_exit.value_or(false);
  p.on_demand = c.desired_state == "on_demand";
  return p;
}

check_state::step check_state::observe(bool healthy) {
  step s;
  if (healthy) {
    failures_ = 0;
    if (++successes_ >= policy_.success_threshold && state_ != health::healthy) {
      s.changed = true;
      state_ = health::healthy;
      restarts_ = 0;
      gave_up_ = false;
    }
    return s;
  }
  successes_ = 0;
  if (++failures_ < policy_.failure_threshold) return s;
  if (state_ != health::unhealthy) {
    s.changed = true;
    state_ = health::unhealthy;
  }
  // A restart resets the count: the next one waits for a whole threshold of failures again.
  if (failures_ % policy_.failure_threshold == 0 && policy_.auto_restart) {
    auto more = failed_enough();
    s.restart = more.restart;
    s.gave_up = more.gave_up;
  }
  return s;
}

check_state::step check_state::exited() {
  // An unhealthy container with auto_restart that then dies (a restart that did not come up) is still
  // the check's to bring back.
  if (!policy_.restart_on_exit && !(policy_.auto_restart && state_ == health::unhealthy)) return {};
  return failed_enough();
}

check_state::step check_state::failed_enough() {
  step s;
  if (policy_.on_demand || gave_up_) return s;
  if (restarts_ < policy_.max_restarts) {
    s.restart = true;
  } else {
    gave_up_ = true;
    s.gave_up = true;
  }
  return s;
}

std::chrono::seconds check_state::restart_delay() const {
  auto delay = policy_.restart_delay;
  for (int i = 0; i < restarts_ && delay < std::chrono::hours(1); ++i) delay *= 2;
  return std::min<std::chrono::seconds>(delay, std::chrono::hours(1));
}

std::string_view check_state::state_name() const {
  switch (state_) {
    case health::healthy: return "healthy";
    case health::unhealthy: return "unhealthy";
    case health::unknown: break;
  }
  return "unknown";
}

}  // namespace dockmon::health
