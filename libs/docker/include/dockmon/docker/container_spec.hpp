// What recreating a container on another image needs, worked out from Docker's inspect answers: the
// body of POST /containers/create that carries the old container's whole configuration, and the parts
// that must follow the create call. Pure functions; the update procedure (the agent's) does the I/O.
#pragma once

#include "dockmon/common/net.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::docker {

struct recreate_spec {
  json::object create_body;  // Config fields, HostConfig, NetworkingConfig for the primary network
  // Networks beyond the first, each with its endpoint settings, for POST /networks/{id}/connect.
  std::vector<std::pair<std::string, json::object>> extra_networks;
  // The healthcheck the new container will run ({"Test":[...],...}), nullopt when it has none.
  std::optional<json::object> healthcheck;
};

// old_container: GET /containers/{id}/json of the container being replaced; old_image and new_image:
// GET /images/{ref}/json of the image it runs and of the one it moves to.
// Settings the user gave (env, command, entrypoint, working dir, user, labels, ports, healthcheck...)
// are carried; settings the old image supplied are left for the new image to supply (so a new image's
// PATH or CMD take effect). HostConfig is carried whole (binds, port bindings, restart policy, resource
// limits, DNS, extra hosts, capabilities, devices, log config, network mode); the old container's
// anonymous volumes are mounted by name so their data carries over.
recreate_spec recreate_spec_for(const json::object& old_container, const json::object& old_image,
                                const json::object& new_image, std::string_view new_image_ref);

// "registry:5000/team/app:v2" -> {"registry:5000/team/app", "v2"}; a digest ref keeps "@sha256:..." in
// the tag part; no tag means "latest". nullopt for text that is not an image reference.
struct image_ref {
  std::string repository;
  std::string tag;
};
std::optional<image_ref> parse_image_ref(std::string_view text);

// One line of POST /images/create's progress stream.
struct pull_event {
  std::string layer;   // "id" (a layer, or the tag for whole-image lines)
  std::string status;  // "Downloading", "Extracting", "Pull complete", ...
  std::uint64_t current = 0, total = 0;
  std::string error;  // non-empty: the pull failed
};
pull_event parse_pull_event(const json::object& line);

}  // namespace dockmon::docker
