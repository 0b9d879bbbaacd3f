// The live feed of hosts other replicas hold. A browser's feed on this replica opens the same feed on
// each other live replica, with the browser's own credentials (checked there again), passes on the
// browser's subscription, and hands what comes back to the browser's outbox. Each replica sends only
// what its own agents report, so nothing arrives twice. A relayed feed carries the forwarded header and
// is never relayed again.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/store/store.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dockmon::server {

// What a relayed feed carries: the headers that say who the browser is and where its page came from
// (Host, Origin, Cookie, Authorization, as it sent them), this replica's id and the browser's address.
struct feed_credentials {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string from;
  std::string client;
};

// One browser's feed on one other replica; reconnects every few seconds until closed.
class feed_relay : public std::enable_shared_from_this<feed_relay> {
 public:
  using sink = std::function<void(std::string frame)>;
  static std::shared_ptr<feed_relay> start(net::any_io_executor ex, store::replica_place to,
                                           std::shared_ptr<const feed_credentials> credentials, sink on_frame);
  const std::string& replica_id() const { return to_.replica_id; }
  // The browser's subscription message, sent now and again after each reconnect.
  void subscribe(std::string message);
  void close();

 private:
  struct link;
  feed_relay(net::any_io_executor ex, store::replica_place to, std::shared_ptr<const feed_credentials> credentials,
             sink on_frame);
  static net::awaitable<void> run(std::shared_ptr<feed_relay> self);
  net::awaitable<bool> open(std::shared_ptr<link> l);
  static net::awaitable<void> send_subscription(std::shared_ptr<feed_relay> self, std::shared_ptr<link> l);

  net::any_io_executor ex_;
  store::replica_place to_;
  std::shared_ptr<const feed_credentials> credentials_;
  sink on_frame_;
  std::string subscription_;
  std::shared_ptr<link> link_;  // the connection now, if any
  net::steady_timer retry_;
  bool closed_ = false;
};

// A browser feed's relays, one per other live replica.
class feed_relays {
 public:
  feed_relays(net::any_io_executor ex, std::shared_ptr<const feed_credentials> credentials, feed_relay::sink on_frame)
      : ex_(std::move(ex)), credentials_(std::move(credentials)), on_frame_(std::move(on_frame)) {}
  ~feed_relays() { close(); }
  feed_relays(const feed_relays&) = delete;
  feed_relays& operator=(const feed_relays&) = delete;

  // Opens a relay to each replica in `peers` without one and closes those to replicas gone.
  void follow(const std::vector<store::replica_place>& peers);
  void subscribe(const std::string& message);
  void close();

 private:
  net::any_io_executor ex_;
  std::shared_ptr<const feed_credentials> credentials_;
  feed_relay::sink on_frame_;
  std::string subscription_;
  std::vector<std::shared_ptr<feed_relay>> relays_;
};

}  // namespace dockmon::server
