// Dial, register, serve, reconnect.
#include "link/connection.hpp"

#include "updates/container_handover.hpp"

#include "dockmon/common/backoff.hpp"
#include "dockmon/common/ws_outbox.hpp"
#include "core/server_dial.hpp"
#include "core/system_info.hpp"
#include "link/token_file.hpp"
#include "core/version.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::agent {

namespace {

using namespace std::chrono_literals;

constexpr auto auth_timeout = 30s;
constexpr std::size_t max_server_frame = 4 * 1024 * 1024;
// Replies up to 64 MiB in all (six log answers of the largest kind); a server that lets more pile up is
// not reading, and the connection is dropped rather than the host's memory spent.
constexpr outbox_limits agent_outbox{.replies = 4096, .events = 4096, .reply_bytes = 64 * 1024 * 1024};
constexpr std::size_t max_commands_in_flight = 64;

template <class Stream>
using ws_of = websocket::stream<Stream>;

template <class Stream>
void set_client_timeouts(ws_of<Stream>& ws) {
  // Beast's client defaults turn pings off; a dead server must be noticed within 45 s.
  websocket::stream_base::timeout t{};
  t.handshake_timeout = 30s;
  t.idle_timeout = 40s;  // ping after 20 s of silence, give up after 40 s: inside the 45 s promise
  t.keep_alive_pings = true;
  ws.set_option(t);
  ws.read_message_max(max_server_frame);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(http::field::user_agent, std::string("dockmon-agent/") + agent_version); }));
}

// One command at a time per coroutine; replies go through the outbox so the reader never waits.
template <class Stream>
net::awaitable<void> run_one(dispatcher& d, std::shared_ptr<ws_outbox<ws_of<Stream>>> outbox,
                             std::shared_ptr<std::size_t> in_flight, protocol::server_message msg) {
  try {
    auto reply = co_await d.handle(std::move(msg));
    if (reply) outbox->push(json::serialize(*reply));
  } catch (const std::exception& e) {
    spdlog::error("command failed unexpectedly: {}", e.what());
  }
  --*in_flight;
}

}  // namespace

connection::connection(net::any_io_executor ex, agent_config config, docker::client& docker, telemetry& live,
                       self_updater* self_update)
    : executor_(ex),
      config_(std::move(config)),
      docker_(docker),
      telemetry_(live),
      audit_(config_.data_path),
      health_(ex, docker,
              health_options{.state_file = config_.data_path + "/health_checks.json", .may_restart = config_.allowed.allows("restart")},
              [&live](std::string frame) { live.emit_event(std::move(frame)); }, &audit_),
      updates_(ex, docker, [&live](std::string frame) { live.emit_event(std::move(frame)); }),
      self_update_(self_update),
      dispatcher_(docker, config_.agent_name, config_.allowed, &audit_, &updates_, self_update, own_container_id()) {
  if (config_.server.tls) tls_.emplace(make_client_tls(config_));
  live.on_container_event([this](const std::string& action, const std::string& id, const json::object& attributes) {
    health_.on_container_event(action, id, attributes);
  });
  health_.start();
}

std::string connection::current_token() const {
  // Stored file > PERMANENT_TOKEN > REGISTRATION_TOKEN. DockMon's agent puts PERMANENT_TOKEN first; here
  // the server rotates the token at every connection, and an agent that kept presenting the token from
  // its environment would keep that one valid for ever. A stored token the server refused is dropped
  // (until the next start), so a new token given in the environment takes over.
  if (!stored_token_.empty()) return stored_token_;
  if (!config_.permanent_token.empty()) return config_.permanent_token;
  return config_.registration_token;
}

net::awaitable<void> connection::run_forever() {
  backoff delays(config_.reconnect_initial, config_.reconnect_max);
  net::steady_timer pause(executor_);
  for (;;) {
    ended how = ended::never_connected;
    try {
      how = co_await attempt();
    } catch (const std::exception& e) {
      spdlog::error("connection attempt failed: {}", e.what());
    }
    if (self_update_ != nullptr) {
      self_update_->on_connection_closed(std::exchange(close_reason_, std::string()));
      co_await self_update_->hold_while_handing_over();
    }

    // With several servers (DOCKMON_URL=a,b), the next one in turn: a server that refused or dropped us
    // may be down while another of its replicas is up.
    if (config_.servers.size() > 1) {
      next_server_ = (next_server_ + 1) % config_.servers.size();
      config_.server = config_.servers[next_server_];
    }
    auto delay = how == ended::registered_then_dropped ? delays.after_drop() : delays.next();
    spdlog::info("reconnecting to {} in {} ms", config_.server.describe(), delay.count());
    pause.expires_after(delay);
    co_await pause.async_wait(use_tuple);
  }
}

net::awaitable<connection::ended> connection::attempt() {
  if (!token_key_) {
    // The token file is sealed to the engine id, so it is read once Docker has answered.
    auto key = co_await host_token_key(docker_);
    if (!key) {
      spdlog::error("cannot read the Docker engine's id ({}): {}", docker_.where().describe(), key.error().message);
      co_return ended::never_connected;
    }
    token_key_ = std::move(*key);
    if (auto stored = load_token_file(config_.token_file(), *token_key_)) stored_token_ = std::move(*stored);
  }
  if (current_token().empty()) {
    spdlog::error("no token: set REGISTRATION_TOKEN (from the server's 'add host') or PERMANENT_TOKEN");
    co_return ended::refused;
  }
  auto dial = co_await connect_to_server(executor_, config_.server);
  if (!dial.stream) {
    spdlog::warn("{}", dial.error);
    co_return ended::never_connected;
  }
  if (!config_.server.tls) {
    auto ws = std::make_shared<ws_of<beast::tcp_stream>>(std::move(*dial.stream));
    co_return co_await serve(ws, host_header(config_.server));
  }

  if (config_.insecure_skip_verify)
    spdlog::warn("INSECURE_SKIP_VERIFY is set: the server's certificate is NOT checked; anyone in the path can impersonate it");
  auto ws = std::make_shared<ws_of<beast::ssl_stream<beast::tcp_stream>>>(std::move(*dial.stream), *tls_);
  auto refused = co_await secure_handshake(ws->next_layer(), config_);
  if (!refused.empty()) {
    spdlog::warn("{}", refused);
    co_return ended::never_connected;
  }
  co_return co_await serve(ws, host_header(config_.server));
}

template <class Stream>
net::awaitable<connection::ended> connection::serve(std::shared_ptr<websocket::stream<Stream>> ws,
                                                    std::string host_header) {
  websocket::response_type answer;
  auto [hs_ec] = co_await ws->async_handshake(answer, host_header, config_.server.target, use_tuple);
  if (hs_ec) {
    // A refusal's status and text say why (a missing client certificate, a proxy in the way).
    std::string why = hs_ec.message();
    if (hs_ec == websocket::error::upgrade_declined) {  // else there is no answer (TLS failed, say)
      why += ": HTTP " + std::to_string(answer.result_int()) + " " + answer.body().substr(0, 200);
    }
    spdlog::warn("WebSocket handshake with {} failed: {}", config_.server.describe(), why);
    co_return ended::never_connected;
  }
  beast::get_lowest_layer(*ws).expires_never();  // the WebSocket's own timeouts take over
  set_client_timeouts(*ws);

  auto facts = co_await read_host_facts(docker_);
  if (!facts) {
    spdlog::error("cannot read the Docker engine's facts ({}): {}", docker_.where().describe(), facts.error().message);
    co_return ended::never_connected;
  }
  protocol::register_frame reg;
  reg.token = current_token();
  reg.engine_id = facts->engine_id;
  reg.hostname = config_.agent_name.empty() ? facts->hostname : config_.agent_name;
  reg.hostname_source = config_.agent_name.empty() ? "docker" : "agent_name";
  reg.force_unique_registration = config_.force_unique_registration;
  reg.version = agent_version;
  reg.proto_version = std::string(protocol::proto_version);
  reg.capabilities = dispatcher_.capabilities();
  reg.os_type = facts->os_type;
  reg.os_version = facts->os_version;
  reg.kernel_version = facts->kernel_version;
  reg.docker_version = facts->docker_version;
  reg.daemon_started_at = facts->daemon_started_at;
  reg.total_memory = facts->total_memory;
  reg.num_cpus = facts->num_cpus;
  reg.agent_os = "linux";
  reg.agent_arch = go_arch();
  auto [reg_ec, reg_n] = co_await ws->async_write(net::buffer(json::serialize(protocol::to_json(reg))), use_tuple);
  if (reg_ec) co_return ended::never_connected;

  // The answer to register, within a deadline of its own.
  beast::flat_buffer buffer;
  net::steady_timer deadline(executor_);
  deadline.expires_after(auth_timeout);
  deadline.async_wait([ws](error_code ec) {
    if (!ec) beast::get_lowest_layer(*ws).close();
  });
  auto [auth_ec, auth_n] = co_await ws->async_read(buffer, use_tuple);
  deadline.cancel();
  if (auth_ec) {
    spdlog::warn("no answer to registration: {}", auth_ec.message());
    co_return ended::never_connected;
  }
  error_code parse_ec;
  auto auth_value = json::parse(beast::buffers_to_string(buffer.data()), parse_ec);
  buffer.consume(buffer.size());
  if (parse_ec) {
    spdlog::error("the server's answer to registration is not JSON");
    co_return ended::refused;
  }
  auto auth = protocol::parse_auth_reply(auth_value);
  if (!auth) {
    spdlog::error("the server's answer to registration is malformed: {}", auth.error().message);
    co_return ended::refused;
  }
  if (!auth->ok) {
    spdlog::error("registration refused by the server: {}", auth->error);
    if (!stored_token_.empty() && (!config_.permanent_token.empty() || !config_.registration_token.empty())) {
      spdlog::warn("the stored token was refused; trying the token from the environment next");
      stored_token_.clear();
    }
    co_return ended::refused;
  }
  const auto& granted = auth->success;
  if (!granted.permanent_token.empty() && granted.permanent_token != stored_token_) {
    try {
      write_token_file(config_.token_file(), granted.permanent_token, *token_key_);
      stored_token_ = granted.permanent_token;
      spdlog::info("permanent token stored in {}", config_.token_file());
    } catch (const std::exception& e) {
      // Still usable for this connection; the next start would need a new registration token.
      stored_token_ = granted.permanent_token;
      spdlog::error("cannot store the permanent token: {}", e.what());
    }
  }
  spdlog::info("registered with {} as agent {} for host {}", config_.server.describe(), granted.agent_id, granted.host_id);
  // Before telemetry attaches: what it reports waits in the backlog and goes out first.
  if (self_update_ != nullptr) self_update_->on_registered();

  auto outbox = std::make_shared<ws_outbox<websocket::stream<Stream>>>(ws, agent_outbox);
  net::co_spawn(executor_, ws_outbox<websocket::stream<Stream>>::run(outbox), net::detached);
  auto sink = std::make_shared<outbox_sink<websocket::stream<Stream>>>(outbox);
  telemetry_.attach(sink);
  net::co_spawn(executor_, telemetry_.run_stats(sink, {granted.stats_batch, granted.host_filesystems}), net::detached);
  health_.link_up(granted.health_thresholds);
  auto in_flight = std::make_shared<std::size_t>(0);
  for (;;) {
    auto [ec, n] = co_await ws->async_read(buffer, use_tuple);
    if (ec) {
      if (ec == websocket::error::closed) close_reason_ = std::string(ws->reason().reason.c_str());
      spdlog::warn("connection to the server lost: {}{}{}", ec.message(), close_reason_.empty() ? "" : ": ", close_reason_);
      break;
    }
    auto value = json::parse(beast::buffers_to_string(buffer.data()), parse_ec);
    buffer.consume(buffer.size());
    if (parse_ec) {
      spdlog::warn("server sent a frame that is not JSON; ignored");
      continue;
    }
    if (value.is_object() && health_.handle_frame(value.as_object())) continue;
    auto msg = protocol::parse_server_message(value);
    if (!msg) {
      spdlog::warn("server sent a malformed message: {}", msg.error().message);
      continue;
    }
    if (*in_flight >= max_commands_in_flight) {
      auto id = msg->type == protocol::server_message::kind::command ? msg->cmd.id : msg->op.id;
      outbox->push(json::serialize(msg->type == protocol::server_message::kind::command
                                       ? protocol::response_frame(id, nullptr, "agent busy: too many commands at once")
                                       : protocol::operation_failure(id, "agent busy: too many commands at once")));
      continue;
    }
    ++*in_flight;
    net::co_spawn(executor_, run_one<Stream>(dispatcher_, outbox, in_flight, std::move(*msg)), net::detached);
  }
  outbox->close();
  health_.link_down();
  co_return ended::registered_then_dropped;
}

}  // namespace dockmon::agent
