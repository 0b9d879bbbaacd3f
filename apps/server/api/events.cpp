// GET /api/events: Docker's and our own events as the store keeps them, filtered and paged.
#include "api/handlers.hpp"

#include "dockmon/common/time.hpp"
#include "dockmon/common/validate.hpp"

#include <charconv>

namespace dockmon::server {

net::awaitable<response> list_events(route_call& c) {
  store::event_filter filter;
  if (auto h = query_param(c.query, "host_id")) filter.host_id = std::string(*h);
  if (auto cid = query_param(c.query, "container_id")) filter.container_id = std::string(*cid);
  if (auto t = query_param(c.query, "type")) {
    if (*t != "container" && *t != "update" && *t != "agent_update" && *t != "agent" && *t != "health")
      co_return c.fail(http::status::bad_request, "type must be container, update, agent_update, agent or health");
    filter.type = std::string(*t);
  }
  if ((!filter.host_id.empty() && !valid_host_id(filter.host_id)) ||
      (!filter.container_id.empty() && !valid_container_ref(filter.container_id)))
    co_return c.fail(http::status::bad_request, "malformed host_id or container_id");
  for (auto [key, target] : {std::pair{"since", &filter.since}, std::pair{"until", &filter.until}}) {
    auto v = query_param(c.query, key);
    if (!v) continue;
    auto when = parse_iso8601(*v);
    if (!when) co_return c.fail(http::status::bad_request, std::string(key) + " must be an ISO 8601 time such as 2026-11-27T06:00:00Z");
    *target = to_iso8601(*when, true);
  }
  filter.limit = 100;
  if (auto l = query_param(c.query, "limit")) {
    unsigned limit = 0;
    auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc{} || end != l->data() + l->size() || limit < 1 || limit > 1000)
      co_return c.fail(http::status::bad_request, "limit must be 1 to 1000");
    filter.limit = limit;
  }
  auto list = c.ctx.with_store([filter](store::store& s) { return s.list_events(filter); });
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
  co_return c.ok(out);
}

}  // namespace dockmon::server
