// A request for a host another replica holds, sent on to that replica and its answer relayed: the
// caller sees the same statuses and bodies as from a single server. The holder checks the caller's
// credentials and role again (they travel with the request), so nothing is trusted for coming from a
// replica; the forwarded header only keeps a request from being sent on twice.
#pragma once

#include "core/answers.hpp"
#include "dockmon/common/net.hpp"
#include "dockmon/common/sealing.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/store/store.hpp"

#include <chrono>
#include <string>

namespace dockmon::server {

struct host_and_port {
  std::string host;
  std::string port;
};

// "http://10.0.0.5:8080" -> {10.0.0.5, 8080}; config checked the form when the replica started.
host_and_port split_replica_address(std::string_view address);


// Where a forwarded request comes from: this replica's id, the client's address, and the same address
// vouched for (vouch_for), so that the replica it goes to counts the client, not this replica, in its
// limits and audit.
struct forward_origin {
  std::string from;
  std::string client;
  std::string vouch;
};

// 502 when the holder cannot be reached or breaks off, 504 when it does not answer within `timeout`;
// never waits longer.
net::awaitable<response> forward_request(net::any_io_executor ex, const request& req, const store::replica_place& to,
                                         const forward_origin& origin, std::chrono::milliseconds timeout);

// The client's address sealed with the replicas' shared key (secrets.key) and the time: a header only
// a replica can make. vouched_client reads it back when it is fresh (30 s), else nullopt.
std::string vouch_for(const secret_box& box, const std::string& client, sys_clock::time_point now);
std::optional<std::string> vouched_client(const secret_box& box, const request& req, sys_clock::time_point now);

// The largest answer relayed (a container's logs are the longest).
inline constexpr std::size_t max_forwarded_answer = 64 * 1024 * 1024;

}  // namespace dockmon::server
