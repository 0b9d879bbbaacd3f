// Sends one rendered notification with libcurl (HTTPS with the system's CAs, SMTP with STARTTLS or
// implicit TLS, proxies from HTTPS_PROXY), and says whether to try again. Blocking: call it on the
// notification pool, never on the I/O thread.
#pragma once

#include "notify/message.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace dockmon::server::notify {

struct send_result {
  enum class outcome { sent, retry, give_up };
  outcome what = outcome::give_up;
  std::string error;  // for the outbox row and the UI: "HTTP 500: ...", "timed out"; never a secret
  std::optional<std::chrono::seconds> retry_after;  // asked by the service (429, 503)
};

// Once, before any send (curl_global_init is not thread-safe).
void init_sender();

// One attempt: connect, send and read the answer within `timeout`.
send_result send(const delivery& d, std::chrono::seconds timeout);

// A Retry-After header's value in seconds: a number of seconds or an HTTP date (against `now`).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace dockmon::server::notify
