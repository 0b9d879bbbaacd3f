// Health checks over REST (DESIGN.md section 11): listed per host, read, set and removed per container.
// A check is kept by the container's name, so it follows the container through updates; setting one
// needs the host's agent (to learn the name of the container the path names), reading and removing do not.
#include "api/handlers.hpp"

#include "agents/health_link.hpp"
#include "agents/replica_settings.hpp"
#include "auth/audit.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/common/validate.hpp"

namespace dockmon::server {

namespace {

// An agent given so many checks would spend the host on probing: a cap per host.
constexpr std::size_t max_checks_per_host = health_book::max_checks_per_host;

// The check the path names (by the container's id or name), or the answer to give instead.
struct found_check {
  std::string host_id;
  const health_entry* entry = nullptr;
  std::optional<response> refusal;
};

net::awaitable<found_check> find_check(route_call& c) {
  found_check out;
  auto host = co_await find_host(c.ctx, c.param(0));
  const auto ref = c.param(1);
  if (!host) out.refusal = c.fail(http::status::not_found, "no such host");
  else if (!valid_container_ref(ref)) out.refusal = c.fail(http::status::bad_request, "malformed container id or name");
  else if ((out.entry = c.ctx.health.find_ref(host->id, ref)) == nullptr)
    out.refusal = c.fail(http::status::not_found, "this container has no health check");
  else out.host_id = host->id;
  co_return out;
}

}  // namespace

net::awaitable<response> list_health_checks(route_call& c) {
  auto host = co_await find_host(c.ctx, c.param(0));
  if (!host) co_return c.fail(http::status::not_found, "no such host");
  json::array out;
  for (const auto* e : c.ctx.health.of_host(host->id)) out.push_back(health_book::status_json(*e));
  co_return c.ok(out);
}

net::awaitable<response> get_health_check(route_call& c) {
  auto found = co_await find_check(c);
  if (found.refusal) co_return std::move(*found.refusal);
  co_return c.ok(health_book::status_json(*found.entry));
}

net::awaitable<response> put_health_check_by_name(route_call& c, std::string host_id, std::string container_name,
                                                  std::string container_id, json::object body) {
  const auto* previous = c.ctx.health.find(host_id, container_name);
  if (previous == nullptr && c.ctx.health.count_on(host_id) >= max_checks_per_host)
    co_return c.fail(http::status::conflict, "this host has " + std::to_string(max_checks_per_host) + " health checks already");
  auto parsed = parse_check_body(body, previous != nullptr ? &previous->settings : nullptr);
  if (auto* error = std::get_if<std::string>(&parsed)) co_return c.fail(http::status::bad_request, *error);
  auto settings = std::get<check_settings>(std::move(parsed));
  const auto now = now_iso8601();
  auto row = to_record(host_id, container_name, settings, c.ctx.secrets, now);
  auto save = c.ctx.with_store([row](store::store& s) { s.save_health_check(row); });
  co_await std::move(save);
  const std::string old_id = previous != nullptr ? previous->container_id : std::string();
  c.ctx.health.put(host_id, container_name, std::move(settings), now);
  // The container the path named is the one the check runs on now (push_frame sends it with this id).
  c.ctx.health.container_seen(host_id, container_id, container_name);
  if (!old_id.empty() && old_id != container_id.substr(0, 12)) push_health_check(c.ctx, host_id, container_name, old_id);
  push_health_check(c.ctx, host_id, container_name);
  co_await tell_replicas(c.ctx, "health_check", host_id + "/" + container_name);
  const auto* e = c.ctx.health.find(host_id, container_name);
  record_audit(c.ctx, c.who, "set_health_check", host_id + "/" + container_name, e->settings.config.url);
  co_return c.ok(health_book::status_json(*e));
}

net::awaitable<response> delete_health_check(route_call& c) {
  auto found = co_await find_check(c);
  if (found.refusal) co_return std::move(*found.refusal);
  const std::string name = found.entry->container_name, container_id = found.entry->container_id, host_id = found.host_id;
  auto gone = c.ctx.with_store([host_id, name](store::store& s) { return s.delete_health_check(host_id, name); });
  co_await std::move(gone);
  c.ctx.health.remove(host_id, name);
  if (!container_id.empty()) push_health_check(c.ctx, host_id, name, container_id);
  co_await tell_replicas(c.ctx, "health_check", host_id + "/" + name);
  record_audit(c.ctx, c.who, "delete_health_check", host_id + "/" + name, "ok");
  co_return c.ok(json::object{{"host_id", host_id}, {"container_name", name}, {"deleted", true}});
}

}  // namespace dockmon::server
