// Containers over REST: listed, inspected, read and changed through the host's agent; their stats
// history from the server's own memory. Guards: DockMon's own container is never stopped, removed or
// moved, a privileged container is not moved to another repository unconfirmed, and viewers never see
// the values of a container's environment.
#include "api/handlers.hpp"

#include "health/check_settings.hpp"
#include "tags/tag_book.hpp"

#include "auth/audit.hpp"
#include "auth/auth.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/protocol/registration.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace dockmon::server {

namespace {

// Docker's container summary, reduced to what the API promises; nullopt when the agent's entry has an id
// or a name Docker would not make (they go into URLs and pages: a hostile agent's "../../" is dropped).
std::optional<json::object> container_summary(const json::value& docker) {
  json::object out;
  if (!docker.is_object()) return std::nullopt;
  const auto& c = docker.get_object();
  std::string id = string_field(c, "Id");
  if (!valid_container_id(id)) return std::nullopt;
  out["id"] = id;
  out["short_id"] = id.substr(0, 12);
  std::string name;
  if (auto* names = c.if_contains("Names"); names != nullptr && names->is_array() && !names->get_array().empty() &&
                                              names->get_array()[0].is_string()) {
    name = std::string(names->get_array()[0].get_string());
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
  }
  if (!valid_container_name(name)) return std::nullopt;
  out["name"] = name;
  out["image"] = protocol::sanitize_text(string_field(c, "Image"), 512);
  out["state"] = protocol::sanitize_text(string_field(c, "State"), 32);
  out["status"] = protocol::sanitize_text(string_field(c, "Status"), 128);
  if (auto* created = c.if_contains("Created"); created != nullptr && created->is_number()) {
    out["created"] = to_iso8601(sys_clock::time_point(std::chrono::seconds(created->to_number<std::int64_t>())));
  }
  if (auto* labels = c.if_contains("Labels"); labels != nullptr && labels->is_object()) out["labels"] = *labels;
  else out["labels"] = json::object{};
  return out;
}

// DockMon itself must not be stopped, killed or removed from its own UI.
// The container's name from Docker's inspect, without the leading '/' of its API.
std::string name_of(const json::object& inspect) {
  std::string name = string_field(inspect, "Name");
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

bool is_dockmon_container(const json::object& inspect) {
  const std::string name = name_of(inspect);
  if (name == "dockmon" || name.rfind("dockmon-", 0) == 0) return true;
  if (auto* config = inspect.if_contains("Config"); config != nullptr && config->is_object()) {
    if (auto* labels = config->get_object().if_contains("Labels"); labels != nullptr && labels->is_object()) {
      auto* app = labels->get_object().if_contains("app");
      if (app != nullptr && app->is_string() && app->get_string() == "dockmon") return true;
    }
  }
  return false;
}

// Whether the container holds the host's keys: privileged, or given the Docker socket. Any image it runs
// owns the host; moving it to another repository hands that to someone else's code.
bool holds_the_host(const json::object& inspect) {
  if (auto* host_config = inspect.if_contains("HostConfig"); host_config != nullptr && host_config->is_object()) {
    if (auto* privileged = host_config->get_object().if_contains("Privileged"); privileged != nullptr && privileged->is_bool() &&
                                                                               privileged->get_bool())
      return true;
  }
  if (auto* mounts = inspect.if_contains("Mounts"); mounts != nullptr && mounts->is_array()) {
    for (const auto& m : mounts->get_array()) {
      if (!m.is_object()) continue;
      const auto source = string_field(m.get_object(), "Source");
      if (source.ends_with("docker.sock") || source.ends_with("containerd.sock") || source == "/var/run" || source == "/run")
        return true;
    }
  }
  return false;
}

// Config.Env of an inspect answer ("NAME=value" strings), or null.
json::array* environment_of(json::object& inspect) {
  auto* config = inspect.if_contains("Config");
  auto* env = config != nullptr && config->is_object() ? config->get_object().if_contains("Env") : nullptr;
  return env != nullptr && env->is_array() ? &env->get_array() : nullptr;
}

// Config.Env as viewers see it: names kept, values hidden (they hold passwords and tokens).
void hide_environment_values(json::object& inspect) {
  auto* env = environment_of(inspect);
  if (env == nullptr) return;
  for (auto& entry : *env) {
    if (!entry.is_string()) continue;
    std::string text(entry.get_string());
    entry = text.substr(0, text.find('=')) + "=(hidden)";
  }
}

// The environment's values, to blank out of logs shown to viewers (a program often prints its settings).
// Short values are left: "1" or "true" would blank half the log and hide nothing.
std::vector<std::string> environment_values(json::object& inspect) {
  std::vector<std::string> values;
  auto* env = environment_of(inspect);
  if (env == nullptr) return values;
  for (const auto& entry : *env) {
    if (!entry.is_string()) continue;
    std::string_view text = entry.get_string();
    auto eq = text.find('=');
    if (eq == std::string_view::npos || text.size() - eq - 1 < 6) continue;
    values.emplace_back(text.substr(eq + 1));
  }
  return values;
}

void blank_out(std::string& text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets)
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8))
      text.replace(at, secret.size(), "(hidden)");
}

class containers_api : private route_answers {
 public:
  // Routes name the host first and (but the list) the container second.
  explicit containers_api(route_call& c)
      : route_answers(c.req),
        ctx_(c.ctx),
        req_(c.req),
        query_(c.query),
        principal_(c.who),
        host_id_(c.param(0)),
        cid_(c.params.size() > 1 ? c.param(1) : std::string()) {}

  // The answer when the host is unknown (404), the container's reference malformed (400) or, for what
  // goes through the agent, the agent offline (409); nullopt when the request may go on.
  net::awaitable<std::optional<response>> refusal(bool through_agent) {
    auto host = co_await find_host(ctx_, host_id_);
    if (!host) co_return fail(http::status::not_found, "no such host");
    if (!through_agent) {
      if (!cid_.empty() && !valid_container_ref(cid_)) co_return fail(http::status::bad_request, "malformed container id");
      co_return std::nullopt;
    }
    if (!ctx_.hub.is_online(host_id_)) co_return fail(http::status::conflict, "the host's agent is offline");
    if (!cid_.empty() && !valid_container_ref(cid_)) co_return fail(http::status::bad_request, "malformed container id or name");
    co_return std::nullopt;
  }

  // History is the server's own: it answers while the agent is offline too.
  response container_stats() {
    std::string range(query_param(query_, "range").value_or("1h"));
    static const std::pair<std::string_view, std::chrono::seconds> ranges[] = {
        {"1h", std::chrono::hours(1)}, {"24h", std::chrono::hours(24)}, {"30d", std::chrono::hours(24 * 30)}};
    for (const auto& [name, window] : ranges) {
      if (range != name) continue;
      auto history = ctx_.telemetry.container_history(host_id_, cid_, window);
      if (!history) return fail(http::status::not_found, "no stats for this container");
      (*history)["range"] = name;
      return ok(*history);
    }
    return fail(http::status::bad_request, "range must be 1h, 24h or 30d");
  }

  std::chrono::milliseconds timeout_for(const json::object& params) const {
    auto timeout = ctx_.config.command_timeout;
    // A stop may legitimately take its own grace period; wait for that plus a margin.
    if (auto* t = params.if_contains("timeout"); t != nullptr && t->is_int64())
      timeout = std::max(timeout, std::chrono::milliseconds(std::chrono::seconds(t->as_int64() + 10)));
    return timeout;
  }

  response outcome_error(const command_outcome& o) { return command_failure(req_, o); }

  net::awaitable<response> list_containers() {
    protocol::command cmd;
    cmd.name = "list_containers";
    auto o = co_await ctx_.hub.execute(host_id_, std::move(cmd), ctx_.config.command_timeout);
    if (o.result != command_outcome::status::ok) co_return outcome_error(o);
    const json::value* list = &o.payload;
    if (o.payload.is_object()) {
      if (auto* c = o.payload.get_object().if_contains("containers")) list = c;
    }
    if (!list->is_array()) co_return fail(http::status::bad_gateway, "the agent's container list is malformed");
    json::array out;
    std::vector<std::string> ids;
    std::size_t dropped = 0;
    for (const auto& c : list->get_array()) {
      if (auto summary = container_summary(c)) {
        ids.emplace_back(summary->at("id").as_string());
        add_tags(*summary);
        out.push_back(std::move(*summary));
      } else {
        ++dropped;
      }
    }
    ctx_.telemetry.containers_listed(host_id_, ids);  // a fresh list is a fresh bound on the host's series
    if (dropped > 0) spdlog::warn("agent of host {} listed {} containers with a malformed id or name; dropped", host_id_, dropped);
    co_return ok(out);
  }

  net::awaitable<response> container_operation(std::string action, json::object params) {
    bool changes_state = action != "inspect" && action != "get_logs";
    if (changes_state && !has_role(principal_, role::operator_))
      co_return fail(http::status::forbidden, "your role may only look, not change containers");
    const bool viewer = !has_role(principal_, role::operator_);
    std::vector<std::string> secrets;  // what to blank out of a viewer's logs
    const bool stops = action == "stop" || action == "kill" || action == "remove" || action == "restart";
    auto timeout = timeout_for(params);
    if (stops || action == "rename" || (viewer && action == "get_logs")) {
      auto inspected = co_await inspect_container();
      if (!inspected) co_return std::move(inspected.error());
      if (action != "get_logs" && action != "restart" && is_dockmon_container(*inspected)) {
        audit(action, host_id_ + "/" + cid_, "refused: DockMon's own container");
        co_return fail(http::status::forbidden, "refusing to " + action + " DockMon's own container");
      }
      secrets = environment_values(*inspected);
      // Asked for here, so not unexpected: the alert rules for stopped containers let this one pass.
      if (stops) ctx_.alerts.expect_stop(host_id_, string_field(*inspected, "Id"), sys_clock::now() + timeout + std::chrono::seconds(30));
    }
    protocol::container_operation op;
    op.action = action;
    op.container_id = cid_;
    op.params = std::move(params);
    auto o = co_await ctx_.hub.execute(host_id_, std::move(op), timeout);
    if (changes_state) audit(action, host_id_ + "/" + cid_, o.result == command_outcome::status::ok ? "ok" : "failed: " + o.error);
    if (o.result != command_outcome::status::ok) co_return outcome_error(o);
    if (!o.payload.is_object()) co_return fail(http::status::bad_gateway, "the agent's reply is malformed");
    auto& reply = o.payload.get_object();
    if (action == "inspect") {
      auto* c = reply.if_contains("container");
      if (c == nullptr || !c->is_object()) co_return fail(http::status::bad_gateway, "the agent's reply has no container");
      if (viewer) hide_environment_values(c->get_object());
      co_return ok(*c);
    }
    if (auto* logs = reply.if_contains("logs"); viewer && logs != nullptr && logs->is_string()) {
      std::string text(logs->get_string());
      blank_out(text, secrets);
      *logs = text;
    }
    reply.erase("correlation_id");
    co_return ok(reply);
  }

  // The container as the agent inspects it; the error answer when it could not.
  struct inspected_container {
    std::optional<json::object> container;
    response error_answer;
    explicit operator bool() const { return container.has_value(); }
    json::object& operator*() { return *container; }
    response& error() { return error_answer; }
  };
  // PUT .../containers/{cid}/tags {tags}: tags follow the container's name (through updates and
  // re-creation), so its agent says which name an id or a name stands for.
  net::awaitable<response> set_tags(route_call& c) {
    if (!has_role(principal_, role::operator_)) co_return fail(http::status::forbidden, "your role may only look");
    auto inspected = co_await inspect_container();
    if (!inspected) co_return std::move(inspected.error());
    const std::string name = name_of(*inspected);
    if (!valid_container_name(name)) co_return fail(http::status::bad_gateway, "the agent's reply has no usable name");
    co_return co_await set_container_tags_by_name(c, host_id_, name);
  }

  net::awaitable<response> set_health_check(route_call& c) {
    // A body that cannot be a check is refused before the agent is asked anything.
    auto body = json_body(c.req);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object: {url, ...} or {type:\"tcp\", address}");
    auto checked = parse_check_body(*body, nullptr);
    if (auto* error = std::get_if<std::string>(&checked)) co_return fail(http::status::bad_request, *error);
    auto inspected = co_await inspect_container();
    if (!inspected) co_return std::move(inspected.error());
    const std::string name = name_of(*inspected);
    const std::string id = string_field(*inspected, "Id");
    if (!valid_container_name(name) || !valid_container_id(id)) co_return fail(http::status::bad_gateway, "the agent's reply has no usable name or id");
    co_return co_await put_health_check_by_name(c, host_id_, name, id, std::move(*body));
  }

  net::awaitable<inspected_container> inspect_container() {
    protocol::container_operation inspect;
    inspect.action = "inspect";
    inspect.container_id = cid_;
    auto inspected = co_await ctx_.hub.execute(host_id_, std::move(inspect), ctx_.config.command_timeout);
    inspected_container out;
    if (inspected.result != command_outcome::status::ok) {
      out.error_answer = outcome_error(inspected);
      co_return out;
    }
    auto* c = inspected.payload.is_object() ? inspected.payload.get_object().if_contains("container") : nullptr;
    if (c == nullptr || !c->is_object()) {
      out.error_answer = fail(http::status::bad_gateway, "the agent's reply has no container");
      co_return out;
    }
    out.container = std::move(c->get_object());
    co_return out;
  }

  // POST .../containers/{cid}/update {image, stop_timeout?, health_timeout?, registry_auth?}: the agent
  // answers update_started at once; stages follow on /ws as update_progress and end in the events.
  net::awaitable<response> update_container() {
    if (!has_role(principal_, role::operator_)) co_return fail(http::status::forbidden, "your role may only look, not change containers");
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    const std::string image = string_field(*body, "image");
    const bool image_ok = !image.empty() && image.size() <= 512 && std::all_of(image.begin(), image.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/' || c == ':' || c == '@';
    });
    if (!image_ok) co_return fail(http::status::bad_request, "image must be an image reference such as registry:5000/app:v2");
    protocol::command cmd;
    cmd.name = "update_container";
    cmd.payload["container_id"] = cid_;
    cmd.payload["new_image"] = image;
    for (const char* key : {"stop_timeout", "health_timeout"}) {
      if (const auto* v = body->if_contains(key); v != nullptr && !v->is_null()) {
        if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > 3600)
          co_return fail(http::status::bad_request, std::string(key) + " must be 0 to 3600 seconds");
        cmd.payload[key] = *v;
      }
    }
    // Credentials go to the agent for this pull only: never stored, never logged, never audited.
    if (const auto* auth = body->if_contains("registry_auth"); auth != nullptr && !auth->is_null()) {
      if (!auth->is_object()) co_return fail(http::status::bad_request, "registry_auth must be {username,password,serveraddress}");
      cmd.payload["registry_auth"] = *auth;
    }
    bool confirmed = false;
    if (const auto* flag = body->if_contains("allow_privileged_repository_change"); flag != nullptr && !flag->is_null()) {
      if (!flag->is_bool()) co_return fail(http::status::bad_request, "allow_privileged_repository_change must be true or false");
      confirmed = flag->get_bool();
    }
    auto inspected = co_await inspect_container();
    if (!inspected) co_return std::move(inspected.error());
    const std::string target = host_id_ + "/" + cid_ + " -> " + image;
    if (is_dockmon_container(*inspected)) {
      audit("update_container", target, "refused: DockMon's own container");
      co_return fail(http::status::forbidden, "refusing to update DockMon's own container (its agent updates itself)");
    }
    std::string current_image;
    if (auto* config = (*inspected).if_contains("Config"); config != nullptr && config->is_object())
      current_image = string_field(config->get_object(), "Image");
    const bool moves = protocol::image_repository(current_image) != protocol::image_repository(image);
    if (moves && holds_the_host(*inspected) && !confirmed) {
      audit("update_container", target, "refused: privileged container to another repository, not confirmed");
      co_return fail(http::status::forbidden,
                     "this container is privileged or holds the Docker socket, and " + image + " is from another repository than " +
                         current_image + ": that image would own the host. Send allow_privileged_repository_change: true to confirm");
    }
    // The update stops and removes the old container: expected, however long the pull takes.
    ctx_.alerts.expect_stop(host_id_, string_field(*inspected, "Id"), sys_clock::now() + std::chrono::minutes(30));
    // Its alerts tell no one while it is swapped (old and new containers come and go), until the outcome.
    ctx_.alerts.updating(host_id_, name_of(*inspected), sys_clock::now() + std::chrono::minutes(30));
    auto o = co_await ctx_.hub.execute(host_id_, std::move(cmd), ctx_.config.command_timeout);
    audit("update_container", target + (moves && confirmed && holds_the_host(*inspected) ? " (privileged, another repository: confirmed)" : ""),
          o.result == command_outcome::status::ok ? "started" : "failed: " + o.error);
    if (o.result != command_outcome::status::ok) co_return outcome_error(o);
    json::object out{{"status", "update_started"}, {"host_id", host_id_}, {"container_id", cid_}, {"image", image}};
    co_return ok(out, http::status::accepted);
  }

  void audit(std::string action, std::string target, std::string result) {
    record_audit(ctx_, principal_, std::move(action), std::move(target), std::move(result));
  }

 private:
  // The tags users set on the container, and its compose project's (or the chosen label's).
  void add_tags(json::object& summary) const {
    json::array tags;
    for (const auto& t : ctx_.tags.of(host_id_, std::string(summary.at("name").as_string()))) tags.emplace_back(t);
    const auto from = ctx_.tags.from_label(summary.at("labels").as_object());
    if (!from.empty() && std::find(tags.begin(), tags.end(), json::value(from)) == tags.end()) tags.emplace_back(from);
    summary["tags"] = std::move(tags);
    summary["label_tag"] = from.empty() ? json::value(nullptr) : json::value(from);  // not the user's to edit
  }

  server_context& ctx_;
  const request& req_;
  std::string_view query_;
  const store::principal& principal_;
  std::string host_id_;
  std::string cid_;
};

}  // namespace

net::awaitable<response> set_container_tags(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  co_return co_await api.set_tags(c);
}

net::awaitable<response> set_health_check(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  co_return co_await api.set_health_check(c);
}

net::awaitable<response> list_containers(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  co_return co_await api.list_containers();
}

net::awaitable<response> container_stats(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(false)) co_return std::move(*refused);
  co_return api.container_stats();
}

net::awaitable<response> inspect_container(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  co_return co_await api.container_operation("inspect", json::object());
}

net::awaitable<response> container_logs(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  unsigned tail = 100;
  if (auto t = query_param(c.query, "tail")) {
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), tail);
    if (ec != std::errc{} || end != t->data() + t->size() || tail > 10000)
      co_return c.fail(http::status::bad_request, "tail must be a number from 0 to 10000");
  }
  json::object params;  // built outside co_await: g++ 12 miscompiles initializer lists inside it
  params["tail"] = tail;
  co_return co_await api.container_operation("get_logs", std::move(params));
}

net::awaitable<response> remove_container(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  auto force = query_param(c.query, "force");
  json::object params;
  params["force"] = force && *force == "true";
  co_return co_await api.container_operation("remove", std::move(params));
}

net::awaitable<response> power_container(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  const auto parts = split_path(c.req.target().substr(0, c.req.target().find('?')));
  const std::string verb(parts.back());  // start, stop, restart or kill: the route said which
  json::object params;
  if (verb == "stop" || verb == "restart") {
    int timeout = 10;
    if (auto t = query_param(c.query, "timeout")) {
      auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), timeout);
      if (ec != std::errc{} || end != t->data() + t->size() || timeout < 0 || timeout > 600)
        co_return c.fail(http::status::bad_request, "timeout must be 0 to 600 seconds");
    }
    params["timeout"] = timeout;
  }
  co_return co_await api.container_operation(verb, std::move(params));
}

net::awaitable<response> rename_container(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  auto body = json_body(c.req);
  if (!body) co_return c.fail(http::status::bad_request, "body must be a JSON object");
  std::string new_name = string_field(*body, "new_name");
  if (!valid_container_ref(new_name)) co_return c.fail(http::status::bad_request, "new_name is missing or not a valid container name");
  json::object params;
  params["new_name"] = new_name;
  co_return co_await api.container_operation("rename", std::move(params));
}

net::awaitable<response> update_container(route_call& c) {
  containers_api api(c);
  if (auto refused = co_await api.refusal(true)) co_return std::move(*refused);
  co_return co_await api.update_container();
}

}  // namespace dockmon::server
