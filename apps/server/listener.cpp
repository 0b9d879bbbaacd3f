// The accept loop.
#include "listener.hpp"

#include "http_session.hpp"

#include <spdlog/spdlog.h>

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
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    error_code ignored;
    socket.set_option(net::ip::tcp::no_delay(true), ignored);
    net::co_spawn(acceptor.get_executor(), run_http_session(ctx, std::move(socket)), log_session_end);
  }
}

}  // namespace dockmon::server
