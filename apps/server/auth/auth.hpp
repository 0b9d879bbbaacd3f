// Who is asking: session cookies and API keys resolved to a principal; roles ranked; the admin bootstrap.
#pragma once

#include "server_context.hpp"

#include <optional>
#include <string>

namespace dockmon::server {

inline constexpr std::string_view session_cookie_name = "dockmon_session";
inline constexpr auto session_lifetime = std::chrono::hours(24);

enum class role { viewer = 0, operator_ = 1, admin = 2 };
std::optional<role> parse_role(std::string_view name);
bool has_role(const store::principal& p, role needed);

// The session cookie's value, or the Bearer token, from a request.
std::optional<std::string> session_token(const http::request<http::string_body>& req);
std::optional<std::string> bearer_token(const http::request<http::string_body>& req);

// Resolves the request's credentials; nullopt when there are none or they are not valid.
net::awaitable<std::optional<store::principal>> authenticate(server_context& ctx,
                                                             const http::request<http::string_body>& req);

// False when a browser sent the request from a page of another origin (Origin not matching Host).
// Requests without Origin (API clients) pass: a browser always sends it on POST, DELETE and WebSocket.
bool same_origin(const http::request<http::string_body>& req);

// First start: creates `admin` with the given password or a random one. Returns the password when it
// was generated (to print once), empty when users existed or the password was given.
std::string bootstrap_admin(store::store& db, const std::optional<std::string>& password);

}  // namespace dockmon::server
