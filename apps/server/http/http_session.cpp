// HTTP sessions: bounded reads with deadlines, the web UI's files and the REST API, hand-off of agent upgrades.
#include "http/http_session.hpp"

#include "agents/agent_session.hpp"
#include "api/agent_builds.hpp"
#include "api/router.hpp"
#include "auth/auth.hpp"
#include "dockmon/common/log.hpp"
#include "http/web_ui.hpp"
#include "replicas/forward.hpp"
#include "telemetry/browser_feed.hpp"

#include <spdlog/spdlog.h>

#include <array>

namespace dockmon::server {

namespace {
using namespace std::chrono_literals;
constexpr std::size_t max_request_body = 1024 * 1024;
// Signing in needs a few hundred bytes; a larger body is read only for someone whose credentials hold,
// so that strangers cannot make the server take in a megabyte per connection.
constexpr std::size_t unauthenticated_body_limit = 64 * 1024;
constexpr std::size_t max_request_header = 16 * 1024;
constexpr auto request_deadline = 30s;  // the whole request, headers and body: slow clients are cut off
constexpr auto keep_alive_idle = 60s;
constexpr auto tls_handshake_deadline = 10s;
constexpr auto agent_build_deadline = 5min;  // 64 MiB up from an admin or down to an agent on a slow link

void shutdown_send(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}
// TLS: the close_notify is skipped; every answer is delimited by its Content-Length anyway.
void shutdown_send(beast::ssl_stream<beast::tcp_stream>& stream) { shutdown_send(beast::get_lowest_layer(stream)); }

bool may_open_agent_socket(server_context& ctx, beast::tcp_stream&) { return !ctx.tls.agents_need_client_cert; }
bool may_open_agent_socket(server_context& ctx, beast::ssl_stream<beast::tcp_stream>& stream) {
  return !ctx.tls.agents_need_client_cert || peer_certificate_verified(stream.native_handle());
}

// The same headers on every answer: the API answers JSON, text and agent builds only, and nothing in it
// may be framed, sniffed, or run as a page.
template <class Body>
void set_common_headers(http::response<Body>& res, bool https) {
  res.set(http::field::server, "dockmon-server/" DOCKMON_VERSION);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  // The API answers JSON: nothing may run. The UI's pages bring their own, wider policy.
  if (res.find("Content-Security-Policy") == res.end())
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
  // Browsers that reached us over HTTPS never try plain HTTP again (a year; not for other subdomains).
  if (https) res.set(http::field::strict_transport_security, "max-age=31536000");
}

struct read_result {
  error_code ec;
  bool needs_credentials = false;  // a large body without valid credentials: refused before it is read
};

// Reads the header, lets an admin's agent-build upload (only) send up to 64 MiB, then reads the body.
// Beast compares Content-Length with the limit as the header ends, so the header is read under the large
// limit and everyone but that admin is held to the small one before a byte of the body is read.
template <class Stream>
net::awaitable<read_result> read_request(server_context& ctx, Stream& stream, beast::flat_buffer& buffer,
                                         http::request_parser<http::string_body>& parser) {
  parser.body_limit(max_agent_build_bytes);
  auto [header_ec, header_n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (header_ec) co_return read_result{header_ec};
  if (parser.is_done()) co_return read_result{};
  const bool large = co_await may_send_agent_build(ctx, parser.get());
  if (large) {
    beast::get_lowest_layer(stream).expires_after(agent_build_deadline);
  } else {
    parser.body_limit(max_request_body);
    const auto length = parser.content_length();
    if (length.value_or(0) > max_request_body) co_return read_result{error_code(http::error::body_limit)};
    if (!length || *length > unauthenticated_body_limit) {
      auto who = co_await authenticate(ctx, parser.get());
      if (!who) co_return read_result{{}, true};
    }
  }
  // curl asks before it sends a large body; without an answer it waits a second and sends anyway.
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
    co_await http::async_write(stream, go_on, use_tuple);
  }
  auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, use_tuple);
  co_return read_result{body_ec};
}

// Answers and ends the connection without reading what the client is still sending: a lingering close
// drops up to 8 MiB or 2 s of it, or closing with unread data would reset the connection and the client
// would never read the answer.
template <class Stream>
net::awaitable<void> answer_and_close(Stream& stream, response res) {
  res.keep_alive(false);
  beast::get_lowest_layer(stream).expires_after(5s);
  co_await http::async_write(stream, res, use_tuple);
  shutdown_send(stream);
  beast::get_lowest_layer(stream).expires_after(2s);
  std::array<char, 16384> discard{};
  std::size_t dropped = 0;
  while (dropped < 8 * 1024 * 1024) {
    auto [read_ec, got] = co_await stream.async_read_some(net::buffer(discard), use_tuple);
    if (read_ec) break;
    dropped += got;
  }
}

template <class Stream>
net::awaitable<void> serve_http(server_context& ctx, Stream stream, std::string peer) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_request_header);
    beast::get_lowest_layer(stream).expires_after(first ? request_deadline : keep_alive_idle);
    first = false;
    const auto [ec, needs_credentials] = co_await read_request(ctx, stream, buffer, parser);
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted)
      break;
    if (ec || needs_credentials) {
      // Oversized, malformed or unauthenticated input gets a clear answer before the connection closes.
      http::request<http::string_body> dummy{http::verb::get, "/", 11};
      auto status = ec == http::error::body_limit || ec == http::error::header_limit ? http::status::payload_too_large
                                                                                      : http::status::bad_request;
      auto res = needs_credentials
                     ? error_response(dummy, http::status::unauthorized,
                                      "authentication required before a body of more than 64 KiB: sign in or send an API key")
                     : error_response(dummy, status, "malformed or oversized request: " + ec.message());
      set_common_headers(res, ctx.door.browsers_use_https());
      co_await answer_and_close(stream, std::move(res));
      co_return;
    }
    auto req = parser.release();
    if (!ctx.door.host_allowed(req)) {
      // A page whose DNS name was rebound to 127.0.0.1 would otherwise be same-origin with the API.
      log_refusal("request for Host '{}' refused on a loopback listener", log_text(req[http::field::host], 80));
      auto res = error_response(req, http::status::misdirected_request,
                                "this server answers to localhost and its --public-url only, not to that Host");
      set_common_headers(res, ctx.door.browsers_use_https());
      co_await answer_and_close(stream, std::move(res));
      co_return;
    }
    // A request another replica sent on names its client, sealed with the key the replicas share.
    const auto client = vouched_client(ctx.secrets, req, sys_clock::now()).value_or(ctx.door.client_address(peer, req));
    if (websocket::is_upgrade(req)) {
      std::string_view target = req.target();
      if (target == "/api/agent/ws" || target.rfind("/api/agent/ws?", 0) == 0) {
        if (!may_open_agent_socket(ctx, stream)) {
          log_refusal("agent connection from {} refused: no client certificate signed by --client-ca", peer);
          auto res = error_response(req, http::status::forbidden, "agents must present a client certificate signed by the server's --client-ca");
          res.keep_alive(false);
          co_await http::async_write(stream, res, use_tuple);
          break;
        }
        co_await run_agent_session(ctx, std::move(stream), std::move(req));
        co_return;
      }
      if (target == "/ws" || target.rfind("/ws?", 0) == 0) {
        co_await run_browser_feed(ctx, std::move(stream), std::move(req), client);
        co_return;
      }
      auto res = error_response(req, http::status::not_found, "no WebSocket endpoint here");
      res.keep_alive(false);
      co_await http::async_write(stream, res, use_tuple);
      break;
    }
    bool keep_alive = req.keep_alive();
    if (req.method() == http::verb::get && req.target().starts_with(agent_build_download_prefix)) {
      // A file of up to 64 MiB, streamed from disk rather than held in memory; then the connection ends.
      auto download = co_await download_agent_build(ctx, req);
      if (download.file) {
        set_common_headers(*download.file, ctx.door.browsers_use_https());
        beast::get_lowest_layer(stream).expires_after(agent_build_deadline);
        co_await http::async_write(stream, *download.file, use_tuple);
        break;
      }
      set_common_headers(download.error, ctx.door.browsers_use_https());
      beast::get_lowest_layer(stream).expires_after(request_deadline);
      co_await http::async_write(stream, download.error, use_tuple);
      break;
    }
    // The UI's own files first (GET and HEAD only), then the REST API.
    const std::string_view path = req.target().substr(0, req.target().find('?'));
    std::optional<response> answer = serve_web_ui(req, path);
    if (!answer) answer = co_await handle_request(ctx, std::move(req), client);
    auto& res = *answer;
    set_common_headers(res, ctx.door.browsers_use_https());
    beast::get_lowest_layer(stream).expires_after(request_deadline);
    auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
    if (write_ec || !keep_alive) break;
  }
  shutdown_send(stream);
}

}  // namespace

net::awaitable<void> run_http_session(server_context& ctx, net::ip::tcp::socket socket, front_door::slot slot) {
  [[maybe_unused]] const auto held = std::move(slot);  // given back when the session ends, however it ends
  std::string peer;
  {
    error_code ec;
    auto ep = socket.remote_endpoint(ec);
    peer = ec ? std::string("unknown") : ep.address().to_string();
  }
  if (!ctx.tls.context) {
    co_await serve_http(ctx, beast::tcp_stream(std::move(socket)), std::move(peer));
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *ctx.tls.context);
  // A client that never finishes the handshake is cut off like a slow request.
  beast::get_lowest_layer(stream).expires_after(tls_handshake_deadline);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  if (ec) {
    spdlog::debug("TLS handshake with {} failed: {}", peer, ec.message());
    co_return;
  }
  co_await serve_http(ctx, std::move(stream), std::move(peer));
}

}  // namespace dockmon::server
