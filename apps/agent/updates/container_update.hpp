// Rolling update of one container to a new image (update_container): pull, recreate with the same
// configuration under the same name, check health, and roll back to the original on any failure.
// Every stage is reported as an update_progress event; the end as update_complete or failed+rollback.
#pragma once

#include "dockmon/docker/client.hpp"

#include <chrono>
#include <functional>
#include <set>
#include <string>

namespace dockmon::agent {

struct update_request {
  std::string container;  // id or name, validated
  docker::image_ref image;
  std::string image_text;  // as asked, for messages
  std::chrono::seconds stop_timeout{10};
  std::chrono::seconds health_timeout{60};
  std::string registry_auth;  // X-Registry-Auth value; never logged
};

// Parses update_container's payload {container_id,new_image,stop_timeout,health_timeout,registry_auth};
// the error text says what is wrong.
struct parsed_update {
  std::optional<update_request> request;
  std::string error;
};
parsed_update parse_update_payload(const json::object& payload);

class container_updater {
 public:
  // emit: sends one event frame (update_progress, update_complete) towards the server.
  container_updater(net::any_io_executor ex, docker::client& docker, std::function<void(std::string)> emit)
      : executor_(std::move(ex)), docker_(docker), emit_(std::move(emit)) {}

  // Starts the update in the background. False (and nothing started) when one is already running for
  // that container.
  bool start(update_request request);

  // The time a container must keep running, without restarting, when it has no healthcheck.
  static constexpr std::chrono::seconds settle_time{5};

 private:
  net::awaitable<void> run(update_request request);
  net::awaitable<std::string> wait_until_healthy(const std::string& id, bool has_healthcheck, std::chrono::seconds timeout);
  void progress(const std::string& container_id, std::string_view stage, std::string message, std::string error = {});

  net::any_io_executor executor_;
  docker::client& docker_;
  std::function<void(std::string)> emit_;
  std::set<std::string> running_;  // container refs and ids being updated
};

}  // namespace dockmon::agent
