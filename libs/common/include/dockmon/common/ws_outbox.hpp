// A bounded outbox for one WebSocket, drained by one writer coroutine: Beast allows one outstanding
// write per stream, and a peer that stops reading must cost a bounded amount of memory.
#pragma once

#include "dockmon/common/net.hpp"

#include <deque>
#include <memory>
#include <string>

namespace dockmon {

template <class WebSocket>
class ws_outbox : public std::enable_shared_from_this<ws_outbox<WebSocket>> {
 public:
  ws_outbox(std::shared_ptr<WebSocket> ws, std::size_t max_frames)
      : ws_(std::move(ws)), wake_(ws_->get_executor()), max_frames_(max_frames) {
    wake_.expires_at(net::steady_timer::time_point::max());
  }

  // Queues a frame. False when closed, or when full, which closes the socket: a peer that does not
  // read is treated as gone rather than allowed to grow the queue.
  bool push(std::string frame) {
    if (closed_) return false;
    if (frames_.size() >= max_frames_) {
      close();
      return false;
    }
    frames_.push_back(std::move(frame));
    wake_.cancel_one();
    return true;
  }

  // Ends the connection at once: the socket is closed, so pending reads and writes finish with an error.
  void close() {
    if (closed_) return;
    closed_ = true;
    wake_.cancel();
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(net::socket_base::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).close();
  }

  bool closed() const { return closed_; }
  std::size_t queued() const { return frames_.size(); }
  WebSocket& socket() { return *ws_; }

  // The writer; spawn once per connection. Returns after close() or a failed write.
  static net::awaitable<void> run(std::shared_ptr<ws_outbox> self) {
    while (!self->closed_) {
      if (self->frames_.empty()) {
        co_await self->wake_.async_wait(use_tuple);
        continue;
      }
      std::string frame = std::move(self->frames_.front());
      self->frames_.pop_front();
      auto [ec, n] = co_await self->ws_->async_write(net::buffer(frame), use_tuple);
      if (ec) {
        self->close();
        break;
      }
    }
  }

 private:
  std::shared_ptr<WebSocket> ws_;
  net::steady_timer wake_;
  std::deque<std::string> frames_;
  std::size_t max_frames_;
  bool closed_ = false;
};

}  // namespace dockmon
