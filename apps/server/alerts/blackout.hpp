// Blackout windows: times, on a weekly schedule in the zone the people keeping it live in, when alerts
// still fire and are stored but nobody is told (a nightly backup that stops containers, a maintenance
// hour).
#pragma once

#include "alerts/alert_state.hpp"
#include "dockmon/common/net.hpp"
#include "dockmon/common/time_zone.hpp"

#include <array>
#include <string>
#include <variant>
#include <vector>

namespace dockmon::server::alerts {

struct blackout {
  std::string id;
  std::string name;
  std::array<bool, 7> days{};  // Monday first, in the zone's own time
  int start_minute = 0;        // from local midnight; the window starts on each chosen day ...
  int end_minute = 0;          // ... and ends then, on the next day when not after the start (equal: 24 h)
  std::shared_ptr<const time_zone> zone;
  std::vector<std::string> host_ids;  // empty: every host

  bool covers(const std::string& host_id, time_point now) const;
};

// From the API's and the store's JSON ({days:["mon",...], start:"22:00", end:"06:00", time_zone, hosts});
// the error says which field is wrong and what it takes.
std::variant<blackout, std::string> parse_blackout(std::string id, std::string name, const json::value& definition);
json::object definition_json(const blackout& b);

}  // namespace dockmon::server::alerts
