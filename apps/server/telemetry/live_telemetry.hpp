// What agents report about their hosts, as it arrives: the latest sample per container and per host,
// history with downsampling (stats_history), container events buffered into the store, a live feed
// for browsers, and the Prometheus exposition of it all. Lives on the server's single I/O thread.
#pragma once

#include "telemetry/agent_limits.hpp"
#include "dockmon/common/net.hpp"
#include "dockmon/store/store.hpp"
#include "telemetry/prometheus.hpp"
#include "telemetry/stats_history.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dockmon::server {

// A browser's subscription on /ws: it receives frames for these hosts and containers (empty: all).
class feed_subscriber {
 public:
  virtual ~feed_subscriber() = default;
  virtual bool wants(const std::string& host_id, const std::string& container_id) const = 0;
  // False for a page that shows only hosts: a fleet's container samples would be most of its traffic.
  virtual bool wants_container_stats() const { return true; }
  virtual void send_event(std::string frame) = 0;
  virtual void send_stats(const std::string& key, std::string frame) = 0;
};

// One filesystem of a host, as its agent reported it (the host frame's `filesystems`).
struct filesystem_point {
  std::string mount;
  double total_bytes = 0, used_bytes = 0, available_bytes = 0;
  // Worked out here from the bytes, as df's Use% is: used / (used + available), so blocks reserved for
  // root count as full; used / total when the agent sent no available size.
  double used_percent = 0;
};

class live_telemetry {
 public:
  live_telemetry() = default;

  // Ingest; the payloads are agents' input, checked here, and bounded per host (agent_limits).
  void host_named(const std::string& host_id, const std::string& name) { host_names_[host_id] = name; }
  // The containers the host's agent listed: the series it may feed.
  void containers_listed(const std::string& host_id, const std::vector<std::string>& ids);
  // True once after the host's agent sent samples of containers it has not listed past the allowance.
  bool take_list_wanted(const std::string& host_id);
  // Drops the series of containers gone for a day (or past the host's share); call every few minutes.
  void prune_gone_series();
  void on_container_stats(const std::string& host_id, const json::object& payload);
  void on_container_stats_batch(const std::string& host_id, const json::object& payload);
  void on_host_stats(const std::string& host_id, const json::object& stats);
  void on_container_event(const std::string& host_id, const json::object& payload);
  void on_events_dropped(const std::string& host_id, const json::object& payload);
  // Container updates: every stage goes to the live feed; the outcomes (completed, failed, rollback,
  // update_complete) are stored as events of type "update".
  void on_update_progress(const std::string& host_id, const json::object& payload);
  void on_update_complete(const std::string& host_id, const json::object& payload);
  // The agent's own update: every stage to the live feed; the outcomes (completed, failed, rolled_back)
  // stored as events of type "agent_update".
  void on_selfupdate_progress(const std::string& host_id, const json::object& payload);
  // An agent's link came up or went down: stored as an event of type "agent" (connected, disconnected),
  // the history a host_down rule's preview replays.
  void on_agent_link(const std::string& host_id, bool connected);
  // A health check's change (healthy, unhealthy, stopped, auto_restart, restart_failed, gave_up): to the
  // live feed as health_check, stored as an event of type "health".
  void on_health(const std::string& host_id, const std::string& container_id, const std::string& container_name,
                 const std::string& action, const json::object& attributes);

  // Reads.
  json::object host_stats_json(const std::string& host_id) const;
  // The host's latest sample {timestamp, cpu_percent, mem_percent, net_bytes_per_sec}, or null.
  json::value latest_host_point(const std::string& host_id) const;
  // Container id -> name of every container sampled now, across hosts.
  std::map<std::string, std::string> container_names() const;
  // History of one container; cid may be the full id or a unique prefix of at least 12 characters.
  std::optional<json::object> container_history(const std::string& host_id, const std::string& cid,
                                                std::chrono::seconds window) const;
  // What /metrics shows, copied for formatting on another thread (prometheus.hpp).
  // Which containers a snapshot copies: (host id, host name, container name) -> keep it.
  using container_choice = std::function<bool(const std::string&, const std::string&, const std::string&)>;
  // with_containers false copies none (the default /metrics: at fleet size copying them all would hold the
  // I/O thread for a tenth of a second); choose empty copies every one.
  metrics_snapshot metrics(std::size_t agents_online, std::size_t pending_commands, bool with_containers = true,
                           const container_choice& choose = {}) const;

  // Persistence: events and completed rollups waiting for the store, taken by the flusher.
  std::vector<store::event_record> take_events();
  std::vector<store::stats_rollup_row> take_rollups();
  void restore(const std::vector<store::stats_rollup_row>& rows);

  void subscribe(const std::shared_ptr<feed_subscriber>& s) { subscribers_.push_back(s); }
  // Called with each event kept: container events that passed the checks and limits, and the outcomes of
  // updates and self-updates (the alert engine listens).
  void on_event_kept(std::function<void(const store::event_record&)> listener) { event_listener_ = std::move(listener); }
  // Called with each sample kept: host id, container id and name (empty for the host's own), CPU and
  // memory percent.
  using sample_listener = std::function<void(const std::string&, const std::string&, const std::string&, double, double)>;
  void on_sample_kept(sample_listener listener) { sample_listener_ = std::move(listener); }
  // Called with each host sample that carried its filesystems.
  using disk_listener = std::function<void(const std::string&, const std::vector<filesystem_point>&)>;
  void on_disks_kept(disk_listener listener) { disk_listener_ = std::move(listener); }

  std::uint64_t samples_ingested() const { return samples_ingested_; }
  // How many samples and events the per-host limits refused, across hosts.
  std::uint64_t refused_by_limits() const;
  std::uint64_t events_ingested() const { return events_ingested_; }

 private:
  std::function<void(const store::event_record&)> event_listener_;
  sample_listener sample_listener_;
  disk_listener disk_listener_;
  struct container_latest {
    std::string name;
    stats_point point;
  };
  void ingest_container(const std::string& host_id, const json::object& p);
  void publish(const std::string& host_id, const std::string& container_id, const std::string& key,
               const std::string& frame, bool is_event);
  // Queues an event for the store (counted, bounded).
  void keep_event(store::event_record e);

  stats_history history_;
  std::map<std::string, std::map<std::string, container_latest>> containers_;  // host -> container -> latest
  std::map<std::string, stats_point> hosts_;
  std::map<std::string, std::vector<filesystem_point>> filesystems_;  // per host, the latest
  std::map<std::string, std::string> host_names_;
  std::map<std::string, std::uint64_t> events_dropped_;  // per host, as the agents report them
  std::map<std::string, agent_limits> limits_;           // per host
  std::vector<store::event_record> pending_events_;
  std::vector<std::weak_ptr<feed_subscriber>> subscribers_;
  std::uint64_t samples_ingested_ = 0;
  std::uint64_t events_ingested_ = 0;
  std::uint64_t events_overflowed_ = 0;
};

}  // namespace dockmon::server
