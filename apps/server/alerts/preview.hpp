// A rule's preview: the rule replayed over the stored events, to say how often it would have fired and
// told its channels in the last 24 hours and 7 days, before anyone is woken by it.
#pragma once

#include "alerts/blackout.hpp"
#include "alerts/rule.hpp"
#include "dockmon/store/store.hpp"
#include "tags/tag_book.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dockmon::server::alerts {

struct preview_counts {
  std::size_t fired_24h = 0, notified_24h = 0;
  std::size_t fired_7d = 0, notified_7d = 0;
  std::size_t events_replayed = 0;
};

// Why the rule cannot be replayed (disk samples are not stored), or nullopt when it can.
std::optional<std::string> not_replayable(const rule& r);

// CPU and memory rules over the stored history: each series of averages (1-minute buckets for the last
// day, 15-minute ones before) replayed on an engine of its own with that container's events, each
// bucket's average taken as the value from its start to its end. Spikes shorter than a bucket are
// averaged away, so the counts are a floor for short durations.
class metric_preview {
 public:
  // names: container id -> name, for scopes by name (from the events and the containers seen live).
  metric_preview(rule r, std::vector<blackout> blackouts, const std::vector<store::event_record>& events,
                 std::map<std::string, std::string> names, time_point now, tag_book tags = tag_book());
  // One series of store::for_each_rollup_series.
  void series(const std::string& key, const std::vector<store::stats_rollup_row>& rows);
  const preview_counts& counts() const { return counts_; }

 private:
  rule rule_;
  std::vector<blackout> blackouts_;
  std::map<std::string, std::vector<const store::event_record*>> events_;  // by container id
  std::map<std::string, std::string> names_;
  time_point now_;
  tag_book tags_;
  preview_counts counts_;
};

// Replays `events` (oldest first, the last 7 days) through an engine holding only this rule and the
// blackout windows, as if each had happened at its timestamp; counts alerts fired and messages sent
// (all-clears included) with the rule's own noise controls.
// tags: the tag book the live engine has, for rules scoped by tag.
preview_counts preview(rule r, const std::vector<blackout>& blackouts, const std::vector<store::event_record>& events, time_point now,
                       const tag_book& tags = tag_book());

}  // namespace dockmon::server::alerts
