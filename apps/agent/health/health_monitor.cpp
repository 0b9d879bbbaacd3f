// Health checks on their timers, thresholds, restarts, and what the server is told.
#include "health/health_monitor.hpp"

#include "dockmon/common/files.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/common/validate.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <fstream>
#include <set>
#include <sstream>

namespace dockmon::agent {

namespace {
using clock = std::chrono::steady_clock;
constexpr std::size_t max_recent = 120;  // response times kept between summaries

// The container a Docker event names is the one a check names by its full or short id.
bool same_container(const std::string& full_id, const std::string& checked) {
  return !checked.empty() && full_id.starts_with(checked);
}
}  // namespace

struct health_monitor::check {
  check(net::any_io_executor ex, protocol::health_check_config c)
      : config(std::move(c)), state(health::policy_of(config)), request(health::request_of(config)), timer(ex) {}

  protocol::health_check_config config;
  health::check_state state;
  health::probe_request request;
  net::steady_timer timer;
  bool cancelled = false;
  // What Docker says of the container, read again after each start (stale).
  bool stale = true;
  bool running = false;
  bool stopping = false;  // a kill or stop came since the last start: the exit that follows was asked for
  bool docker_restarts = false;  // its restart policy is not "no": Docker brings it back after an exit itself
  std::string name;
  std::string address;  // what {container} stands for
  bool stopped_on_purpose = false;  // how it last stopped: on purpose, its check starts over when it runs again
  bool own_restart = false;  // this monitor is restarting it: the exit on the way is neither unexpected nor a user's
  // An unexpected exit asked for a restart (false), or ran out of them (true).
  std::optional<bool> exit_restart;
  bool reported_stopped = false;
  clock::time_point next_probe = clock::now();
  protocol::health_check_result last;
  std::vector<std::int64_t> recent;
};

health_monitor::health_monitor(net::any_io_executor ex, docker::client& docker, health_options options, emitter emit,
                               command_audit* audit)
    : executor_(ex), docker_(docker), options_(std::move(options)), emit_(std::move(emit)), audit_(audit), prober_(ex) {}

void health_monitor::start() {
  if (!options_.state_file.empty()) {
    std::ifstream in(options_.state_file);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      error_code ec;
      auto saved = json::parse(text.str(), ec);
      if (ec || !saved.is_object()) {
        spdlog::warn("health checks: {} is not what this agent wrote; starting with no checks", options_.state_file);
      } else {
        const auto& o = saved.as_object();
        thresholds_ = o.contains("health_thresholds") && o.at("health_thresholds").is_bool() && o.at("health_thresholds").as_bool();
        std::vector<protocol::health_check_config> configs;
        if (const auto* list = o.if_contains("configs"); list != nullptr && list->is_array())
          for (const auto& v : list->as_array())
            if (auto c = protocol::parse_health_check_config(v)) configs.push_back(std::move(*c));
        spdlog::info("health checks: {} from the last sync", configs.size());
        replace_all(std::move(configs));
      }
    }
  }
  net::co_spawn(executor_, summaries(), net::detached);
}

bool health_monitor::handle_frame(const json::object& frame) {
  const auto type = string_field(frame, "type");
  if (!type.starts_with("health_check_")) return false;
  const auto* payload = frame.if_contains("payload");
  if (payload == nullptr || !payload->is_object()) {
    spdlog::warn("health checks: {} without a payload; ignored", type);
    return true;
  }
  const auto& p = payload->as_object();
  if (type == "health_check_configs_sync") {
    const auto* list = p.if_contains("configs");
    if (list == nullptr || !list->is_array()) {
      spdlog::warn("health checks: a sync without a list of configs; ignored");
      return true;
    }
    std::vector<protocol::health_check_config> configs;
    for (const auto& v : list->as_array()) {
      auto c = protocol::parse_health_check_config(v);
      if (!c) {
        spdlog::warn("health checks: a config in the sync is refused: {}", c.error().message);
        continue;
      }
      configs.push_back(std::move(*c));
    }
    replace_all(std::move(configs));
    send_summary();  // a server that has just started learns the states at once
  } else if (type == "health_check_config") {
    auto c = protocol::parse_health_check_config(*payload);
    if (!c) {
      spdlog::warn("health checks: a config is refused: {}", c.error().message);
      return true;
    }
    put(std::move(*c));
  } else if (type == "health_check_config_remove") {
    const auto id = string_field(p, "container_id");
    if (!valid_container_id(id)) {
      spdlog::warn("health checks: a removal without a container id; ignored");
      return true;
    }
    remove(id);
  } else {
    spdlog::warn("health checks: unknown frame {}; ignored", type.substr(0, 64));
    return true;
  }
  save();
  return true;
}

void health_monitor::link_up(bool thresholds) {
  connected_ = true;
  if (thresholds != thresholds_) {
    thresholds_ = thresholds;
    save();
  }
}

void health_monitor::replace_all(std::vector<protocol::health_check_config> configs) {
  if (configs.size() > options_.max_checks) {
    spdlog::warn("health checks: {} given, only the first {} run", configs.size(), options_.max_checks);
    configs.resize(options_.max_checks);
  }
  std::set<std::string> keep;
  for (const auto& c : configs) keep.insert(c.container_id);
  std::vector<std::string> gone;
  for (const auto& [id, c] : checks_)
    if (!keep.contains(id)) gone.push_back(id);
  for (const auto& id : gone) remove(id);
  for (auto& c : configs) put(std::move(c));
}

void health_monitor::put(protocol::health_check_config config) {
  auto found = checks_.find(config.container_id);
  if (found != checks_.end()) {
    // The same config again (every sync after a reconnect): the check and its state go on.
    if (json::value(protocol::to_json(found->second->config)) == json::value(protocol::to_json(config))) return;
    remove(config.container_id);
  } else if (checks_.size() >= options_.max_checks) {
    spdlog::warn("health checks: at most {} run; {} is left out", options_.max_checks, config.container_id);
    return;
  }
  auto c = std::make_shared<check>(executor_, std::move(config));
  // Spread the first probes of many checks over up to 10 s rather than all at once.
  const auto spread_ms = std::min<std::int64_t>(c->config.check_interval_seconds, 10) * 1000;
  c->next_probe = clock::now() + std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(0, spread_ms)(spread_));
  checks_[c->config.container_id] = c;
  spdlog::info("health check for {}: {} every {} s", c->config.container_id, c->config.url, c->config.check_interval_seconds);
  net::co_spawn(executor_, run(c), net::detached);
}

void health_monitor::remove(const std::string& container_id) {
  auto found = checks_.find(container_id);
  if (found == checks_.end()) return;
  found->second->cancelled = true;
  found->second->timer.cancel();
  checks_.erase(found);
  spdlog::info("health check for {} removed", container_id);
}

void health_monitor::save() const {
  if (options_.state_file.empty()) return;
  json::array configs;
  for (const auto& [id, c] : checks_) configs.push_back(protocol::to_json(c->config));
  json::object saved{{"health_thresholds", thresholds_}, {"configs", std::move(configs)}};
  try {
    write_file_atomically(options_.state_file, json::serialize(saved), 0600);
  } catch (const std::exception& e) {
    spdlog::error("health checks: cannot keep the set in {}: {}", options_.state_file, e.what());
  }
}

bool health_monitor::applies_policy(const check& c) const { return thresholds_ && c.config.agent_applies_policy(); }

void health_monitor::on_container_event(const std::string& action, const std::string& id, const json::object& attributes) {
  for (auto& [checked, c] : checks_) {
    if (!same_container(id, checked)) continue;
    if (action == "start") {
      c->running = true;
      c->stopping = false;
      c->own_restart = false;
      c->stale = true;
      c->reported_stopped = false;
    } else if (action == "kill" || action == "stop") {
      c->stopping = true;
    } else if (action == "die") {
      c->running = false;
      c->stopped_on_purpose = c->stopping && !c->own_restart;
      if (!c->stopping && !c->docker_restarts && applies_policy(*c)) {
        spdlog::warn("health check: {} exited unexpectedly (exit code {})", c->name.empty() ? checked : c->name,
                     string_field(attributes, "exitCode"));
        auto step = c->state.exited();
        if (step.restart || step.gave_up) {
          c->exit_restart = step.gave_up;
          c->timer.cancel();  // the loop acts at once
        }
      }
    }
  }
}

net::awaitable<void> health_monitor::look_at_container(check& c) {
  auto inspected = co_await docker_.inspect_container(c.config.container_id);
  if (!inspected) {
    c.running = false;
    co_return;
  }
  const auto& o = *inspected;
  c.stale = false;
  c.name = string_field(o, "Name");
  if (c.name.starts_with('/')) c.name.erase(0, 1);
  const json::object* state = o.contains("State") && o.at("State").is_object() ? &o.at("State").as_object() : nullptr;
  c.running = state != nullptr && state->contains("Running") && state->at("Running").is_bool() && state->at("Running").as_bool();
  c.docker_restarts = false;
  if (const auto* host = o.if_contains("HostConfig"); host != nullptr && host->is_object())
    if (const auto* policy = host->as_object().if_contains("RestartPolicy"); policy != nullptr && policy->is_object()) {
      const auto name = string_field(policy->as_object(), "Name");
      c.docker_restarts = !name.empty() && name != "no";
    }
  // {container}: its address on its first network that gives one; else the host (host networking, or a
  // published port: the port in the URL is then read as the container's and mapped to the host's).
  c.address = "127.0.0.1";
  const auto target = health::parse_target(c.config.url);
  std::string port = target ? target->port : "";
  std::string published;
  if (const auto* settings = o.if_contains("NetworkSettings"); settings != nullptr && settings->is_object()) {
    if (const auto* nets = settings->as_object().if_contains("Networks"); nets != nullptr && nets->is_object())
      for (const auto& [net_name, n] : nets->as_object())
        if (n.is_object() && !string_field(n.as_object(), "IPAddress").empty()) {
          c.address = string_field(n.as_object(), "IPAddress");
          break;
        }
    if (const auto* ports = settings->as_object().if_contains("Ports"); c.address == "127.0.0.1" && ports != nullptr && ports->is_object())
      if (const auto* bound = ports->as_object().if_contains(port + "/tcp"); bound != nullptr && bound->is_array())
        for (const auto& b : bound->as_array())
          if (b.is_object() && !string_field(b.as_object(), "HostPort").empty()) published = string_field(b.as_object(), "HostPort");
  }
  c.request = health::request_of(c.config);
  auto& url = c.request.url;
  if (auto at = url.find("{container}"); at != std::string::npos) {
    url.replace(at, std::string_view("{container}").size(), c.address);
    if (!published.empty()) {
      const auto port_at = url.find(":" + port, at);
      if (port_at != std::string::npos) url.replace(port_at + 1, port.size(), published);
    }
  }
}

net::awaitable<health::probe_outcome> health_monitor::probe(check& c) {
  net::steady_timer turn(executor_);
  while (in_flight_ >= options_.max_in_flight) {
    turn.expires_at(clock::time_point::max());
    waiting_.push_back(&turn);
    co_await turn.async_wait(use_tuple);
  }
  ++in_flight_;
  auto outcome = co_await prober_.run(c.request);
  --in_flight_;
  if (!waiting_.empty()) {
    waiting_.front()->cancel();
    waiting_.pop_front();
  }
  co_return outcome;
}

net::awaitable<void> health_monitor::run(std::shared_ptr<check> c) {
  while (!c->cancelled) {
    if (c->exit_restart) {
      const bool gave_up = *std::exchange(c->exit_restart, std::nullopt);
      co_await restart(c, "exited", gave_up);
      continue;
    }
    if (clock::now() < c->next_probe) {
      c->timer.expires_at(c->next_probe);
      co_await c->timer.async_wait(use_tuple);
      continue;  // on time, woken by an event, or cancelled: the top of the loop tells which
    }
    c->next_probe = clock::now() + std::chrono::seconds(c->config.check_interval_seconds);
    if (!c->config.enabled) continue;
    if (c->stale) co_await look_at_container(*c);
    if (c->cancelled) break;
    if (!c->running) {
      // Nothing to probe: a container stopped on purpose is left alone, and its check starts over when it runs.
      if (!c->reported_stopped) {
        c->reported_stopped = true;
        if (c->stopped_on_purpose) c->state = health::check_state(health::policy_of(c->config));
        report_stopped(*c);
      }
      continue;
    }
    auto outcome = co_await probe(*c);
    if (c->cancelled) break;
    if (!c->running) continue;  // it stopped while the probe ran: that failure says nothing
    const bool policy = applies_policy(*c);
    auto step = policy ? c->state.observe(outcome.healthy) : health::check_state::step{};
    report(*c, outcome, step.changed || step.gave_up);
    if (step.restart || step.gave_up) co_await restart(c, "health_check", step.gave_up);
  }
}

net::awaitable<void> health_monitor::restart(std::shared_ptr<check> c, std::string reason, bool gave_up) {
  protocol::auto_restart_report r;
  r.container_id = c->config.container_id;
  r.container_name = c->name;
  r.host_id = c->config.host_id;
  r.max_restarts = c->state.policy().max_restarts;
  r.reason = reason;
  if (gave_up) {
    r.attempt = c->state.restarts();
    r.gave_up = true;
    r.timestamp = now_iso8601();
    spdlog::warn("health check: {} stays down after {} restarts; giving up", c->name, r.attempt);
    emit_(json::serialize(protocol::auto_restart_event(r)));
    co_return;
  }
  if (!options_.may_restart) {
    spdlog::warn("health check: {} would be restarted, but this agent's allow-list does not let it restart containers", c->name);
    co_return;
  }
  const auto delay = c->state.restart_delay();
  spdlog::warn("health check: restarting {} in {} s ({}, attempt {} of {})", c->name, delay.count(), reason,
               c->state.restarts() + 1, r.max_restarts);
  c->timer.expires_after(delay);
  co_await c->timer.async_wait(use_tuple);
  if (c->cancelled) co_return;
  c->stopping = true;  // the exit our own restart makes is asked for
  c->own_restart = true;
  auto done = co_await docker_.restart_container(c->config.container_id, 10);
  c->state.restarted();
  c->stale = true;
  r.attempt = c->state.restarts();
  r.ok = done.has_value();
  if (!done) r.error = done.error().message;
  r.timestamp = now_iso8601();
  if (audit_ != nullptr)
    audit_->record(command_audit::kind::change, "auto_restart", c->config.container_id, "", r.ok ? "ok" : "error: " + r.error);
  emit_(json::serialize(protocol::auto_restart_event(r)));
  // The restarted container gets a whole interval to come up.
  c->next_probe = clock::now() + std::chrono::seconds(c->config.check_interval_seconds);
}

void health_monitor::record(check& c, const health::probe_outcome& outcome, std::string state) {
  auto& r = c.last;
  r.container_id = c.config.container_id;
  r.host_id = c.config.host_id;
  r.healthy = outcome.healthy;
  r.status_code = outcome.status_code;
  r.response_time_ms = outcome.response_time_ms;
  r.error_message = outcome.error;
  r.timestamp = now_iso8601();
  r.state = std::move(state);
  if (r.state.empty()) return;  // DockMon's fields only
  r.container_name = c.name;
  r.consecutive_failures = c.state.consecutive_failures();
  r.restarts = c.state.restarts();
  r.gave_up = c.state.gave_up();
}

void health_monitor::report(check& c, const health::probe_outcome& outcome, bool changed) {
  if (!applies_policy(c)) {
    // DockMon's backend applies the thresholds: every probe's result, while it is there to take them.
    record(c, outcome, {});
    if (connected_) emit_(json::serialize(protocol::health_check_result_event(c.last)));
    return;
  }
  record(c, outcome, std::string(c.state.state_name()));
  if (c.recent.size() < max_recent) c.recent.push_back(outcome.healthy ? outcome.response_time_ms : -1);
  if (changed) {
    spdlog::info("health check: {} is {}{}{}", c.name.empty() ? c.config.container_id : c.name, c.last.state,
                 outcome.error.empty() ? "" : ": ", outcome.error);
    emit_(json::serialize(protocol::health_check_result_event(c.last)));
  }
}

void health_monitor::report_stopped(check& c) {
  if (!applies_policy(c)) return;
  health::probe_outcome none;
  none.error = "the container is not running";
  record(c, none, "stopped");
  emit_(json::serialize(protocol::health_check_result_event(c.last)));
}

net::awaitable<void> health_monitor::summaries() {
  net::steady_timer timer(executor_);
  for (;;) {
    timer.expires_after(options_.summary_every);
    co_await timer.async_wait(use_tuple);
    send_summary();
  }
}

void health_monitor::send_summary() {
  if (!connected_ || !thresholds_) return;
  std::vector<protocol::health_check_result> checks;
  for (auto& [id, c] : checks_) {
    if (!applies_policy(*c) || c->last.timestamp.empty()) continue;
    auto r = c->last;
    r.recent_ms = std::exchange(c->recent, {});
    checks.push_back(std::move(r));
  }
  if (!checks.empty()) emit_(json::serialize(protocol::health_check_summary_event(checks)));
}

}  // namespace dockmon::agent
