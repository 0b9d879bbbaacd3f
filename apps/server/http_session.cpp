// HTTP sessions: bounded reads with deadlines, routing to the REST API, hand-off of agent upgrades.
#include "http_session.hpp"

#include "agent_session.hpp"
#include "browser_feed.hpp"
#include "rest_api.hpp"

#include <spdlog/spdlog.h>

#include <array>

namespace dockmon::server {

namespace {
using namespace std::chrono_literals;
constexpr std::size_t max_request_body = 1024 * 1024;
constexpr std::size_t max_request_header = 16 * 1024;
constexpr auto request_deadline = 30s;  // the whole request, headers and body: slow clients are cut off
constexpr auto keep_alive_idle = 60s;
constexpr auto tls_handshake_deadline = 10s;

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

template <class Stream>
net::awaitable<void> serve_http(server_context& ctx, Stream stream, std::string peer) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_request_body);
    parser.header_limit(max_request_header);
    beast::get_lowest_layer(stream).expires_after(first ? request_deadline : keep_alive_idle);
    first = false;
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted)
      break;
    if (ec) {
      // Oversized or malformed input gets a clear answer before the connection closes.
      http::request<http::string_body> dummy{http::verb::get, "/", 11};
      dummy.keep_alive(false);
      auto status = ec == http::error::body_limit || ec == http::error::header_limit ? http::status::payload_too_large
                                                                                      : http::status::bad_request;
      auto res = error_response(dummy, status, "malformed or oversized request: " + ec.message());
      beast::get_lowest_layer(stream).expires_after(5s);
      co_await http::async_write(stream, res, use_tuple);
      // Lingering close: drop what the client is still sending (up to 8 MiB or 2 s), or closing with
      // unread data would reset the connection and the client would never read the answer.
      shutdown_send(stream);
      beast::get_lowest_layer(stream).expires_after(2s);
      std::array<char, 16384> discard{};
      std::size_t dropped = 0;
      while (dropped < 8 * 1024 * 1024) {
        auto [read_ec, got] = co_await stream.async_read_some(net::buffer(discard), use_tuple);
        if (read_ec) break;
        dropped += got;
      }
      co_return;
    }
    auto req = parser.release();
    if (websocket::is_upgrade(req)) {
      std::string_view target = req.target();
      if (target == "/api/agent/ws" || target.rfind("/api/agent/ws?", 0) == 0) {
        if (!may_open_agent_socket(ctx, stream)) {
          spdlog::warn("agent connection from {} refused: no client certificate signed by --client-ca", peer);
          auto res = error_response(req, http::status::forbidden, "agents must present a client certificate signed by the server's --client-ca");
          res.keep_alive(false);
          co_await http::async_write(stream, res, use_tuple);
          break;
        }
        co_await run_agent_session(ctx, std::move(stream), std::move(req));
        co_return;
      }
      if (target == "/ws" || target.rfind("/ws?", 0) == 0) {
        co_await run_browser_feed(ctx, std::move(stream), std::move(req));
        co_return;
      }
      auto res = error_response(req, http::status::not_found, "no WebSocket endpoint here");
      res.keep_alive(false);
      co_await http::async_write(stream, res, use_tuple);
      break;
    }
    bool keep_alive = req.keep_alive();
    auto res = co_await handle_request(ctx, std::move(req), peer);
    res.set(http::field::server, "dockmon-server/" DOCKMON_VERSION);
    // Nothing may be framed or sniffed into another type.
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    // The API answers JSON: nothing may run. The UI's pages bring their own, wider policy.
    if (res.find("Content-Security-Policy") == res.end())
      res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.set("Referrer-Policy", "no-referrer");
    res.set("Cross-Origin-Resource-Policy", "same-origin");
    beast::get_lowest_layer(stream).expires_after(request_deadline);
    auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
    if (write_ec || !keep_alive) break;
  }
  shutdown_send(stream);
}

}  // namespace

net::awaitable<void> run_http_session(server_context& ctx, net::ip::tcp::socket socket) {
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
