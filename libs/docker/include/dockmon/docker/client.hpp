// Docker Engine API client: HTTP/1.1 over the unix socket, TCP or TCP with TLS, one connection per
// request, plus the long-lived events stream. Knows nothing of DockMon's wire format.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/docker/container_spec.hpp"
#include "dockmon/docker/error.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::docker {

// Where the engine is: DOCKER_HOST as the Docker CLI reads it (unix:///path or tcp://host:port).
struct endpoint {
  enum class kind { unix_socket, tcp };
  kind type = kind::unix_socket;
  std::string path;  // unix socket path
  std::string host;  // tcp host
  std::string port;  // tcp port
  std::string describe() const;
};

// Throws config_error("DOCKER_HOST", ...) on a malformed value.
endpoint parse_docker_host(std::string_view docker_host);

// TLS to a tcp:// engine as the Docker CLI sets it up: DOCKER_TLS_VERIFY checks the engine against
// ca.pem and presents cert.pem/key.pem; DOCKER_TLS alone encrypts without checking the engine.
struct tls_options {
  std::string ca_file;    // PEM CA the engine's certificate must chain to (used when verify)
  std::string cert_file;  // PEM client certificate shown to the engine; empty for none
  std::string key_file;   // its private key
  bool verify = true;     // also checks that the certificate names the host (or IP) dialled
};

struct client_options {
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // larger answers fail with errc::too_large
  std::string api_version = "v1.41";              // Docker 20.10; every call is prefixed with it
  std::optional<tls_options> tls;                 // tcp:// only; a unix socket ignores it
};

// Container names and ids as Docker accepts them in a path; refuses anything that could change the URL.
using dockmon::valid_container_ref;

class client {
 public:
  // Loads the TLS files at once: throws config_error("DOCKER_CERT_PATH", ...) naming a file that does
  // not load.
  client(net::any_io_executor ex, endpoint ep, client_options options = {});

  const endpoint& where() const { return endpoint_; }

  // GET /info and GET /version: the JSON objects as Docker sends them.
  net::awaitable<result<json::object>> info();
  net::awaitable<result<json::object>> version();

  // GET /containers/json?all=1: Docker's summaries, every state.
  net::awaitable<result<json::array>> list_containers(bool all = true);
  // GET /containers/{id}/json.
  net::awaitable<result<json::object>> inspect_container(std::string_view id);

  net::awaitable<result<void>> start_container(std::string_view id);
  // timeout in seconds before Docker kills; nullopt leaves Docker's default.
  net::awaitable<result<void>> stop_container(std::string_view id, std::optional<int> timeout_s);
  net::awaitable<result<void>> restart_container(std::string_view id, std::optional<int> timeout_s);
  net::awaitable<result<void>> kill_container(std::string_view id, std::string_view signal = "SIGKILL");
  net::awaitable<result<void>> rename_container(std::string_view id, std::string_view new_name);
  net::awaitable<result<void>> remove_container(std::string_view id, bool force);

  // GET /containers/{id}/stats?stream=false&one-shot=true: one stats answer without the daemon's 1 s wait
  // (so precpu_stats is empty); for hosts whose cgroup files the agent cannot read.
  net::awaitable<result<json::object>> container_stats_once(std::string_view id);

  // Last `tail` lines of stdout and stderr as text, in order; works for TTY and multiplexed streams.
  // At most max_bytes are kept (the newest); tail is capped at 10000.
  net::awaitable<result<std::string>> container_logs(std::string_view id, unsigned tail, std::size_t max_bytes);

  // Images and recreating containers (images.cpp).
  // POST /images/create: pulls ref, calling on_progress for every progress line; an error line or status
  // fails it. registry_auth is the X-Registry-Auth value (base64url of the credentials JSON) or empty;
  // it is sent and never logged. The whole pull must finish within `timeout`.
  net::awaitable<result<void>> pull_image(const image_ref& ref, std::string registry_auth,
                                          std::function<void(const pull_event&)> on_progress,
                                          std::chrono::milliseconds timeout);
  // GET /images/{ref}/json.
  net::awaitable<result<json::object>> inspect_image(std::string_view ref);
  // POST /containers/create?name=: returns the new container's id.
  net::awaitable<result<std::string>> create_container(std::string_view name, const json::object& body);
  // POST /networks/{network}/connect.
  net::awaitable<result<void>> connect_network(std::string_view network, std::string_view container,
                                               const json::object& endpoint_config);

  // Low level: one request, whole body. Used by the calls above; body is sent as JSON when not empty.
  // target is the path after the API version ("/containers/json"). A 4xx/5xx answer is errc::status
  // with Docker's message; any other status (304 included) comes back in the response.
  struct response {
    unsigned status = 0;
    std::string body;
  };
  net::awaitable<result<response>> request(http::verb method, std::string target, std::string body = {});

 private:
  friend class event_stream;
  net::any_io_executor executor_;
  endpoint endpoint_;
  client_options options_;
  std::shared_ptr<ssl::context> tls_;  // set when requests go over TLS
};

// GET /events?filters={"type":["container"]}&since=...: a long-lived chunked stream of JSON objects,
// one per line. next() waits for the next event; an error (engine gone, stream closed) ends the stream,
// after which the owner opens a new one with since set to the last event's time.
class event_stream {
 public:
  // since: unix seconds with nanoseconds as Docker takes it ("1700000000.123456789"), or empty for now.
  static net::awaitable<result<std::unique_ptr<event_stream>>> open(client& c, std::string since);
  virtual ~event_stream() = default;
  virtual net::awaitable<result<json::object>> next() = 0;
  // Call on the client's executor; a pending next() then returns errc::transport at once.
  virtual void close() = 0;
};

}  // namespace dockmon::docker
