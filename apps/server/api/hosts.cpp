// Hosts over REST: the list with their latest stats, one host, its stats history, registration tokens
// for new hosts and for re-attaching one, and revoking a host's agent.
#include "api/handlers.hpp"

#include "agents/replica_settings.hpp"

#include "auth/audit.hpp"
#include "auth/auth.hpp"
#include "tags/tag_book.hpp"
#include "dockmon/common/crypto.hpp"

#include <unordered_set>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

json::value capabilities_json(const std::string& text) {
  error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(json::object{}) : v;
}

// Engine ids are for admins only: with one, a registration token used to be enough to take a host over.
json::array tags_json(const std::vector<std::string>& tags) {
  json::array out;
  for (const auto& t : tags) out.emplace_back(t);
  return out;
}

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

class hosts_api : private route_answers {
 public:
  explicit hosts_api(route_call& c) : route_answers(c.req), ctx_(c.ctx), req_(c.req), principal_(c.who) {}

  // A page that lists hosts can show numbers at once instead of waiting a stats interval for the feed.
  // held_elsewhere: another replica on the database holds its agent.
  json::object host_with_stats(const store::host_record& h, bool held_elsewhere) const {
    auto o = host_json(h, held_elsewhere || ctx_.hub.is_online(h.id), has_role(principal_, role::admin));
    o["stats"] = ctx_.telemetry.latest_host_point(h.id);
    o["tags"] = tags_json(ctx_.tags.of(h.id));
    return o;
  }

  // Replaces the host's tags (container_name empty) or a container's; rules scoped by tag see them at once.
  net::awaitable<response> set_tags(std::string host_id, std::string container_name, std::string target) {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object: {tags:[...]}");
    auto parsed = parse_tags(*body);
    if (auto* error = std::get_if<std::string>(&parsed)) co_return fail(http::status::bad_request, *error);
    auto tags = std::get<std::vector<std::string>>(std::move(parsed));
    auto save = ctx_.with_store([host_id, container_name, tags](store::store& s) { s.set_tags(host_id, container_name, tags); });
    co_await std::move(save);
    ctx_.tags.set(host_id, container_name, tags);
    ctx_.alerts.set_tags(ctx_.tags);
    co_await tell_replicas(ctx_, "tags");
    std::string list;
    for (const auto& t : tags) list += (list.empty() ? "" : ",") + t;
    audit("set_tags", std::move(target), "[" + list + "]");
    co_return ok(json::object{{"host_id", host_id}, {"container_name", container_name}, {"tags", tags_json(tags)}});
  }

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

  net::awaitable<response> revoke_agent(std::string host_id) {
    auto now = sys_clock::now();
    auto revoke = ctx_.with_store([host_id, now](store::store& s) { return s.revoke_agent(host_id, now); });
    const bool done = co_await std::move(revoke);
    record_audit(ctx_, principal_, "revoke_agent", host_id, done ? "ok" : "not found");
    if (!done) co_return fail(http::status::not_found, "no agent for this host");
    if (auto connection = ctx_.hub.find_by_host(host_id)) {
      connection->close("revoked by " + principal_.username);
      if (ctx_.hub.detach(*connection)) {
        ctx_.alerts.host_disconnected(host_id, sys_clock::now());
        ctx_.telemetry.on_agent_link(host_id, false);
      }
    }
    co_return ok(json::object{{"host_id", host_id}, {"revoked", true}});
  }

 private:
  void audit(std::string action, std::string target, std::string result) {
    record_audit(ctx_, principal_, std::move(action), std::move(target), std::move(result));
  }

  server_context& ctx_;
  const request& req_;
  const store::principal& principal_;
};

}  // namespace

net::awaitable<std::optional<store::host_record>> find_host(server_context& ctx, std::string host_id) {
  if (!valid_host_id(host_id)) co_return std::nullopt;
  auto find = ctx.with_store([host_id](store::store& s) { return s.find_host(host_id); });
  co_return co_await std::move(find);
}

namespace {

// The hosts other replicas hold (none for a single server): online, though not connected here.
net::awaitable<std::unordered_set<std::string>> held_by_replicas(server_context& ctx) {
  if (!ctx.replicas.enabled()) co_return std::unordered_set<std::string>{};
  auto held = ctx.with_store([](store::store& s) { return s.hosts_held(sys_clock::now()); });
  auto ids = co_await std::move(held);
  co_return std::unordered_set<std::string>(ids.begin(), ids.end());
}

}  // namespace

net::awaitable<response> list_hosts(route_call& c) {
  auto list = c.ctx.with_store([](store::store& s) { return s.list_hosts(); });
  auto all = co_await std::move(list);
  const auto held = co_await held_by_replicas(c.ctx);
  hosts_api api(c);
  json::array out;
  for (const auto& h : all) out.push_back(api.host_with_stats(h, held.contains(h.id)));
  co_return c.ok(out);
}

net::awaitable<response> get_host(route_call& c) {
  auto host = co_await find_host(c.ctx, c.param(0));
  if (!host) co_return c.fail(http::status::not_found, "no such host");
  const auto held = co_await held_by_replicas(c.ctx);
  hosts_api api(c);
  co_return c.ok(api.host_with_stats(*host, held.contains(host->id)));
}

net::awaitable<response> host_stats(route_call& c) {
  auto host = co_await find_host(c.ctx, c.param(0));
  if (!host) co_return c.fail(http::status::not_found, "no such host");
  co_return c.ok(c.ctx.telemetry.host_stats_json(host->id));
}

net::awaitable<response> new_registration_token(route_call& c) {
  hosts_api api(c);
  co_return co_await api.mint_registration_token(std::string());
}

net::awaitable<response> new_reattach_token(route_call& c) {
  auto host = co_await find_host(c.ctx, c.param(0));
  if (!host) co_return c.fail(http::status::not_found, "no such host");
  hosts_api api(c);
  co_return co_await api.mint_registration_token(host->id);
}

net::awaitable<response> set_host_tags(route_call& c) {
  auto host = co_await find_host(c.ctx, c.param(0));
  if (!host) co_return c.fail(http::status::not_found, "no such host");
  hosts_api api(c);
  co_return co_await api.set_tags(host->id, {}, host->id);
}

net::awaitable<response> set_container_tags_by_name(route_call& c, std::string host_id, std::string container_name) {
  hosts_api api(c);
  co_return co_await api.set_tags(host_id, container_name, host_id + "/" + container_name);
}

net::awaitable<response> revoke_agent(route_call& c) {
  if (!valid_host_id(c.params[0])) co_return c.fail(http::status::bad_request, "malformed host id");
  hosts_api api(c);
  co_return co_await api.revoke_agent(c.param(0));
}

}  // namespace dockmon::server
