// Bursts: when many alerts of one host change together (dockerd restarted, a host rebooted), a channel
// gets the first message at once and the rest as one message at the end of a short window, not one per
// container. The held rows wait in the outbox (due at the window's end), so a crash loses none of them.
#pragma once

#include "notify/message.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace dockmon::server::notify {

class burst_grouping {
 public:
  explicit burst_grouping(std::chrono::milliseconds window) : window_ms_(window.count()) {}

  // When a message to this channel about this host, made at now_ms, is due: now for the first of a burst,
  // the end of the burst's window for the ones after it (they go together).
  std::int64_t due_ms(const std::string& channel_id, const std::string& host_id, std::int64_t now_ms);

 private:
  std::int64_t window_ms_;
  std::unordered_map<std::string, std::int64_t> burst_started_;  // channel and host -> first message's time
};

// One message saying what several said, about one host: the worst severity, a line per message.
message grouped_message(const std::vector<message>& parts);

}  // namespace dockmon::server::notify
