// The noise controls, in the order they act: duration or occurrences before firing, hysteresis and a
// clear delay before resolving, cooldown and snooze before notifying.
#include "alerts/alert_state.hpp"

namespace dockmon::server::alerts {

step alert_state::sample(double value, const threshold& limit, time_point now) {
  if (value > limit.above) {
    clear_since_.reset();
    if (!breach_since_) breach_since_ = now;
    if (!firing_ && now - *breach_since_ >= controls_.fire_after) return fire(now);
    return {};
  }
  breach_since_.reset();
  // Between the two thresholds a firing alert stays as it is: a value that wobbles around one line
  // neither fires nor resolves again and again.
  if (value >= limit.clear_below) {
    clear_since_.reset();
    return {};
  }
  return condition_over(now);
}

step alert_state::occurrence(time_point now) {
  clear_since_.reset();
  occurrences_.push_back(now);
  forget_old_occurrences(now);
  if (firing_ || occurrences_.size() < controls_.occurrences) return {};
  auto fired = fire(now);
  if (controls_.one_shot) {
    // Its own end: the next one is a new alert, and the notification of this one is the only message.
    firing_ = false;
    occurrences_.clear();
  }
  return fired;
}

step alert_state::condition_over(time_point now) {
  if (!firing_) {
    breach_since_.reset();
    return {};
  }
  if (!clear_since_) clear_since_ = now;
  return tick(now);
}

step alert_state::tick(time_point now) {
  // A rule that counts within a window (a restart loop) is over when the window no longer holds enough.
  if (firing_ && !clear_since_ && controls_.window > seconds(0)) {
    forget_old_occurrences(now);
    if (occurrences_.size() < controls_.occurrences) clear_since_ = now;
  }
  if (firing_ && clear_since_ && now - *clear_since_ >= controls_.clear_after) return resolve(now);
  return {};
}

void alert_state::restore_firing(time_point fired_at, bool notified) {
  firing_ = true;
  fired_at_ = fired_at;
  fire_notified_ = notified;
  if (notified) last_notified_ = fired_at;
}

step alert_state::fire(time_point now) {
  firing_ = true;
  fired_at_ = now;
  clear_since_.reset();
  fire_notified_ = may_notify(now);
  notified_before_ = last_notified_;
  if (fire_notified_) last_notified_ = now;
  return {change::fired, fire_notified_};
}

step alert_state::end_now(time_point now) {
  if (!firing_) return {};
  breach_since_.reset();
  return resolve(now);
}

step alert_state::resolve(time_point now) {
  firing_ = false;
  clear_since_.reset();
  occurrences_.clear();
  // Only an alert someone was told about is worth an all-clear. The all-clear neither waits for the
  // cooldown nor starts one: the cooldown spaces out alarms, not their ends.
  const bool notify = controls_.notify_on_resolve && fire_notified_ && now >= snoozed_until_;
  fire_notified_ = false;
  return {change::resolved, notify};
}

void alert_state::withhold(const step& s) {
  if (s.what != change::fired || !s.notify) return;
  fire_notified_ = false;
  last_notified_ = notified_before_;
}

void alert_state::forget_old_occurrences(time_point now) {
  if (controls_.window <= seconds(0)) return;
  while (!occurrences_.empty() && now - occurrences_.front() > controls_.window) occurrences_.pop_front();
}

bool alert_state::may_notify(time_point now) const {
  if (now < snoozed_until_) return false;
  return !last_notified_ || now - *last_notified_ >= controls_.cooldown;
}

}  // namespace dockmon::server::alerts
