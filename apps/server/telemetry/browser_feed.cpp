// Browser live feed: authentication and origin check at the upgrade, a subscription filter, and an
// outbox whose stats lane coalesces so a slow browser sees fresh numbers instead of a backlog.
#include "telemetry/browser_feed.hpp"

#include "auth/auth.hpp"
#include "core/answers.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/common/ws_outbox.hpp"
#include "replicas/feed_relay.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t max_subscriptions = 1000;
// A frame every interval lets the page tell a live connection from a silent, dead one; every third
// interval (and at once when the user's sessions change) the credentials are checked again, so a feed
// ends with its session: signed out, expired, revoked, user disabled or deleted.
constexpr auto heartbeat_interval = 10s;
constexpr int heartbeats_per_credential_check = 3;

template <class FeedWebsocket>
class feed_session final : public feed_subscriber {
 public:
  explicit feed_session(std::shared_ptr<ws_outbox<FeedWebsocket>> outbox) : outbox_(std::move(outbox)) {}

  bool wants(const std::string& host_id, const std::string& container_id) const override {
    if (all_) return true;
    if (hosts_.contains(host_id)) return true;
    return !container_id.empty() && containers_.contains(container_id);
  }
  bool wants_container_stats() const override { return container_stats_; }
  void send_event(std::string frame) override { outbox_->push_event(std::move(frame)); }
  void send_stats(const std::string& key, std::string frame) override { outbox_->put_stats(key, std::move(frame)); }

  // {"type":"subscribe","hosts":[...],"containers":[...],"container_stats":false} replaces the
  // subscription; no lists: everything; container_stats false: host stats and events only.
  std::string apply(const json::object& msg) {
    if (string_field(msg, "type") != "subscribe") return "unknown message type";
    bool container_stats = true;
    if (auto* flag = msg.if_contains("container_stats"); flag != nullptr) {
      if (!flag->is_bool()) return "container_stats must be true or false";
      container_stats = flag->as_bool();
    }
    std::set<std::string> hosts, containers;
    for (auto [key, target] : {std::pair{"hosts", &hosts}, std::pair{"containers", &containers}}) {
      auto* list = msg.if_contains(key);
      if (list == nullptr) continue;
      if (!list->is_array()) return std::string(key) + " must be an array of ids";
      for (const auto& v : list->get_array()) {
        if (!v.is_string() || !valid_container_ref(v.get_string()) || target->size() >= max_subscriptions)
          return std::string(key) + " must be an array of ids (at most 1000)";
        target->insert(std::string(v.get_string()));
      }
    }
    all_ = !msg.contains("hosts") && !msg.contains("containers");
    container_stats_ = container_stats;
    hosts_ = std::move(hosts);
    containers_ = std::move(containers);
    return {};
  }

 private:
  std::shared_ptr<ws_outbox<FeedWebsocket>> outbox_;
  bool all_ = false;
  bool container_stats_ = true;
  std::set<std::string> hosts_;
  std::set<std::string> containers_;
};

// The headers a relayed feed takes to the other replicas: who the browser is, where its page came from.
std::shared_ptr<const feed_credentials> relay_credentials(const server_context& ctx,
                                                          const http::request<http::string_body>& upgrade,
                                                          const std::string& client) {
  auto credentials = std::make_shared<feed_credentials>();
  for (auto field : {http::field::host, http::field::origin, http::field::cookie, http::field::authorization}) {
    if (auto it = upgrade.find(field); it != upgrade.end())
      credentials->headers.emplace_back(std::string(it->name_string()), std::string(it->value()));
  }
  credentials->from = ctx.replicas.id();
  credentials->client = client;
  return credentials;
}

// A frame another replica sent: stats into the coalescing lane, events in order; its heartbeats and
// answers to the subscription are its own business.
template <class FeedWebsocket>
feed_relay::sink relayed_into(std::weak_ptr<ws_outbox<FeedWebsocket>> outbox) {
  return [outbox = std::move(outbox)](std::string frame) {
    auto out = outbox.lock();
    if (!out) return;
    error_code ec;
    auto v = json::parse(frame, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.get_object();
    const auto type = string_field(o, "type");
    if (type == "heartbeat" || type == "subscribed" || type == "error") return;
    if (type == "host_stats") out->put_stats("host:" + string_field(o, "host_id"), std::move(frame));
    else if (type == "container_stats")
      out->put_stats("ctr:" + string_field(o, "host_id") + ":" + string_field(o, "container_id"), std::move(frame));
    else out->push_event(std::move(frame));
  };
}

template <class FeedWebsocket>
net::awaitable<void> watch_feed(server_context& ctx, std::shared_ptr<ws_outbox<FeedWebsocket>> outbox,
                                std::shared_ptr<net::steady_timer> timer,
                                std::shared_ptr<const http::request<http::string_body>> upgrade,
                                std::shared_ptr<feed_relays> relays) {
  int beats = 0;
  while (!outbox->closed()) {
    timer->expires_after(heartbeat_interval);
    auto [ec] = co_await timer->async_wait(use_tuple);
    if (outbox->closed()) co_return;
    if (relays) relays->follow(ctx.replicas.peers());  // replicas come and go
    const bool woken = ec == net::error::operation_aborted;
    if (!woken) outbox->push(R"({"type":"heartbeat"})");
    if (!woken && ++beats % heartbeats_per_credential_check != 0) continue;
    auto who = co_await authenticate(ctx, *upgrade);
    if (!who) {
      spdlog::info("live feed closed: its session ended");
      outbox->close_with("session ended", websocket::close_code::policy_error);
      co_return;
    }
  }
}

}  // namespace

template <class Stream>
net::awaitable<void> run_browser_feed(server_context& ctx, Stream stream, http::request<http::string_body> upgrade,
                                      std::string client) {
  using feed_websocket = websocket::stream<Stream>;
  auto who = co_await authenticate(ctx, upgrade);
  // A browser's WebSocket carries its cookie across sites; only our own pages may open it.
  if (!who || !same_origin(upgrade)) {
    auto res = error_response(upgrade, who ? http::status::forbidden : http::status::unauthorized,
                              who ? "cross-site WebSocket refused" : "authentication required");
    res.keep_alive(false);
    co_await http::async_write(stream, res, use_tuple);
    co_return;
  }
  beast::get_lowest_layer(stream).expires_never();
  auto ws = std::make_shared<feed_websocket>(std::move(stream));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = 30s;
  timeouts.idle_timeout = 60s;
  timeouts.keep_alive_pings = true;
  ws->set_option(timeouts);
  ws->read_message_max(64 * 1024);
  auto [accept_ec] = co_await ws->async_accept(upgrade, use_tuple);
  if (accept_ec) co_return;

  auto outbox = std::make_shared<ws_outbox<feed_websocket>>(ws, outbox_limits{.replies = 64, .events = 2048});
  net::co_spawn(ws->get_executor(), ws_outbox<feed_websocket>::run(outbox), net::detached);
  auto session = std::make_shared<feed_session<feed_websocket>>(outbox);
  ctx.telemetry.subscribe(session);
  spdlog::debug("live feed opened by {}", who->username);
  // Hosts other replicas hold come through their feeds; a feed relayed here is not relayed again.
  std::shared_ptr<feed_relays> relays;
  if (ctx.replicas.enabled() && upgrade.find(forwarded_header) == upgrade.end()) {
    relays = std::make_shared<feed_relays>(ws->get_executor(), relay_credentials(ctx, upgrade, client),
                                           relayed_into<feed_websocket>(outbox));
    relays->follow(ctx.replicas.peers());
  }
  auto watch_timer = std::make_shared<net::steady_timer>(ws->get_executor());
  ctx.feeds.add(who->user_id, watch_timer);
  auto credentials = std::make_shared<const http::request<http::string_body>>(std::move(upgrade));
  net::co_spawn(ws->get_executor(), watch_feed<feed_websocket>(ctx, outbox, watch_timer, credentials, relays), net::detached);

  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(buffer, use_tuple);
    if (ec) break;
    error_code parse_ec;
    auto msg = json::parse(beast::buffers_to_string(buffer.data()), parse_ec);
    buffer.consume(buffer.size());
    json::object reply;
    if (parse_ec || !msg.is_object()) {
      reply["type"] = "error";
      reply["error"] = "messages must be JSON objects";
    } else if (auto problem = session->apply(msg.get_object()); !problem.empty()) {
      reply["type"] = "error";
      reply["error"] = problem;
    } else {
      reply["type"] = "subscribed";
      if (relays) relays->subscribe(json::serialize(msg));
    }
    outbox->push(json::serialize(reply));
  }
  outbox->close();
  watch_timer->cancel();
  if (relays) relays->close();
}

template net::awaitable<void> run_browser_feed(server_context&, plain_stream, http::request<http::string_body>, std::string);
template net::awaitable<void> run_browser_feed(server_context&, tls_stream, http::request<http::string_body>, std::string);

}  // namespace dockmon::server
