// Docker Engine API calls: one connection per request over the unix socket, TCP or TLS, each under
// options.request_timeout, with Docker's error statuses turned into dockmon::docker::error.
#include "dockmon/docker/client.hpp"

#include "dockmon/common/env.hpp"
#include "http_io.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <variant>

namespace dockmon::docker {

using namespace net::experimental::awaitable_operators;

std::string endpoint::describe() const {
  if (type == kind::unix_socket) return "unix://" + path;
  return "tcp://" + host + ":" + port;
}

endpoint parse_docker_host(std::string_view docker_host) {
  constexpr std::string_view unix_scheme = "unix://";
  constexpr std::string_view tcp_scheme = "tcp://";
  const auto bad = [&](std::string_view why) {
    return config_error("DOCKER_HOST", "'" + std::string(docker_host) + "' " + std::string(why) +
                                           "; use unix:///var/run/docker.sock or tcp://host:2375");
  };
  endpoint ep;
  if (docker_host.starts_with(unix_scheme)) {
    ep.type = endpoint::kind::unix_socket;
    ep.path = std::string(docker_host.substr(unix_scheme.size()));
    if (ep.path.empty() || ep.path.front() != '/') throw bad("needs an absolute socket path");
    return ep;
  }
  if (docker_host.starts_with(tcp_scheme)) {
    ep.type = endpoint::kind::tcp;
    auto rest = docker_host.substr(tcp_scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    std::string_view host;
    std::string_view port;
    if (rest.starts_with("[")) {
      const auto close = rest.find(']');
      if (close == std::string_view::npos) throw bad("has an unclosed [");
      host = rest.substr(1, close - 1);
      const auto after = rest.substr(close + 1);
      if (!after.empty() && after.front() != ':') throw bad("has text after ]");
      port = after.empty() ? std::string_view{} : after.substr(1);
    } else {
      const auto colon = rest.rfind(':');
      host = rest.substr(0, colon);
      port = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    if (host.empty()) throw bad("has no host");
    if (host.find_first_of("/?#@ ") != std::string_view::npos) throw bad("has a malformed host");
    // The CLI's default port for plain TCP.
    if (port.empty()) port = "2375";
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      throw bad("has a bad port");
    }
    ep.host = std::string(host);
    ep.port = std::string(port);
    return ep;
  }
  throw bad("is not a unix:// or tcp:// address");
}


namespace detail {

error make_error(errc code, std::string message) { return error{code, 0, std::move(message)}; }

error io_error(const error_code& ec, std::string_view during) {
  std::string what(during);
  if (ec == http::error::body_limit) return make_error(errc::too_large, what + ": the answer is larger than allowed");
  if (ec == beast::error::timeout) return make_error(errc::transport, what + ": Docker did not answer in time");
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == net::error::eof) {
    return make_error(errc::transport, what + ": Docker closed the connection");
  }
  if (ec.category() == error_code(http::error::bad_version).category()) {
    return make_error(errc::protocol, what + ": not valid HTTP (" + ec.message() + ")");
  }
  if (refused_client_certificate(ec)) {
    return make_error(errc::transport, what + ": the engine refused this client's TLS certificate, or the lack of one (" +
                                           ec.message() + "); cert.pem and key.pem must be signed by a CA it trusts");
  }
  return make_error(errc::transport, what + ": " + ec.message());
}

error status_error(unsigned status, std::string_view body) {
  std::string message;
  error_code ec;
  auto value = json::parse(body, ec);
  if (!ec && value.is_object()) {
    if (const auto* m = value.as_object().if_contains("message"); m != nullptr && m->is_string()) {
      message = std::string(m->as_string());
    }
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  error e;
  e.code = errc::status;
  e.http_status = status;
  e.message = "Docker answered " + std::to_string(status) + (message.empty() ? "" : ": " + message);
  return e;
}

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xF];
    }
  }
  return out;
}

http::request<http::string_body> make_request(http::verb method, std::string target, std::string body) {
  http::request<http::string_body> req{method, std::move(target), 11};
  // Docker ignores the host on a unix socket but HTTP/1.1 requires one.
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "dockmon");
  req.set(http::field::connection, "close");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

net::awaitable<result<void>> connect(unix_stream& stream, const endpoint& ep) {
  auto [ec] = co_await stream.async_connect(net::local::stream_protocol::endpoint(ep.path), use_tuple);
  if (ec) co_return io_error(ec, "connecting to Docker at " + ep.describe());
  co_return result<void>{};
}

net::awaitable<result<void>> connect(tcp_stream& stream, const endpoint& ep, std::chrono::milliseconds timeout) {
  // Name resolution is outside basic_stream's deadline, so it races its own timer.
  net::ip::tcp::resolver resolver(stream.get_executor());
  net::steady_timer timer(stream.get_executor(), timeout);
  auto outcome = co_await (resolver.async_resolve(ep.host, ep.port, use_tuple) || timer.async_wait(use_tuple));
  if (outcome.index() == 1) co_return make_error(errc::transport, "resolving " + ep.host + ": timed out");
  auto [rec, results] = std::get<0>(std::move(outcome));
  if (rec) co_return io_error(rec, "resolving " + ep.host);
  auto [ec, where] = co_await stream.async_connect(results, use_tuple);
  if (ec) co_return io_error(ec, "connecting to Docker at " + ep.describe());
  co_return result<void>{};
}

}  // namespace detail

namespace {

using detail::make_error;

template <class Stream>
net::awaitable<result<client::response>> exchange(net::any_io_executor ex, const endpoint& ep,
                                                  const client_options& options, ssl::context* tls,
                                                  http::request<http::string_body> req) {
  auto stream = co_await detail::open_stream<Stream>(std::move(ex), ep, options, tls);
  if (!stream) co_return stream.error();
  if (auto w = co_await detail::write_request(*stream, req); !w) co_return w.error();
  beast::flat_buffer buffer;
  co_return co_await detail::read_response(*stream, buffer, options.max_body_bytes);
}

template <class Stream>
net::awaitable<result<std::string>> fetch_logs(net::any_io_executor ex, const endpoint& ep,
                                               const client_options& options, ssl::context* tls,
                                               http::request<http::string_body> req, bool tty,
                                               std::size_t max_bytes) {
  auto stream = co_await detail::open_stream<Stream>(std::move(ex), ep, options, tls);
  if (!stream) co_return stream.error();
  if (auto w = co_await detail::write_request(*stream, req); !w) co_return w.error();
  beast::flat_buffer buffer;
  co_return co_await detail::read_logs_answer(*stream, buffer, options.max_body_bytes, tty, max_bytes);
}

result<json::object> parse_object(const client::response& r) {
  error_code ec;
  auto value = json::parse(r.body, ec);
  if (ec || !value.is_object()) return make_error(errc::protocol, "Docker's answer is not a JSON object");
  return std::move(value.as_object());
}

error refused_ref(std::string_view id) {
  return make_error(errc::invalid, "'" + std::string(id.substr(0, 64)) + "' is not a container id or name");
}

std::string container_path(std::string_view id, std::string_view action) {
  std::string path = "/containers/" + std::string(id);
  if (!action.empty()) path += "/" + std::string(action);
  return path;
}

}  // namespace

client::client(net::any_io_executor ex, endpoint ep, client_options options)
    : executor_(std::move(ex)), endpoint_(std::move(ep)), options_(std::move(options)) {
  if (endpoint_.type == endpoint::kind::tcp && options_.tls) tls_ = detail::make_tls_context(*options_.tls);
}

net::awaitable<result<client::response>> client::request(http::verb method, std::string target, std::string body) {
  auto req = detail::make_request(method, "/" + options_.api_version + target, std::move(body));
  auto exchange_over = [&]<class Stream>() {
    return exchange<Stream>(executor_, endpoint_, options_, tls_.get(), std::move(req));
  };
  auto answer = detail::with_stream_type(endpoint_, tls_.get(), exchange_over);
  co_return co_await std::move(answer);
}

net::awaitable<result<json::object>> client::info() {
  auto r = co_await request(http::verb::get, "/info");
  if (!r) co_return r.error();
  co_return parse_object(*r);
}

net::awaitable<result<json::object>> client::version() {
  auto r = co_await request(http::verb::get, "/version");
  if (!r) co_return r.error();
  co_return parse_object(*r);
}

net::awaitable<result<json::array>> client::list_containers(bool all) {
  auto r = co_await request(http::verb::get, all ? "/containers/json?all=1" : "/containers/json");
  if (!r) co_return r.error();
  error_code ec;
  auto value = json::parse(r->body, ec);
  if (ec || !value.is_array()) co_return make_error(errc::protocol, "Docker's container list is not a JSON array");
  co_return std::move(value.as_array());
}

net::awaitable<result<json::object>> client::inspect_container(std::string_view id) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  auto r = co_await request(http::verb::get, container_path(id, "json"));
  if (!r) co_return r.error();
  co_return parse_object(*r);
}

net::awaitable<result<void>> client::start_container(std::string_view id) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  // 304 (already running) is success: the container is in the state asked for.
  auto r = co_await request(http::verb::post, container_path(id, "start"));
  if (!r) co_return r.error();
  co_return result<void>{};
}

net::awaitable<result<void>> client::stop_container(std::string_view id, std::optional<int> timeout_s) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  if (timeout_s && *timeout_s < 0) co_return make_error(errc::invalid, "stop timeout must not be negative");
  std::string target = container_path(id, "stop");
  if (timeout_s) target += "?t=" + std::to_string(*timeout_s);
  // 304 (already stopped) is success, as for start.
  auto r = co_await request(http::verb::post, std::move(target));
  if (!r) co_return r.error();
  co_return result<void>{};
}

net::awaitable<result<void>> client::restart_container(std::string_view id, std::optional<int> timeout_s) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  if (timeout_s && *timeout_s < 0) co_return make_error(errc::invalid, "restart timeout must not be negative");
  std::string target = container_path(id, "restart");
  if (timeout_s) target += "?t=" + std::to_string(*timeout_s);
  auto r = co_await request(http::verb::post, std::move(target));
  if (!r) co_return r.error();
  co_return result<void>{};
}

net::awaitable<result<void>> client::kill_container(std::string_view id, std::string_view signal) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  const bool signal_ok = !signal.empty() && signal.size() <= 32 &&
                         std::all_of(signal.begin(), signal.end(),
                                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
  if (!signal_ok) co_return make_error(errc::invalid, "'" + std::string(signal.substr(0, 32)) + "' is not a signal name");
  auto r = co_await request(http::verb::post, container_path(id, "kill") + "?signal=" + std::string(signal));
  if (!r) co_return r.error();
  co_return result<void>{};
}

net::awaitable<result<void>> client::rename_container(std::string_view id, std::string_view new_name) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  if (!valid_container_ref(new_name)) {
    co_return make_error(errc::invalid, "'" + std::string(new_name.substr(0, 64)) + "' is not a valid container name");
  }
  auto r = co_await request(http::verb::post, container_path(id, "rename") + "?name=" + detail::url_encode(new_name));
  if (!r) co_return r.error();
  co_return result<void>{};
}

net::awaitable<result<void>> client::remove_container(std::string_view id, bool force) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  auto r = co_await request(http::verb::delete_, container_path(id, "") + (force ? "?force=1" : ""));
  if (!r) co_return r.error();
  co_return result<void>{};
}

net::awaitable<result<json::object>> client::container_stats_once(std::string_view id) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  auto r = co_await request(http::verb::get, container_path(id, "stats") + "?stream=false&one-shot=true");
  if (!r) co_return r.error();
  co_return parse_object(*r);
}

net::awaitable<result<std::string>> client::container_logs(std::string_view id, unsigned tail, std::size_t max_bytes) {
  if (!valid_container_ref(id)) co_return refused_ref(id);
  // The body is only framed when the container has no TTY, and only inspect says which.
  auto inspected = co_await inspect_container(id);
  if (!inspected) co_return inspected.error();
  bool tty = false;
  if (const auto* config = inspected->if_contains("Config"); config != nullptr && config->is_object()) {
    if (const auto* t = config->as_object().if_contains("Tty"); t != nullptr && t->is_bool()) tty = t->as_bool();
  }
  tail = std::min(tail, 10000U);
  auto req = detail::make_request(
      http::verb::get,
      "/" + options_.api_version + container_path(id, "logs") + "?stdout=1&stderr=1&tail=" + std::to_string(tail), {});
  auto fetch_over = [&]<class Stream>() {
    return fetch_logs<Stream>(executor_, endpoint_, options_, tls_.get(), std::move(req), tty, max_bytes);
  };
  auto logs = detail::with_stream_type(endpoint_, tls_.get(), fetch_over);
  co_return co_await std::move(logs);
}

}  // namespace dockmon::docker
