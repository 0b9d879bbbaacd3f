// The agent's self-update in container mode (self_update {version, image, checksum, signature}): the image
// is named by its digest and signed by the operator; the agent pulls it, starts a copy of its own container
// from it (same configuration, same data volume, so the same identity), and hands over once the copy has
// registered with the server (the server then closes this agent's connection as replaced): the old
// container gives the copy its name and removes itself. When the copy does not register within the
// deadline, or exits, the copy is removed and this container carries on as it was.
#pragma once

#include "core/config.hpp"
#include "dockmon/docker/client.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::agent {

struct image_update_request {
  std::string version;
  docker::image_ref image;  // repository and "sha256:<digest>" as the tag
  std::string image_text;   // repository@sha256:<digest>, for messages
  std::string digest;       // lower-case hex
  std::string signature;    // base64 Ed25519 over signing::image_statement
};

struct parsed_image_update {
  std::optional<image_update_request> request;
  std::string error;
};
// Checks the payload: the image must be pinned by digest (repo@sha256:<hex>), and checksum, when given,
// must be the same digest. The error says which field is wrong.
parsed_image_update parse_image_update_payload(const json::object& payload);

// Empty when the operator signed this image as `version` for `arch`; else why not.
std::string verify_image(const image_update_request& request, const signing::public_key& key, const std::string& arch);

// The id of the container this process runs in, from the bind mounts Docker gives every container
// (/etc/hostname, /etc/hosts, /etc/resolv.conf come from .../containers/<id>/); nullopt outside one.
std::optional<std::string> container_id_from_mountinfo(std::string_view mountinfo);
// The same from /proc/self/mountinfo, or DOCKMON_CONTAINER_ID when it is set.
std::optional<std::string> own_container_id();

// True when `path` lies on one of the container's mounts (inspect's Mounts[].Destination), so that a
// copy of the container sees the same files.
bool on_a_mount(const json::object& inspect, std::string_view path);

// What the old container leaves in DATA_PATH for the copy: the copy reports "completed" once it has
// registered as the announced version.
struct handover_marker {
  std::string version;           // the copy's
  std::string previous_version;  // the old container's
  std::string from_container;    // the old container's id
  std::string started_at;
};

class container_handover {
 public:
  using progress_fn = std::function<void(std::string_view stage, std::string message, const std::string& version,
                                         std::string error)>;
  container_handover(net::any_io_executor ex, docker::client& docker, const agent_config& config, std::string own_id,
                     progress_fn progress);

  // Starts the update in the background; empty when it started, else why not.
  std::string start(image_update_request request);

  // Called when the connection to the server has ended, with the server's close reason.
  void on_connection_closed(std::string_view reason);
  // Returns at once, or once the copy has failed (the old container carries on). While a copy is taking
  // over, this agent must not dial again: its reconnection would push the copy off.
  net::awaitable<void> hold_while_handing_over();
  // Registered: a copy that took over reports "completed" (the marker names its version).
  void on_registered();

 private:
  net::awaitable<void> run(image_update_request request);
  // Empty when the copy registered within the deadline; else why not.
  net::awaitable<std::string> wait_for_copy(const std::string& copy_id);
  net::awaitable<void> take_over_name(std::string name, std::string copy_id);
  std::string marker_path() const { return config_.data_path + "/handover.json"; }

  net::any_io_executor executor_;
  docker::client& docker_;
  const agent_config& config_;
  std::string own_id_;
  progress_fn progress_;
  bool running_ = false;
  bool handing_over_ = false;  // a copy is up: no dialing until it has taken over or failed
  bool replaced_ = false;      // the server closed this agent's connection for a newer one of the same agent
};

}  // namespace dockmon::agent
