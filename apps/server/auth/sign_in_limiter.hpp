// Rate limits on sign-in, kept in memory by the server.
#pragma once

#include "dockmon/common/rate_limit.hpp"

#include <map>
#include <string>
#include <vector>

namespace dockmon::server {

// Sign-in attempts per account and per address: bursts of a few, then one every few seconds, so a
// password cannot be guessed at speed from one address or spread over many. Two attacks on the limiter
// itself are closed: filling its tables resets nobody (keyed_buckets), and an attacker who locks an account
// does not lock its owner out, because the owner's addresses that signed in before still get a verdict.
class sign_in_limiter {
 public:
  enum class verdict {
    check,            // verify the password
    check_after_delay,  // the account is locked, but this address signed in to it before: verify, slowly
    refuse,           // 429, without looking at the password
  };

  verdict consider(const std::string& username, const std::string& address);
  // A correct password from this address: it is known-good for the account from now on.
  void succeeded(const std::string& username, const std::string& address);

 private:
  bool known_good(const std::string& username, const std::string& address) const;

  keyed_buckets by_account_{1.0 / 12, 5, 10000};  // 5 quick tries per account, then one per 12 s
  keyed_buckets by_address_{1.0 / 3, 20, 10000};  // 20 per address, then one per 3 s
  // A locked account from one of its owner's addresses: 3 more tries, then one a minute, so that whoever
  // shares the owner's address (a NAT) does not guess at the address's pace.
  keyed_buckets by_owner_address_{1.0 / 60, 3, 10000};
  // Only accounts that signed in correctly are here, at most 8 addresses each: bounded by real use.
  std::map<std::string, std::vector<std::string>> known_good_;
};

// The key the limiter counts an address by: IPv4 as it is, IPv6 by its /64 (one machine usually holds the
// whole prefix, so single addresses would be free to take).
std::string sign_in_address_key(const std::string& address);

}  // namespace dockmon::server
