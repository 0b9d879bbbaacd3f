// HTTP exchange with the engine, written over any Beast stream so that tests can drive it with a
// socket pair and recorded responses instead of a live dockerd.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/docker/client.hpp"
#include "dockmon/docker/stream_format.hpp"

#include <array>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockmon::docker::detail {

// basic_stream carries the deadline: one expires_after covers connect, write and read together.
template <class Protocol>
using stream_t = beast::basic_stream<Protocol, net::any_io_executor, beast::unlimited_rate_policy>;
using unix_stream = stream_t<net::local::stream_protocol>;
using tcp_stream = stream_t<net::ip::tcp>;
using tls_stream = beast::ssl_stream<tcp_stream>;

// Error bodies are a short JSON message; anything longer is cut rather than stored.
inline constexpr std::size_t max_error_body = 64 * 1024;

error make_error(errc code, std::string message);
// Maps an I/O or parse failure to transport, protocol or too_large; `during` names the step.
error io_error(const error_code& ec, std::string_view during);
// Docker's {"message":"..."} for a 4xx/5xx answer, as errc::status.
error status_error(unsigned status, std::string_view body);
std::string url_encode(std::string_view text);
http::request<http::string_body> make_request(http::verb method, std::string target, std::string body);

net::awaitable<result<void>> connect(unix_stream& stream, const endpoint& ep);
net::awaitable<result<void>> connect(tcp_stream& stream, const endpoint& ep, std::chrono::milliseconds timeout);
// TCP, then the TLS handshake; with tls.verify the engine's certificate must chain to the context's CA
// and name ep.host (a DNS name or an IP address).
net::awaitable<result<void>> connect(tls_stream& stream, const endpoint& ep, std::chrono::milliseconds timeout,
                                     const tls_options& tls);

// An alert from the engine about our certificate; in TLS 1.3 it comes after the handshake, on the first read.
bool refused_client_certificate(const error_code& ec);

// The client side of TLS as the options say; throws config_error("DOCKER_CERT_PATH", ...) naming the
// file that does not load.
std::shared_ptr<ssl::context> make_tls_context(const tls_options& tls);

// Calls work.template operator()<Stream>() with the stream type the engine is reached through, so each
// call is written once for the unix socket, TCP and TLS.
template <class Work>
auto with_stream_type(const endpoint& ep, const ssl::context* tls, Work&& work) {
  if (ep.type == endpoint::kind::unix_socket) return work.template operator()<unix_stream>();
  if (tls != nullptr) return work.template operator()<tls_stream>();
  return work.template operator()<tcp_stream>();
}

template <class Stream>
Stream new_stream(net::any_io_executor ex, ssl::context* tls) {
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    return Stream(std::move(ex), *tls);
  } else {
    return Stream(std::move(ex));
  }
}

// A connected stream under options.request_timeout, which keeps running for the exchange that follows.
template <class Stream>
net::awaitable<result<Stream>> open_stream(net::any_io_executor ex, const endpoint& ep, const client_options& options,
                                           ssl::context* tls) {
  Stream stream = new_stream<Stream>(std::move(ex), tls);
  beast::get_lowest_layer(stream).expires_after(options.request_timeout);
  result<void> connected;
  if constexpr (std::is_same_v<Stream, unix_stream>) {
    connected = co_await connect(stream, ep);
  } else if constexpr (std::is_same_v<Stream, tcp_stream>) {
    connected = co_await connect(stream, ep, options.request_timeout);
  } else {
    connected = co_await connect(stream, ep, options.request_timeout, *options.tls);
  }
  // In place: Beast's streams take any argument in their constructor, so result cannot tell an error
  // from a stream by its type.
  using opened = result<Stream>;
  if (!connected) co_return opened(boost::system::in_place_error, connected.error());
  co_return opened(boost::system::in_place_value, std::move(stream));
}

template <class Stream>
net::awaitable<result<void>> write_request(Stream& stream, http::request<http::string_body>& req) {
  auto [ec, n] = co_await http::async_write(stream, req, use_tuple);
  if (!ec) co_return result<void>{};
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    // In TLS 1.3 the engine judges our certificate after the handshake; when its alert loses the race
    // with our request, a reset is all that arrives.
    if (ec == net::error::connection_reset || ec == net::error::broken_pipe) {
      co_return make_error(errc::transport,
                           "sending the request to Docker: the engine dropped the TLS connection at once; it may have "
                           "refused this client's TLS certificate, or the lack of one (" + ec.message() + ")");
    }
  }
  co_return io_error(ec, "sending the request to Docker");
}

// Whole answer in memory, capped at max_body; a 4xx/5xx status becomes errc::status.
template <class Stream>
net::awaitable<result<client::response>> read_response(Stream& stream, beast::flat_buffer& buffer,
                                                       std::size_t max_body) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (ec) co_return io_error(ec, "reading Docker's answer");
  auto& msg = parser.get();
  const unsigned status = msg.result_int();
  if (status >= 400) co_return status_error(status, msg.body());
  co_return client::response{status, std::move(msg.body())};
}

// One step of a streamed body: decodes what is available (chunked or not) into data, at most cap bytes.
// Returns how many body bytes arrived, possibly zero (a chunk header alone); parser.is_done() says when
// the body has ended.
template <class Stream>
net::awaitable<result<std::size_t>> read_body_piece(Stream& stream, beast::flat_buffer& buffer,
                                                    http::response_parser<http::buffer_body>& parser, char* data,
                                                    std::size_t cap) {
  auto& body = parser.get().body();
  body.data = data;
  body.size = cap;
  auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
  // need_buffer only says our piece is full; the bytes in it are good.
  if (ec && ec != http::error::need_buffer) co_return io_error(ec, "reading Docker's stream");
  co_return cap - body.size;
}

// The body of an error answer read through a buffer_body parser, cut at max_error_body.
template <class Stream>
net::awaitable<error> read_error_body(Stream& stream, beast::flat_buffer& buffer,
                                      http::response_parser<http::buffer_body>& parser) {
  const unsigned status = parser.get().result_int();
  std::string text;
  std::array<char, 4096> piece{};
  while (!parser.is_done() && text.size() < max_error_body) {
    auto got = co_await read_body_piece(stream, buffer, parser, piece.data(), piece.size());
    if (!got) break;  // the status alone still says what went wrong
    text.append(piece.data(), *got);
  }
  co_return status_error(status, text);
}

// Turns the logs body into text as it arrives, keeping memory near 2 * max_bytes however long the log.
class log_collector {
 public:
  log_collector(bool tty, std::size_t max_bytes) : raw_(tty), max_bytes_(max_bytes) {}

  void feed(std::string_view bytes) {
    if (raw_) {
      append(bytes);
      return;
    }
    frames_.clear();
    const bool ok = demuxer_.feed(bytes, frames_);
    for (const auto& f : frames_) append(f.payload);
    if (!ok) {
      // Not multiplexed after all: the rest is shown as it came.
      raw_ = true;
      append(demuxer_.take_pending());
    }
  }

  std::string finish() { return keep_tail_bytes(std::move(text_), max_bytes_); }

 private:
  void append(std::string_view bytes) {
    text_.append(bytes);
    // One byte more than max_bytes is kept so keep_tail_bytes can still see whether the window
    // starts on a line boundary.
    if (text_.size() > 2 * max_bytes_ + 4096) text_.erase(0, text_.size() - (max_bytes_ + 1));
  }

  bool raw_;
  std::size_t max_bytes_;
  log_demuxer demuxer_;
  std::vector<log_frame> frames_;
  std::string text_;
};

// The answer to GET /containers/{id}/logs: the newest max_bytes of text, demultiplexed unless tty.
// body_limit bounds the read even though only the tail is kept, so a huge log is refused rather than
// read for the whole request timeout.
template <class Stream>
net::awaitable<result<std::string>> read_logs_answer(Stream& stream, beast::flat_buffer& buffer,
                                                     std::size_t body_limit, bool tty, std::size_t max_bytes) {
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(body_limit);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (ec) co_return io_error(ec, "reading Docker's answer");
  if (parser.get().result_int() >= 400) co_return co_await read_error_body(stream, buffer, parser);
  log_collector collector(tty, max_bytes);
  std::array<char, 16 * 1024> piece{};
  while (!parser.is_done()) {
    auto got = co_await read_body_piece(stream, buffer, parser, piece.data(), piece.size());
    if (!got) co_return got.error();
    collector.feed(std::string_view(piece.data(), *got));
  }
  co_return collector.finish();
}

// The events stream over one connection. read_head() checks the answer's status; next() then
// hands out one event per call.
template <class Stream>
class basic_event_stream final : public event_stream {
 public:
  explicit basic_event_stream(Stream stream) : stream_(std::move(stream)) {
    // The stream lives for days; its size is not a sign of trouble, one over-long line is.
    parser_.body_limit(boost::none);
  }

  Stream& stream() { return stream_; }

  net::awaitable<result<void>> read_head() {
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser_, use_tuple);
    if (ec) co_return io_error(ec, "reading the answer to the events request");
    if (parser_.get().result_int() != 200) co_return co_await read_error_body(stream_, buffer_, parser_);
    co_return result<void>{};
  }

  net::awaitable<result<json::object>> next() override {
    while (ready_.empty()) {
      if (closed_) co_return make_error(errc::transport, "the Docker events stream was closed");
      if (parser_.is_done()) co_return make_error(errc::transport, "Docker ended the events stream");
      auto got = co_await read_body_piece(stream_, buffer_, parser_, piece_.data(), piece_.size());
      if (closed_) co_return make_error(errc::transport, "the Docker events stream was closed");
      if (!got) co_return got.error();
      std::vector<json::object> events;
      // A line that is not JSON is skipped rather than ending the stream: reopening with `since`
      // would replay the same line and fail forever.
      (void)splitter_.feed(std::string_view(piece_.data(), *got), events);
      for (auto& e : events) ready_.push_back(std::move(e));
    }
    json::object event = std::move(ready_.front());
    ready_.pop_front();
    co_return event;
  }

  void close() override {
    closed_ = true;
    // Closing the socket completes a pending read at once with operation_aborted.
    beast::close_socket(beast::get_lowest_layer(stream_));
  }

 private:
  Stream stream_;
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  event_splitter splitter_;
  std::deque<json::object> ready_;
  std::array<char, 16 * 1024> piece_{};
  bool closed_ = false;
};

}  // namespace dockmon::docker::detail
