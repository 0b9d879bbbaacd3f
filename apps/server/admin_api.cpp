// Routes:
//   POST   /api/api-keys {name, role?, expires_in?}   a key for the caller, at most the caller's role; a key
//                                                    made with a key expires no later than it
//   GET    /api/api-keys                             the caller's keys (an admin: everyone's)
//   DELETE /api/api-keys/{id}                        revoke, with the keys it made (own keys; an admin: any)
//   GET    /api/users                                admin: every user (id, username, role, disabled, created_at)
//   POST   /api/users {username,password,role}       admin: add a user
//   PATCH  /api/users/{user_id} {role?, disabled?}   admin: change a role, disable or enable (never the last admin)
//   DELETE /api/users/{user_id}                      admin: delete a user with its sessions and keys
//   POST   /api/auth/password {current, new}         change one's own password; ends one's other sessions
//   POST   /api/auth/logout-all?keys=true            end every session of the caller (and revoke its keys)
//   DELETE /api/users/{user_id}/sessions?keys=true   admin: end every session of that user (and revoke its keys)
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

json::object user_json(const store::user_record& u) {
  return json::object{{"id", u.id}, {"username", u.username}, {"role", u.role}, {"disabled", u.disabled}, {"created_at", u.created_at}};
}

bool valid_username(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

bool acceptable_password(std::string_view password) { return password.size() >= 8 && password.size() <= 1024; }

std::string outcome_text(store::user_change c) {
  switch (c) {
    case store::user_change::ok: return "ok";
    case store::user_change::not_found: return "not found";
    case store::user_change::last_admin: return "refused: last admin";
  }
  return "?";
}

// The SHA-256 of the request's session cookie, as the sessions table keys it.
std::string session_hash_of(const request& req) {
  auto token = session_token(req);
  return token ? sha256_hex(*token) : std::string();
}

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
    if (p.size() == 3 && p[1] == "users") {
      if (method != http::verb::patch && method != http::verb::delete_) co_return method_not_allowed();
      if (!has_role(who_, role::admin)) co_return fail(http::status::forbidden, "only an admin can change users");
      if (!valid_host_id(p[2])) co_return fail(http::status::bad_request, "malformed user id");
      if (method == http::verb::patch) co_return co_await update_user(std::string(p[2]));
      co_return co_await delete_user(std::string(p[2]));
    }
    if (p.size() == 3 && p[1] == "auth" && p[2] == "password") {
      if (method != http::verb::post) co_return method_not_allowed();
      co_return co_await change_password();
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
    // A key made with a key dies with it: revoked together (the store follows parent_key_id), and never
    // expiring later than it.
    const std::string parent = who_.via == "api_key" ? who_.api_key_id : std::string();
    if (auto parent_expiry = parse_iso8601(who_.key_expires_at); parent_expiry && (!expires || *expires > *parent_expiry))
      expires = *parent_expiry;
    std::string key = "dm_" + random_token();
    auto key_hash = sha256_hex(key);
    auto user_id = who_.user_id;
    auto create = ctx_.with_store([name, key_hash, user_id, role_name, expires, parent](store::store& s) {
      return s.create_api_key(name, key_hash, user_id, role_name, expires, parent);
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
    if (!valid_username(username)) co_return fail(http::status::bad_request, "username: 1-64 of letters, digits and . _ - @");
    if (!acceptable_password(password)) co_return fail(http::status::bad_request, "password: 8 to 1024 characters");
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
    co_return ok(json::object{{"id", made->id}, {"username", made->username}, {"role", made->role}, {"disabled", false}},
                 http::status::created);
  }

  net::awaitable<response> list_users() {
    auto list = ctx_.with_store([](store::store& s) { return s.list_users(); });
    auto users = co_await std::move(list);
    json::array out;
    for (const auto& u : users) out.push_back(user_json(u));
    co_return ok(out);
  }

  // PATCH {role?, disabled?}. Disabling ends the user's sessions at once and stops its keys.
  net::awaitable<response> update_user(std::string user_id) {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    for (const auto& [key, value] : *body) {
      if (key != "role" && key != "disabled") co_return fail(http::status::bad_request, "unknown field '" + std::string(key) + "'; give role and/or disabled");
    }
    std::optional<std::string> new_role;
    std::optional<bool> disabled;
    if (const auto* r = body->if_contains("role")) {
      if (!r->is_string() || !parse_role(r->get_string())) co_return fail(http::status::bad_request, "role must be admin, operator or viewer");
      new_role = std::string(r->get_string());
    }
    if (const auto* d = body->if_contains("disabled")) {
      if (!d->is_bool()) co_return fail(http::status::bad_request, "disabled must be true or false");
      disabled = d->get_bool();
    }
    if (!new_role && !disabled) co_return fail(http::status::bad_request, "give role and/or disabled");
    auto change = ctx_.with_store([user_id, new_role, disabled](store::store& s) {
      auto outcome = s.update_user(user_id, new_role, disabled);
      return std::pair{outcome, s.find_user(user_id)};
    });
    auto [outcome, changed] = co_await std::move(change);
    std::string what = (new_role ? "role " + *new_role : std::string()) +
                       (disabled ? std::string(new_role ? ", " : "") + (*disabled ? "disabled" : "enabled") : std::string());
    record_audit(ctx_, who_, "update_user", user_id + ": " + what, outcome_text(outcome));
    if (outcome == store::user_change::not_found || !changed) co_return fail(http::status::not_found, "no such user");
    if (outcome == store::user_change::last_admin)
      co_return fail(http::status::conflict, "refused: no enabled admin would be left; make another user admin first");
    if (disabled && *disabled) ctx_.sessions_ended(user_id);
    co_return ok(json::object{{"id", changed->id}, {"username", changed->username}, {"role", changed->role}, {"disabled", changed->disabled}});
  }

  net::awaitable<response> delete_user(std::string user_id) {
    if (user_id == who_.user_id) co_return fail(http::status::conflict, "you cannot delete yourself; another admin can");
    auto remove = ctx_.with_store([user_id](store::store& s) { return s.delete_user(user_id); });
    const auto outcome = co_await std::move(remove);
    record_audit(ctx_, who_, "delete_user", user_id, outcome_text(outcome));
    if (outcome == store::user_change::not_found) co_return fail(http::status::not_found, "no such user");
    if (outcome == store::user_change::last_admin)
      co_return fail(http::status::conflict, "refused: no enabled admin would be left; make another user admin first");
    ctx_.sessions_ended(user_id);
    co_return ok(json::object{{"id", user_id}, {"deleted", true}});
  }

  // The caller's own password. Every other session of the user ends; the one asking stays signed in.
  net::awaitable<response> change_password() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    const std::string current = string_field(*body, "current");
    const std::string next = string_field(*body, "new");
    if (!acceptable_password(next)) co_return fail(http::status::bad_request, "the new password must have 8 to 1024 characters");
    if (current.size() > 1024) co_return fail(http::status::forbidden, "the current password is wrong");
    auto user_id = who_.user_id;
    auto find = ctx_.with_store([user_id](store::store& s) { return s.find_user(user_id); });
    auto me = co_await std::move(find);
    if (!me) co_return fail(http::status::not_found, "no such user");
    auto stored_hash = me->password_hash;
    auto check = run_blocking(ctx_.db_pool, [stored_hash, current, next] {
      return std::pair{verify_password(stored_hash, current), hash_password(next)};
    });
    auto [good, new_hash] = co_await std::move(check);
    if (!good) {
      record_audit(ctx_, who_, "change_password", who_.username, "refused: wrong current password");
      co_return fail(http::status::forbidden, "the current password is wrong");
    }
    const std::string keep = who_.via == "session" ? session_hash_of(req_) : std::string();
    auto store_it = ctx_.with_store([user_id, new_hash, keep](store::store& s) {
      s.set_password_hash(user_id, new_hash);
      return s.delete_sessions_of_user(user_id, keep);
    });
    const auto ended = co_await std::move(store_it);
    ctx_.sessions_ended(user_id);
    record_audit(ctx_, who_, "change_password", who_.username, "ok, " + std::to_string(ended) + " other sessions ended");
    co_return ok(json::object{{"changed", true}, {"sessions_ended", ended}});
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

  // ?keys=true also revokes the user's API keys: a stolen key is as good as a stolen session.
  net::awaitable<response> end_sessions(std::string user_id) {
    const bool keys = query_param(query_, "keys").value_or("") == "true";
    auto forget = ctx_.with_store([user_id, keys](store::store& s) {
      return std::pair{s.delete_sessions_of_user(user_id), keys ? s.revoke_api_keys_of_user(user_id) : std::size_t{0}};
    });
    const auto [ended, revoked] = co_await std::move(forget);
    ctx_.sessions_ended(user_id);
    record_audit(ctx_, who_, "end_sessions", user_id,
                 std::to_string(ended) + " ended" + (keys ? ", " + std::to_string(revoked) + " keys revoked" : ""));
    co_return ok(json::object{{"user_id", user_id}, {"sessions_ended", ended}, {"keys_revoked", revoked}});
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
