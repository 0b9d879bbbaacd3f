// The alert engine: rules applied to what happens (Docker's events from the agents, agents coming and
// going) on the clock it is given. It keeps the state of every rule and target in memory and hands out
// the alert rows that changed, for the runner to store. Runs on the I/O thread; no I/O of its own.
#pragma once

#include "alerts/blackout.hpp"
#include "alerts/rule.hpp"
#include "dockmon/store/store.hpp"
#include "tags/tag_book.hpp"

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dockmon::server::alerts {

// A change of an alert worth telling its rule's channels about, as it was at that moment.
struct notice {
  store::alert_record alert;
  std::string event;  // "fired" or "resolved"
  std::string rule_name, host_name;
  std::vector<std::string> channel_ids;
  std::string message_template;
};

class engine {
 public:
  // A new or changed rule applies at once; the alerts of the rule it replaces end (resolved).
  void set_rule(rule r, time_point now);
  void remove_rule(const std::string& rule_id, time_point now);
  // Firing alerts from the store, after a restart: they stay firing without firing again (their rule
  // must be set first; an alert whose rule is gone ends).
  void restore(const std::vector<store::alert_record>& firing, time_point now);
  // Among replicas, the alerts of a host follow its agent: the replica it comes to takes on the host's
  // firing alerts another raised (adopt: those it does not track already, host_down aside, which the
  // leader counts), and the one it left forgets them, without ending them.
  void adopt(const std::vector<store::alert_record>& firing, time_point now);
  void forget_host(const std::string& host_id);

  // Blackout windows, all of them at once: while one covers a host, its alerts tell no one.
  void set_blackouts(std::vector<blackout> windows) { blackouts_ = std::move(windows); }
  const std::vector<blackout>& blackouts() const { return blackouts_; }

  // Tags of hosts and containers, all of them at once: rules scoped by tag see them from now on.
  void set_tags(tag_book tags) {
    tags_ = std::move(tags);
    sample_rules_.clear();
  }

  // Hosts: known ones (all at start, offline until their agent comes), and their agents' links.
  void host_known(const std::string& host_id, const std::string& name, time_point now);
  void host_connected(const std::string& host_id, const std::string& name, time_point now);
  void host_disconnected(const std::string& host_id, time_point now);
  // Among replicas: whether a host whose agent is not connected here counts as online (held by another
  // replica) or away (held by none, counted by one replica only: agents/replica_link).
  void host_elsewhere(const std::string& host_id, bool online, time_point now);
  // Every host the engine knows, and whether it counts it online.
  std::vector<std::pair<std::string, bool>> host_states() const;

  // An event as telemetry kept it (checked ids and names, attributes as JSON text): Docker's container
  // events, and the outcomes of container updates and agent self-updates.
  void on_container_event(const store::event_record& e, time_point now);
  // A sample of a container's (container_id set) or a host's numbers, in percent.
  void on_sample(const std::string& host_id, const std::string& container_id, const std::string& name, double cpu,
                 double memory, time_point now);
  // A host's filesystems: each mount point's used percent (disk_low rules).
  void on_disk_sample(const std::string& host_id, const std::vector<std::pair<std::string, double>>& used_percent, time_point now);
  // This server stops, kills, restarts, removes or updates the container: its "die" until then is expected.
  void expect_stop(const std::string& host_id, const std::string& container_id, time_point until);
  // This server updates the container of that name: its alerts tell no one until the update's outcome
  // (or `until`), whatever ids its old and new containers have.
  void updating(const std::string& host_id, const std::string& container_name, time_point until);
  // Each second: durations, clear delays and windows move on.
  void tick(time_point now);

  // The firing alert, acknowledged or snoozed; nullopt when no firing alert has that id.
  // once: only when nobody acknowledged it yet (an acknowledge link works one time).
  std::optional<store::alert_record> acknowledge(const std::string& alert_id, const std::string& username, time_point now,
                                                 bool once = false);
  std::optional<store::alert_record> snooze(const std::string& alert_id, time_point until);
  // Resolved by hand (operators): the all-clear goes to whoever heard of the alert; nullopt when no
  // firing alert has that id.
  std::optional<store::alert_record> resolve(const std::string& alert_id, const std::string& username, time_point now);
  // The whole rule tells no one until then (a time in the past wakes it); false when there is no such rule.
  bool snooze_rule(const std::string& rule_id, time_point until);
  // Whether a firing alert with that id is kept here.
  bool keeps(const std::string& alert_id) const;

  // The rows that changed since the last call, in the order they changed, for the one writer to store.
  // They stay visible in pending_changes() until it says they are stored.
  std::vector<store::alert_record> take_changes();
  // The notifications of those changes, to store in the same transaction.
  std::vector<notice> take_notices() { return std::exchange(notices_, {}); }
  bool has_changes() const { return !changes_.empty(); }
  void changes_stored() { in_flight_.clear(); }
  // What the store does not hold yet: the rows being written, then the newer changes.
  std::vector<store::alert_record> pending_changes() const;
  // Firing alerts, by severity.
  std::map<std::string, std::size_t> firing_by_severity() const;

 private:
  struct tracked {
    explicit tracked(const noise_controls& c) : state(c) {}
    alert_state state;
    store::alert_record record;  // the current (or last) alert of this rule on this target
  };
  struct host_info {
    std::string name;
    bool online = false;
  };

  tracked& track(const rule& r, const std::string& host_id, const std::string& container_id);
  tracked* firing_alert(const std::string& alert_id);  // nullptr when no firing alert has that id
  void apply(tracked& t, const rule& r, step s, std::string target_name, std::string message, time_point now);
  void on_update_outcome(const store::event_record& e, time_point now);
  void on_health_change(const store::event_record& e, time_point now);
  bool blacked_out(const std::string& host_id, time_point now) const;
  void tell(const rule& r, const store::alert_record& alert, std::string event);
  void end_alerts_of(const std::string& rule_id, time_point now);
  void host_sample(const std::string& host_id, double down, time_point now);
  // Whether this die was asked for; an expectation is spent by the die it explains.
  bool stop_expected(const std::string& host_id, const std::string& container_id, time_point now);
  std::string host_name(const std::string& host_id) const;
  target host_target(const std::string& host_id) const { return target{host_id, {}, {}, tags_.all_for(host_id, {}, {})}; }
  target container_target(const std::string& host_id, const std::string& name, std::map<std::string, std::string> labels) const {
    auto tags = tags_.all_for(host_id, name, labels);
    return target{host_id, name, std::move(labels), std::move(tags)};
  }

  void rebuild_metric_rules();
  // The metric rules whose scope takes this container (or host, with no container id), worked out once
  // per target: a sample costs a lookup and the rules that match it, however many rules there are.
  const std::vector<const rule*>& sample_rules(const std::string& host_id, const std::string& container_id, const std::string& name);

  std::map<std::string, rule> rules_;
  std::vector<const rule*> metric_rules_;  // samples are many: only these rules look at them
  std::vector<const rule*> disk_rules_;
  std::unordered_map<std::string, std::vector<const rule*>> sample_rules_;  // host id, container id -> matching
  std::unordered_map<std::string, std::map<std::string, std::string>> labels_;  // by container id, from events
  std::unordered_map<std::string, tracked> tracked_;  // rule id, host id, container id
  std::unordered_map<std::string, host_info> hosts_;
  std::unordered_map<std::string, time_point> expected_stops_;  // host id, container id -> until
  std::unordered_map<std::string, time_point> updates_;         // host id, container name -> until
  bool in_update(const std::string& host_id, const std::string& container_name, time_point now) const;
  std::vector<store::alert_record> changes_;
  std::vector<store::alert_record> in_flight_;
  std::vector<notice> notices_;
  std::vector<blackout> blackouts_;
  tag_book tags_;
};

}  // namespace dockmon::server::alerts
