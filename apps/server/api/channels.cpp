// Notification channels and their delivery record over REST. Settings are checked by notify/channel
// before they are sealed and stored, and are answered with every secret masked; viewers read, admins
// edit and send test messages; every change is audited, without its secrets.
#include "api/handlers.hpp"

#include "auth/audit.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "notify/outbox.hpp"

#include <charconv>

namespace dockmon::server {

namespace {

constexpr std::size_t max_channels = 200;

json::object channel_json(const store::channel_record& c, const secret_box& secrets) {
  json::object o{{"id", c.id}, {"name", c.name}, {"type", c.type}, {"enabled", c.enabled},
                 {"created_at", c.created_at}, {"updated_at", c.updated_at}};
  auto opened = notify::open_channel(c, secrets);
  if (auto* channel = std::get_if<notify::opened_channel>(&opened)) {
    o["config"] = notify::masked(channel->type, channel->config);
  } else {
    o["config"] = json::object{};
    o["problem"] = std::get<std::string>(opened);
  }
  return o;
}

json::object notification_json(const store::notification_record& n) {
  json::object o{{"id", n.id},          {"alert_id", n.alert_id},     {"channel_id", n.channel_id}, {"state", n.state},
                 {"attempts", n.attempts}, {"last_error", n.last_error}, {"created_at", n.created_at}};
  o["sent_at"] = n.sent_at.empty() ? json::value(nullptr) : json::value(n.sent_at);
  o["next_attempt_at"] = n.state == "pending" ? json::value(to_iso8601(sys_clock::time_point(std::chrono::milliseconds(n.next_attempt_ms))))
                                              : json::value(nullptr);
  error_code ec;
  const auto message = json::parse(n.message, ec);
  if (!ec && message.is_object()) {
    if (const auto* title = message.get_object().if_contains("title")) o["title"] = *title;
    if (const auto* event = message.get_object().if_contains("event")) o["event"] = *event;
  }
  return o;
}

// The channel a body describes ({name, type, config} or {name, url}, and enabled), over `base` (the
// stored channel and its settings, for a PATCH). The error says what is wrong.
struct channel_draft {
  store::channel_record record;
  json::object config;
};

std::variant<channel_draft, std::string> channel_from_body(const json::object& body, channel_draft base) {
  for (const auto& [key, value] : body) {
    if (key != "name" && key != "type" && key != "config" && key != "url" && key != "enabled")
      return "unknown field " + std::string(key) + "; a channel takes name, type, config (or url) and enabled";
  }
  if (const auto* name = body.if_contains("name")) {
    if (!name->is_string() || name->get_string().empty() || name->get_string().size() > 100)
      return std::string("name must be text of 1 to 100 characters");
    base.record.name = std::string(name->get_string());
  }
  if (base.record.name.empty()) return std::string("name is required");
  if (const auto* enabled = body.if_contains("enabled")) {
    if (!enabled->is_bool()) return std::string("enabled must be true or false");
    base.record.enabled = enabled->get_bool();
  }
  if (const auto* url = body.if_contains("url")) {
    if (body.contains("type") || body.contains("config")) return std::string("give either url or type and config, not both");
    if (!url->is_string()) return std::string("url must be a shoutrrr-style URL such as discord://token@id");
    auto parsed = notify::parse_shoutrrr(url->get_string());
    if (auto* error = std::get_if<std::string>(&parsed)) return "url: " + *error;
    auto& typed = std::get<notify::typed_config>(parsed);
    base.record.type = std::string(notify::type_name(typed.type));
    base.config = std::move(typed.config);
    return base;
  }
  auto type = notify::parse_type(base.record.type);
  if (const auto* t = body.if_contains("type")) {
    type = t->is_string() ? notify::parse_type(t->get_string()) : std::nullopt;
    if (!type)
      return std::string("type must be one of webhook, slack, discord, teams, google_chat, telegram, pushover, gotify, ntfy, smtp");
    if (std::string(notify::type_name(*type)) != base.record.type) base.config = {};  // another kind: nothing carries over
    base.record.type = std::string(notify::type_name(*type));
  }
  if (!type) return std::string("type is required (or a shoutrrr-style url)");
  json::object update;
  if (const auto* config = body.if_contains("config")) {
    if (!config->is_object()) return std::string("config must be an object");
    update = config->get_object();
  }
  auto checked = notify::check_config(*type, notify::merged(*type, base.config, update));
  if (auto* error = std::get_if<std::string>(&checked)) return "config: " + *error;
  base.config = std::get<json::object>(std::move(checked));
  return base;
}

class channels_api : private route_answers {
 public:
  explicit channels_api(route_call& c) : route_answers(c.req), ctx_(c.ctx), req_(c.req), who_(c.who), query_(c.query) {}

  net::awaitable<response> list() {
    auto read = ctx_.with_store([](store::store& s) { return s.list_channels(); });
    const auto channels = co_await std::move(read);
    json::array out;
    for (const auto& c : channels) out.push_back(channel_json(c, ctx_.secrets));
    co_return ok(out);
  }

  net::awaitable<response> get(std::string channel_id) {
    auto read = ctx_.with_store([channel_id](store::store& s) { return s.find_channel(channel_id); });
    const auto channel = co_await std::move(read);
    if (!channel) co_return fail(http::status::not_found, "no such channel");
    co_return ok(channel_json(*channel, ctx_.secrets));
  }

  net::awaitable<response> create() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    channel_draft base;
    base.record.id = random_uuid();
    base.record.created_at = now_iso8601();
    base.record.updated_at = base.record.created_at;
    auto made = channel_from_body(*body, std::move(base));
    if (auto* error = std::get_if<std::string>(&made)) co_return fail(http::status::bad_request, *error);
    auto count = ctx_.with_store([](store::store& s) { return s.list_channels().size(); });
    if (co_await std::move(count) >= max_channels) co_return fail(http::status::conflict, "there are 200 channels already");
    co_return co_await store_channel(std::get<channel_draft>(std::move(made)), "create_channel", http::status::created);
  }

  net::awaitable<response> update(std::string channel_id) {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    auto read = ctx_.with_store([channel_id](store::store& s) { return s.find_channel(channel_id); });
    auto stored = co_await std::move(read);
    if (!stored) co_return fail(http::status::not_found, "no such channel");
    channel_draft base;
    auto opened = notify::open_channel(*stored, ctx_.secrets);
    if (auto* channel = std::get_if<notify::opened_channel>(&opened)) base.config = channel->config;
    base.record = std::move(*stored);
    base.record.updated_at = now_iso8601();
    auto changed = channel_from_body(*body, std::move(base));
    if (auto* error = std::get_if<std::string>(&changed)) co_return fail(http::status::bad_request, *error);
    co_return co_await store_channel(std::get<channel_draft>(std::move(changed)), "update_channel", http::status::ok);
  }

  net::awaitable<response> remove(std::string channel_id) {
    auto forget = ctx_.with_store([channel_id](store::store& s) { return s.delete_channel(channel_id); });
    const bool deleted = co_await std::move(forget);
    record_audit(ctx_, who_, "delete_channel", channel_id, deleted ? "ok" : "not found");
    if (!deleted) co_return fail(http::status::not_found, "no such channel");
    co_return ok(json::object{{"id", channel_id}, {"deleted", true}});
  }

  // Sent now, not through the outbox: the answer says at once whether the settings work.
  net::awaitable<response> test(std::string channel_id) {
    auto read = ctx_.with_store([channel_id](store::store& s) { return s.find_channel(channel_id); });
    const auto channel = co_await std::move(read);
    if (!channel) co_return fail(http::status::not_found, "no such channel");
    auto attempt = run_blocking(ctx_.notify_pool, [channel = *channel, &secrets = ctx_.secrets, url = ctx_.config.public_url] {
      return notify::send_test(channel, secrets, url);
    });
    const auto result = co_await std::move(attempt);
    const bool sent = result.what == notify::send_result::outcome::sent;
    record_audit(ctx_, who_, "test_channel", channel_id + " (" + channel->name + ")", sent ? "ok" : result.error);
    if (!sent) co_return fail(http::status::bad_gateway, "the test message was not delivered: " + result.error);
    co_return ok(json::object{{"id", channel_id}, {"delivered", true}});
  }

  net::awaitable<response> notifications() {
    store::notification_filter filter;
    filter.state = std::string(query_param(query_, "state").value_or(""));
    if (!filter.state.empty() && filter.state != "pending" && filter.state != "sent" && filter.state != "failed")
      co_return fail(http::status::bad_request, "state must be pending, sent or failed");
    filter.alert_id = std::string(query_param(query_, "alert_id").value_or(""));
    if (filter.alert_id.size() > 64) co_return fail(http::status::bad_request, "malformed alert_id");
    if (auto l = query_param(query_, "limit")) {
      unsigned limit = 0;
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc{} || end != l->data() + l->size() || limit < 1 || limit > store::max_notification_limit)
        co_return fail(http::status::bad_request, "limit must be 1 to 1000");
      filter.limit = limit;
    }
    auto read = ctx_.with_store([filter](store::store& s) { return s.list_notifications(filter); });
    const auto rows = co_await std::move(read);
    json::array out;
    for (const auto& n : rows) out.push_back(notification_json(n));
    co_return ok(out);
  }

 private:
  net::awaitable<response> store_channel(channel_draft draft, std::string action, http::status status) {
    draft.record.sealed_config = ctx_.secrets.seal(json::serialize(draft.config));
    auto save = ctx_.with_store([record = draft.record](store::store& s) { s.save_channel(record); });
    co_await std::move(save);
    record_audit(ctx_, who_, std::move(action), draft.record.id + " (" + draft.record.name + ", " + draft.record.type + ")", "ok");
    co_return ok(channel_json(draft.record, ctx_.secrets), status);
  }

  server_context& ctx_;
  const request& req_;
  const store::principal& who_;
  std::string_view query_;
};

}  // namespace

net::awaitable<response> list_channels(route_call& c) { return serve<channels_api, &channels_api::list>(c); }
net::awaitable<response> get_channel(route_call& c) { return serve<channels_api, &channels_api::get>(c); }
net::awaitable<response> create_channel(route_call& c) { return serve<channels_api, &channels_api::create>(c); }
net::awaitable<response> update_channel(route_call& c) { return serve<channels_api, &channels_api::update>(c); }
net::awaitable<response> delete_channel(route_call& c) { return serve<channels_api, &channels_api::remove>(c); }
net::awaitable<response> test_channel(route_call& c) { return serve<channels_api, &channels_api::test>(c); }
net::awaitable<response> list_notifications(route_call& c) { return serve<channels_api, &channels_api::notifications>(c); }

}  // namespace dockmon::server
