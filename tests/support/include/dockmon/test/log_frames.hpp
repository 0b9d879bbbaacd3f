// Test support: Docker's multiplexed log framing ([stream 0 0 0 size(4, big-endian)] payload), to record
// byte streams by hand.
#pragma once

#include <string>

namespace dockmon::test {

inline std::string log_frame(char stream, const std::string& payload) {
  std::string out{stream, 0, 0, 0};
  const auto n = payload.size();
  out += static_cast<char>((n >> 24) & 0xFF);
  out += static_cast<char>((n >> 16) & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  out += static_cast<char>(n & 0xFF);
  return out + payload;
}

}  // namespace dockmon::test
