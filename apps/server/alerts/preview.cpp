// The same engine as live alerts, fed the stored events on their own clock: a preview and the live rule
// cannot disagree about what the noise controls do.
#include "alerts/preview.hpp"

#include "alerts/engine.hpp"
#include "dockmon/common/time.hpp"

#include <algorithm>
#include <limits>
#include <unordered_set>

namespace dockmon::server::alerts {

namespace {

// Counts what an engine fired and told, in the last day and week before `now`.
class tally {
 public:
  tally(preview_counts& counts, time_point now) : counts_(counts), day_ago_(now - std::chrono::hours(24)), week_ago_(now - std::chrono::hours(24 * 7)) {}
  void take(engine& replay) {
    for (const auto& change : replay.take_changes()) {
      if (seen_.insert(change.id).second) count(change.fired_at, counts_.fired_24h, counts_.fired_7d);
    }
    replay.changes_stored();
    for (const auto& n : replay.take_notices())
      count(n.event == "resolved" ? n.alert.resolved_at : n.alert.fired_at, counts_.notified_24h, counts_.notified_7d);
  }

 private:
  void count(const std::string& when, std::size_t& in_day, std::size_t& in_week) const {
    const auto t = parse_iso8601(when);
    if (!t || *t < week_ago_) return;
    ++in_week;
    if (*t >= day_ago_) ++in_day;
  }
  preview_counts& counts_;
  time_point day_ago_, week_ago_;
  std::unordered_set<std::string> seen_;  // alert ids: an alert is counted when it first shows
};

}  // namespace

std::optional<std::string> not_replayable(const rule& r) {
  if (r.kind == rule_kind::disk_low) return std::string("disk_low follows the agents' disk samples, which are not kept");
  return std::nullopt;
}

preview_counts preview(rule r, const std::vector<blackout>& blackouts, const std::vector<store::event_record>& events, time_point now,
                       const tag_book& tags) {
  preview_counts counts;
  const auto week_ago = now - std::chrono::hours(24 * 7);
  engine replay;
  r.channel_ids = {"preview"};  // so that every message it would send is counted
  replay.set_rule(std::move(r), week_ago);
  replay.set_blackouts(blackouts);
  replay.set_tags(tags);
  tally counted(counts, now);
  for (const auto& e : events) {
    const auto t = parse_iso8601(e.timestamp);
    if (!t || *t < week_ago || *t > now) continue;
    replay.tick(*t);
    // An agent's link (stored as type "agent") drives host_down; everything else is Docker's and updates'.
    if (e.type == "agent" && e.action == "connected") replay.host_connected(e.host_id, e.host_id, *t);
    else if (e.type == "agent" && e.action == "disconnected") replay.host_disconnected(e.host_id, *t);
    else replay.on_container_event(e, *t);
    ++counts.events_replayed;
    counted.take(replay);
  }
  replay.tick(now);
  counted.take(replay);
  return counts;
}

metric_preview::metric_preview(rule r, std::vector<blackout> blackouts, const std::vector<store::event_record>& events,
                               std::map<std::string, std::string> names, time_point now, tag_book tags)
    : rule_(std::move(r)), blackouts_(std::move(blackouts)), names_(std::move(names)), now_(now), tags_(std::move(tags)) {
  rule_.channel_ids = {"preview"};
  for (const auto& e : events) {
    if (e.type != "container") continue;
    events_[e.container_id].push_back(&e);
    names_.try_emplace(e.container_id, e.container_name);
  }
}

void metric_preview::series(const std::string& key, const std::vector<store::stats_rollup_row>& rows) {
  // "host:<host id>" or "ctr:<host id>:<container id>"
  std::string host_id, container_id;
  if (key.starts_with("host:")) {
    if (!rule_.on_hosts) return;
    host_id = key.substr(5);
  } else if (key.starts_with("ctr:")) {
    if (rule_.on_hosts) return;
    const auto colon = key.find(':', 4);
    if (colon == std::string::npos) return;
    host_id = key.substr(4, colon - 4);
    container_id = key.substr(colon + 1);
  } else {
    return;
  }
  if (!rule_.scope.host_ids.empty() &&
      std::find(rule_.scope.host_ids.begin(), rule_.scope.host_ids.end(), host_id) == rule_.scope.host_ids.end())
    return;
  // The finest buckets kept for each stretch: 15-minute ones up to where the 1-minute ones begin.
  std::int64_t fine_from = std::numeric_limits<std::int64_t>::max();
  for (const auto& row : rows)
    if (row.step == 60) fine_from = std::min(fine_from, row.t);
  const auto week_ago = now_ - std::chrono::hours(24 * 7);
  engine replay;
  replay.set_rule(rule_, week_ago);
  replay.set_blackouts(blackouts_);
  replay.set_tags(tags_);
  tally counted(counts_, now_);
  auto name = names_.find(container_id);
  const std::string shown = container_id.empty() ? std::string() : name != names_.end() ? name->second : container_id.substr(0, 12);
  static const std::vector<const store::event_record*> no_events;
  auto found = events_.find(container_id);
  const auto& own_events = container_id.empty() || found == events_.end() ? no_events : found->second;
  std::size_t next_event = 0;
  auto events_until = [&](time_point t) {
    for (; next_event < own_events.size(); ++next_event) {
      const auto& e = *own_events[next_event];
      const auto at = parse_iso8601(e.timestamp);
      if (!at) continue;
      if (*at > t) break;
      replay.on_container_event(e, *at);
      counted.take(replay);
    }
  };
  for (const auto& row : rows) {
    if ((row.step != 60 && row.step != 900) || (row.step == 900 && row.t + row.step > fine_from)) continue;
    const auto start = time_point(std::chrono::seconds(row.t));
    const auto end = time_point(std::chrono::seconds(row.t + row.step));
    if (end < week_ago || start > now_) continue;
    events_until(start);
    // The bucket's average held from its start to its end.
    for (const auto t : {start, end}) {
      replay.tick(t);
      replay.on_sample(host_id, container_id, shown, row.cpu_percent, row.memory_percent, t);
      counted.take(replay);
    }
    ++counts_.events_replayed;
  }
  events_until(now_);
  replay.tick(now_);
  counted.take(replay);
}

}  // namespace dockmon::server::alerts
