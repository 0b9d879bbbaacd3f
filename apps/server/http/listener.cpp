// The accept loop.
#include "http/listener.hpp"

#include "http/http_session.hpp"

#include "dockmon/common/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace dockmon::server {

net::ip::tcp::acceptor bind_listener(net::any_io_executor ex, const host_port& where) {
  error_code ec;
  auto address = net::ip::make_address(where.host.empty() ? "0.0.0.0" : where.host, ec);
  if (ec) throw config_error("--listen/DOCKMON_LISTEN", "'" + where.host + "' is not an IP address");
  net::ip::tcp::endpoint endpoint(address, where.port);
  net::ip::tcp::acceptor acceptor(ex);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(endpoint, ec);
  if (ec) throw config_error("--listen/DOCKMON_LISTEN", "cannot listen on " + endpoint.address().to_string() + ":" +
                                                            std::to_string(endpoint.port()) + ": " + ec.message());
  acceptor.listen(net::socket_base::max_listen_connections);
  return acceptor;
}

namespace {
void log_session_end(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("session ended with an error: {}", ex.what());
  }
}
}  // namespace

net::awaitable<void> accept_loop(server_context& ctx, net::ip::tcp::acceptor acceptor) {
  // Out of descriptors (EMFILE and its kin) the listening socket stays readable: retrying at once would
  // spin a core. Wait, longer each time, until an accept succeeds again.
  auto pause = std::chrono::milliseconds(0);
  net::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) {
      pause = std::clamp(pause * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
      log_refusal("accept failed: {}; pausing {} ms", ec.message(), pause.count());
      backoff.expires_after(pause);
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    pause = std::chrono::milliseconds(0);
    error_code peer_ec;
    auto peer = socket.remote_endpoint(peer_ec);
    const std::string address = peer_ec ? std::string("unknown") : peer.address().to_string();
    auto slot = ctx.door.admit(address);
    if (!slot) {
      // Over a cap: closed before a byte is read, so a flood costs a descriptor for an instant only.
      log_refusal("connection from {} refused: {} connections open, caps {} in all and {} per address", address,
                  ctx.door.open_connections(), ctx.config.max_connections, ctx.config.max_connections_per_address);
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    error_code ignored;
    socket.set_option(net::ip::tcp::no_delay(true), ignored);
    net::co_spawn(acceptor.get_executor(), run_http_session(ctx, std::move(socket), std::move(*slot)), log_session_end);
  }
}

}  // namespace dockmon::server
