// One alert's life for one rule and one target (a container or a host): when a condition becomes an
// alert, when it stops being one, and which of those changes are worth a notification. Pure logic on a
// clock the caller gives, so every noise control is tested to the second without waiting.
#pragma once

#include <chrono>
#include <deque>
#include <optional>

namespace dockmon::server::alerts {

using time_point = std::chrono::system_clock::time_point;
using seconds = std::chrono::seconds;

// The noise controls of a rule: what must happen before it fires, before it resolves, and between two
// notifications.
struct noise_controls {
  seconds fire_after{0};     // a metric: above the threshold this long before it fires
  unsigned occurrences = 1;  // an event: this many times ...
  seconds window{0};         // ... within this window (0: ever since the last resolve)
  seconds clear_after{0};    // the condition gone this long before the alert resolves
  seconds cooldown{300};     // at least this long between two notifications of the alert
  bool notify_on_resolve = true;
  bool one_shot = false;     // an event that is its own end (update completed, OOM kill): fires, then resolves
};

// A metric's threshold with hysteresis: fires above `above`, clears only below `clear_below`.
struct threshold {
  double above = 0;
  double clear_below = 0;
};

enum class change { none, fired, resolved };

// What one input did: the alert's change, and whether to tell anyone about it.
struct step {
  change what = change::none;
  bool notify = false;
};

class alert_state {
 public:
  explicit alert_state(noise_controls controls) : controls_(controls) {}

  // A metric sample (CPU or memory percent, disk use...), in time order.
  step sample(double value, const threshold& limit, time_point now);
  // An event that counts (the container died, restarted, was OOM-killed; the agent went away).
  step occurrence(time_point now);
  // The condition of an event rule is over (the container runs again, the agent is back).
  step condition_over(time_point now);
  // Time passes without input: a clear delay may end, a window may empty.
  step tick(time_point now);

  // Someone resolved the alert by hand: it ends now, and what comes after counts afresh (a metric still
  // above its line fires again only after its duration; an event rule needs its occurrences again).
  step end_now(time_point now);

  // Back after a server restart: the alert fired before and stays firing without firing again.
  void restore_firing(time_point fired_at, bool notified);

  // The notification a step asked for was not sent (a blackout window): the alert counts as unheard, so
  // neither its cooldown starts nor its end is announced.
  void withhold(const step& s);

  // Notifications are held back until then; the alert itself still fires and resolves.
  void snooze_until(time_point until) { snoozed_until_ = until; }
  bool firing() const { return firing_; }
  std::optional<time_point> fired_at() const { return firing_ ? std::optional(fired_at_) : std::nullopt; }

 private:
  step fire(time_point now);
  step resolve(time_point now);
  bool may_notify(time_point now) const;
  void forget_old_occurrences(time_point now);

  noise_controls controls_;
  bool firing_ = false;
  time_point fired_at_{};
  bool fire_notified_ = false;                 // whether anyone heard of this firing (then of its end too)
  std::optional<time_point> last_notified_;
  std::optional<time_point> notified_before_;  // last_notified_ before this firing, for withhold()
  std::optional<time_point> breach_since_;     // a metric above its threshold since
  std::optional<time_point> clear_since_;      // the condition gone since
  std::deque<time_point> occurrences_;         // within the window
  time_point snoozed_until_{};
};

}  // namespace dockmon::server::alerts
