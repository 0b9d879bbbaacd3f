// Credentials and roles.
#include "auth/auth.hpp"

#include "dockmon/common/crypto.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

std::optional<role> parse_role(std::string_view name) {
  if (name == "viewer") return role::viewer;
  if (name == "operator") return role::operator_;
  if (name == "admin") return role::admin;
  return std::nullopt;
}

bool has_role(const store::principal& p, role needed) { return store::role_rank(p.role) >= static_cast<int>(needed); }

std::optional<std::string> session_token(const http::request<http::string_body>& req) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return std::nullopt;
  std::string_view cookies = it->value();
  while (!cookies.empty()) {
    auto end = cookies.find(';');
    auto pair = cookies.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == session_cookie_name) {
      auto value = pair.substr(eq + 1);
      if (!value.empty() && value.size() <= 128) return std::string(value);
    }
    if (end == std::string_view::npos) break;
    cookies.remove_prefix(end + 1);
  }
  return std::nullopt;
}

std::optional<std::string> bearer_token(const http::request<http::string_body>& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return std::nullopt;
  std::string_view value = it->value();
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme || value.size() > 256) return std::nullopt;
  return std::string(value.substr(scheme.size()));
}

net::awaitable<std::optional<store::principal>> authenticate(server_context& ctx,
                                                             const http::request<http::string_body>& req) {
  if (auto key = bearer_token(req)) {
    auto hash = sha256_hex(*key);
    // Lambdas are built outside co_await expressions: g++ 12 destroys such temporaries twice.
    auto find = ctx.with_store([hash](store::store& s) { return s.find_api_key(hash); });
    co_return co_await std::move(find);
  }
  if (auto token = session_token(req)) {
    auto hash = sha256_hex(*token);
    auto now = sys_clock::now();
    auto find = ctx.with_store([hash, now](store::store& s) { return s.find_session(hash, now); });
    co_return co_await std::move(find);
  }
  co_return std::nullopt;
}

bool same_origin(const http::request<http::string_body>& req) {
  auto origin = req.find(http::field::origin);
  if (origin == req.end()) return true;
  auto host = req.find(http::field::host);
  if (host == req.end()) return false;
  std::string_view o = origin->value();
  auto scheme_end = o.find("://");
  return scheme_end != std::string_view::npos && o.substr(scheme_end + 3) == host->value();
}

sign_in_limiter::verdict sign_in_limiter::consider(const std::string& username, const std::string& address) {
  const auto where = sign_in_address_key(address);
  if (!by_address_.try_take(where)) return verdict::refuse;
  if (by_account_.try_take(username)) return verdict::check;
  // Locked by someone's guesses: its owner's usual addresses still get in (the address limit and a delay
  // still slow any guessing from there); everyone else waits.
  if (!known_good(username, where) || !by_owner_address_.try_take(username + '\n' + where)) return verdict::refuse;
  return verdict::check_after_delay;
}

void sign_in_limiter::succeeded(const std::string& username, const std::string& address) {
  const auto where = sign_in_address_key(address);
  auto& list = known_good_[username];
  std::erase(list, where);
  list.insert(list.begin(), where);
  if (list.size() > 8) list.pop_back();
}

bool sign_in_limiter::known_good(const std::string& username, const std::string& address) const {
  auto it = known_good_.find(username);
  return it != known_good_.end() && std::find(it->second.begin(), it->second.end(), address) != it->second.end();
}

std::string sign_in_address_key(const std::string& address) {
  error_code ec;
  auto a = net::ip::make_address(address, ec);
  if (ec || !a.is_v6() || a.to_v6().is_v4_mapped()) return address;
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return net::ip::address_v6(bytes).to_string() + "/64";
}

std::string bootstrap_admin(store::store& db, const std::optional<std::string>& password) {
  if (db.count_users() > 0) return {};
  std::string chosen = password ? *password : random_token(18);
  db.create_user("admin", hash_password(chosen), "admin");
  spdlog::info("created the first user 'admin'");
  return password ? std::string() : chosen;
}

}  // namespace dockmon::server
