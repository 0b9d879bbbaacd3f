// Upload, listing, removal and download of agent builds, and the self_update command to an agent.
// The server never signs: it stores the operator's signature beside the bytes and passes both on, so a
// server that is broken into cannot make an agent run a build the operator did not sign.
#include "api/agent_builds.hpp"

#include "api/handlers.hpp"

#include "auth/audit.hpp"
#include "auth/auth.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/files.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/signing.hpp"
#include "server_context.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

json::object build_json(const store::agent_build_record& b) {
  return json::object{{"version", b.version}, {"arch", b.arch},       {"sha256", b.sha256},
                      {"signature", b.signature}, {"size", b.size}, {"created_at", b.created_at}};
}

// How the agent updates itself: "native" (a signed binary), "container" (a signed image), or "" when it
// registered without the self_update capability (no key, or an agent that cannot).
std::string self_update_mode(const store::agent_record& agent) {
  error_code ec;
  auto caps = json::parse(agent.capabilities, ec);
  if (ec || !caps.is_object()) return {};
  const auto* flag = caps.get_object().if_contains("self_update");
  if (flag == nullptr || !flag->is_bool() || !flag->get_bool()) return {};
  // Agents before container mode, and DockMon's, update natively only.
  const auto* image = caps.get_object().if_contains("self_update_image");
  return image != nullptr && image->is_bool() && image->get_bool() ? "container" : "native";
}

class build_routes : private route_answers {
 public:
  explicit build_routes(route_call& c) : route_answers(c.req), ctx_(c.ctx), req_(c.req), who_(c.who), query_(c.query) {}

  // The body is the binary itself; the server computes its SHA-256 and keeps the operator's signature.
  net::awaitable<response> upload() {
    agent_build_ref build{std::string(query_param(query_, "version").value_or("")),
                          std::string(query_param(query_, "arch").value_or(""))};
    if (!protocol::valid_build_version(build.version) || !protocol::valid_build_arch(build.arch))
      co_return fail(http::status::bad_request,
                     "version (e.g. 0.2.0, at most 64 of A-Z a-z 0-9 . _ + -) and arch (e.g. amd64) are required in the query");
    const std::string signature(req_["X-Dockmon-Signature"]);
    if (!signing::well_formed_signature(signature))
      co_return fail(http::status::bad_request,
                     "X-Dockmon-Signature must hold the build's signature (base64, from `dockmon-server sign-agent-build`)");
    if (req_.body().empty()) co_return fail(http::status::bad_request, "the body must be the agent binary");

    store::agent_build_record record{build.version, build.arch, sha256_hex(req_.body()), signature,
                                     static_cast<std::int64_t>(req_.body().size()), now_iso8601(), who_.user_id};
    // The row first: it reserves the version, so two uploads of one version never write the same file.
    auto add = ctx_.with_store([record](store::store& s) { return s.add_agent_build(record); });
    const bool added = co_await std::move(add);
    if (!added) {
      co_return fail(http::status::conflict, "build " + build.version + " for " + build.arch +
                                                 " exists; delete it first to replace it");
    }
    const auto file = agent_build_file(ctx_.config.data_dir, build);
    const auto* bytes = &req_.body();
    auto write = run_blocking(ctx_.db_pool, [file, bytes]() -> std::string {
      try {
        write_file_atomically(file, *bytes, 0600);
        return {};
      } catch (const std::exception& e) {
        return e.what();
      }
    });
    const auto write_error = co_await std::move(write);
    if (!write_error.empty()) {
      spdlog::error("cannot store agent build {} {}: {}", build.version, build.arch, write_error);
      auto undo = ctx_.with_store([build](store::store& s) { return s.delete_agent_build(build.version, build.arch); });
      co_await std::move(undo);
      co_return fail(http::status::internal_server_error, "cannot store the build: " + write_error);
    }
    record_audit(ctx_, who_, "upload_agent_build", build.version + "/" + build.arch, "sha256 " + record.sha256);
    co_return ok(build_json(record), http::status::created);
  }

  net::awaitable<response> list() {
    auto list = ctx_.with_store([](store::store& s) { return s.list_agent_builds(); });
    auto builds = co_await std::move(list);
    json::array out;
    for (const auto& b : builds) out.push_back(build_json(b));
    co_return ok(out);
  }

  net::awaitable<response> remove(agent_build_ref build) {
    if (!protocol::valid_build_version(build.version) || !protocol::valid_build_arch(build.arch)) co_return fail(http::status::not_found, "no such build");
    auto forget = ctx_.with_store([build](store::store& s) { return s.delete_agent_build(build.version, build.arch); });
    const bool removed = co_await std::move(forget);
    record_audit(ctx_, who_, "delete_agent_build", build.version + "/" + build.arch, removed ? "ok" : "not found");
    if (!removed) co_return fail(http::status::not_found, "no such build");
    std::error_code ignored;
    std::filesystem::remove(agent_build_file(ctx_.config.data_dir, build), ignored);
    co_return ok(json::object{{"version", build.version}, {"arch", build.arch}, {"deleted", true}});
  }

  // Sends self_update with a download ticket; the agent answers update_started at once, and its stages
  // follow as selfupdate_progress events (live feed, and the outcome in the events as agent_update).
  net::awaitable<response> update_agent(std::string host_id) {
    if (!valid_host_id(host_id)) co_return fail(http::status::not_found, "no such host");
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    const auto version = string_field(*body, "version");
    if (!protocol::valid_build_version(version)) co_return fail(http::status::bad_request, "version is required, e.g. {\"version\":\"0.2.0\"}");
    auto find = ctx_.with_store([host_id](store::store& s) { return s.find_host(host_id); });
    auto host = co_await std::move(find);
    if (!host || !host->agent) co_return fail(http::status::not_found, "no such host, or it has no agent");
    if (!ctx_.hub.is_online(host_id)) co_return fail(http::status::conflict, "the host's agent is offline");
    const auto mode = self_update_mode(*host->agent);
    if (mode.empty())
      co_return fail(http::status::conflict,
                     "this agent cannot update itself: it has no DOCKMON_UPDATE_PUBKEY, or cannot replace itself "
                     "(capability self_update is off)");
    if (host->agent->version == version) co_return fail(http::status::conflict, "the agent already runs " + version);
    const auto image = string_field(*body, "image");
    if (mode == "container" || !image.empty()) co_return co_await update_agent_image(host_id, version, image, *body, mode);
    std::string arch = string_field(*body, "arch");
    if (arch.empty()) arch = host->agent->arch;
    if (!protocol::valid_build_arch(arch))
      co_return fail(http::status::bad_request, "the agent did not report its architecture; give arch, e.g. amd64");
    auto find_build = ctx_.with_store([version, arch](store::store& s) { return s.find_agent_build(version, arch); });
    auto build = co_await std::move(find_build);
    if (!build) {
      co_return fail(http::status::not_found,
                     "no build of " + version + " for " + arch + "; upload one with POST /api/agent-builds");
    }
    protocol::command cmd;
    cmd.name = "self_update";
    cmd.payload["version"] = version;
    // A path on this server: the agent resolves it against its own DOCKMON_URL and its TLS settings.
    auto mint = ctx_.with_store([build = agent_build_ref{version, arch}](store::store& s) {
      return mint_download_ticket(s, build, sys_clock::now());
    });
    cmd.payload["binary_url"] = std::string(agent_build_download_prefix) + co_await std::move(mint);
    cmd.payload["checksum"] = build->sha256;
    cmd.payload["signature"] = build->signature;
    json::object answer{{"version", version}, {"arch", arch}};
    co_return co_await send_self_update(std::move(host_id), std::move(cmd), version + "/" + arch, std::move(answer));
  }

  // Container mode: self_update {version, image, checksum, signature} with the image named by its digest
  // and the operator's signature (dockmon-server sign-agent-image); the agent checks both before pulling.
  net::awaitable<response> update_agent_image(std::string host_id, std::string version, std::string image,
                                              const json::object& body, std::string mode) {
    if (mode != "container")
      co_return fail(http::status::conflict, "this agent runs natively: it updates from an uploaded build; leave out image");
    const auto digest = protocol::pinned_image_digest(image);
    if (!digest)
      co_return fail(http::status::bad_request,
                     "this agent runs in a container: give image as repository@sha256:<digest> and its signature from "
                     "`dockmon-server sign-agent-image`");
    const auto signature = string_field(body, "signature");
    if (!signing::well_formed_signature(signature))
      co_return fail(http::status::bad_request, "signature must be the image's signature (base64, from `dockmon-server sign-agent-image`)");
    protocol::command cmd;
    cmd.name = "self_update";
    cmd.payload["version"] = version;
    cmd.payload["image"] = image;
    cmd.payload["checksum"] = "sha256:" + *digest;
    cmd.payload["signature"] = signature;
    json::object answer{{"version", version}, {"image", image}};
    co_return co_await send_self_update(std::move(host_id), std::move(cmd), version + " " + image, std::move(answer));
  }

  // Sends self_update and audits it (`what`: the version and build or image asked for); 202 with the
  // answer's fields, status and host_id when the agent started, else the command's failure.
  net::awaitable<response> send_self_update(std::string host_id, protocol::command cmd, std::string what, json::object answer) {
    auto o = co_await ctx_.hub.execute(host_id, std::move(cmd), ctx_.config.command_timeout);
    const bool started = o.result == command_outcome::status::ok;
    record_audit(ctx_, who_, "agent_update", host_id + " -> " + what, started ? "started" : "failed: " + o.error);
    if (!started) co_return command_failure(req_, o);
    answer["status"] = "update_started";
    answer["host_id"] = host_id;
    co_return ok(answer, http::status::accepted);
  }

 private:
  server_context& ctx_;
  const request& req_;
  const store::principal& who_;
  std::string_view query_;
};

}  // namespace

std::string agent_build_file(const std::string& data_dir, const agent_build_ref& build) {
  return data_dir + "/agent-builds/" + build.arch + "/" + build.version;
}

std::string mint_download_ticket(store::store& s, const agent_build_ref& build, sys_clock::time_point now) {
  auto ticket = random_token();
  s.add_download_ticket(sha256_hex(ticket), build.version, build.arch, now + download_ticket_lifetime, now);
  return ticket;
}

std::optional<agent_build_ref> redeem_download_ticket(store::store& s, std::string_view ticket, sys_clock::time_point now) {
  auto found = s.spend_download_ticket(sha256_hex(ticket), now);
  if (!found) return std::nullopt;
  return agent_build_ref{std::move(found->first), std::move(found->second)};
}

net::awaitable<response> upload_agent_build(route_call& c) { return serve<build_routes, &build_routes::upload>(c); }
net::awaitable<response> list_agent_builds(route_call& c) { return serve<build_routes, &build_routes::list>(c); }
net::awaitable<response> delete_agent_build(route_call& c) {
  build_routes routes(c);
  agent_build_ref build{c.param(0), c.param(1)};  // built outside co_await: g++ 12
  co_return co_await routes.remove(std::move(build));
}

net::awaitable<response> update_agent(route_call& c) { return serve<build_routes, &build_routes::update_agent>(c); }

net::awaitable<bool> may_send_agent_build(server_context& ctx, const request& header) {
  std::string_view target = header.target();
  if (header.method() != http::verb::post || target.substr(0, target.find('?')) != "/api/agent-builds") co_return false;
  auto who = co_await authenticate(ctx, header);
  co_return who.has_value() && has_role(*who, role::admin);
}

net::awaitable<build_download> download_agent_build(server_context& ctx, const request& req) {
  build_download out;
  std::string_view target = req.target();
  std::string ticket(target.substr(agent_build_download_prefix.size(), target.find('?') - agent_build_download_prefix.size()));
  auto redeem = ctx.with_store([ticket](store::store& s) { return redeem_download_ticket(s, ticket, sys_clock::now()); });
  std::optional<agent_build_ref> build;
  try {
    build = co_await std::move(redeem);
  } catch (const std::exception& e) {
    spdlog::error("cannot look up a download ticket: {}", e.what());
    out.error = error_response(req, http::status::service_unavailable, "the database does not answer; try again");
    co_return out;
  }
  if (!build) {
    out.error = error_response(req, http::status::not_found, "no such download: the ticket is unknown, used or expired");
    co_return out;
  }
  const auto path = agent_build_file(ctx.config.data_dir, *build);
  http::file_body::value_type file;
  beast::error_code ec;
  file.open(path.c_str(), beast::file_mode::scan, ec);
  if (ec) {
    spdlog::error("agent build {} {} is in the store but its file {} cannot be read: {}", build->version, build->arch,
                  path, ec.message());
    out.error = error_response(req, http::status::not_found, "the build's file is missing on the server");
    co_return out;
  }
  spdlog::info("serving agent build {} {} ({} bytes)", build->version, build->arch, file.size());
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(file)),
                                      std::make_tuple(http::status::ok, req.version())};
  res.set(http::field::content_type, "application/octet-stream");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(false);
  res.prepare_payload();
  out.file = std::move(res);
  co_return out;
}

}  // namespace dockmon::server
