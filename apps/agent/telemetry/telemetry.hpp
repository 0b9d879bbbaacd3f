// Live telemetry: Docker's container events forwarded (resuming with `since` after the events stream
// breaks), the set of running containers kept from those events, and one timer that samples every
// running container (cgroup files, or Docker's one-shot stats where they are out of reach) and the host.
#pragma once

#include "dockmon/docker/cgroup_sampler.hpp"
#include "dockmon/docker/client.hpp"
#include "dockmon/docker/host_sampler.hpp"
#include "core/frame_sink.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace dockmon::agent {

struct telemetry_options {
  std::chrono::milliseconds stats_interval{std::chrono::seconds(2)};
  std::size_t backlog_events = 1000;  // events kept while no server is connected
  std::string sys_fs_cgroup = "/sys/fs/cgroup";
  std::string proc_root;  // empty: /host/proc when mounted, else /proc
};

// What the server said it takes (auth_success).
struct stats_features {
  bool batch = false;        // container_stats_batch rather than one frame per container
  bool filesystems = false;  // the host frame's `filesystems`
};

class telemetry {
 public:
  telemetry(net::any_io_executor ex, docker::client& docker, telemetry_options options);

  // Follows Docker's events for as long as the agent runs.
  net::awaitable<void> run_events_forever();
  // Samples on the timer while `sink` is open, in the forms the server advertised.
  net::awaitable<void> run_stats(std::shared_ptr<frame_sink> sink, stats_features features);

  // The connection in use; events wait in a bounded backlog while there is none.
  void attach(std::shared_ptr<frame_sink> sink);

  std::size_t running_count() const { return running_.size(); }

  // Told each container event (action, full id, attributes) as it arrives: the health checks follow starts and exits.
  using event_listener = std::function<void(const std::string& action, const std::string& id, const json::object& attributes)>;
  void on_container_event(event_listener listener) { listener_ = std::move(listener); }

  // Sends an event frame on the current connection, or keeps it in the bounded backlog until there is one.
  void emit_event(std::string frame);
  // Whether frames still wait: in the backlog, or in an open connection's outbox.
  bool events_pending() const { return !backlog_.empty() || (sink_ && sink_->open() && sink_->queued() > 0); }

 private:
  struct container_info {
    std::string name;
    std::string image;
    int pid = 0;
  };

  net::awaitable<void> resync();
  net::awaitable<void> on_docker_event(const json::object& event);
  net::awaitable<void> follow(const std::string& id);
  void forget(const std::string& id);
  net::awaitable<void> sample_once(frame_sink& sink, stats_features features);
  // The host's filesystems, read again every 30 s (they fill slowly; the mounts table of a busy host is long).
  const json::array& filesystems();

  net::any_io_executor executor_;
  docker::client& docker_;
  telemetry_options options_;
  std::optional<docker::cgroup_sampler> sampler_;
  std::string proc_root_;  // before host_, which is made from it
  docker::host_sampler host_;
  json::array filesystems_;
  std::optional<std::chrono::steady_clock::time_point> filesystems_at_;
  std::map<std::string, container_info> running_;
  std::set<std::string> via_docker_api_;  // running containers whose cgroup files are out of reach
  std::map<std::string, json::object> previous_docker_stats_;  // their last one-shot answers, for CPU%
  bool fallback_logged_ = false;
  std::shared_ptr<frame_sink> sink_;
  event_listener listener_;
  std::deque<std::string> backlog_;
  std::size_t backlog_dropped_ = 0;
  std::int64_t last_event_nanos_ = 0;  // the newest event seen: where a broken stream resumes
  std::int64_t replayed_until_ = 0;    // the resumed stream's start: events up to it were forwarded before
};

}  // namespace dockmon::agent
