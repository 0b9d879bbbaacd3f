// Events, the running set and the stats timer.
#include "telemetry/telemetry.hpp"

#include "dockmon/common/backoff.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/docker/filesystems.hpp"
#include "dockmon/protocol/envelope.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace dockmon::agent {

namespace {

using namespace std::chrono_literals;

std::string since_text(std::int64_t nanos) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(nanos / 1'000'000'000),
                static_cast<long long>(nanos % 1'000'000'000));
  return buf;
}

std::int64_t now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(sys_clock::now().time_since_epoch()).count();
}

// The state a container is in after the action, as DockMon's events carry it.
std::string status_after(std::string_view action) {
  if (action == "start" || action == "restart" || action == "unpause") return "running";
  if (action == "die" || action == "stop" || action == "kill" || action == "oom") return "exited";
  if (action == "pause") return "paused";
  if (action == "create") return "created";
  if (action == "destroy") return "removed";
  return std::string(action);
}

std::string strip_slash(std::string name) {
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

}  // namespace

telemetry::telemetry(net::any_io_executor ex, docker::client& docker, telemetry_options options)
    : executor_(ex),
      docker_(docker),
      options_(std::move(options)),
      proc_root_(options_.proc_root.empty() ? docker::host_sampler::default_proc_root() : options_.proc_root),
      host_(proc_root_) {
  if (docker_.where().type == docker::endpoint::kind::unix_socket) sampler_ = docker::cgroup_sampler::open(options_.sys_fs_cgroup, proc_root_);
  if (sampler_) {
    spdlog::info("stats: reading cgroup {} files every {} ms",
                 sampler_->version() == docker::cgroup_version::v2 ? "v2" : "v1", options_.stats_interval.count());
  } else {
    spdlog::info("stats: cgroup files out of reach (remote engine or no /sys/fs/cgroup); using Docker's one-shot stats API");
    fallback_logged_ = true;
  }
}

void telemetry::attach(std::shared_ptr<frame_sink> sink) {
  sink_ = std::move(sink);
  while (!backlog_.empty() && sink_->open()) {
    sink_->event(std::move(backlog_.front()));
    backlog_.pop_front();
  }
}

void telemetry::emit_event(std::string frame) {
  if (sink_ && sink_->open()) {
    sink_->event(std::move(frame));
    return;
  }
  if (backlog_.size() >= options_.backlog_events) {
    ++backlog_dropped_;
    return;
  }
  backlog_.push_back(std::move(frame));
}

net::awaitable<void> telemetry::run_events_forever() {
  backoff delays(1s, 30s);
  net::steady_timer pause(executor_);
  bool broke_before = false;
  for (;;) {
    // Resume where the last stream stopped, so nothing that happened in between is missed.
    if (last_event_nanos_ == 0) last_event_nanos_ = now_nanos();
    replayed_until_ = last_event_nanos_;
    auto opened = co_await docker::event_stream::open(docker_, since_text(last_event_nanos_));
    if (opened) {
      auto stream = std::move(*opened);
      if (broke_before) spdlog::info("events stream back, resumed from {}", since_text(last_event_nanos_));
      delays.reset();
      // Listed after the stream is open: a change between the two shows up as an event.
      co_await resync();
      for (;;) {
        auto event = co_await stream->next();
        if (!event) {
          spdlog::warn("events stream from the engine broke: {}", event.error().message);
          break;
        }
        co_await on_docker_event(*event);
      }
      broke_before = true;
    } else {
      spdlog::warn("cannot open the engine's events stream: {}", opened.error().message);
    }
    pause.expires_after(delays.next());
    co_await pause.async_wait(use_tuple);
  }
}

net::awaitable<void> telemetry::resync() {
  auto listed = co_await docker_.list_containers(false);
  if (!listed) {
    spdlog::warn("cannot list running containers: {}", listed.error().message);
    co_return;
  }
  std::set<std::string> now_running;
  for (const auto& c : *listed)
    if (c.is_object()) now_running.insert(string_field(c.get_object(), "Id"));
  std::vector<std::string> stale;
  for (const auto& [id, info] : running_)
    if (!now_running.contains(id)) stale.push_back(id);
  for (const auto& id : stale) forget(id);
  for (const auto& id : now_running)
    if (!running_.contains(id)) co_await follow(id);
}

net::awaitable<void> telemetry::follow(const std::string& id) {
  auto inspected = co_await docker_.inspect_container(id);
  if (!inspected) co_return;  // gone again already
  const auto& c = *inspected;
  const json::object* state = c.contains("State") && c.at("State").is_object() ? &c.at("State").get_object() : nullptr;
  if (state == nullptr || !state->contains("Running") || !state->at("Running").is_bool() || !state->at("Running").get_bool())
    co_return;
  container_info info;
  info.name = strip_slash(string_field(c, "Name"));
  info.pid = static_cast<int>(int_field(*state, "Pid"));
  if (auto* config = c.if_contains("Config"); config != nullptr && config->is_object())
    info.image = string_field(config->get_object(), "Image");
  running_[id] = info;
  if (sampler_ && info.pid > 0 && sampler_->track(id, info.pid)) {
    via_docker_api_.erase(id);
    co_return;
  }
  via_docker_api_.insert(id);
  if (!fallback_logged_) {
    spdlog::info("stats: cgroup of container {} out of reach; using Docker's one-shot stats API for such containers",
                 info.name);
    fallback_logged_ = true;
  }
}

void telemetry::forget(const std::string& id) {
  running_.erase(id);
  via_docker_api_.erase(id);
  previous_docker_stats_.erase(id);
  if (sampler_) sampler_->untrack(id);
}

net::awaitable<void> telemetry::on_docker_event(const json::object& event) {
  std::string type = string_field(event, "Type");
  if (!type.empty() && type != "container") co_return;
  std::int64_t nanos = int_field(event, "timeNano");
  // A resumed stream repeats the events at its `since` instant; those were forwarded already. Only those:
  // events of different containers may arrive slightly out of time order (`docker kill a b` kills both at
  // once), and an event older than the newest one seen is still news.
  if (nanos != 0 && nanos <= replayed_until_) co_return;
  last_event_nanos_ = std::max(last_event_nanos_, nanos);

  std::string action = string_field(event, "Action");
  std::string id;
  json::object attributes;
  if (auto* actor = event.if_contains("Actor"); actor != nullptr && actor->is_object()) {
    id = string_field(actor->get_object(), "ID");
    if (auto* a = actor->get_object().if_contains("Attributes"); a != nullptr && a->is_object()) attributes = a->get_object();
  }
  if (id.empty()) id = string_field(event, "id");
  if (id.empty() || action.empty()) co_return;

  // Keep the running set in step before telling the server.
  std::string verb = action.substr(0, action.find(':'));
  if (verb == "start" || verb == "unpause" || verb == "restart") co_await follow(id);
  else if (verb == "die" || verb == "destroy") forget(id);
  else if (verb == "rename") {
    if (auto it = running_.find(id); it != running_.end()) it->second.name = string_field(attributes, "name");
  }
  if (listener_) listener_(verb, id, attributes);

  json::object payload;
  payload["container_id"] = id;
  payload["container_name"] = string_field(attributes, "name");
  payload["image"] = attributes.contains("image") ? string_field(attributes, "image") : string_field(event, "from");
  payload["action"] = action;
  payload["status"] = status_after(verb);
  payload["timestamp"] = to_iso8601(sys_clock::time_point(std::chrono::duration_cast<sys_clock::duration>(
                                        std::chrono::nanoseconds(nanos != 0 ? nanos : now_nanos()))),
                                    true);
  payload["attributes"] = std::move(attributes);
  emit_event(json::serialize(protocol::event_frame("container_event", std::move(payload))));
}

net::awaitable<void> telemetry::run_stats(std::shared_ptr<frame_sink> sink, stats_features features) {
  net::steady_timer tick(executor_);
  auto next = std::chrono::steady_clock::now();
  while (sink->open()) {
    co_await sample_once(*sink, features);
    next += options_.stats_interval;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + options_.stats_interval;  // a slow sweep skips ticks rather than bunching them
    tick.expires_at(next);
    co_await tick.async_wait(use_tuple);
  }
}

const json::array& telemetry::filesystems() {
  const auto now = std::chrono::steady_clock::now();
  if (filesystems_at_ && now - *filesystems_at_ < std::chrono::seconds(30)) return filesystems_;
  filesystems_at_ = now;
  filesystems_.clear();
  for (const auto& fs : docker::sample_filesystems(proc_root_)) {
    json::object o;
    o["mount"] = fs.mount_point;
    o["total_bytes"] = fs.total_bytes;
    o["used_bytes"] = fs.used_bytes;
    o["available_bytes"] = fs.available_bytes;
    filesystems_.push_back(std::move(o));
  }
  return filesystems_;
}

net::awaitable<void> telemetry::sample_once(frame_sink& sink, stats_features features) {
  const bool batch = features.batch;
  std::vector<docker::container_sample> samples;
  if (sampler_) {
    auto sweep = sampler_->sweep();
    samples = std::move(sweep.samples);
    // A cgroup that vanished under a container still running (moved, or remounted): ask Docker instead.
    for (const auto& id : sweep.gone)
      if (running_.contains(id)) via_docker_api_.insert(id);
  }
  std::vector<std::string> remote(via_docker_api_.begin(), via_docker_api_.end());
  for (const auto& id : remote) {
    auto stats = co_await docker_.container_stats_once(id);
    if (!stats) continue;
    // A one-shot answer has no earlier reading of its own: the previous tick's answer is it.
    auto previous = previous_docker_stats_.find(id);
    samples.push_back(docker::sample_from_docker_stats(
        id, *stats, previous == previous_docker_stats_.end() ? nullptr : &previous->second));
    previous_docker_stats_[id] = std::move(*stats);
  }

  auto stamp = now_iso8601();
  json::array containers;
  for (const auto& s : samples) {
    json::object p;
    p["container_id"] = s.container_id;
    auto it = running_.find(s.container_id);
    p["container_name"] = it != running_.end() ? it->second.name : std::string();
    p["cpu_percent"] = s.cpu_percent;
    p["memory_usage"] = s.memory_usage;
    p["memory_limit"] = s.memory_limit;
    p["memory_percent"] = s.memory_percent;
    p["network_rx"] = s.network_rx;
    p["network_tx"] = s.network_tx;
    p["disk_read"] = s.block_read;
    p["disk_write"] = s.block_write;
    p["timestamp"] = stamp;
    if (batch) {
      p["pids"] = s.pids;  // ours; DockMon's per-container form leaves it out
      containers.push_back(std::move(p));
    } else {
      sink.stats("ctr:" + s.container_id, json::serialize(protocol::event_frame("container_stats", std::move(p))));
    }
  }
  if (batch) {
    json::object payload;
    payload["timestamp"] = stamp;
    payload["containers"] = std::move(containers);
    sink.stats("containers", json::serialize(protocol::event_frame("container_stats_batch", std::move(payload))));
  }
  auto host = host_.sample();
  auto host_frame = protocol::host_stats_frame(host.cpu_percent, host.mem_percent, host.net_bytes_per_sec);
  // The disks of the engine's host: known only when the engine is this machine's.
  if (features.filesystems && docker_.where().type == docker::endpoint::kind::unix_socket)
    host_frame.at("stats").as_object()["filesystems"] = filesystems();
  sink.stats("host", json::serialize(host_frame));

  // Cumulative, so the stats lane's latest-wins cannot lose any of it.
  backlog_dropped_ += sink.take_dropped_events();
  if (backlog_dropped_ > 0) {
    json::object dropped;
    dropped["count"] = backlog_dropped_;
    sink.stats("events_dropped", json::serialize(protocol::event_frame("events_dropped", std::move(dropped))));
  }
}

}  // namespace dockmon::agent
