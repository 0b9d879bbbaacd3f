// Parsing and questions of the allow-list.
#include "core/allow_list.hpp"

#include "dockmon/common/env.hpp"

#include <array>

namespace dockmon::agent {

namespace {
constexpr std::array<std::string_view, 5> reading = {"ping", "get_system_info", "list_containers", "inspect", "get_logs"};
// self_update replaces the agent itself: a host that is read-only for the server keeps its agent too.
constexpr std::array<std::string_view, 8> changing = {"start",  "stop",   "restart",          "kill",
                                                      "rename", "remove", "update_container", "self_update"};
}  // namespace

bool allow_list::known(std::string_view name) {
  for (auto n : reading)
    if (n == name) return true;
  return changes_state(name);
}

allow_list::allow_list() {
  for (auto n : reading) allowed_.emplace(n);
  for (auto n : changing) allowed_.emplace(n);
}

allow_list allow_list::parse(std::string_view text) {
  allow_list out;
  if (text == "all") return out;
  out.allowed_.clear();
  if (text == "read_only") {
    for (auto n : reading) out.allowed_.emplace(n);
    return out;
  }
  // ping is how the server tells the agent is alive: always allowed.
  out.allowed_.emplace("ping");
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      if (!allow_list::known(item))
        throw config_error("AGENT_ALLOW", "'" + std::string(item) +
                                              "' is not a command this agent knows; use all, read_only, or a comma list of "
                                              "ping, get_system_info, list_containers, inspect, get_logs, start, stop, "
                                              "restart, kill, rename, remove, update_container, self_update");
      out.allowed_.emplace(item);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool allow_list::changes_state(std::string_view name) {
  for (auto n : changing)
    if (n == name) return true;
  return false;
}

bool allow_list::read_only() const {
  for (auto n : changing)
    if (allows(n)) return false;
  return true;
}

std::string allow_list::describe() const {
  std::string out;
  for (const auto& n : allowed_) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace dockmon::agent
