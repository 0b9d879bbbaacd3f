// Container mode's self-update: verify, pull, start a copy, wait for it to register, hand over or remove it.
#include "updates/container_handover.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/files.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/docker/container_spec.hpp"
#include "dockmon/protocol/envelope.hpp"
#include "core/system_info.hpp"
#include "core/version.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dockmon::agent {

namespace {

using namespace std::chrono_literals;

constexpr auto pull_timeout = 30min;
constexpr auto copy_poll = 500ms;
constexpr std::string_view replaced_reason = "replaced by a newer connection";

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

std::string container_name(const json::object& inspect) {
  std::string name = string_field(inspect, "Name");
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

std::optional<handover_marker> read_handover_marker(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = read_small_file(path, 64 * 1024);
  } catch (const std::exception& e) {
    spdlog::warn("cannot read {}: {}", path, e.what());
    return std::nullopt;
  }
  if (!text) return std::nullopt;
  error_code ec;
  auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.get_object();
  return handover_marker{string_field(o, "version"), string_field(o, "previous_version"), string_field(o, "from_container"),
                         string_field(o, "started_at")};
}

void forget(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

}  // namespace

parsed_image_update parse_image_update_payload(const json::object& payload) {
  parsed_image_update out;
  image_update_request r;
  r.version = string_field(payload, "version");
  if (!protocol::valid_build_version(r.version)) {
    out.error = "version is missing or malformed";
    return out;
  }
  r.image_text = string_field(payload, "image");
  auto digest = protocol::pinned_image_digest(r.image_text);
  if (!digest) {
    out.error = "image must be pinned by its digest: repository@sha256:<64 hex digits>";
    return out;
  }
  const auto at = r.image_text.find("@sha256:");
  auto ref = docker::parse_image_ref(r.image_text.substr(0, at));
  if (!ref || ref->tag != "latest" || r.image_text.substr(0, at).ends_with(":latest")) {
    // A tag beside the digest would be ignored by Docker; refuse it rather than suggest it counts.
    out.error = "image must be repository@sha256:<digest>, without a tag";
    return out;
  }
  r.digest = std::move(*digest);
  r.image = docker::image_ref{ref->repository, "sha256:" + r.digest};
  std::string checksum = string_field(payload, "checksum");
  if (checksum.starts_with("sha256:")) checksum.erase(0, 7);
  if (!checksum.empty() && checksum != r.digest) {
    out.error = "checksum does not match the image's digest";
    return out;
  }
  r.signature = string_field(payload, "signature");
  if (!signing::well_formed_signature(r.signature)) {
    out.error = "signature is missing or not a base64 Ed25519 signature: the image is not signed";
    return out;
  }
  out.request = std::move(r);
  return out;
}

std::string verify_image(const image_update_request& request, const signing::public_key& key, const std::string& arch) {
  if (key.verifies(signing::image_statement(request.version, arch, request.digest), request.signature)) return {};
  return "signature does not verify with this agent's update key (DOCKMON_UPDATE_PUBKEY): the operator did not sign "
         "image sha256:" + request.digest + " as " + request.version + " for " + arch;
}

std::optional<std::string> container_id_from_mountinfo(std::string_view mountinfo) {
  constexpr std::string_view marker = "/containers/";
  for (std::size_t at = mountinfo.find(marker); at != std::string_view::npos; at = mountinfo.find(marker, at + 1)) {
    const auto id = mountinfo.substr(at + marker.size(), 64);
    const auto rest = mountinfo.substr(std::min(mountinfo.size(), at + marker.size() + 64));
    if (is_sha256_hex(id) && (rest.starts_with("/hostname") || rest.starts_with("/hosts") || rest.starts_with("/resolv.conf")))
      return std::string(id);
  }
  return std::nullopt;
}

std::optional<std::string> own_container_id() {
  if (const char* id = std::getenv("DOCKMON_CONTAINER_ID"); id != nullptr && is_sha256_hex(id)) return std::string(id);
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return container_id_from_mountinfo(text.str());
}

bool on_a_mount(const json::object& inspect, std::string_view path) {
  const auto* mounts = inspect.if_contains("Mounts");
  if (mounts == nullptr || !mounts->is_array()) return false;
  const std::filesystem::path wanted = std::filesystem::path(path).lexically_normal();
  for (const auto& m : mounts->get_array()) {
    if (!m.is_object()) continue;
    const auto destination = std::filesystem::path(string_field(m.get_object(), "Destination")).lexically_normal();
    if (destination.empty()) continue;
    const auto relative = wanted.lexically_relative(destination);
    if (!relative.empty() && *relative.begin() != "..") return true;
  }
  return false;
}

container_handover::container_handover(net::any_io_executor ex, docker::client& docker, const agent_config& config,
                                       std::string own_id, progress_fn progress)
    : executor_(std::move(ex)), docker_(docker), config_(config), own_id_(std::move(own_id)), progress_(std::move(progress)) {}

std::string container_handover::start(image_update_request request) {
  if (running_) return "a self-update is already running";
  running_ = true;
  net::co_spawn(executor_, run(std::move(request)), [this](std::exception_ptr e) {
    running_ = false;
    handing_over_ = false;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("self-update ended with an error: {}", ex.what());
      progress_("failed", "the self-update stopped unexpectedly", "", ex.what());
    }
  });
  return {};
}

void container_handover::on_connection_closed(std::string_view reason) {
  if (handing_over_ && reason.find(replaced_reason) != std::string_view::npos) replaced_ = true;
}

net::awaitable<void> container_handover::hold_while_handing_over() {
  net::steady_timer pause(executor_);
  while (handing_over_) {
    pause.expires_after(copy_poll);
    co_await pause.async_wait(use_tuple);
  }
}

void container_handover::on_registered() {
  auto marker = read_handover_marker(marker_path());
  if (!marker) return;
  forget(marker_path());
  if (marker->version != agent_version) {
    spdlog::warn("a handover to {} was left unfinished; this agent is {}", marker->version, agent_version);
    return;
  }
  progress_("completed", "now running " + marker->version + " (was " + marker->previous_version + ") in container " +
                             own_id_.substr(0, 12), marker->version, {});
}

net::awaitable<void> container_handover::run(image_update_request req) {
  const auto& v = req.version;
  progress_("verifying", "checking the operator's signature on " + req.image_text, v, {});
  auto error = verify_image(req, *config_.update_key, go_arch());
  if (!error.empty()) {
    progress_("failed", v + " refused; nothing was changed", v, error);
    co_return;
  }
  auto self = co_await docker_.inspect_container(own_id_);
  if (!self) {
    progress_("failed", "cannot read this agent's own container " + own_id_.substr(0, 12), v, self.error().message);
    co_return;
  }
  if (!on_a_mount(*self, config_.data_path)) {
    progress_("failed", "nothing was changed", v,
              "the data folder " + config_.data_path + " is not on a volume: a copy of this container would not have "
              "this agent's identity; mount a volume there");
    co_return;
  }
  const auto name = container_name(*self);

  progress_("pulling", "pulling " + req.image_text, v, {});
  std::function<void(const docker::pull_event&)> ignore_layers = [](const docker::pull_event&) {};  // outside co_await: g++ 12
  auto pulled = co_await docker_.pull_image(req.image, std::string(), std::move(ignore_layers), pull_timeout);
  if (!pulled) {
    progress_("failed", "pull of " + req.image_text + " failed; nothing was changed", v, pulled.error().message);
    co_return;
  }
  auto old_image = co_await docker_.inspect_image(string_field(*self, "Image"));
  auto new_image = co_await docker_.inspect_image(req.image_text);
  if (!old_image || !new_image) {
    progress_("failed", "cannot read the images; nothing was changed", v,
              !old_image ? old_image.error().message : new_image.error().message);
    co_return;
  }
  auto spec = docker::recreate_spec_for(*self, *old_image, *new_image, req.image_text);

  progress_("creating", "creating a copy of " + name + " from " + req.image_text, v, {});
  const auto copy_name = name + "-next-" + std::to_string(unix_seconds(sys_clock::now()));
  auto created = co_await docker_.create_container(copy_name, spec.create_body);
  if (!created) {
    progress_("failed", "cannot create the copy; nothing was changed", v, created.error().message);
    co_return;
  }
  const std::string copy_id = *created;
  std::string why;
  for (const auto& [network, endpoint] : spec.extra_networks) {
    auto joined = co_await docker_.connect_network(network, copy_id, endpoint);
    if (!joined) {
      why = "cannot connect the copy to network " + network + ": " + joined.error().message;
      break;
    }
  }
  if (why.empty()) {
    const auto marker = json::serialize(json::object{
        {"version", v}, {"previous_version", agent_version}, {"from_container", own_id_}, {"started_at", now_iso8601()}});
    try {
      write_file_atomically(marker_path(), marker, 0600);
    } catch (const std::exception& e) {
      why = std::string("cannot leave the handover marker for the copy: ") + e.what();
    }
  }
  if (why.empty()) {
    progress_("starting", "starting " + copy_name + "; it must register within " + seconds_text(config_.update_deadline) +
                              " or it is removed and " + agent_version + " carries on", v, {});
    replaced_ = false;
    handing_over_ = true;
    auto started = co_await docker_.start_container(copy_id);
    if (!started) why = "cannot start the copy: " + started.error().message;
  }
  if (why.empty()) why = co_await wait_for_copy(copy_id);
  if (why.empty()) {
    co_await take_over_name(name, copy_id);
    co_return;
  }
  // The copy failed: it goes, this container carries on as it was.
  auto removed = co_await docker_.remove_container(copy_id, true);
  if (!removed) spdlog::error("cannot remove the failed copy {}: {}", copy_name, removed.error().message);
  forget(marker_path());
  handing_over_ = false;
  progress_("rolled_back", v + " did not take over; " + std::string(agent_version) + " carries on in " + name, v, why);
}

net::awaitable<std::string> container_handover::wait_for_copy(const std::string& copy_id) {
  const auto give_up = std::chrono::steady_clock::now() + config_.update_deadline;
  net::steady_timer pause(executor_);
  // Either sign says the copy registered: the server closed this agent's connection as replaced, or the
  // copy took the marker (it does so once registered; the second sign holds when the server restarted in
  // between and so never closed this connection).
  const auto copy_registered = [this] {
    std::error_code ignored;
    return replaced_ || !std::filesystem::exists(marker_path(), ignored);
  };
  for (;;) {
    if (copy_registered()) co_return std::string();
    auto copy = co_await docker_.inspect_container(copy_id);
    if (copy_registered()) co_return std::string();
    if (!copy) co_return "the copy is gone: " + copy.error().message;
    const auto* state = object_field(*copy, "State");
    const auto* running = state != nullptr ? state->if_contains("Running") : nullptr;
    if (running == nullptr || !running->is_bool() || !running->get_bool()) {
      const auto code = state != nullptr ? int_field(*state, "ExitCode") : -1;
      co_return "the copy exited (code " + std::to_string(code) + ") before it registered";
    }
    if (std::chrono::steady_clock::now() >= give_up)
      co_return "the copy did not register with the server within " + seconds_text(config_.update_deadline);
    pause.expires_after(copy_poll);
    co_await pause.async_wait(use_tuple);
  }
}

net::awaitable<void> container_handover::take_over_name(std::string name, std::string copy_id) {
  // The copy is the agent now (the server closed this one's connection for it). Nothing here may dial
  // again: this container gives up its name, the copy takes it, and this container removes itself.
  spdlog::info("the copy {} registered: handing over the name {} and removing this container", copy_id.substr(0, 12), name);
  const auto retired = name + "-replaced-" + std::to_string(unix_seconds(sys_clock::now()));
  auto renamed = co_await docker_.rename_container(own_id_, retired);
  if (renamed) {
    auto taken = co_await docker_.rename_container(copy_id, name);
    if (!taken) spdlog::error("cannot give the copy the name {}: {}", name, taken.error().message);
  } else {
    spdlog::error("cannot rename this container to {}: {}", retired, renamed.error().message);
  }
  spdlog::default_logger()->flush();
  auto removed = co_await docker_.remove_container(own_id_, true);
  // Only still here when Docker refused: stop instead, and never dial again.
  if (!removed) {
    spdlog::critical("cannot remove this replaced container ({}); remove it by hand", removed.error().message);
    auto stopped = co_await docker_.stop_container(own_id_, 10);
    if (!stopped) spdlog::critical("cannot stop it either: {}", stopped.error().message);
  }
  net::steady_timer forever(executor_);
  for (;;) {
    forever.expires_after(std::chrono::hours(24));
    co_await forever.async_wait(use_tuple);
  }
}

}  // namespace dockmon::agent
