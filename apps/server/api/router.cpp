// Matching a request to its route and checking origin, credentials and role before the handler runs.
#include "api/router.hpp"

#include "auth/auth.hpp"
#include "replicas/forward.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

namespace dockmon::server {

namespace {

std::string_view refusal_for(access needed) {
  switch (needed) {
    case access::operator_: return "your role may only look, not change anything";
    case access::admin: return "admins only";
    case access::open:
    case access::viewer: break;
  }
  return "not allowed";
}

bool may_call(const store::principal& who, access needed) {
  switch (needed) {
    case access::open: return true;
    case access::viewer: return has_role(who, role::viewer);
    case access::operator_: return has_role(who, role::operator_);
    case access::admin: return has_role(who, role::admin);
  }
  return false;
}

// The {...} parts of the path when it matches the pattern, segment by segment (a {...} matches any one
// segment); nullopt otherwise. Both come split: the path once per request, the patterns once.
std::optional<std::vector<std::string_view>> match_route(const std::vector<std::string_view>& pattern,
                                                         const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return std::nullopt;
  std::vector<std::string_view> params;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].starts_with('{')) {
      params.push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return std::nullopt;
    }
  }
  return params;
}

// The table's patterns, split once.
const std::vector<std::vector<std::string_view>>& split_patterns() {
  static const auto patterns = [] {
    std::vector<std::vector<std::string_view>> out;
    for (const auto& r : api_routes()) out.push_back(split_path(r.pattern));
    return out;
  }();
  return patterns;
}

}  // namespace

std::string_view access_name(access a) {
  switch (a) {
    case access::open: return "open";
    case access::viewer: return "viewer";
    case access::operator_: return "operator";
    case access::admin: return "admin";
  }
  return "?";
}


namespace {

// How long a request sent on to another replica may take: the command's own wait (a stop's ?timeout=
// seconds) and the agent's, with a margin.
std::chrono::milliseconds forward_timeout(const server_context& ctx, std::string_view query) {
  auto wait = ctx.config.command_timeout + std::chrono::seconds(15);
  if (auto t = query_param(query, "timeout")) {
    int seconds = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), seconds);
    if (ec == std::errc{} && end == t->data() + t->size() && seconds > 0 && seconds <= 600) wait += std::chrono::seconds(seconds);
  }
  return wait;
}

// The replica holding the host's agent, when it is another live one.
net::awaitable<std::optional<store::replica_place>> other_holder(server_context& ctx, std::string host_id) {
  if (ctx.hub.is_online(host_id)) co_return std::nullopt;
  auto find = ctx.with_store([host_id](store::store& s) { return s.host_holder(host_id, sys_clock::now()); });
  auto holder = co_await std::move(find);
  if (holder && holder->replica_id == ctx.replicas.id()) holder.reset();
  co_return holder;
}

// The replica whose engine keeps the firing alert, when it is another live one: the holder of its host's
// agent, or the leader for host_down (the leader counts absent hosts) and for hosts no replica holds.
net::awaitable<std::optional<store::replica_place>> other_keeper(server_context& ctx, std::string alert_id) {
  if (ctx.alerts.keeps(alert_id)) co_return std::nullopt;
  struct whereabouts {
    bool known = false;  // stored: a change still in the engine's memory is this replica's
    std::optional<store::replica_place> holder;
  };
  auto find = ctx.with_store([alert_id](store::store& s) {
    whereabouts w;
    auto alert = s.find_alert(alert_id);
    w.known = alert.has_value();
    if (alert && alert->kind != "host_down") w.holder = s.host_holder(alert->host_id, sys_clock::now());
    return w;
  });
  const auto found = co_await std::move(find);
  if (!found.known) co_return std::nullopt;
  auto keeper = found.holder ? *found.holder : ctx.replicas.leader();
  if (keeper.replica_id.empty() || keeper.replica_id == ctx.replicas.id()) co_return std::nullopt;
  co_return keeper;
}

// The leader, when it is another live replica.
std::optional<store::replica_place> other_leader(const server_context& ctx) {
  if (ctx.replicas.leads()) return std::nullopt;
  return ctx.replicas.leader();
}

net::awaitable<response> route_request(server_context& ctx, const request& req, std::string peer) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  const route_answers answer(req);
  const auto method = req.method();
  const bool changes = method != http::verb::get && method != http::verb::head && method != http::verb::options;
  // A page of another site may make the browser send our cookie along; it may not make it change things.
  if (changes && !same_origin(req)) co_return answer.fail(http::status::forbidden, "cross-site request refused");

  const auto parts = split_path(path);
  const auto routes = api_routes();
  const auto& patterns = split_patterns();
  const route* found = nullptr;
  bool known_path = false;
  bool open_path = false;
  std::vector<std::string_view> params;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const auto& r = routes[i];
    auto matched = match_route(patterns[i], parts);
    if (!matched) continue;
    known_path = true;
    open_path = open_path || r.role == access::open;
    if (found == nullptr && r.method == method) {
      found = &r;
      params = std::move(*matched);
    }
  }
  // Under /api, who asks comes first: a stranger learns nothing of which paths exist.
  store::principal who;
  if (!open_path && (known_path || (!parts.empty() && parts[0] == "api"))) {
    auto signed_in = co_await authenticate(ctx, req);
    if (!signed_in) co_return answer.fail(http::status::unauthorized, "authentication required: sign in or send an API key");
    who = std::move(*signed_in);
  }
  if (!known_path) co_return answer.fail(http::status::not_found, "not found");
  if (found == nullptr) co_return answer.method_not_allowed();
  if (!may_call(who, found->role)) co_return answer.fail(http::status::forbidden, refusal_for(found->role));
  // A request another replica sent on is served where it lands, never sent on again.
  if (found->where != reach::here && ctx.replicas.enabled() && req.find(forwarded_header) == req.end()) {
    std::optional<store::replica_place> elsewhere;
    if (found->where == reach::holder) elsewhere = co_await other_holder(ctx, std::string(params.at(0)));
    else if (found->where == reach::keeper) elsewhere = co_await other_keeper(ctx, std::string(params.at(0)));
    else elsewhere = other_leader(ctx);
    if (elsewhere) {
      forward_origin origin{ctx.replicas.id(), peer, vouch_for(ctx.secrets, peer, sys_clock::now())};
      auto relayed = co_await forward_request(ctx.executor, req, *elsewhere, origin, forward_timeout(ctx, query));
      // A leader just killed is still named for a few seconds: sign-ins go on here meanwhile.
      if (found->where != reach::leader || relayed.result() != http::status::bad_gateway) co_return relayed;
    }
  }
  route_call call(ctx, req, peer, who, std::move(params), query);
  co_return co_await found->handler(call);
}

}  // namespace

net::awaitable<response> handle_request(server_context& ctx, request req, std::string peer) {
  // A database that stopped answering (PostgreSQL restarting, the network to it down) fails this request
  // with 503 and leaves the connection, and the server, as they were.
  std::string failure;
  try {
    co_return co_await route_request(ctx, req, std::move(peer));
  } catch (const store::store_error& e) {
    failure = e.what();
  }
  spdlog::warn("{} {}: {}", std::string(req.method_string()), std::string(req.target().substr(0, 200)), failure);
  co_return route_answers(req).fail(http::status::service_unavailable,
                                    "the database did not answer; try again shortly");
}

}  // namespace dockmon::server
