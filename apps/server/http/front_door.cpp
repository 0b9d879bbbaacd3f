// Connection caps, the client behind a trusted proxy, and the Host allow-list.
#include "http/front_door.hpp"

#include "http/tls_setup.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace dockmon::server {

front_door::front_door(const server_config& config, bool serves_tls)
    : max_total_(config.max_connections),
      max_per_address_(config.max_connections_per_address),
      check_host_(!serves_tls && is_loopback(config.listen.host)),
      public_host_(url_host(config.public_url)),
      https_(serves_tls || config.public_url.starts_with("https://")) {
  for (const auto& text : config.trusted_proxies) trusted_proxies_.push_back(*parse_network(text));
}

std::optional<front_door::slot> front_door::admit(const std::string& address) {
  if (total_ >= max_total_) return std::nullopt;
  auto& mine = per_address_[address];
  if (mine >= max_per_address_) return std::nullopt;
  ++mine;
  ++total_;
  return slot(this, address);
}

void front_door::release(const std::string& address) {
  --total_;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

bool front_door::trusted(const net::ip::address& a) const {
  return std::any_of(trusted_proxies_.begin(), trusted_proxies_.end(), [&](const network& n) { return n.contains(a); });
}

std::string front_door::client_address(const std::string& peer, const http::request<http::string_body>& req) const {
  error_code ec;
  auto peer_address = net::ip::make_address(peer, ec);
  if (ec || trusted_proxies_.empty() || !trusted(peer_address)) return peer;
  auto header = req.find("X-Forwarded-For");
  if (header == req.end()) return peer;
  // From the right: each trusted proxy appended the address it got the request from.
  std::string_view list = header->value();
  std::string client = peer;
  while (!list.empty()) {
    const auto comma = list.rfind(',');
    auto entry = comma == std::string_view::npos ? list : list.substr(comma + 1);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    auto hop = net::ip::make_address(std::string(entry), ec);
    if (ec) break;  // not an address: believe nothing further left
    client = hop.to_string();
    if (!trusted(hop)) break;
  }
  return client;
}

bool front_door::host_allowed(const http::request<http::string_body>& req) const {
  if (!check_host_) return true;
  auto header = req.find(http::field::host);
  if (header == req.end()) return true;  // HTTP/1.0: no browser sends a request without Host
  std::string_view host = header->value();
  if (host.starts_with('[')) host = host.substr(0, host.find(']') + 1);
  else host = host.substr(0, host.find(':'));
  if (boost::iequals(host, "localhost") || host == "[::1]") return true;
  if (!public_host_.empty() && boost::iequals(host, public_host_)) return true;
  error_code ec;
  auto address = net::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

}  // namespace dockmon::server
