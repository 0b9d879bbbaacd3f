// Agent WebSocket sessions: registration with its deadline and rules, a bounded outbox with one
// writer, and the read loop that hands replies to the hub.
#include "agents/agent_session.hpp"

#include "agents/health_link.hpp"
#include "agents/listed_containers.hpp"
#include "agents/replica_link.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/log.hpp"
#include "dockmon/common/rate_limit.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/common/ws_outbox.hpp"
#include "dockmon/protocol/registration.hpp"

#include <spdlog/spdlog.h>

#include <tuple>
#include <vector>


namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

constexpr auto registration_deadline = 30s;
constexpr std::size_t max_registration_frame = 64 * 1024;
constexpr std::size_t max_agent_frame = 16 * 1024 * 1024;  // a 10 MiB log answer plus its JSON escaping
// The server sends agents commands only, each a few hundred bytes.
constexpr outbox_limits agent_outbox{.replies = 1024, .events = 0, .reply_bytes = 16 * 1024 * 1024};
constexpr auto last_seen_interval = 60s;
// An agent sends a stats batch every few seconds, its events and its replies: hundreds of frames a second
// is already a flood. Frames past the budget are dropped unread, so one agent cannot starve the others of
// the I/O thread.
constexpr double frames_per_second = 500;
constexpr double frame_burst = 5000;
// Frames larger than this (log answers, inspect of a big container) are parsed on the worker pool.
constexpr std::size_t parse_inline_limit = 256 * 1024;
// How often the server asks an agent for its containers (the series it may feed), and how soon again
// when the agent reports containers it did not list.
constexpr auto container_list_interval = 10min;
constexpr auto container_list_min_gap = 30s;

// The connection as the hub sees it: the hub's handle on an outbox drained by one writer.
template <class AgentWebsocket>
class ws_connection final : public agent_connection {
 public:
  ws_connection(std::shared_ptr<ws_outbox<AgentWebsocket>> outbox, std::string agent_id, std::string host_id)
      : agent_connection(std::move(agent_id), std::move(host_id)), outbox_(std::move(outbox)) {}

  void send(std::string frame) override {
    if (outbox_->closed()) return;
    if (!outbox_->push(std::move(frame))) close("outbox full: the agent does not read fast enough");
  }

  void close(std::string_view reason) override {
    if (!logged_close_) spdlog::info("closing connection of agent {}: {}", agent_id(), reason);
    logged_close_ = true;
    outbox_->close_with(std::string(reason));
  }

  bool closed() const { return outbox_->closed(); }

 private:
  std::shared_ptr<ws_outbox<AgentWebsocket>> outbox_;
  bool logged_close_ = false;
};

std::string refusal_text(store::registration_status s) {
  switch (s) {
    case store::registration_status::unknown_token: return "Invalid registration token";
    case store::registration_status::expired_token: return "Registration token has expired";
    case store::registration_status::used_token: return "Registration token has already been used";
    case store::registration_status::wrong_engine: return "Token is bound to a different Docker engine";
    case store::registration_status::revoked:
      return "This agent has been revoked by an administrator; an admin can mint a re-attach token for its host";
    case store::registration_status::engine_taken:
      return "This Docker engine is already registered as another host. To reinstall its agent, an admin mints a "
             "re-attach token for that host; on a cloned machine, set FORCE_UNIQUE_REGISTRATION=true and AGENT_NAME";
    case store::registration_status::needs_agent_name:
      return "FORCE_UNIQUE_REGISTRATION=true requires AGENT_NAME to be set on the agent, so that each clone has a "
             "name of its own";
    case store::registration_status::host_gone: return "The host this re-attach token was minted for no longer exists";
    case store::registration_status::ok: break;
  }
  return "Registration refused";
}

store::agent_registration to_registration(const protocol::register_frame& f) {
  store::agent_registration reg;
  reg.engine_id = f.engine_id;
  reg.version = f.version;
  reg.proto_version = f.proto_version;
  reg.capabilities = json::serialize(f.capabilities);
  reg.arch = f.agent_arch;
  reg.info.hostname = f.hostname.empty() ? f.engine_id : f.hostname;
  reg.info.os_type = f.os_type;
  reg.info.os_version = f.os_version;
  reg.info.kernel_version = f.kernel_version;
  reg.info.docker_version = f.docker_version;
  reg.info.daemon_started_at = f.daemon_started_at;
  reg.info.total_memory = f.total_memory;
  reg.info.num_cpus = f.num_cpus;
  reg.force_unique = f.force_unique_registration;
  reg.hostname_source = f.hostname_source;
  return reg;
}

template <class AgentWebsocket>
net::awaitable<void> refuse(AgentWebsocket& ws, std::string reason, std::string_view peer) {
  log_refusal("agent registration from {} refused: {}", peer, log_text(reason));
  co_await ws.async_write(net::buffer(json::serialize(protocol::auth_error_frame(reason))), use_tuple);
  co_await ws.async_close(websocket::close_reason(websocket::close_code::policy_error, "authentication failed"), use_tuple);
}

struct registered {
  protocol::auth_success reply;
  std::string refusal;  // non-empty when refused
};

net::awaitable<registered> authenticate(server_context& ctx, const protocol::register_frame& frame) {
  auto reg = to_registration(frame);
  auto presented_hash = sha256_hex(frame.token);
  auto now = sys_clock::now();
  // A permanent token first; a token that is none is tried as a registration token.
  // Every reconnect rotates the token: the agent gets the next one now, and the one it presented stays
  // valid until it presents the next (so it is never locked out by a crash between the two).
  // Lambdas are built outside co_await expressions: g++ 12 destroys such temporaries twice.
  std::string permanent = random_token();
  auto next_hash = sha256_hex(permanent);
  auto reconnect = ctx.with_store([presented_hash, next_hash, reg, now](store::store& s) {
    return s.reconnect_with_permanent_token(presented_hash, next_hash, reg, now);
  });
  auto outcome = co_await std::move(reconnect);
  if (outcome.status == store::registration_status::unknown_token) {
    auto permanent_hash = next_hash;
    auto enrol = ctx.with_store([presented_hash, permanent_hash, reg, now](store::store& s) {
      return s.register_with_token(presented_hash, permanent_hash, reg, now);
    });
    outcome = co_await std::move(enrol);
  }
  registered r;
  if (outcome.status != store::registration_status::ok) {
    r.refusal = refusal_text(outcome.status);
    co_return r;
  }
  r.reply.agent_id = outcome.agent_id;
  r.reply.host_id = outcome.host_id;
  r.reply.permanent_token = permanent;
  r.reply.server_version = DOCKMON_VERSION;
  r.reply.stats_batch = true;
  r.reply.host_filesystems = true;
  r.reply.health_thresholds = true;
  co_return r;
}

// Reads the register frame within the deadline. Empty text on timeout or a dropped connection.
template <class AgentWebsocket>
net::awaitable<std::string> read_first_frame(AgentWebsocket& ws) {
  net::steady_timer deadline(ws.get_executor());
  deadline.expires_after(registration_deadline);
  deadline.async_wait([&ws](error_code ec) {
    if (!ec) beast::get_lowest_layer(ws).close();  // ends the read below
  });
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
  deadline.cancel();
  if (ec) co_return std::string();
  if (!ws.got_text()) co_return std::string("\x01");  // binary: refused by the parser as not JSON
  co_return beast::buffers_to_string(buffer.data());
}

// Container ids in an agent's list_containers answer.
std::vector<std::string> listed_container_ids(const json::value& payload) {
  std::vector<std::string> ids;
  for (auto& c : listed_containers(payload)) ids.push_back(std::move(c.id));
  return ids;
}

// Keeps the server's view of the agent's containers current (agent_limits admits series by it): asks
// when woken because the agent reported more unlisted containers than the allowance (at most every
// container_list_min_gap), and every container_list_interval. Not at connect: a host with few containers
// never needs it, and a busy one asks by itself on its first batch.
net::awaitable<void> keep_container_list(server_context& ctx, std::string host_id, std::shared_ptr<agent_connection> connection,
                                         std::shared_ptr<net::steady_timer> wake) {
  auto earliest = std::chrono::steady_clock::now();
  for (;;) {
    wake->expires_after(container_list_interval);
    co_await wake->async_wait(use_tuple);
    if (ctx.hub.find_by_host(host_id) != connection) co_return;
    while (std::chrono::steady_clock::now() < earliest) {  // more wake-ups meanwhile do not hurry it
      wake->expires_at(earliest);
      co_await wake->async_wait(use_tuple);
      if (ctx.hub.find_by_host(host_id) != connection) co_return;
    }
    protocol::command cmd;
    cmd.name = "list_containers";
    auto listed = co_await ctx.hub.execute(host_id, std::move(cmd), ctx.config.command_timeout);
    if (ctx.hub.find_by_host(host_id) != connection) co_return;  // ended while the list was asked for
    if (listed.result == command_outcome::status::ok) ctx.telemetry.containers_listed(host_id, listed_container_ids(listed.payload));
    earliest = std::chrono::steady_clock::now() + container_list_min_gap;
  }
}

}  // namespace

template <class Stream>
net::awaitable<void> run_agent_session(server_context& ctx, Stream stream, http::request<http::string_body> upgrade) {
  using agent_websocket = websocket::stream<Stream>;
  std::string peer;
  {
    error_code ec;
    auto ep = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
    peer = ec ? "unknown peer" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  beast::get_lowest_layer(stream).expires_never();  // the WebSocket's own timeouts take over
  auto ws = std::make_shared<agent_websocket>(std::move(stream));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = 30s;
  timeouts.idle_timeout = 45s;  // a ping goes out after half of it; silence for all of it drops the agent
  timeouts.keep_alive_pings = true;
  ws->set_option(timeouts);
  ws->read_message_max(max_registration_frame);
  ws->set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "dockmon-server/" DOCKMON_VERSION); }));

  auto [accept_ec] = co_await ws->async_accept(upgrade, use_tuple);
  if (accept_ec) {
    spdlog::debug("agent WebSocket handshake with {} failed: {}", peer, accept_ec.message());
    co_return;
  }

  std::string first = co_await read_first_frame(*ws);
  if (first.empty()) {
    log_refusal("agent at {} sent no registration within {} s (or hung up)", peer, registration_deadline.count());
    co_return;
  }
  auto frame = protocol::parse_register(std::string_view(first));
  if (!frame) {
    co_await refuse(*ws, frame.error().message, peer);
    co_return;
  }
  registered reg = co_await authenticate(ctx, *frame);
  if (!reg.refusal.empty()) {
    co_await refuse(*ws, reg.refusal, peer);
    co_return;
  }
  auto [write_ec, written] = co_await ws->async_write(net::buffer(json::serialize(protocol::to_json(reg.reply))), use_tuple);
  if (write_ec) co_return;

  ws->read_message_max(max_agent_frame);
  auto outbox = std::make_shared<ws_outbox<agent_websocket>>(ws, agent_outbox);
  auto connection = std::make_shared<ws_connection<agent_websocket>>(outbox, reg.reply.agent_id, reg.reply.host_id);
  ctx.hub.attach(connection);
  co_await hold_host(ctx, reg.reply.host_id);  // among replicas, this one serves the host now
  const auto host_name = frame->hostname.empty() ? frame->engine_id : frame->hostname;
  ctx.telemetry.host_named(reg.reply.host_id, host_name);
  ctx.alerts.host_connected(reg.reply.host_id, host_name, sys_clock::now());
  ctx.telemetry.on_agent_link(reg.reply.host_id, true);
  spdlog::info("agent {} ({} {}) online for host {} from {}", reg.reply.agent_id, log_text(frame->hostname, 64), log_text(frame->version, 64),
               reg.reply.host_id, peer);
  net::co_spawn(ws->get_executor(), ws_outbox<agent_websocket>::run(outbox), net::detached);
  auto list_wake = std::make_shared<net::steady_timer>(ws->get_executor());
  net::co_spawn(ws->get_executor(), keep_container_list(ctx, reg.reply.host_id, connection, list_wake), net::detached);
  net::co_spawn(ws->get_executor(), give_health_checks(ctx, reg.reply.host_id, connection), net::detached);

  auto last_seen_write = std::chrono::steady_clock::now();
  token_bucket frame_budget(frames_per_second, frame_burst);
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(buffer, use_tuple);
    if (ec) {
      if (!connection->closed()) spdlog::info("agent {} disconnected: {}", reg.reply.agent_id, ec.message());
      break;
    }
    if (!frame_budget.try_take()) {
      buffer.consume(buffer.size());
      log_refusal("agent {} sends more than {} frames a second; frames dropped unread", reg.reply.agent_id, frames_per_second);
      continue;
    }
    error_code parse_ec;
    json::value value;
    if (buffer.size() <= parse_inline_limit) {
      value = json::parse(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()), parse_ec);
    } else {
      auto text = std::make_shared<std::string>(beast::buffers_to_string(buffer.data()));
      auto parse = run_blocking(ctx.db_pool, [text] {
        error_code e;
        auto v = json::parse(*text, e);
        return std::pair{std::move(v), e};
      });
      std::tie(value, parse_ec) = co_await std::move(parse);
    }
    buffer.consume(buffer.size());
    if (parse_ec) {
      log_refusal("agent {} sent a frame that is not JSON; ignored", reg.reply.agent_id);
      continue;
    }
    auto msg = protocol::parse_agent_message(value);
    if (!msg) {
      log_refusal("agent {} sent a malformed frame: {}", reg.reply.agent_id, log_text(msg.error().message));
      continue;
    }
    switch (msg->type) {
      case protocol::agent_message::kind::response:
      case protocol::agent_message::kind::operation_reply:
        ctx.hub.on_reply(*connection, *msg);
        break;
      case protocol::agent_message::kind::event: {
        const auto& payload = msg->payload.get_object();
        const auto& host_id = reg.reply.host_id;
        const bool stats = msg->event_name == "container_stats_batch" || msg->event_name == "container_stats";
        if (stats) {
          if (msg->event_name == "container_stats_batch") ctx.telemetry.on_container_stats_batch(host_id, payload);
          else ctx.telemetry.on_container_stats(host_id, payload);
          // A container the last list did not name went over the allowance: ask for a new list now.
          if (ctx.telemetry.take_list_wanted(host_id)) list_wake->cancel();
        } else if (msg->event_name == "container_event" || msg->event_name == "update_complete") {
          const bool update = msg->event_name == "update_complete";
          if (update) ctx.telemetry.on_update_complete(host_id, payload);
          else ctx.telemetry.on_container_event(host_id, payload);
          // A container that starts under a checked name (re-made by an update or by compose) takes its check.
          const auto id = string_field(payload, update ? "new_container_id" : "container_id");
          const auto name = string_field(payload, "container_name");
          if ((update || string_field(payload, "action") == "start") && valid_container_id(id) && valid_container_name(name))
            health_follows_container(ctx, host_id, id, name);
        } else if (msg->event_name == "events_dropped") ctx.telemetry.on_events_dropped(host_id, payload);
        else if (msg->event_name == "update_progress") ctx.telemetry.on_update_progress(host_id, payload);
        else if (msg->event_name == "selfupdate_progress") ctx.telemetry.on_selfupdate_progress(host_id, payload);
        else if (on_health_event(ctx, host_id, msg->event_name, payload)) {
        } else spdlog::debug("agent {} event {} not handled yet", reg.reply.agent_id, msg->event_name.substr(0, 64));
        break;
      }
      case protocol::agent_message::kind::host_stats:
        ctx.telemetry.on_host_stats(reg.reply.host_id, msg->payload.get_object());
        break;
      case protocol::agent_message::kind::heartbeat:
      case protocol::agent_message::kind::other:
        break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_seen_write > last_seen_interval) {
      last_seen_write = now;
      auto agent_id = reg.reply.agent_id;
      auto wall = sys_clock::now();
      auto seen = ctx.with_store([agent_id, wall](store::store& s) { s.set_agent_status(agent_id, "online", wall); });
      co_await std::move(seen);
    }
  }
  connection->close("connection ended");
  list_wake->cancel();
  if (ctx.hub.detach(*connection)) {
    auto agent_id = reg.reply.agent_id;
    auto wall = sys_clock::now();
    ctx.telemetry.on_agent_link(reg.reply.host_id, false);
    if (co_await held_elsewhere(ctx, reg.reply.host_id)) {
      ctx.replicas.let_go(reg.reply.host_id);
      ctx.alerts.forget_host(reg.reply.host_id);  // they went with it (agents/replica_link hold_host)
      spdlog::info("agent {} moved to another replica", agent_id);
      co_return;  // not offline: the replica that holds it now says what it is
    }
    // Among replicas, a host no replica holds is the leader's to count (agents/replica_link).
    if (!ctx.replicas.enabled() || ctx.replicas.leads()) ctx.alerts.host_disconnected(reg.reply.host_id, wall);
    auto gone = ctx.with_store([agent_id, wall](store::store& s) { s.set_agent_status(agent_id, "offline", wall); });
    co_await std::move(gone);
    co_await release_host(ctx, reg.reply.host_id);
    spdlog::info("agent {} offline", agent_id);
  }
}

template net::awaitable<void> run_agent_session(server_context&, plain_stream, http::request<http::string_body>);
template net::awaitable<void> run_agent_session(server_context&, tls_stream, http::request<http::string_body>);

}  // namespace dockmon::server
