// Recreate specs from inspect answers, image references, pull progress lines.
#include "dockmon/docker/container_spec.hpp"

#include "dockmon/common/json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace dockmon::docker {

namespace {

const json::value* value_at(const json::object* o, std::string_view key) {
  return o == nullptr ? nullptr : o->if_contains(key);
}

bool same(const json::value* a, const json::value* b) {
  const bool a_empty = a == nullptr || a->is_null();
  const bool b_empty = b == nullptr || b->is_null();
  if (a_empty || b_empty) return a_empty == b_empty;
  return *a == *b;
}

// Entries of the container's list that the old image did not bring (Env: "K=V" strings).
json::array minus(const json::value* mine, const json::value* image) {
  json::array out;
  if (mine == nullptr || !mine->is_array()) return out;
  std::set<std::string> from_image;
  if (image != nullptr && image->is_array()) {
    for (const auto& v : image->get_array()) {
      if (v.is_string()) from_image.emplace(v.get_string());
    }
  }
  for (const auto& v : mine->get_array()) {
    if (!v.is_string() || !from_image.contains(std::string(v.get_string()))) out.push_back(v);
  }
  return out;
}

// Keys of the container's object whose value the old image did not set to the same (Labels, ExposedPorts).
json::object minus(const json::object* mine, const json::object* image) {
  json::object out;
  if (mine == nullptr) return out;
  for (const auto& [key, value] : *mine) {
    const auto* from_image = image == nullptr ? nullptr : image->if_contains(key);
    if (from_image == nullptr || *from_image != value) out[key] = value;
  }
  return out;
}

bool healthcheck_is_none(const json::value* h) {
  if (h == nullptr || !h->is_object()) return true;
  const auto* test = h->get_object().if_contains("Test");
  if (test == nullptr || !test->is_array() || test->get_array().empty()) return true;
  const auto& first = test->get_array()[0];
  return first.is_string() && first.get_string() == "NONE";
}

// An endpoint's settings as POST /containers/create and /networks/connect take them.
json::object endpoint_settings(const json::object& inspected, const std::string& short_id) {
  json::object out;
  for (const char* key : {"IPAMConfig", "Links", "DriverOpts", "MacAddress"}) {
    if (const auto* v = inspected.if_contains(key); v != nullptr && !v->is_null()) out[key] = *v;
  }
  if (const auto* aliases = inspected.if_contains("Aliases"); aliases != nullptr && aliases->is_array()) {
    json::array kept;
    // Docker adds the container's short id as an alias; the new container gets its own.
    for (const auto& a : aliases->get_array()) {
      if (!(a.is_string() && a.get_string() == short_id)) kept.push_back(a);
    }
    if (!kept.empty()) out["Aliases"] = std::move(kept);
  }
  return out;
}

}  // namespace

recreate_spec recreate_spec_for(const json::object& old_container, const json::object& old_image,
                                const json::object& new_image, std::string_view new_image_ref) {
  recreate_spec spec;
  const auto* config = object_field(old_container, "Config");
  const auto* image_config = object_field(old_image, "Config");
  const auto* new_image_config = object_field(new_image, "Config");
  const std::string id = string_field(old_container, "Id");
  const std::string short_id = id.substr(0, 12);
  auto& body = spec.create_body;
  body["Image"] = std::string(new_image_ref);

  if (config != nullptr) {
    // Taken as they are: how the container talks to its terminal and who it is on the network.
    for (const char* key : {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Domainname"}) {
      if (const auto* v = config->if_contains(key)) body[key] = *v;
    }
    // Docker names a container's host after its id unless told otherwise.
    if (auto hostname = string_field(*config, "Hostname"); !hostname.empty() && hostname != short_id) body["Hostname"] = hostname;
    // The user's own settings where they differ from what the old image supplied.
    for (const char* key : {"Cmd", "Entrypoint", "WorkingDir", "User", "StopSignal", "Healthcheck"}) {
      const auto* mine = config->if_contains(key);
      if (mine != nullptr && !mine->is_null() && !same(mine, value_at(image_config, key))) body[key] = *mine;
    }
    if (const auto* v = config->if_contains("StopTimeout"); v != nullptr && !v->is_null()) body["StopTimeout"] = *v;
    if (auto env = minus(config->if_contains("Env"), value_at(image_config, "Env")); !env.empty()) body["Env"] = std::move(env);
    const auto* image_labels = value_at(image_config, "Labels");
    const auto* image_ports = value_at(image_config, "ExposedPorts");
    auto labels = minus(object_field(*config, "Labels"), image_labels != nullptr && image_labels->is_object() ? &image_labels->get_object() : nullptr);
    if (!labels.empty()) body["Labels"] = std::move(labels);
    auto ports = minus(object_field(*config, "ExposedPorts"), image_ports != nullptr && image_ports->is_object() ? &image_ports->get_object() : nullptr);
    if (!ports.empty()) body["ExposedPorts"] = std::move(ports);
  }

  json::object host_config;
  if (const auto* hc = object_field(old_container, "HostConfig")) host_config = *hc;
  // Anonymous volumes (an image's VOLUME, or -v /path) would be new and empty: mount the old ones by name.
  json::array binds;
  if (const auto* b = host_config.if_contains("Binds"); b != nullptr && b->is_array()) binds = b->get_array();
  std::set<std::string> covered;
  for (const auto& b : binds) {
    if (!b.is_string()) continue;
    std::string_view text = b.get_string();
    const auto first = text.find(':');
    if (first == std::string_view::npos) continue;
    auto rest = text.substr(first + 1);
    covered.emplace(rest.substr(0, rest.find(':')));
  }
  if (const auto* m = host_config.if_contains("Mounts"); m != nullptr && m->is_array()) {
    for (const auto& mount : m->get_array()) {
      if (mount.is_object()) covered.emplace(string_field(mount.get_object(), "Target"));
    }
  }
  if (const auto* mounts = old_container.if_contains("Mounts"); mounts != nullptr && mounts->is_array()) {
    for (const auto& mount : mounts->get_array()) {
      if (!mount.is_object()) continue;
      const auto& o = mount.get_object();
      const auto destination = string_field(o, "Destination");
      if (string_field(o, "Type") != "volume" || destination.empty() || covered.contains(destination)) continue;
      const auto* rw = o.if_contains("RW");
      const bool read_only = rw != nullptr && rw->is_bool() && !rw->get_bool();
      binds.emplace_back(string_field(o, "Name") + ":" + destination + (read_only ? ":ro" : ""));
      covered.insert(destination);
    }
  }
  if (!binds.empty()) host_config["Binds"] = std::move(binds);
  body["HostConfig"] = std::move(host_config);

  // The network the container was created with goes in the create call; the others are connected after.
  const std::string mode = [&] {
    const auto* hc = object_field(old_container, "HostConfig");
    return hc == nullptr ? std::string() : string_field(*hc, "NetworkMode");
  }();
  if (const auto* settings = object_field(old_container, "NetworkSettings")) {
    if (const auto* networks = object_field(*settings, "Networks")) {
      for (const auto& [name, endpoint] : *networks) {
        if (!endpoint.is_object()) continue;
        auto ep = endpoint_settings(endpoint.get_object(), short_id);
        const bool primary = name == mode || (mode == "default" && name == "bridge");
        if (primary) {
          if (mode != "host" && mode != "none" && !mode.starts_with("container:")) {
            body["NetworkingConfig"] = json::object{{"EndpointsConfig", json::object{{name, std::move(ep)}}}};
          }
        } else {
          spec.extra_networks.emplace_back(std::string(name), std::move(ep));
        }
      }
    }
  }

  // The healthcheck that will run: the user's, else the new image's.
  const json::value* health = body.if_contains("Healthcheck");
  if (health == nullptr) health = value_at(new_image_config, "Healthcheck");
  if (!healthcheck_is_none(health)) spec.healthcheck = health->get_object();
  return spec;
}

std::optional<image_ref> parse_image_ref(std::string_view text) {
  if (text.empty() || text.size() > 512) return std::nullopt;
  for (unsigned char c : text) {
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/' || c == ':' || c == '@')) return std::nullopt;
  }
  image_ref out;
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    out.repository = std::string(text.substr(0, at));
    out.tag = std::string(text.substr(at));
  } else {
    // A colon after the last slash starts the tag; one before it is a registry's port.
    const auto slash = text.rfind('/');
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
      out.repository = std::string(text.substr(0, colon));
      out.tag = std::string(text.substr(colon + 1));
    } else {
      out.repository = std::string(text);
      out.tag = "latest";
    }
  }
  if (out.repository.empty() || out.tag.empty() || out.repository.front() == '/' || out.repository.back() == '/')
    return std::nullopt;
  return out;
}

pull_event parse_pull_event(const json::object& line) {
  pull_event e;
  e.layer = string_field(line, "id");
  e.status = string_field(line, "status");
  if (const auto* detail = object_field(line, "progressDetail")) {
    if (const auto* c = detail->if_contains("current"); c != nullptr && c->is_number()) e.current = c->to_number<std::uint64_t>();
    if (const auto* t = detail->if_contains("total"); t != nullptr && t->is_number()) e.total = t->to_number<std::uint64_t>();
  }
  e.error = string_field(line, "error");
  if (e.error.empty()) {
    if (const auto* detail = object_field(line, "errorDetail")) e.error = string_field(*detail, "message");
  }
  return e;
}

}  // namespace dockmon::docker
