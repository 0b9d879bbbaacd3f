// Wakes a loop that sleeps between rounds: a wake while the loop is busy is kept, not lost, so the next
// wait returns at once.
#pragma once

#include "dockmon/common/net.hpp"

#include <chrono>

namespace dockmon {

class wake_signal {
 public:
  explicit wake_signal(net::any_io_executor ex) : timer_(std::move(ex)) {}

  void wake() {
    woken_ = true;
    timer_.cancel();
  }

  // Returns after `longest`, or sooner when woken (before this call or during it).
  net::awaitable<void> wait(std::chrono::steady_clock::duration longest) {
    if (!woken_) {
      timer_.expires_after(longest);
      co_await timer_.async_wait(use_tuple);
    }
    woken_ = false;
  }

 private:
  net::steady_timer timer_;
  bool woken_ = false;
};

}  // namespace dockmon
