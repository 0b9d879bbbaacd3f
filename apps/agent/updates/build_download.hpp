// An agent build fetched from the agent's own server over HTTP(S) into a file, with a size cap and a
// deadline, through the same dialing and TLS trust as the agent's WebSocket.
#pragma once

#include "core/config.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::agent {

// The request target on the agent's server for a self_update's binary_url: a path ("/api/...", put under
// DOCKMON_URL's path prefix) or an http(s) URL that names the server itself (same scheme, host and
// port). nullopt for anything else: the agent fetches builds from nowhere but its server, so a server
// cannot make it reach into the host's network, and the download is as private as the WebSocket.
std::optional<std::string> server_target(const server_url& server, std::string_view binary_url);

struct download_limits {
  std::size_t max_bytes = 64 * 1024 * 1024;
  std::chrono::seconds timeout{300};  // for the whole download
};

// GETs `target` from the server into `file` (replaced). Empty on success; else why, and no file is left.
net::awaitable<std::string> download_build(net::any_io_executor ex, const agent_config& config, std::string target,
                                           std::string file, download_limits limits = {});

}  // namespace dockmon::agent
