// Checks shared by every boundary that passes names on to Docker.
#pragma once

#include <algorithm>
#include <string_view>

namespace dockmon {

// Container ids and names as Docker accepts them ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255), so nothing
// that could change a URL path or query (../, %2e, ?, #, spaces) ever reaches a Docker API path.
inline bool valid_container_ref(std::string_view id_or_name) {
  if (id_or_name.empty() || id_or_name.size() > 255) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(id_or_name.front())) return false;
  return std::all_of(id_or_name.begin(), id_or_name.end(), [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// A container id as an agent reports it: Docker's 64 lower-case hex digits, or the 12-digit short form
// DockMon's own agent uses in places. Anything else from an agent (say "../../<host>/containers/db") is
// dropped before it can reach a URL, the store or a page.
inline bool valid_container_id(std::string_view id) {
  if (id.size() != 64 && id.size() != 12) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A container name as Docker allows it, without the leading '/' of its API: the same rule as a reference.
inline bool valid_container_name(std::string_view name) { return valid_container_ref(name); }

}  // namespace dockmon
