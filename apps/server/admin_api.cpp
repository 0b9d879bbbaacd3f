// Routes:
//   POST   /api/api-keys {name, role?, expires_in?}   a key for the caller, at most the caller's role
//   GET    /api/api-keys                             the caller's keys (an admin: everyone's)
//   DELETE /api/api-keys/{id}                        revoke (own keys; an admin: any)
//   GET    /api/users                                admin: every user (id, username, role, created_at)
//   POST   /api/users {username,password,role}       admin: add a user
//   POST   /api/auth/logout-all                      end every session of the caller
//   DELETE /api/users/{user_id}/sessions             admin: end every session of that user
//   GET    /api/audit?since=&limit=                  admin: the audit log, newest first
//   POST   /api/hosts/{host_id}/revoke               admin: refuse the host's agent from now on
#include "admin_api.hpp"

#include "audit.hpp"
#include "auth.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

constexpr auto longest_key_life = std::chrono::hours(24 * 366);

json::object api_key_json(const store::api_key_record& k) {
  json::object o{{"id", k.id},           {"name", k.name},         {"user_id", k.user_id},
                 {"username", k.username}, {"role", k.role},       {"created_at", k.created_at},
                 {"revoked", k.revoked}};
  o["expires_at"] = k.expires_at.empty() ? json::value(nullptr) : json::value(k.expires_at);
  return o;
}

class admin_routes : private route_answers {
 public:
  admin_routes(server_context& ctx, const request& req, const store::principal& who, std::string_view query)
      : route_answers(req), ctx_(ctx), req_(req), who_(who), query_(query) {}

  net::awaitable<std::optional<response>> route(const std::vector<std::string_view>& p) {
    const auto method = req_.method();
    if (p.size() == 2 && p[1] == "api-keys") {
      if (method == http::verb::post) co_return co_await create_api_key();
      if (method == http::verb::get) co_return co_await list_api_keys();
      co_return method_not_allowed();
    }
    if (p.size() == 3 && p[1] == "api-keys") {
      if (method != http::verb::delete_) co_return method_not_allowed();
      co_return co_await revoke_api_key(std::string(p[2]));
    }
    if (p.size() == 2 && p[1] == "users") {
      if (method != http::verb::post && method != http::verb::get) co_return method_not_allowed();
      if (!has_role(who_, role::admin)) co_return fail(http::status::forbidden, "only an admin can see or add users");
      if (method == http::verb::get) co_return co_await list_users();
      co_return co_await create_user();
    }
    if (p.size() == 3 && p[1] == "auth" && p[2] == "logout-all") {
      if (method != http::verb::post) co_return method_not_allowed();
      co_return co_await end_sessions(who_.user_id);
    }
    if (p.size() == 4 && p[1] == "users" && p[3] == "sessions") {
      if (method != http::verb::delete_) co_return method_not_allowed();
      if (!has_role(who_, role::admin)) co_return fail(http::status::forbidden, "admins only");
      if (!valid_host_id(p[2])) co_return fail(http::status::bad_request, "malformed user id");
      co_return co_await end_sessions(std::string(p[2]));
    }
    if (p.size() == 2 && p[1] == "audit") {
      if (method != http::verb::get) co_return method_not_allowed();
      if (!has_role(who_, role::admin)) co_return fail(http::status::forbidden, "admins only");
      co_return co_await audit_log();
    }
    if (p.size() == 4 && p[1] == "hosts" && p[3] == "revoke") {
      if (method != http::verb::post) co_return method_not_allowed();
      if (!has_role(who_, role::admin)) co_return fail(http::status::forbidden, "only an admin can revoke an agent");
      if (!valid_host_id(p[2])) co_return fail(http::status::bad_request, "malformed host id");
      co_return co_await revoke_agent(std::string(p[2]));
    }
    co_return std::nullopt;
  }

 private:
  net::awaitable<response> create_api_key() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    std::string name = string_field(*body, "name");
    std::string role_name = string_field(*body, "role");
    if (role_name.empty()) role_name = who_.role;
    auto wanted = parse_role(role_name);
    if (name.empty() || name.size() > 100) co_return fail(http::status::bad_request, "name is required (at most 100 characters)");
    if (!wanted) co_return fail(http::status::bad_request, "role must be admin, operator or viewer");
    if (!has_role(who_, *wanted)) co_return fail(http::status::forbidden, "a key cannot have more rights than its creator");
    std::optional<sys_clock::time_point> expires;
    if (auto life = string_field(*body, "expires_in"); !life.empty()) {
      std::chrono::milliseconds span{};
      try {
        span = parse_duration("expires_in", life);
      } catch (const config_error& e) {
        co_return fail(http::status::bad_request, e.what());
      }
      if (span < 1min || span > longest_key_life)
        co_return fail(http::status::bad_request, "expires_in must be between 1m and 366d");
      expires = sys_clock::now() + std::chrono::duration_cast<sys_clock::duration>(span);
    }
    std::string key = "dm_" + random_token();
    auto key_hash = sha256_hex(key);
    auto user_id = who_.user_id;
    auto create = ctx_.with_store([name, key_hash, user_id, role_name, expires](store::store& s) {
      return s.create_api_key(name, key_hash, user_id, role_name, expires);
    });
    auto id = co_await std::move(create);
    record_audit(ctx_, who_, "create_api_key", name, "ok");
    json::object out{{"id", id}, {"name", name}, {"role", role_name}, {"key", key}};
    out["expires_at"] = expires ? json::value(to_iso8601(*expires)) : json::value(nullptr);
    co_return ok(out, http::status::created);
  }

  net::awaitable<response> create_user() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    const std::string username = string_field(*body, "username");
    const std::string password = string_field(*body, "password");
    const std::string role_name = string_field(*body, "role");
    const bool name_ok = !username.empty() && username.size() <= 64 &&
                         std::all_of(username.begin(), username.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
                         });
    if (!name_ok) co_return fail(http::status::bad_request, "username: 1-64 of letters, digits and . _ - @");
    if (password.size() < 8 || password.size() > 1024) co_return fail(http::status::bad_request, "password: at least 8 characters");
    if (!parse_role(role_name)) co_return fail(http::status::bad_request, "role must be admin, operator or viewer");
    auto hashing = run_blocking(ctx_.db_pool, [password] { return hash_password(password); });
    auto hash = co_await std::move(hashing);
    auto create = ctx_.with_store([username, hash, role_name](store::store& s) -> std::optional<store::user> {
      try {
        return s.create_user(username, hash, role_name);
      } catch (const store::store_error&) {
        return std::nullopt;  // the name is taken
      }
    });
    auto made = co_await std::move(create);
    record_audit(ctx_, who_, "create_user", username + " (" + role_name + ")", made ? "ok" : "name taken");
    if (!made) co_return fail(http::status::conflict, "user name '" + username + "' is already taken");
    co_return ok(json::object{{"id", made->id}, {"username", made->username}, {"role", made->role}}, http::status::created);
  }

  net::awaitable<response> list_users() {
    auto list = ctx_.with_store([](store::store& s) { return s.list_users(); });
    auto users = co_await std::move(list);
    json::array out;
    for (const auto& u : users)
      out.push_back(json::object{{"id", u.id}, {"username", u.username}, {"role", u.role}, {"created_at", u.created_at}});
    co_return ok(out);
  }

  net::awaitable<response> list_api_keys() {
    const std::string owner = has_role(who_, role::admin) ? std::string() : who_.user_id;
    auto list = ctx_.with_store([owner](store::store& s) { return s.list_api_keys(owner); });
    auto keys = co_await std::move(list);
    json::array out;
    for (const auto& k : keys) out.push_back(api_key_json(k));
    co_return ok(out);
  }

  net::awaitable<response> revoke_api_key(std::string key_id) {
    if (!valid_host_id(key_id)) co_return fail(http::status::bad_request, "malformed key id");
    const std::string owner = has_role(who_, role::admin) ? std::string() : who_.user_id;
    auto revoke = ctx_.with_store([key_id, owner](store::store& s) { return s.revoke_api_key(key_id, owner); });
    const bool done = co_await std::move(revoke);
    record_audit(ctx_, who_, "revoke_api_key", key_id, done ? "ok" : "not found");
    if (!done) co_return fail(http::status::not_found, "no such key of yours");
    co_return ok(json::object{{"id", key_id}, {"revoked", true}});
  }

  net::awaitable<response> end_sessions(std::string user_id) {
    auto forget = ctx_.with_store([user_id](store::store& s) { return s.delete_sessions_of_user(user_id); });
    const auto ended = co_await std::move(forget);
    record_audit(ctx_, who_, "end_sessions", user_id, std::to_string(ended) + " ended");
    co_return ok(json::object{{"user_id", user_id}, {"sessions_ended", ended}});
  }

  net::awaitable<response> audit_log() {
    std::string since(query_param(query_, "since").value_or(""));
    std::size_t limit = 100;
    if (auto l = query_param(query_, "limit")) {
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc{} || end != l->data() + l->size() || limit == 0)
        co_return fail(http::status::bad_request, "limit must be a positive number");
    }
    if (!since.empty() && !parse_iso8601(since)) co_return fail(http::status::bad_request, "since must be an ISO 8601 time");
    auto list = ctx_.with_store([since, limit](store::store& s) { return s.list_audit(since, limit); });
    auto entries = co_await std::move(list);
    json::array out;
    for (const auto& e : entries) {
      out.push_back(json::object{{"id", e.id},         {"at", e.at},         {"user_id", e.user_id}, {"username", e.username},
                                 {"action", e.action}, {"target", e.target}, {"result", e.result}});
    }
    co_return ok(out);
  }

  net::awaitable<response> revoke_agent(std::string host_id) {
    auto now = sys_clock::now();
    auto revoke = ctx_.with_store([host_id, now](store::store& s) { return s.revoke_agent(host_id, now); });
    const bool done = co_await std::move(revoke);
    record_audit(ctx_, who_, "revoke_agent", host_id, done ? "ok" : "not found");
    if (!done) co_return fail(http::status::not_found, "no agent for this host");
    if (auto connection = ctx_.hub.find_by_host(host_id)) {
      connection->close("revoked by " + who_.username);
      ctx_.hub.detach(*connection);
    }
    co_return ok(json::object{{"host_id", host_id}, {"revoked", true}});
  }

  server_context& ctx_;
  const request& req_;
  const store::principal& who_;
  std::string_view query_;
};

}  // namespace

net::awaitable<std::optional<response>> handle_admin_request(server_context& ctx, const request& req,
                                                             const store::principal& who, std::string_view path,
                                                             std::string_view query) {
  const auto parts = split_path(path);
  admin_routes routes(ctx, req, who, query);
  co_return co_await routes.route(parts);
}

}  // namespace dockmon::server
