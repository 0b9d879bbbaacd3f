// REST handlers. Input is checked here, at the boundary; agents are reached only through the hub.
#include "rest_api.hpp"

#include "admin_api.hpp"
#include "agent_builds.hpp"
#include "audit.hpp"
#include "auth.hpp"
#include "http_util.hpp"
#include "web_ui.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/log.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/protocol/registration.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

// How long the owner of a locked account waits for a verdict, from an address it signed in from before.
constexpr auto locked_account_delay = 1s;


json::value capabilities_json(const std::string& text) {
  error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(json::object{}) : v;
}

// Engine ids are for admins only: with one, a registration token used to be enough to take a host over.
json::object host_json(const store::host_record& h, bool online, bool show_engine_id) {
  json::object o;
  o["id"] = h.id;
  o["name"] = h.name;
  o["connection_type"] = h.connection_type;
  o["os_type"] = h.info.os_type;
  o["os_version"] = h.info.os_version;
  o["kernel_version"] = h.info.kernel_version;
  o["docker_version"] = h.info.docker_version;
  o["daemon_started_at"] = h.info.daemon_started_at;
  o["total_memory"] = h.info.total_memory;
  o["num_cpus"] = h.info.num_cpus;
  o["created_at"] = h.created_at;
  o["updated_at"] = h.updated_at;
  o["status"] = online ? "online" : "offline";
  if (h.agent) {
    json::object a;
    a["id"] = h.agent->id;
    if (show_engine_id) a["engine_id"] = h.agent->engine_id;
    a["version"] = h.agent->version;
    a["proto_version"] = h.agent->proto_version;
    a["arch"] = h.agent->arch;
    a["capabilities"] = capabilities_json(h.agent->capabilities);
    // The hub is the truth for "connected now"; the store remembers the last state across restarts.
    a["status"] = online ? "online" : "offline";
    a["last_seen_at"] = online ? now_iso8601() : h.agent->last_seen_at;
    a["registered_at"] = h.agent->registered_at;
    a["revoked_at"] = h.agent->revoked_at.empty() ? json::value(nullptr) : json::value(h.agent->revoked_at);
    o["agent"] = std::move(a);
  } else {
    o["agent"] = nullptr;
  }
  return o;
}

// Docker's container summary, reduced to what the API promises; nullopt when the agent's entry has an id
// or a name Docker would not make (they go into URLs and pages: a hostile agent's "../../" is dropped).
std::optional<json::object> container_summary(const json::value& docker) {
  json::object out;
  if (!docker.is_object()) return std::nullopt;
  const auto& c = docker.get_object();
  std::string id = string_field(c, "Id");
  if (!valid_container_id(id)) return std::nullopt;
  out["id"] = id;
  out["short_id"] = id.substr(0, 12);
  std::string name;
  if (auto* names = c.if_contains("Names"); names != nullptr && names->is_array() && !names->get_array().empty() &&
                                              names->get_array()[0].is_string()) {
    name = std::string(names->get_array()[0].get_string());
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
  }
  if (!valid_container_name(name)) return std::nullopt;
  out["name"] = name;
  out["image"] = protocol::sanitize_text(string_field(c, "Image"), 512);
  out["state"] = protocol::sanitize_text(string_field(c, "State"), 32);
  out["status"] = protocol::sanitize_text(string_field(c, "Status"), 128);
  if (auto* created = c.if_contains("Created"); created != nullptr && created->is_number()) {
    out["created"] = to_iso8601(sys_clock::time_point(std::chrono::seconds(created->to_number<std::int64_t>())));
  }
  if (auto* labels = c.if_contains("Labels"); labels != nullptr && labels->is_object()) out["labels"] = *labels;
  else out["labels"] = json::object{};
  return out;
}

// DockMon itself must not be stopped, killed or removed from its own UI.
bool is_dockmon_container(const json::object& inspect) {
  std::string name = string_field(inspect, "Name");
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  if (name == "dockmon" || name.rfind("dockmon-", 0) == 0) return true;
  if (auto* config = inspect.if_contains("Config"); config != nullptr && config->is_object()) {
    if (auto* labels = config->get_object().if_contains("Labels"); labels != nullptr && labels->is_object()) {
      auto* app = labels->get_object().if_contains("app");
      if (app != nullptr && app->is_string() && app->get_string() == "dockmon") return true;
    }
  }
  return false;
}

// Whether the container holds the host's keys: privileged, or given the Docker socket. Any image it runs
// owns the host; moving it to another repository hands that to someone else's code.
bool holds_the_host(const json::object& inspect) {
  if (auto* host_config = inspect.if_contains("HostConfig"); host_config != nullptr && host_config->is_object()) {
    if (auto* privileged = host_config->get_object().if_contains("Privileged"); privileged != nullptr && privileged->is_bool() &&
                                                                               privileged->get_bool())
      return true;
  }
  if (auto* mounts = inspect.if_contains("Mounts"); mounts != nullptr && mounts->is_array()) {
    for (const auto& m : mounts->get_array()) {
      if (!m.is_object()) continue;
      const auto source = string_field(m.get_object(), "Source");
      if (source.ends_with("docker.sock") || source.ends_with("containerd.sock") || source == "/var/run" || source == "/run")
        return true;
    }
  }
  return false;
}

// Config.Env of an inspect answer ("NAME=value" strings), or null.
json::array* environment_of(json::object& inspect) {
  auto* config = inspect.if_contains("Config");
  auto* env = config != nullptr && config->is_object() ? config->get_object().if_contains("Env") : nullptr;
  return env != nullptr && env->is_array() ? &env->get_array() : nullptr;
}

// Config.Env as viewers see it: names kept, values hidden (they hold passwords and tokens).
void hide_environment_values(json::object& inspect) {
  auto* env = environment_of(inspect);
  if (env == nullptr) return;
  for (auto& entry : *env) {
    if (!entry.is_string()) continue;
    std::string text(entry.get_string());
    entry = text.substr(0, text.find('=')) + "=(hidden)";
  }
}

// The environment's values, to blank out of logs shown to viewers (a program often prints its settings).
// Short values are left: "1" or "true" would blank half the log and hide nothing.
std::vector<std::string> environment_values(json::object& inspect) {
  std::vector<std::string> values;
  auto* env = environment_of(inspect);
  if (env == nullptr) return values;
  for (const auto& entry : *env) {
    if (!entry.is_string()) continue;
    std::string_view text = entry.get_string();
    auto eq = text.find('=');
    if (eq == std::string_view::npos || text.size() - eq - 1 < 6) continue;
    values.emplace_back(text.substr(eq + 1));
  }
  return values;
}

void blank_out(std::string& text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets)
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8))
      text.replace(at, secret.size(), "(hidden)");
}

class api : private route_answers {
 public:
  // The answers refer to req_, which is built just after them and lives as long as they do.
  api(server_context& ctx, request req, std::string peer)
      : route_answers(req_), ctx_(ctx), req_(std::move(req)), peer_(std::move(peer)) {
    std::string_view target = req_.target();
    auto q = target.find('?');
    path_ = target.substr(0, q);
    if (q != std::string_view::npos) query_ = target.substr(q + 1);
    parts_ = split_path(path_);
  }

  net::awaitable<response> dispatch() {
    auto method = req_.method();
    bool changes = method != http::verb::get && method != http::verb::head && method != http::verb::options;
    // A page of another site may make the browser send our cookie along; it may not make it change things.
    if (changes && !same_origin(req_)) co_return fail(http::status::forbidden, "cross-site request refused");
    if (path_ == "/healthz" && method == http::verb::get) co_return ok(json::object{{"status", "ok"}, {"version", DOCKMON_VERSION}});
    if (path_ == "/metrics") {
      if (method != http::verb::get) co_return method_not_allowed();
      co_return co_await metrics();
    }
    if (auto page = serve_web_ui(req_, path_)) co_return std::move(*page);
    if (parts_.empty() || parts_[0] != "api") co_return fail(http::status::not_found, "not found");
    if (path_ == "/api/auth/login") {
      if (method != http::verb::post) co_return method_not_allowed();
      co_return co_await login();
    }

    auto who = co_await authenticate(ctx_, req_);
    if (!who) co_return fail(http::status::unauthorized, "authentication required: sign in or send an API key");
    principal_ = std::move(*who);

    if (path_ == "/api/auth/logout") {
      if (method != http::verb::post) co_return method_not_allowed();
      co_return co_await logout();
    }
    if (path_ == "/api/auth/me" && method == http::verb::get)
      co_return ok(json::object{{"username", principal_.username}, {"role", principal_.role}, {"via", principal_.via}});
    if (auto answer = co_await handle_admin_request(ctx_, req_, principal_, path_, query_)) co_return std::move(*answer);
    if (auto answer = co_await handle_agent_build_request(ctx_, req_, principal_, path_, query_)) co_return std::move(*answer);
    if (path_ == "/api/agent/generate-token") {
      if (method != http::verb::post) co_return method_not_allowed();
      co_return co_await generate_token();
    }
    if (path_ == "/api/status" && method == http::verb::get) {
      if (!has_role(principal_, role::admin)) co_return fail(http::status::forbidden, "admins only");
      json::object status;
      status["version"] = DOCKMON_VERSION;
      status["agents_online"] = ctx_.hub.online_count();
      status["pending_commands"] = ctx_.hub.pending_count();
      co_return ok(status);
    }
    if (path_ == "/api/events") {
      if (method != http::verb::get) co_return method_not_allowed();
      co_return co_await events();
    }
    if (parts_.size() >= 2 && parts_[1] == "hosts") co_return co_await hosts();
    co_return fail(http::status::not_found, "not found");
  }

 private:
  net::awaitable<response> login() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    std::string username = string_field(*body, "username");
    std::string password = string_field(*body, "password");
    if (username.empty() || password.empty() || username.size() > 64 || password.size() > 1024)
      co_return fail(http::status::bad_request, "username and password are required");
    const auto verdict = ctx_.sign_in_limits.consider(username, peer_);
    if (verdict == sign_in_limiter::verdict::refuse) {
      log_refusal("sign-in for '{}' from {} refused: too many attempts", log_text(username, 64), peer_);
      co_return fail(http::status::too_many_requests, "too many sign-in attempts; wait a minute and try again");
    }
    if (verdict == sign_in_limiter::verdict::check_after_delay) {
      net::steady_timer pause(co_await net::this_coro::executor);
      pause.expires_after(locked_account_delay);
      co_await pause.async_wait(use_tuple);
    }
    // Lambdas are built outside co_await expressions: g++ 12 destroys such temporaries twice.
    auto find_user = ctx_.with_store([username](store::store& s) { return s.find_user_by_name(username); });
    auto user = co_await std::move(find_user);
    // Hash even for an unknown user so the answer takes as long either way.
    static const std::string dummy_hash = hash_password("dockmon-timing-equaliser");
    std::string hash = user ? user->password_hash : dummy_hash;
    auto verify = run_blocking(ctx_.db_pool, [hash, password] { return verify_password(hash, password); });
    bool good = co_await std::move(verify);
    if (!user || !good) {
      log_refusal("failed sign-in for user '{}' from {}", log_text(username, 64), peer_);
      co_return fail(http::status::unauthorized, "invalid username or password");
    }
    ctx_.sign_in_limits.succeeded(username, peer_);
    if (user->disabled) co_return fail(http::status::forbidden, "this account is disabled; ask an admin");
    std::string token = random_token();
    auto hash_of_token = sha256_hex(token);
    auto user_id = user->id;
    auto expires = sys_clock::now() + session_lifetime;
    auto create = ctx_.with_store([hash_of_token, user_id, expires](store::store& s) { s.create_session(hash_of_token, user_id, expires); });
    co_await std::move(create);
    auto res = ok(json::object{{"username", user->username}, {"role", user->role}});
    res.set(http::field::set_cookie, std::string(session_cookie_name) + "=" + token + cookie_attributes() +
                                         std::to_string(std::chrono::seconds(session_lifetime).count()));
    co_return res;
  }

  // Ends in "Max-Age=" for the caller to complete; over HTTPS (ours or a proxy's) the browser never sends
  // the cookie in clear.
  std::string cookie_attributes() const {
    return std::string("; Path=/; HttpOnly; SameSite=Strict") + (ctx_.door.browsers_use_https() ? "; Secure" : "") +
           "; Max-Age=";
  }

  net::awaitable<response> logout() {
    if (auto token = session_token(req_)) {
      auto hash = sha256_hex(*token);
      auto forget = ctx_.with_store([hash](store::store& s) { s.delete_session(hash); });
      co_await std::move(forget);
      ctx_.sessions_ended(principal_.user_id);  // this session's live feed ends with it
    }
    auto res = ok(json::object{{"signed_out", true}});
    res.set(http::field::set_cookie, std::string(session_cookie_name) + "=" + cookie_attributes() + "0");
    co_return res;
  }

  net::awaitable<response> generate_token() { co_return co_await mint_registration_token(std::string()); }

  // A single-use registration token, 15 minutes: for a new host, or (host_id set) one that may only
  // re-attach that host, for an agent reinstalled without its data.
  net::awaitable<response> mint_registration_token(std::string host_id) {
    if (!has_role(principal_, role::admin)) co_return fail(http::status::forbidden, "only an admin can add or re-attach hosts");
    std::string token = random_token();
    auto hash = sha256_hex(token);
    auto user_id = principal_.user_id;
    auto expires = sys_clock::now() + 15min;
    auto create = ctx_.with_store([hash, user_id, expires, host_id](store::store& s) {
      s.create_registration_token(hash, user_id, expires, host_id);
    });
    co_await std::move(create);
    if (host_id.empty()) audit("generate_registration_token", "", "ok");
    else audit("generate_reattach_token", host_id, "ok");
    co_return ok(json::object{{"token", token}, {"expires_at", to_iso8601(expires)}}, http::status::created);
  }

  net::awaitable<response> hosts() {
    auto method = req_.method();
    if (parts_.size() == 2) {
      if (method != http::verb::get) co_return method_not_allowed();
      auto list = ctx_.with_store([](store::store& s) { return s.list_hosts(); });
      auto all = co_await std::move(list);
      json::array out;
      for (const auto& h : all) out.push_back(host_with_stats(h));
      co_return ok(out);
    }
    std::string host_id(parts_[2]);
    if (!valid_host_id(host_id)) co_return fail(http::status::not_found, "no such host");
    auto find = ctx_.with_store([host_id](store::store& s) { return s.find_host(host_id); });
    auto host = co_await std::move(find);
    if (!host) co_return fail(http::status::not_found, "no such host");
    if (parts_.size() == 3) {
      if (method != http::verb::get) co_return method_not_allowed();
      co_return ok(host_with_stats(*host));
    }
    if (parts_[3] == "reattach-token" && parts_.size() == 4) {
      if (method != http::verb::post) co_return method_not_allowed();
      co_return co_await mint_registration_token(host_id);
    }
    if (parts_[3] == "stats" && parts_.size() == 4) {
      if (method != http::verb::get) co_return method_not_allowed();
      co_return ok(ctx_.telemetry.host_stats_json(host_id));
    }
    if (parts_[3] != "containers") co_return fail(http::status::not_found, "not found");
    if (parts_.size() == 6 && parts_[5] == "stats") {
      // History is the server's own: it answers while the agent is offline too.
      if (method != http::verb::get) co_return method_not_allowed();
      co_return container_stats(host_id, std::string(parts_[4]));
    }
    if (!ctx_.hub.is_online(host_id)) co_return fail(http::status::conflict, "the host's agent is offline");
    if (parts_.size() == 4) {
      if (method != http::verb::get) co_return method_not_allowed();
      co_return co_await list_containers(host_id);
    }
    std::string cid(parts_[4]);
    if (!valid_container_ref(cid)) co_return fail(http::status::bad_request, "malformed container id or name");
    if (parts_.size() == 5) {
      if (method == http::verb::get) co_return co_await container_operation(host_id, cid, std::string("inspect"), json::object());
      if (method == http::verb::delete_) {
        auto force = query_param(query_, "force");
        json::object params;  // built outside co_await: g++ 12 miscompiles initializer lists inside it
        params["force"] = force && *force == "true";
        co_return co_await container_operation(host_id, cid, std::string("remove"), std::move(params));
      }
      co_return method_not_allowed();
    }
    if (parts_.size() != 6) co_return fail(http::status::not_found, "not found");
    std::string_view verb = parts_[5];
    if (verb == "logs") {
      if (method != http::verb::get) co_return method_not_allowed();
      unsigned tail = 100;
      if (auto t = query_param(query_, "tail")) {
        auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), tail);
        if (ec != std::errc{} || end != t->data() + t->size() || tail > 10000)
          co_return fail(http::status::bad_request, "tail must be a number from 0 to 10000");
      }
      json::object params;
      params["tail"] = tail;
      co_return co_await container_operation(host_id, cid, std::string("get_logs"), std::move(params));
    }
    if (method != http::verb::post) co_return method_not_allowed();
    if (verb == "start" || verb == "stop" || verb == "restart" || verb == "kill") {
      json::object params;
      if (verb == "stop" || verb == "restart") {
        int timeout = 10;
        if (auto t = query_param(query_, "timeout")) {
          auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), timeout);
          if (ec != std::errc{} || end != t->data() + t->size() || timeout < 0 || timeout > 600)
            co_return fail(http::status::bad_request, "timeout must be 0 to 600 seconds");
        }
        params["timeout"] = timeout;
      }
      co_return co_await container_operation(host_id, cid, std::string(verb), std::move(params));
    }
    if (verb == "rename") {
      auto body = json_body(req_);
      if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
      std::string new_name = string_field(*body, "new_name");
      if (!valid_container_ref(new_name)) co_return fail(http::status::bad_request, "new_name is missing or not a valid container name");
      json::object params;
      params["new_name"] = new_name;
      co_return co_await container_operation(host_id, cid, std::string("rename"), std::move(params));
    }
    if (verb == "update") co_return co_await update_container(host_id, cid);
    co_return fail(http::status::not_found, "not found");
  }

  // A page that lists hosts can show numbers at once instead of waiting a stats interval for the feed.
  json::object host_with_stats(const store::host_record& h) const {
    auto o = host_json(h, ctx_.hub.is_online(h.id), has_role(principal_, role::admin));
    o["stats"] = ctx_.telemetry.latest_host_point(h.id);
    return o;
  }

  response container_stats(const std::string& host_id, const std::string& cid) {
    if (!valid_container_ref(cid)) return fail(http::status::bad_request, "malformed container id");
    std::string range(query_param(query_, "range").value_or("1h"));
    static const std::pair<std::string_view, std::chrono::seconds> ranges[] = {
        {"1h", std::chrono::hours(1)}, {"24h", std::chrono::hours(24)}, {"30d", std::chrono::hours(24 * 30)}};
    for (const auto& [name, window] : ranges) {
      if (range != name) continue;
      auto history = ctx_.telemetry.container_history(host_id, cid, window);
      if (!history) return fail(http::status::not_found, "no stats for this container");
      (*history)["range"] = name;
      return ok(*history);
    }
    return fail(http::status::bad_request, "range must be 1h, 24h or 30d");
  }

  net::awaitable<response> events() {
    store::event_filter filter;
    if (auto h = query_param(query_, "host_id")) filter.host_id = std::string(*h);
    if (auto c = query_param(query_, "container_id")) filter.container_id = std::string(*c);
    if (auto t = query_param(query_, "type")) {
      if (*t != "container" && *t != "update" && *t != "agent_update")
        co_return fail(http::status::bad_request, "type must be container, update or agent_update");
      filter.type = std::string(*t);
    }
    if ((!filter.host_id.empty() && !valid_host_id(filter.host_id)) ||
        (!filter.container_id.empty() && !valid_container_ref(filter.container_id)))
      co_return fail(http::status::bad_request, "malformed host_id or container_id");
    for (auto [key, target] : {std::pair{"since", &filter.since}, std::pair{"until", &filter.until}}) {
      auto v = query_param(query_, key);
      if (!v) continue;
      auto when = parse_iso8601(*v);
      if (!when) co_return fail(http::status::bad_request, std::string(key) + " must be an ISO 8601 time such as 2026-11-27T06:00:00Z");
      *target = to_iso8601(*when, true);
    }
    filter.limit = 100;
    if (auto l = query_param(query_, "limit")) {
      unsigned limit = 0;
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc{} || end != l->data() + l->size() || limit < 1 || limit > 1000)
        co_return fail(http::status::bad_request, "limit must be 1 to 1000");
      filter.limit = limit;
    }
    auto list = ctx_.with_store([filter](store::store& s) { return s.list_events(filter); });
    auto found = co_await std::move(list);
    json::array out;
    for (const auto& e : found) {
      json::object o;
      o["id"] = std::to_string(e.id);
      o["host_id"] = e.host_id;
      o["container_id"] = e.container_id;
      o["container_name"] = e.container_name;
      o["image"] = e.image;
      o["type"] = e.type;
      o["action"] = e.action;
      o["timestamp"] = e.timestamp;
      error_code ec;
      auto attrs = json::parse(e.attributes, ec);
      o["attributes"] = ec ? json::value(json::object{}) : attrs;
      out.push_back(std::move(o));
    }
    co_return ok(out);
  }

  net::awaitable<response> metrics() {
    auto who = co_await authenticate(ctx_, req_);
    if (!who) co_return fail(http::status::unauthorized, "authentication required: send an API key as a Bearer token");
    response res{http::status::ok, req_.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.keep_alive(req_.keep_alive());
    // Only the copy on this (the I/O) thread: a fleet's text takes tens of milliseconds to format.
    auto snapshot = std::make_shared<metrics_snapshot>(ctx_.telemetry.metrics(ctx_.hub.online_count(), ctx_.hub.pending_count()));
    auto format = run_blocking(ctx_.db_pool, [snapshot] { return prometheus_text(*snapshot); });
    res.body() = co_await std::move(format);
    res.prepare_payload();
    co_return res;
  }

  std::chrono::milliseconds timeout_for(const json::object& params) const {
    auto timeout = ctx_.config.command_timeout;
    // A stop may legitimately take its own grace period; wait for that plus a margin.
    if (auto* t = params.if_contains("timeout"); t != nullptr && t->is_int64())
      timeout = std::max(timeout, std::chrono::milliseconds(std::chrono::seconds(t->as_int64() + 10)));
    return timeout;
  }

  response outcome_error(const command_outcome& o) { return command_failure(req_, o); }

  net::awaitable<response> list_containers(const std::string& host_id) {
    protocol::command cmd;
    cmd.name = "list_containers";
    auto o = co_await ctx_.hub.execute(host_id, std::move(cmd), ctx_.config.command_timeout);
    if (o.result != command_outcome::status::ok) co_return outcome_error(o);
    const json::value* list = &o.payload;
    if (o.payload.is_object()) {
      if (auto* c = o.payload.get_object().if_contains("containers")) list = c;
    }
    if (!list->is_array()) co_return fail(http::status::bad_gateway, "the agent's container list is malformed");
    json::array out;
    std::vector<std::string> ids;
    std::size_t dropped = 0;
    for (const auto& c : list->get_array()) {
      if (auto summary = container_summary(c)) {
        ids.emplace_back(summary->at("id").as_string());
        out.push_back(std::move(*summary));
      } else {
        ++dropped;
      }
    }
    ctx_.telemetry.containers_listed(host_id, ids);  // a fresh list is a fresh bound on the host's series
    if (dropped > 0) spdlog::warn("agent of host {} listed {} containers with a malformed id or name; dropped", host_id, dropped);
    co_return ok(out);
  }

  net::awaitable<response> container_operation(const std::string& host_id, const std::string& cid, std::string action,
                                                json::object params) {
    bool changes_state = action != "inspect" && action != "get_logs";
    if (changes_state && !has_role(principal_, role::operator_))
      co_return fail(http::status::forbidden, "your role may only look, not change containers");
    const bool viewer = !has_role(principal_, role::operator_);
    std::vector<std::string> secrets;  // what to blank out of a viewer's logs
    if (action == "stop" || action == "kill" || action == "remove" || action == "rename" || (viewer && action == "get_logs")) {
      auto inspected = co_await inspect_container(host_id, cid);
      if (!inspected) co_return std::move(inspected.error());
      if (action != "get_logs" && is_dockmon_container(*inspected)) {
        audit(action, host_id + "/" + cid, "refused: DockMon's own container");
        co_return fail(http::status::forbidden, "refusing to " + action + " DockMon's own container");
      }
      secrets = environment_values(*inspected);
    }
    auto timeout = timeout_for(params);
    protocol::container_operation op;
    op.action = action;
    op.container_id = cid;
    op.params = std::move(params);
    auto o = co_await ctx_.hub.execute(host_id, std::move(op), timeout);
    if (changes_state) audit(action, host_id + "/" + cid, o.result == command_outcome::status::ok ? "ok" : "failed: " + o.error);
    if (o.result != command_outcome::status::ok) co_return outcome_error(o);
    if (!o.payload.is_object()) co_return fail(http::status::bad_gateway, "the agent's reply is malformed");
    auto& reply = o.payload.get_object();
    if (action == "inspect") {
      auto* c = reply.if_contains("container");
      if (c == nullptr || !c->is_object()) co_return fail(http::status::bad_gateway, "the agent's reply has no container");
      if (viewer) hide_environment_values(c->get_object());
      co_return ok(*c);
    }
    if (auto* logs = reply.if_contains("logs"); viewer && logs != nullptr && logs->is_string()) {
      std::string text(logs->get_string());
      blank_out(text, secrets);
      *logs = text;
    }
    reply.erase("correlation_id");
    co_return ok(reply);
  }

  // The container as the agent inspects it; the error answer when it could not.
  struct inspected_container {
    std::optional<json::object> container;
    response error_answer;
    explicit operator bool() const { return container.has_value(); }
    json::object& operator*() { return *container; }
    response& error() { return error_answer; }
  };
  net::awaitable<inspected_container> inspect_container(const std::string& host_id, const std::string& cid) {
    protocol::container_operation inspect;
    inspect.action = "inspect";
    inspect.container_id = cid;
    auto inspected = co_await ctx_.hub.execute(host_id, std::move(inspect), ctx_.config.command_timeout);
    inspected_container out;
    if (inspected.result != command_outcome::status::ok) {
      out.error_answer = outcome_error(inspected);
      co_return out;
    }
    auto* c = inspected.payload.is_object() ? inspected.payload.get_object().if_contains("container") : nullptr;
    if (c == nullptr || !c->is_object()) {
      out.error_answer = fail(http::status::bad_gateway, "the agent's reply has no container");
      co_return out;
    }
    out.container = std::move(c->get_object());
    co_return out;
  }

  // POST .../containers/{cid}/update {image, stop_timeout?, health_timeout?, registry_auth?}: the agent
  // answers update_started at once; stages follow on /ws as update_progress and end in the events.
  net::awaitable<response> update_container(const std::string& host_id, const std::string& cid) {
    if (!has_role(principal_, role::operator_)) co_return fail(http::status::forbidden, "your role may only look, not change containers");
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    const std::string image = string_field(*body, "image");
    const bool image_ok = !image.empty() && image.size() <= 512 && std::all_of(image.begin(), image.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/' || c == ':' || c == '@';
    });
    if (!image_ok) co_return fail(http::status::bad_request, "image must be an image reference such as registry:5000/app:v2");
    protocol::command cmd;
    cmd.name = "update_container";
    cmd.payload["container_id"] = cid;
    cmd.payload["new_image"] = image;
    for (const char* key : {"stop_timeout", "health_timeout"}) {
      if (const auto* v = body->if_contains(key); v != nullptr && !v->is_null()) {
        if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > 3600)
          co_return fail(http::status::bad_request, std::string(key) + " must be 0 to 3600 seconds");
        cmd.payload[key] = *v;
      }
    }
    // Credentials go to the agent for this pull only: never stored, never logged, never audited.
    if (const auto* auth = body->if_contains("registry_auth"); auth != nullptr && !auth->is_null()) {
      if (!auth->is_object()) co_return fail(http::status::bad_request, "registry_auth must be {username,password,serveraddress}");
      cmd.payload["registry_auth"] = *auth;
    }
    bool confirmed = false;
    if (const auto* flag = body->if_contains("allow_privileged_repository_change"); flag != nullptr && !flag->is_null()) {
      if (!flag->is_bool()) co_return fail(http::status::bad_request, "allow_privileged_repository_change must be true or false");
      confirmed = flag->get_bool();
    }
    auto inspected = co_await inspect_container(host_id, cid);
    if (!inspected) co_return std::move(inspected.error());
    const std::string target = host_id + "/" + cid + " -> " + image;
    if (is_dockmon_container(*inspected)) {
      audit("update_container", target, "refused: DockMon's own container");
      co_return fail(http::status::forbidden, "refusing to update DockMon's own container (its agent updates itself)");
    }
    std::string current_image;
    if (auto* config = (*inspected).if_contains("Config"); config != nullptr && config->is_object())
      current_image = string_field(config->get_object(), "Image");
    const bool moves = protocol::image_repository(current_image) != protocol::image_repository(image);
    if (moves && holds_the_host(*inspected) && !confirmed) {
      audit("update_container", target, "refused: privileged container to another repository, not confirmed");
      co_return fail(http::status::forbidden,
                     "this container is privileged or holds the Docker socket, and " + image + " is from another repository than " +
                         current_image + ": that image would own the host. Send allow_privileged_repository_change: true to confirm");
    }
    auto o = co_await ctx_.hub.execute(host_id, std::move(cmd), ctx_.config.command_timeout);
    audit("update_container", target + (moves && confirmed && holds_the_host(*inspected) ? " (privileged, another repository: confirmed)" : ""),
          o.result == command_outcome::status::ok ? "started" : "failed: " + o.error);
    if (o.result != command_outcome::status::ok) co_return outcome_error(o);
    json::object out{{"status", "update_started"}, {"host_id", host_id}, {"container_id", cid}, {"image", image}};
    co_return ok(out, http::status::accepted);
  }

  void audit(std::string action, std::string target, std::string result) {
    record_audit(ctx_, principal_, std::move(action), std::move(target), std::move(result));
  }

  server_context& ctx_;
  request req_;
  std::string peer_;
  std::string_view path_;
  std::string_view query_;
  std::vector<std::string_view> parts_;
  store::principal principal_;
};

}  // namespace

net::awaitable<response> handle_request(server_context& ctx, request req, std::string peer) {
  api handler(ctx, std::move(req), std::move(peer));
  co_return co_await handler.dispatch();
}

}  // namespace dockmon::server
