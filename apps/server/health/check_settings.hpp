// A health check as users write it (DESIGN.md section 11: {url, method, expected_status, headers, auth,
// interval_s, ...} or {type:"tcp", address}), as it is stored (settings as JSON, headers and credentials
// sealed), and as the API shows it (credentials masked). Every field is checked by the same rules an agent
// applies to DockMon's frames (libs/protocol/health_check).
#pragma once

#include "dockmon/common/sealing.hpp"
#include "dockmon/protocol/health_check.hpp"
#include "dockmon/store/store.hpp"

#include <optional>
#include <string>
#include <variant>

namespace dockmon::server {

inline constexpr std::string_view masked_secret = "********";

struct check_settings {
  protocol::health_check_config config;  // container_id and host_id empty: the book fills them per push
  std::string check_from = "agent";      // or "server": the server probes (hosts whose agent cannot reach it)
};

// A request body, checked; `previous` gives the values of masked secrets left as they were. The error
// names the field.
std::variant<check_settings, std::string> parse_check_body(const json::object& body, const check_settings* previous);

// The stored row and back; nullopt when the row cannot be read (a sealed part under another key).
store::health_check_record to_record(const std::string& host_id, const std::string& container_name, const check_settings& s,
                                     const secret_box& box, const std::string& updated_at);
std::optional<check_settings> from_record(const store::health_check_record& r, const secret_box& box);

// What the API shows: the body's fields, with header values and passwords masked.
json::object settings_json(const check_settings& s);

}  // namespace dockmon::server
