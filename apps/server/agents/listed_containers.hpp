// An agent's list_containers answer (an array, or {"containers": [...]}, as agents differ), read once for
// the session (the series it may feed) and the health link (which container a checked name is now).
#pragma once

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/net.hpp"
#include "dockmon/common/validate.hpp"

#include <string>
#include <vector>

namespace dockmon::server {

struct listed_container {
  std::string id;    // a container id Docker would make
  std::string name;  // without Docker's leading '/'; empty when the entry has none a container could have
};

inline std::vector<listed_container> listed_containers(const json::value& payload) {
  const json::value* list = &payload;
  if (payload.is_object()) {
    if (auto* c = payload.get_object().if_contains("containers")) list = c;
  }
  std::vector<listed_container> out;
  if (!list->is_array()) return out;
  for (const auto& c : list->get_array()) {
    if (!c.is_object()) continue;
    listed_container entry{string_field(c.get_object(), "Id"), {}};
    if (!valid_container_id(entry.id)) continue;
    const auto* names = c.get_object().if_contains("Names");
    if (names != nullptr && names->is_array() && !names->get_array().empty() && names->get_array()[0].is_string()) {
      std::string name(names->get_array()[0].get_string());
      if (name.starts_with('/')) name.erase(0, 1);
      if (valid_container_name(name)) entry.name = std::move(name);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace dockmon::server
