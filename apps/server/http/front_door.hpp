// The server's front door, before any route: how many connections it holds (in all and per address), who
// the client is behind a trusted proxy, which Host names a plain loopback listener answers (a page of
// another site that rebinds its DNS name to 127.0.0.1 must not reach the API), and whether browsers reach
// the server over HTTPS (Secure cookies, HSTS).
#pragma once

#include "core/config.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace dockmon::server {

class front_door {
 public:
  front_door(const server_config& config, bool serves_tls);

  // One open connection, given back when destroyed.
  class slot {
   public:
    slot(front_door* door, std::string address) : door_(door), address_(std::move(address)) {}
    slot(slot&& other) noexcept : door_(std::exchange(other.door_, nullptr)), address_(std::move(other.address_)) {}
    slot& operator=(slot&&) = delete;
    slot(const slot&) = delete;
    ~slot() {
      if (door_ != nullptr) door_->release(address_);
    }

   private:
    front_door* door_;
    std::string address_;
  };

  // A slot for a connection from `address`, or nullopt when the server or that address is at its cap.
  std::optional<slot> admit(const std::string& address);
  std::size_t open_connections() const { return total_; }

  // The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address in
  // X-Forwarded-For that is not one of the trusted proxies.
  std::string client_address(const std::string& peer, const http::request<http::string_body>& req) const;

  // False when a plain loopback listener gets a Host that is not one of its own names.
  bool host_allowed(const http::request<http::string_body>& req) const;

  // Browsers reach the server over HTTPS: its own TLS, or a TLS proxy named by --public-url https://.
  bool browsers_use_https() const { return https_; }

 private:
  void release(const std::string& address);
  bool trusted(const net::ip::address& a) const;

  std::size_t max_total_;
  std::size_t max_per_address_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
  std::vector<network> trusted_proxies_;
  bool check_host_;
  std::string public_host_;
  bool https_;
};

}  // namespace dockmon::server
