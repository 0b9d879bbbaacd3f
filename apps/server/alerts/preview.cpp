// The same engine as live alerts, fed the stored events on their own clock: a preview and the live rule
// cannot disagree about what the noise controls do.
#include "alerts/preview.hpp"

#include "alerts/engine.hpp"
#include "dockmon/common/time.hpp"

#include <unordered_set>

namespace dockmon::server::alerts {

std::optional<std::string> not_replayable(const rule& r) {
  if (is_metric_kind(r.kind)) return std::string("CPU and memory rules follow samples, which the preview does not replay yet");
  if (r.kind == rule_kind::disk_low) return std::string("disk_low follows the agents' disk samples, which are not kept");
  if (r.kind == rule_kind::host_down) return std::string("host_down follows the agents' links, which are not kept as events");
  return std::nullopt;
}

preview_counts preview(rule r, const std::vector<blackout>& blackouts, const std::vector<store::event_record>& events, time_point now) {
  preview_counts counts;
  const auto day_ago = now - std::chrono::hours(24);
  const auto week_ago = now - std::chrono::hours(24 * 7);
  auto count = [&](const std::string& when, std::size_t& in_day, std::size_t& in_week) {
    const auto t = parse_iso8601(when);
    if (!t || *t < week_ago) return;
    ++in_week;
    if (*t >= day_ago) ++in_day;
  };
  engine replay;
  r.channel_ids = {"preview"};  // so that every message it would send is counted
  replay.set_rule(std::move(r), week_ago);
  replay.set_blackouts(blackouts);
  std::unordered_set<std::string> seen;  // alert ids: an alert is counted when it first shows
  auto take = [&] {
    for (const auto& change : replay.take_changes()) {
      if (seen.insert(change.id).second) count(change.fired_at, counts.fired_24h, counts.fired_7d);
    }
    replay.changes_stored();
    for (const auto& n : replay.take_notices())
      count(n.event == "resolved" ? n.alert.resolved_at : n.alert.fired_at, counts.notified_24h, counts.notified_7d);
  };
  for (const auto& e : events) {
    const auto t = parse_iso8601(e.timestamp);
    if (!t || *t < week_ago || *t > now) continue;
    replay.tick(*t);
    replay.on_container_event(e, *t);
    ++counts.events_replayed;
    take();
  }
  replay.tick(now);
  take();
  return counts;
}

}  // namespace dockmon::server::alerts
