// A bounded outbox for one WebSocket, drained by one writer coroutine: Beast allows one outstanding
// write per stream, and a peer that stops reading must cost a bounded amount of memory.
// Three lanes, written in this order: replies (never delayed by telemetry), events (bounded; what does
// not fit is counted, never silently lost) and stats (coalesced per key: the latest sample wins).
#pragma once

#include "dockmon/common/net.hpp"

#include <deque>
#include <map>
#include <memory>
#include <string>

namespace dockmon {

struct outbox_limits {
  std::size_t replies = 1024;  // a full reply lane closes the connection: the peer is not reading
  std::size_t events = 4096;
  // Replies may be large (a log answer is up to 10 MiB): the lane is bounded in bytes as well as in count.
  std::size_t reply_bytes = 64 * 1024 * 1024;
};

template <class WebSocket>
class ws_outbox : public std::enable_shared_from_this<ws_outbox<WebSocket>> {
 public:
  ws_outbox(std::shared_ptr<WebSocket> ws, outbox_limits limits = {})
      : ws_(std::move(ws)), wake_(ws_->get_executor()), limits_(limits) {
    wake_.expires_at(net::steady_timer::time_point::max());
  }

  // Queues a reply. False when closed, or when full (in count or in bytes), which closes the socket: a
  // peer that does not read is treated as gone rather than allowed to grow the queue.
  bool push(std::string frame) {
    if (closed()) return false;
    if (replies_.size() >= limits_.replies || reply_bytes_ + frame.size() > limits_.reply_bytes) {
      close();
      return false;
    }
    reply_bytes_ += frame.size();
    replies_.push_back(std::move(frame));
    wake_.cancel_one();
    return true;
  }

  // Queues an event; when the lane is full the event is counted in dropped_events() instead.
  bool push_event(std::string frame) {
    if (closed()) return false;
    if (events_.size() >= limits_.events) {
      ++dropped_events_;
      return false;
    }
    events_.push_back(std::move(frame));
    wake_.cancel_one();
    return true;
  }

  // Sets the pending stats frame for `key`, replacing one not yet written.
  void put_stats(const std::string& key, std::string frame) {
    if (closed()) return;
    stats_[key] = std::move(frame);
    wake_.cancel_one();
  }

  // Events dropped since the last call.
  std::size_t take_dropped_events() { return std::exchange(dropped_events_, 0); }

  // Ends the connection at once: the socket is closed, so pending reads and writes finish with an error.
  void close() {
    if (closed_) return;
    closed_ = true;
    wake_.cancel();
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(net::socket_base::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).close();
  }

  // Ends the connection with a WebSocket close frame carrying `code` and `reason` (so the peer learns why), written
  // after the frame being written now; what is still queued is dropped. The socket is closed once the
  // peer answers, and in any case after two seconds: a write stuck on a peer that does not read ends too.
  void close_with(std::string reason, websocket::close_code code = websocket::close_code::going_away) {
    if (closed_ || closing_) return;
    closing_ = true;
    close_reason_ = std::move(reason);
    close_code_ = code;
    wake_.cancel();
    auto limit = std::make_shared<net::steady_timer>(ws_->get_executor());
    limit->expires_after(std::chrono::seconds(2));
    limit->async_wait([self = this->shared_from_this(), limit](error_code) { self->close(); });
  }

  bool closed() const { return closed_ || closing_; }
  std::size_t queued() const { return replies_.size() + events_.size() + stats_.size(); }
  WebSocket& socket() { return *ws_; }

  // The writer; spawn once per connection. Returns after close() or a failed write.
  static net::awaitable<void> run(std::shared_ptr<ws_outbox> self) {
    while (!self->closed_) {
      if (self->closing_) {
        co_await say_goodbye(self);
        break;
      }
      std::string frame;
      if (!self->take_next(frame)) {
        co_await self->wake_.async_wait(use_tuple);
        continue;
      }
      auto [ec, n] = co_await self->ws_->async_write(net::buffer(frame), use_tuple);
      if (ec) {
        self->close();
        break;
      }
    }
  }

 private:
  static net::awaitable<void> say_goodbye(std::shared_ptr<ws_outbox> self) {
    const websocket::close_reason why(self->close_code_, self->close_reason_);
    co_await self->ws_->async_close(why, use_tuple);
    self->close();
  }

  bool take_next(std::string& frame) {
    if (!replies_.empty()) {
      frame = std::move(replies_.front());
      replies_.pop_front();
      reply_bytes_ -= frame.size();
      return true;
    }
    if (!events_.empty()) {
      frame = std::move(events_.front());
      events_.pop_front();
      return true;
    }
    if (!stats_.empty()) {
      auto first = stats_.begin();
      frame = std::move(first->second);
      stats_.erase(first);
      return true;
    }
    return false;
  }

  std::shared_ptr<WebSocket> ws_;
  net::steady_timer wake_;
  outbox_limits limits_;
  std::deque<std::string> replies_;
  std::size_t reply_bytes_ = 0;
  std::deque<std::string> events_;
  std::map<std::string, std::string> stats_;
  std::size_t dropped_events_ = 0;
  bool closed_ = false;
  bool closing_ = false;
  std::string close_reason_;
  websocket::close_code close_code_ = websocket::close_code::going_away;
};

}  // namespace dockmon
