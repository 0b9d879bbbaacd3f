// The sealed text is "ack", the alert id and the expiry in Unix seconds, one per line; the seal's base64
// is made URL-safe by swapping its two unsafe characters.
#include "alerts/ack_link.hpp"

#include <algorithm>
#include <charconv>

namespace dockmon::server::alerts {

namespace {

constexpr std::string_view sealed_prefix = "v1:";

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string make_ack_token(const secret_box& key, std::string_view alert_id, std::chrono::system_clock::time_point expires) {
  auto sealed = key.seal("ack\n" + std::string(alert_id) + "\n" + std::to_string(unix_seconds(expires)));
  sealed.erase(0, sealed_prefix.size());
  std::replace(sealed.begin(), sealed.end(), '+', '-');
  std::replace(sealed.begin(), sealed.end(), '/', '_');
  return sealed;
}

bool ack_token_valid(const secret_box& key, std::string_view token, std::string_view alert_id,
                     std::chrono::system_clock::time_point now) {
  if (token.empty() || token.size() > 512) return false;
  std::string sealed(sealed_prefix);
  sealed += token;
  std::replace(sealed.begin(), sealed.end(), '-', '+');
  std::replace(sealed.begin(), sealed.end(), '_', '/');
  const auto plain = key.open(sealed);
  if (!plain) return false;
  const std::string_view text(*plain);
  const auto first = text.find('\n');
  const auto second = text.find('\n', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos || text.substr(0, first) != "ack") return false;
  if (text.substr(first + 1, second - first - 1) != alert_id) return false;
  std::int64_t expires = 0;
  const auto number = text.substr(second + 1);
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), expires);
  return ec == std::errc{} && end == number.data() + number.size() && unix_seconds(now) < expires;
}

}  // namespace dockmon::server::alerts
