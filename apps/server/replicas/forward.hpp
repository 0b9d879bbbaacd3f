// A request for a host another replica holds, sent on to that replica and its answer relayed: the
// caller sees the same statuses and bodies as from a single server. The holder checks the caller's
// credentials and role again (they travel with the request), so nothing is trusted for coming from a
// replica; the forwarded header only keeps a request from being sent on twice.
#pragma once

#include "core/answers.hpp"
#include "dockmon/common/net.hpp"

#include <chrono>
#include <string>

namespace dockmon::server {

struct host_and_port {
  std::string host;
  std::string port;
};

// "http://10.0.0.5:8080" -> {10.0.0.5, 8080}; config checked the form when the replica started.
host_and_port split_replica_address(std::string_view address);

struct forward_target {
  std::string replica_id;  // the holder's
  std::string address;     // http://host:port, as it recorded it (--replica-address)
};

// 502 when the holder cannot be reached or breaks off, 504 when it does not answer within `timeout`;
// never waits longer. from: this replica's id; peer: the client's address (X-Forwarded-For).
net::awaitable<response> forward_request(net::any_io_executor ex, const request& req, const forward_target& to,
                                         const std::string& from, const std::string& peer,
                                         std::chrono::milliseconds timeout);

// The largest answer relayed (a container's logs are the longest).
inline constexpr std::size_t max_forwarded_answer = 64 * 1024 * 1024;

}  // namespace dockmon::server
