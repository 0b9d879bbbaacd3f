// Opening Docker's events stream: connect and read the answer's head under the request timeout,
// then no deadline, since the stream stays open for as long as the engine runs.
#include "dockmon/docker/client.hpp"

#include "http_io.hpp"

namespace dockmon::docker {

namespace {

template <class Stream>
net::awaitable<result<std::unique_ptr<event_stream>>> open_on(net::any_io_executor ex, const endpoint& ep,
                                                              std::chrono::milliseconds timeout,
                                                              http::request<http::string_body> req) {
  auto events = std::make_unique<detail::basic_event_stream<Stream>>(Stream(std::move(ex)));
  auto& stream = events->stream();
  stream.expires_after(timeout);
  result<void> connected;
  if constexpr (std::is_same_v<Stream, detail::unix_stream>) {
    connected = co_await detail::connect(stream, ep);
  } else {
    connected = co_await detail::connect(stream, ep, timeout);
  }
  if (!connected) co_return connected.error();
  if (auto w = co_await detail::write_request(stream, req); !w) co_return w.error();
  if (auto head = co_await events->read_head(); !head) co_return head.error();
  stream.expires_never();
  co_return std::unique_ptr<event_stream>(std::move(events));
}

}  // namespace

net::awaitable<result<std::unique_ptr<event_stream>>> event_stream::open(client& c, std::string since) {
  std::string target = "/" + c.options_.api_version + "/events?filters=" +
                       detail::url_encode(R"({"type":["container"]})");
  if (!since.empty()) target += "&since=" + detail::url_encode(since);
  auto req = detail::make_request(http::verb::get, std::move(target), {});
  if (c.endpoint_.type == endpoint::kind::unix_socket) {
    co_return co_await open_on<detail::unix_stream>(c.executor_, c.endpoint_, c.options_.request_timeout, std::move(req));
  }
  co_return co_await open_on<detail::tcp_stream>(c.executor_, c.endpoint_, c.options_.request_timeout, std::move(req));
}

}  // namespace dockmon::docker
