// A browser's live feed relayed from the other replicas.
#include "replicas/feed_relay.hpp"

#include "replicas/forward.hpp"
#include "replicas/replica_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;
using relay_websocket = websocket::stream<beast::tcp_stream>;

constexpr auto connect_timeout = 5s;
constexpr auto retry_after = 2s;
// The largest frame a replica's feed sends is an event; this is well above it.
constexpr std::size_t max_relayed_frame = 1024 * 1024;

}  // namespace

struct feed_relay::link {
  explicit link(net::any_io_executor ex) : ws(ex) {}
  relay_websocket ws;
  bool open = false;
  bool writing = false;
  std::string written;  // the subscription the replica has
};

feed_relay::feed_relay(net::any_io_executor ex, store::replica_place to, std::shared_ptr<const feed_credentials> credentials,
                       sink on_frame)
    : ex_(ex), to_(std::move(to)), credentials_(std::move(credentials)), on_frame_(std::move(on_frame)), retry_(ex) {}

std::shared_ptr<feed_relay> feed_relay::start(net::any_io_executor ex, store::replica_place to,
                                              std::shared_ptr<const feed_credentials> credentials, sink on_frame) {
  std::shared_ptr<feed_relay> relay(new feed_relay(ex, std::move(to), std::move(credentials), std::move(on_frame)));
  net::co_spawn(ex, run(relay), net::detached);
  return relay;
}

void feed_relay::subscribe(std::string message) {
  subscription_ = std::move(message);
  if (link_ && link_->open && !link_->writing) net::co_spawn(ex_, send_subscription(shared_from_this(), link_), net::detached);
}

void feed_relay::close() {
  closed_ = true;
  retry_.cancel();
  if (link_) {
    error_code ignored;
    beast::get_lowest_layer(link_->ws).socket().close(ignored);
  }
}

net::awaitable<void> feed_relay::send_subscription(std::shared_ptr<feed_relay> self, std::shared_ptr<link> l) {
  l->writing = true;
  while (l->open && !self->subscription_.empty() && l->written != self->subscription_) {
    auto message = self->subscription_;
    auto [ec, n] = co_await l->ws.async_write(net::buffer(message), use_tuple);
    if (ec) break;
    l->written = std::move(message);
  }
  l->writing = false;
}

net::awaitable<bool> feed_relay::open(std::shared_ptr<link> l) {
  const auto where = split_replica_address(to_.address);
  net::ip::tcp::resolver resolver(ex_);
  auto [rec, endpoints] = co_await resolver.async_resolve(where.host, where.port, use_tuple);
  if (rec || closed_) co_return false;
  auto& tcp = beast::get_lowest_layer(l->ws);
  tcp.expires_after(connect_timeout);
  auto [cec, ep] = co_await tcp.async_connect(endpoints, use_tuple);
  if (cec || closed_) co_return false;
  tcp.expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = connect_timeout;
  timeouts.idle_timeout = 60s;  // the replica's feed sends a heartbeat every 10 s
  timeouts.keep_alive_pings = true;
  l->ws.set_option(timeouts);
  l->ws.read_message_max(max_relayed_frame);
  l->ws.set_option(websocket::stream_base::decorator([credentials = credentials_](websocket::request_type& req) {
    for (const auto& [name, value] : credentials->headers) req.set(name, value);
    req.set(forwarded_header, credentials->from);
    req.set("X-Forwarded-For", credentials->client);
  }));
  websocket::response_type answer;
  auto [hec] = co_await l->ws.async_handshake(answer, where.host + ":" + where.port, "/ws", use_tuple);
  if (hec) {
    if (answer.result() == http::status::unauthorized || answer.result() == http::status::forbidden)
      spdlog::debug("replica {} refused a relayed live feed: {}", to_.replica_id, answer.body());
    co_return false;
  }
  co_return !closed_;
}

net::awaitable<void> feed_relay::run(std::shared_ptr<feed_relay> self) {
  while (!self->closed_) {
    auto l = std::make_shared<link>(self->ex_);
    self->link_ = l;
    if (co_await self->open(l)) {
      l->open = true;
      net::co_spawn(self->ex_, send_subscription(self, l), net::detached);
      beast::flat_buffer buffer;
      for (;;) {
        auto [ec, n] = co_await l->ws.async_read(buffer, use_tuple);
        if (ec || self->closed_) break;
        self->on_frame_(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
      }
      l->open = false;
    }
    self->link_.reset();
    if (self->closed_) break;
    self->retry_.expires_after(retry_after);
    co_await self->retry_.async_wait(use_tuple);
  }
}

void feed_relays::follow(const std::vector<store::replica_place>& peers) {
  std::erase_if(relays_, [&](const auto& relay) {
    const bool live = std::any_of(peers.begin(), peers.end(), [&](const auto& p) { return p.replica_id == relay->replica_id(); });
    if (!live) relay->close();
    return !live;
  });
  for (const auto& peer : peers) {
    const bool relayed = std::any_of(relays_.begin(), relays_.end(), [&](const auto& r) { return r->replica_id() == peer.replica_id; });
    if (relayed) continue;
    auto relay = feed_relay::start(ex_, peer, credentials_, on_frame_);
    if (!subscription_.empty()) relay->subscribe(subscription_);
    relays_.push_back(std::move(relay));
  }
}

void feed_relays::subscribe(const std::string& message) {
  subscription_ = message;
  for (const auto& relay : relays_) relay->subscribe(message);
}

void feed_relays::close() {
  for (const auto& relay : relays_) relay->close();
  relays_.clear();
}

}  // namespace dockmon::server
