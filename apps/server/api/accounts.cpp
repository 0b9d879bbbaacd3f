// Accounts over REST: signing in and out, one's own password and sessions, API keys (scoped, expiring,
// revocable, never above their maker), users and their roles, and the audit log.
#include "api/handlers.hpp"

#include "auth/audit.hpp"
#include "auth/auth.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

constexpr auto longest_key_life = std::chrono::hours(24 * 366);

// How long the owner of a locked account waits for a verdict, from an address it signed in from before.
constexpr auto locked_account_delay = 1s;

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

class accounts_api : private route_answers {
 public:
  explicit accounts_api(route_call& c)
      : route_answers(c.req), ctx_(c.ctx), req_(c.req), peer_(c.peer), who_(c.who), query_(c.query) {}

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
      ctx_.sessions_ended(who_.user_id);  // this session's live feed ends with it
    }
    auto res = ok(json::object{{"signed_out", true}});
    res.set(http::field::set_cookie, std::string(session_cookie_name) + "=" + cookie_attributes() + "0");
    co_return res;
  }

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
    if (!valid_host_id(user_id)) co_return fail(http::status::bad_request, "malformed user id");
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
    if (!valid_host_id(user_id)) co_return fail(http::status::bad_request, "malformed user id");
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
  net::awaitable<response> end_own_sessions() { return end_sessions(who_.user_id); }

  net::awaitable<response> end_sessions(std::string user_id) {
    if (!valid_host_id(user_id)) co_return fail(http::status::bad_request, "malformed user id");
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

 private:
  server_context& ctx_;
  const request& req_;
  std::string peer_;
  const store::principal& who_;
  std::string_view query_;
};

}  // namespace

net::awaitable<response> sign_in(route_call& c) { return serve<accounts_api, &accounts_api::login>(c); }
net::awaitable<response> sign_out(route_call& c) { return serve<accounts_api, &accounts_api::logout>(c); }

net::awaitable<response> who_am_i(route_call& c) {
  co_return c.ok(json::object{{"username", c.who.username}, {"role", c.who.role}, {"via", c.who.via}});
}

net::awaitable<response> change_password(route_call& c) { return serve<accounts_api, &accounts_api::change_password>(c); }
net::awaitable<response> sign_out_everywhere(route_call& c) { return serve<accounts_api, &accounts_api::end_own_sessions>(c); }
net::awaitable<response> create_api_key(route_call& c) { return serve<accounts_api, &accounts_api::create_api_key>(c); }
net::awaitable<response> list_api_keys(route_call& c) { return serve<accounts_api, &accounts_api::list_api_keys>(c); }
net::awaitable<response> revoke_api_key(route_call& c) { return serve<accounts_api, &accounts_api::revoke_api_key>(c); }
net::awaitable<response> list_users(route_call& c) { return serve<accounts_api, &accounts_api::list_users>(c); }
net::awaitable<response> create_user(route_call& c) { return serve<accounts_api, &accounts_api::create_user>(c); }
net::awaitable<response> update_user(route_call& c) { return serve<accounts_api, &accounts_api::update_user>(c); }
net::awaitable<response> delete_user(route_call& c) { return serve<accounts_api, &accounts_api::delete_user>(c); }
net::awaitable<response> end_user_sessions(route_call& c) { return serve<accounts_api, &accounts_api::end_sessions>(c); }
net::awaitable<response> audit_log(route_call& c) { return serve<accounts_api, &accounts_api::audit_log>(c); }

}  // namespace dockmon::server
