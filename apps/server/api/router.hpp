// The REST API's router: one table of routes (routes.cpp), each with its method, path pattern, the role
// it needs and its handler. The router checks the origin, the credentials and the role before a handler
// runs, so a handler never forgets them, and a test walks the table to prove every route refuses.
#pragma once

#include "core/answers.hpp"
#include "server_context.hpp"

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dockmon::server {

// Who may call a route: anyone, or a signed-in user (session or API key) of at least this role.
enum class access { open, viewer, operator_, admin };
std::string_view access_name(access a);

// Where a route is served when several servers share one database (--replica-address): on the replica
// the request reached; or, for a route about one host ({host_id} first) that needs its agent or what
// its agent last said, on the replica holding that agent (holder); or, for a route that changes a firing
// alert ({alert_id} first), on the replica whose engine keeps it (keeper): the holder of its host's
// agent, or the leader for host_down and for hosts no replica holds; or on the leader (signing in, so
// that one limiter counts every attempt). The request is sent on to it.
enum class reach { here, holder, keeper, leader };

// One request on its way through the route that matched it: what a handler needs and its answers.
struct route_call : route_answers {
  route_call(server_context& c, const request& r, std::string_view p, const store::principal& w,
             std::vector<std::string_view> ps, std::string_view q)
      : route_answers(r), ctx(c), req(r), peer(p), who(w), params(std::move(ps)), query(q) {}

  server_context& ctx;
  const request& req;
  std::string_view peer;                  // the client's address, for per-address limits
  const store::principal& who;            // nobody on open routes
  std::vector<std::string_view> params;   // the {...} parts of the path, in the pattern's order
  std::string_view query;                 // after '?', undecoded

  std::string param(std::size_t i) const { return std::string(params.at(i)); }
};

using route_handler = net::awaitable<response> (*)(route_call&);

// A handler made of a resource class built from the call and one of its members, which takes nothing or
// the path's first {...} part: serve<accounts_api, &accounts_api::login>.
template <class Resource, auto Member>
net::awaitable<response> serve(route_call& c) {
  Resource resource(c);
  if constexpr (std::is_invocable_v<decltype(Member), Resource&>) co_return co_await (resource.*Member)();
  else {
    auto first = c.param(0);
    co_return co_await (resource.*Member)(std::move(first));
  }
}

struct route {
  http::verb method;
  std::string_view pattern;  // "/api/hosts/{host_id}/containers/{container_id}/logs"
  access role;
  route_handler handler;
  reach where;
};

// The table, in routes.cpp: the API's contents page.
std::span<const route> api_routes();


// Answers a request that is not a WebSocket upgrade, a UI file or a build download (http_session serves
// those). peer: the client's address.
net::awaitable<response> handle_request(server_context& ctx, request req, std::string peer);

}  // namespace dockmon::server
