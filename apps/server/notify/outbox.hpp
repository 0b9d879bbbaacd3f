// Delivery from the outbox: notifications are stored with the alert change that made them, then sent
// from here, retried with backoff while the service is busy or away, and given up after a bound. A
// server killed mid-send finds them pending after its restart and sends them then.
#pragma once

#include "dockmon/common/sealing.hpp"
#include "dockmon/store/store.hpp"
#include "notify/sender.hpp"

#include <chrono>
#include <cstdint>
#include <variant>

namespace dockmon::server {
struct server_context;
}

namespace dockmon::server::notify {

struct retry_policy {
  int max_attempts = 8;                             // about an hour of trying with the delays below
  std::chrono::seconds first_delay{5};              // then three times as long each time ...
  std::chrono::seconds longest_delay{30 * 60};      // ... up to this
  std::chrono::seconds longest_retry_after{3600};   // a service asking for longer is asked again then
};

// What the outbox counts, for /metrics.
struct delivery_counters {
  std::uint64_t sent = 0;
  std::uint64_t retried = 0;
  std::uint64_t failed = 0;  // given up
};

// A stored channel, unsealed and checked; or why it cannot be used.
struct opened_channel {
  channel_type type;
  json::object config;
};
std::variant<opened_channel, std::string> open_channel(const store::channel_record& channel, const secret_box& secrets);

// The outbox row after one attempt (its attempts counted already): sent, given up, or pending with the
// time of the next try.
void settle(store::notification_record& n, const send_result& result, std::int64_t now_ms, const retry_policy& policy);

// Sends what is due, at most a few at once, until the server stops; woken early by ctx.outbox_wake
// (new rows stored, a send ended).
net::awaitable<void> run_outbox(server_context& ctx);

// A test message to a channel, sent now and not stored: what the "send test" button shows.
send_result send_test(const store::channel_record& channel, const secret_box& secrets, const std::string& public_url);

}  // namespace dockmon::server::notify
