// The update procedure and its rollback.
#include "updates/container_update.hpp"

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/protocol/envelope.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <map>

namespace dockmon::agent {

namespace {

using namespace std::chrono_literals;

constexpr auto pull_timeout = 30min;
constexpr auto progress_interval = 500ms;  // at most this often per layer while bytes move

std::optional<std::int64_t> seconds_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number()) return -1;
  return v->to_number<std::int64_t>();
}

// Docker's X-Registry-Auth: URL-safe base64 of {"username","password","serveraddress"}.
std::string registry_header(const json::value& auth) {
  if (auth.is_string()) return std::string(auth.get_string());
  const auto text = json::serialize(auth);
  std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_URLSAFE), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                    sodium_base64_VARIANT_URLSAFE);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string event_frame(std::string_view name, json::object payload) {
  return json::serialize(protocol::event_frame(std::string(name), std::move(payload)));
}

std::string backup_name(const std::string& name) {
  return name + "-dockmon-backup-" + std::to_string(unix_seconds(sys_clock::now()));
}

}  // namespace

parsed_update parse_update_payload(const json::object& payload) {
  parsed_update out;
  update_request r;
  r.container = string_field(payload, "container_id");
  if (!docker::valid_container_ref(r.container)) {
    out.error = "container_id is missing or not a container id or name";
    return out;
  }
  r.image_text = string_field(payload, "new_image");
  auto ref = docker::parse_image_ref(r.image_text);
  if (!ref) {
    out.error = "new_image is missing or not an image reference";
    return out;
  }
  r.image = *ref;
  auto stop = seconds_field(payload, "stop_timeout");
  auto health = seconds_field(payload, "health_timeout");
  if ((stop && (*stop < 0 || *stop > 3600)) || (health && (*health < 1 || *health > 3600))) {
    out.error = "stop_timeout must be 0-3600 and health_timeout 1-3600 seconds";
    return out;
  }
  if (stop) r.stop_timeout = std::chrono::seconds(*stop);
  if (health) r.health_timeout = std::chrono::seconds(*health);
  if (const auto* auth = payload.if_contains("registry_auth"); auth != nullptr && !auth->is_null()) {
    if (!auth->is_object() && !auth->is_string()) {
      out.error = "registry_auth must be an object {username,password,serveraddress}";
      return out;
    }
    r.registry_auth = registry_header(*auth);
    if (r.registry_auth.size() > 8192) {
      out.error = "registry_auth is too long";
      return out;
    }
  }
  out.request = std::move(r);
  return out;
}

bool container_updater::start(update_request request) {
  if (running_.contains(request.container)) return false;
  running_.insert(request.container);
  net::co_spawn(executor_, run(std::move(request)), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("container update ended with an error: {}", ex.what());
    }
  });
  return true;
}

void container_updater::progress(const std::string& container_id, std::string_view stage, std::string message,
                                 std::string error) {
  if (error.empty()) spdlog::info("update {}: {} {}", container_id.substr(0, 12), stage, message);
  else spdlog::warn("update {}: {} {}: {}", container_id.substr(0, 12), stage, message, error);
  json::object payload{{"container_id", container_id}, {"stage", stage}, {"message", std::move(message)}};
  payload["error"] = error.empty() ? json::value(nullptr) : json::value(std::move(error));
  emit_(event_frame("update_progress", std::move(payload)));
}

net::awaitable<void> container_updater::run(update_request req) {
  const std::string asked = req.container;
  // Before anything changes: the container must exist, and nothing else may be updating it.
  auto old = co_await docker_.inspect_container(req.container);
  if (!old) {
    progress(req.container, "failed", "cannot update " + req.container, old.error().message);
    running_.erase(asked);
    co_return;
  }
  const std::string old_id = string_field(*old, "Id");
  std::string name = string_field(*old, "Name");
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  if (old_id != asked && running_.contains(old_id)) {
    progress(old_id, "failed", "another update of this container is running", "update already running");
    running_.erase(asked);
    co_return;
  }
  running_.insert(old_id);
  const auto finish = [this, asked, old_id] {
    running_.erase(asked);
    running_.erase(old_id);
  };

  // Pulling changes nothing on the host but the image store: a failure here leaves the container as it was.
  progress(old_id, "pulling", "pulling " + req.image_text);
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> last_report;
  auto on_pull = [&](const docker::pull_event& e) {
    if (e.layer.empty()) return;
    auto now = std::chrono::steady_clock::now();
    auto& [status, at] = last_report[e.layer];
    if (status == e.status && now - at < progress_interval) return;
    status = e.status;
    at = now;
    json::object payload{{"container_id", old_id}, {"stage", "pulling"}, {"message", e.status}, {"layer", e.layer}};
    payload["error"] = nullptr;
    if (e.total > 0) {
      payload["current"] = e.current;
      payload["total"] = e.total;
      payload["percent"] = static_cast<double>(e.current) * 100.0 / static_cast<double>(e.total);
    }
    emit_(event_frame("update_progress", std::move(payload)));
  };
  auto pulled = co_await docker_.pull_image(req.image, req.registry_auth, on_pull, pull_timeout);
  if (!pulled) {
    progress(old_id, "failed", "pull of " + req.image_text + " failed; nothing was changed", pulled.error().message);
    finish();
    co_return;
  }

  progress(old_id, "configuring", "reading the configuration of " + name);
  auto old_image = co_await docker_.inspect_image(string_field(*old, "Image"));
  auto new_image = co_await docker_.inspect_image(req.image_text);
  if (!old_image || !new_image) {
    progress(old_id, "failed", "cannot read the images; nothing was changed",
             !old_image ? old_image.error().message : new_image.error().message);
    finish();
    co_return;
  }
  const auto spec = docker::recreate_spec_for(*old, *old_image, *new_image, req.image_text);
  const auto* state = object_field(*old, "State");
  const auto* was = state == nullptr ? nullptr : state->if_contains("Running");
  const bool was_running = was != nullptr && was->is_bool() && was->get_bool();

  // From here on a failure rolls back: the original goes back under its name and runs again.
  std::string new_id;
  bool renamed = false;
  const std::string backup = backup_name(name);
  std::string failure;
  std::string failed_stage;

  progress(old_id, "backup", "stopping " + name + " and keeping it as " + backup);
  if (was_running) {
    auto stopped = co_await docker_.stop_container(old_id, static_cast<int>(req.stop_timeout.count()));
    if (!stopped) failure = "cannot stop the container: " + stopped.error().message;
  }
  if (failure.empty()) {
    auto r = co_await docker_.rename_container(old_id, backup);
    if (r) renamed = true;
    else failure = "cannot rename the container to " + backup + ": " + r.error().message;
  }
  if (failure.empty()) {
    progress(old_id, "creating", "creating " + name + " from " + req.image_text);
    auto created = co_await docker_.create_container(name, spec.create_body);
    if (created) new_id = *created;
    else failure = "cannot create the new container: " + created.error().message;
  }
  for (const auto& [network, endpoint] : spec.extra_networks) {
    if (!failure.empty()) break;
    auto c = co_await docker_.connect_network(network, new_id, endpoint);
    if (!c) failure = "cannot connect the new container to " + network + ": " + c.error().message;
  }
  if (failure.empty() && was_running) {
    progress(old_id, "starting", "starting the new " + name);
    auto started = co_await docker_.start_container(new_id);
    if (!started) failure = "cannot start the new container: " + started.error().message;
    if (failure.empty()) {
      progress(old_id, "health_check",
               spec.healthcheck ? "waiting for the healthcheck to pass (up to " + std::to_string(req.health_timeout.count()) + " s)"
                                : "no healthcheck: the container must keep running for " +
                                      std::to_string(settle_time.count()) + " s");
      failure = co_await wait_until_healthy(new_id, spec.healthcheck.has_value(), req.health_timeout);
    }
  }

  if (!failure.empty()) {
    progress(old_id, "failed", "update of " + name + " to " + req.image_text + " failed", failure);
    std::string rollback_error;
    if (!new_id.empty()) {
      auto removed = co_await docker_.remove_container(new_id, true);
      if (!removed) rollback_error = "cannot remove the new container: " + removed.error().message;
    }
    if (renamed) {
      auto back = co_await docker_.rename_container(old_id, name);
      if (!back) rollback_error = "cannot give the original its name back: " + back.error().message;
    }
    if (was_running) {
      auto restarted = co_await docker_.start_container(old_id);
      if (!restarted) rollback_error = "cannot start the original again: " + restarted.error().message;
    }
    progress(old_id, "rollback",
             rollback_error.empty() ? "the original " + name + " is back" + std::string(was_running ? " and running" : "")
                                    : "rollback incomplete",
             rollback_error.empty() ? failure : rollback_error);
    finish();
    co_return;
  }

  progress(old_id, "cleanup", "removing the old container " + backup + " (its volumes stay)");
  if (auto removed = co_await docker_.remove_container(old_id, true); !removed) {
    spdlog::warn("update of {}: the old container stays as {}: {}", name, backup, removed.error().message);
  }
  progress(old_id, "completed", name + " now runs " + req.image_text);
  emit_(event_frame("update_complete", json::object{{"old_container_id", old_id}, {"new_container_id", new_id},
                                                     {"container_name", name}, {"image", req.image_text}}));
  finish();
}

net::awaitable<std::string> container_updater::wait_until_healthy(const std::string& id, bool has_healthcheck,
                                                                  std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + (has_healthcheck ? std::chrono::seconds(timeout) : settle_time);
  net::steady_timer pause(executor_);
  for (;;) {
    auto inspected = co_await docker_.inspect_container(id);
    if (!inspected) co_return "cannot inspect the new container: " + inspected.error().message;
    const auto* state = object_field(*inspected, "State");
    if (state == nullptr) co_return "the new container has no state";
    const auto* running = state->if_contains("Running");
    if (running == nullptr || !running->is_bool() || !running->get_bool()) {
      co_return "the new container stopped (exit code " + std::to_string(int_field(*state, "ExitCode")) + ")";
    }
    const auto* restarts = inspected->if_contains("RestartCount");
    if (restarts != nullptr && restarts->is_number() && restarts->to_number<std::int64_t>() > 0) {
      co_return "the new container restarted";
    }
    if (has_healthcheck) {
      const auto* health = object_field(*state, "Health");
      const auto status = health == nullptr ? std::string() : string_field(*health, "Status");
      if (status == "healthy") co_return std::string();
      if (status == "unhealthy") {
        std::string last;
        if (const auto* log = health->if_contains("Log"); log != nullptr && log->is_array() && !log->get_array().empty() &&
                                                          log->get_array().back().is_object()) {
          last = string_field(log->get_array().back().get_object(), "Output").substr(0, 200);
        }
        co_return "the healthcheck failed" + (last.empty() ? std::string() : ": " + last);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (!has_healthcheck) co_return std::string();  // ran the whole settle time
      co_return "not healthy within " + std::to_string(timeout.count()) + " s";
    }
    pause.expires_after(500ms);
    co_await pause.async_wait(use_tuple);
  }
}

}  // namespace dockmon::agent
