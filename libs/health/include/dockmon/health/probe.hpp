// One health probe, as the agent runs it from the host and the server runs it for `check_from: server`:
// an HTTP(S) request whose status must be one of the expected codes, or a TCP port that must accept.
// Every probe ends by its timeout (name lookup, connect, TLS, request and answer together), reads at
// most the answer's header (16 KiB), and follows at most five redirects.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/protocol/health_check.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockmon::health {

// scheme://host[:port][/path?query], scheme http, https or tcp (tcp needs a port).
struct target {
  std::string scheme;
  std::string host;  // an IPv6 address without its brackets
  std::string port;
  std::string path;  // "/" when the URL has none
};
std::optional<target> parse_target(std::string_view url);

struct probe_request {
  std::string url;
  http::verb method = http::verb::get;
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization among them when the check has auth
  std::chrono::milliseconds timeout{10000};
  bool follow_redirects = true;
  bool verify_tls = true;
  protocol::status_codes codes;
};
// What a checked config asks for. The URL is taken as it is: `{container}` is the caller's to resolve.
probe_request request_of(const protocol::health_check_config& c);

struct probe_outcome {
  bool healthy = false;
  int status_code = 0;  // 0 when there was no HTTP answer (and for TCP checks)
  std::int64_t response_time_ms = 0;
  std::string error;  // why it is unhealthy; empty when healthy
};

class prober {
 public:
  explicit prober(net::any_io_executor ex) : executor_(std::move(ex)) {}
  net::awaitable<probe_outcome> run(const probe_request& request);

 private:
  ssl::context& tls(bool verify);

  net::any_io_executor executor_;
  // Made at the first https check: loading the system's CA store costs memory.
  std::optional<ssl::context> verifying_, trusting_;
};

}  // namespace dockmon::health
