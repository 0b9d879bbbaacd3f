// Opening Docker's events stream: connect and read the answer's head under the request timeout,
// then no deadline, since the stream stays open for as long as the engine runs.
#include "dockmon/docker/client.hpp"

#include "http_io.hpp"

namespace dockmon::docker {

namespace {

template <class Stream>
net::awaitable<result<std::unique_ptr<event_stream>>> open_on(net::any_io_executor ex, const endpoint& ep,
                                                              const client_options& options, ssl::context* tls,
                                                              http::request<http::string_body> req) {
  auto stream = co_await detail::open_stream<Stream>(std::move(ex), ep, options, tls);
  if (!stream) co_return stream.error();
  auto events = std::make_unique<detail::basic_event_stream<Stream>>(std::move(*stream));
  if (auto w = co_await detail::write_request(events->stream(), req); !w) co_return w.error();
  if (auto head = co_await events->read_head(); !head) co_return head.error();
  beast::get_lowest_layer(events->stream()).expires_never();
  co_return std::unique_ptr<event_stream>(std::move(events));
}

}  // namespace

net::awaitable<result<std::unique_ptr<event_stream>>> event_stream::open(client& c, std::string since) {
  std::string target = "/" + c.options_.api_version + "/events?filters=" +
                       detail::url_encode(R"({"type":["container"]})");
  if (!since.empty()) target += "&since=" + detail::url_encode(since);
  auto req = detail::make_request(http::verb::get, std::move(target), {});
  auto open_over = [&]<class Stream>() {
    return open_on<Stream>(c.executor_, c.endpoint_, c.options_, c.tls_.get(), std::move(req));
  };
  auto opened = detail::with_stream_type(c.endpoint_, c.tls_.get(), open_over);
  co_return co_await std::move(opened);
}

}  // namespace dockmon::docker
