// A rule's preview: the rule replayed over the stored events, to say how often it would have fired and
// told its channels in the last 24 hours and 7 days, before anyone is woken by it.
#pragma once

#include "alerts/blackout.hpp"
#include "alerts/rule.hpp"
#include "dockmon/store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dockmon::server::alerts {

struct preview_counts {
  std::size_t fired_24h = 0, notified_24h = 0;
  std::size_t fired_7d = 0, notified_7d = 0;
  std::size_t events_replayed = 0;
};

// Why the rule cannot be replayed (its kind follows samples or agents' links, which are not stored as
// events), or nullopt when it can.
std::optional<std::string> not_replayable(const rule& r);

// Replays `events` (oldest first, the last 7 days) through an engine holding only this rule and the
// blackout windows, as if each had happened at its timestamp; counts alerts fired and messages sent
// (all-clears included) with the rule's own noise controls.
preview_counts preview(rule r, const std::vector<blackout>& blackouts, const std::vector<store::event_record>& events, time_point now);

}  // namespace dockmon::server::alerts
