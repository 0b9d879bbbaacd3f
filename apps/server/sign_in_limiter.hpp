// Rate limits on sign-in, kept in memory by the server.
#pragma once

#include "dockmon/common/rate_limit.hpp"

#include <string>
#include <unordered_map>

namespace dockmon::server {

// Sign-in attempts per account and per address: bursts of a few, then one every few seconds, so a
// password cannot be guessed at speed from one address or spread over many.
class sign_in_limiter {
 public:
  bool allow(const std::string& username, const std::string& address);

 private:
  bool take(std::unordered_map<std::string, token_bucket>& buckets, const std::string& key, double rate, double burst);
  std::unordered_map<std::string, token_bucket> by_account_;
  std::unordered_map<std::string, token_bucket> by_address_;
};

}  // namespace dockmon::server
