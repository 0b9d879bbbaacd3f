// Links in notifications that acknowledge an alert without signing in: the token is the alert's id and an
// expiry sealed with the server's key (libs/common/sealing), so it cannot be made or altered elsewhere,
// and it works once: an acknowledged alert is not acknowledged again.
#pragma once

#include "dockmon/common/sealing.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace dockmon::server::alerts {

inline constexpr std::chrono::hours ack_link_lifetime{24 * 7};

// A token for the alert, valid until `expires`; URL-safe (letters, digits, '-', '_', '=').
std::string make_ack_token(const secret_box& key, std::string_view alert_id, std::chrono::system_clock::time_point expires);

// Whether the token was made by this key for this alert and has not expired.
bool ack_token_valid(const secret_box& key, std::string_view token, std::string_view alert_id,
                     std::chrono::system_clock::time_point now);

}  // namespace dockmon::server::alerts
