// The self-update's stages, the --version trial run, and the deadline of a build on trial.
#include "updates/self_update.hpp"

#include "updates/build_download.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/protocol/envelope.hpp"
#include "core/system_info.hpp"
#include "core/version.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace dockmon::agent {

namespace {

using namespace std::chrono_literals;

constexpr auto try_build_timeout = 10s;

bool in_a_container() {
  std::error_code ignored;
  return std::filesystem::exists("/.dockerenv", ignored) || std::filesystem::exists("/run/.containerenv", ignored);
}

bool container_mode(const agent_config& config) {
  return config.mode == agent_config::run_mode::container ||
         (config.mode == agent_config::run_mode::automatic && in_a_container());
}

// Why this agent cannot update itself at all; empty when it can.
// own_container: in container mode, the container this agent runs in, when it could tell.
std::string why_unavailable(const agent_config& config, const update_files& files, bool has_engine,
                            const std::optional<std::string>& own_container) {
  if (!config.update_key) return "no update key installed (DOCKMON_UPDATE_PUBKEY): this agent refuses self-updates";
  if (container_mode(config)) {
    if (!has_engine) return "this agent runs in a container (AGENT_MODE) and has no Docker engine to replace it with";
    if (!own_container)
      return "this agent runs in a container (AGENT_MODE) but cannot tell which one: set DOCKMON_CONTAINER_ID";
    return {};
  }
  if (files.binary.empty()) return "this agent cannot tell where its binary is (/proc/self/exe)";
  const auto folder = std::filesystem::path(files.binary).parent_path();
  if (::access(folder.c_str(), W_OK) != 0)
    return "cannot replace " + files.binary + ": its folder is not writable by this agent";
  return {};
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

parsed_self_update parse_self_update_payload(const json::object& payload, const server_url& server) {
  parsed_self_update out;
  self_update_request r;
  r.version = string_field(payload, "version");
  if (!protocol::valid_build_version(r.version)) {
    out.error = "version is missing or malformed";
    return out;
  }
  auto target = server_target(server, string_field(payload, "binary_url"));
  if (!target) {
    out.error = "binary_url must be a path on this agent's server (or a URL naming it)";
    return out;
  }
  r.target = std::move(*target);
  r.checksum = string_field(payload, "checksum");
  std::transform(r.checksum.begin(), r.checksum.end(), r.checksum.begin(), [](unsigned char c) { return std::tolower(c); });
  if (r.checksum.starts_with("sha256:")) r.checksum.erase(0, 7);
  if (!is_sha256_hex(r.checksum)) {
    out.error = "checksum must be the build's SHA-256 in hex";
    return out;
  }
  r.signature = string_field(payload, "signature");
  if (!signing::well_formed_signature(r.signature)) {
    out.error = "signature is missing or not a base64 Ed25519 signature: the build is not signed";
    return out;
  }
  out.request = std::move(r);
  return out;
}

std::string verify_build(const std::string& file, const self_update_request& request, const signing::public_key& key,
                         const std::string& arch) {
  std::string actual;
  try {
    actual = sha256_file_hex(file);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (actual != request.checksum)
    return "checksum mismatch: the downloaded build's SHA-256 is " + actual + ", the server announced " + request.checksum;
  if (!key.verifies(signing::build_statement(request.version, arch, actual), request.signature)) {
    return "signature does not verify with this agent's update key (DOCKMON_UPDATE_PUBKEY): the operator did not sign "
           "this build as " + request.version + " for " + arch;
  }
  return {};
}

self_updater::self_updater(net::any_io_executor ex, const agent_config& config, update_files files, start_check at_start,
                           char** argv, std::function<void(std::string)> emit, std::function<bool()> events_pending,
                           docker::client* docker)
    : executor_(std::move(ex)),
      config_(config),
      files_(std::move(files)),
      argv_(argv),
      emit_(std::move(emit)),
      events_pending_(std::move(events_pending)) {
  if (at_start.decision == start_decision::on_trial) trial_ = at_start.marker;
  const auto own_container = container_mode(config_) ? own_container_id() : std::nullopt;
  unavailable_ = why_unavailable(config_, files_, docker != nullptr, own_container);
  if (unavailable_.empty() && container_mode(config_)) {
    handover_.emplace(executor_, *docker, config_, *own_container,
                      [this](std::string_view stage, std::string message, const std::string& version, std::string error) {
                        progress(stage, std::move(message), version, std::move(error));
                      });
  }
}

std::string self_updater::start(const json::object& payload) {
  if (!unavailable_.empty()) return unavailable_;
  if (handover_) {
    if (payload.contains("binary_url") && !payload.contains("image"))
      return "this agent runs in a container: it updates from a signed image (image), not from a binary";
    auto parsed = parse_image_update_payload(payload);
    if (!parsed.request) return parsed.error;
    return handover_->start(std::move(*parsed.request));
  }
  auto parsed = parse_self_update_payload(payload, config_.server);
  if (!parsed.request) return parsed.error;
  if (running_) return "a self-update is already running";
  running_ = true;
  net::co_spawn(executor_, run(std::move(*parsed.request)), [this](std::exception_ptr e) {
    running_ = false;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("self-update ended with an error: {}", ex.what());
      progress("failed", "the self-update stopped unexpectedly", "", ex.what());
    }
  });
  return {};
}

void self_updater::progress(std::string_view stage, std::string message, const std::string& version, std::string error) {
  if (error.empty()) spdlog::info("self-update {}: {}", stage, message);
  else spdlog::warn("self-update {}: {}: {}", stage, message, error);
  json::object payload{{"stage", stage}, {"message", std::move(message)}, {"version", version}};
  payload["error"] = error.empty() ? json::value(nullptr) : json::value(std::move(error));
  emit_(json::serialize(protocol::event_frame("selfupdate_progress", std::move(payload))));
}

net::awaitable<void> self_updater::run(self_update_request req) {
  const auto& v = req.version;
  progress("downloading", "downloading " + v + " from " + config_.server.describe(), v);
  auto error = co_await download_build(executor_, config_, req.target, files_.download);
  if (!error.empty()) {
    progress("failed", "download of " + v + " failed; nothing was changed", v, error);
    co_return;
  }
  const auto discard = [this] {
    std::error_code ignored;
    std::filesystem::remove(files_.download, ignored);
  };
  progress("verifying", "checking the SHA-256 and the operator's signature", v);
  error = verify_build(files_.download, req, *config_.update_key, go_arch());
  if (!error.empty()) {
    discard();
    progress("failed", v + " refused; nothing was changed", v, error);
    co_return;
  }
  progress("testing", "running " + v + " --version", v);
  ::chmod(files_.download.c_str(), 0700);
  error = co_await try_build(files_.download, v);
  if (!error.empty()) {
    discard();
    progress("failed", v + " does not run here; nothing was changed", v, error);
    co_return;
  }
  progress("installing", "keeping " + std::string(agent_version) + " as " + files_.previous + ", putting " + v +
                             " at " + files_.binary, v);
  const update_marker marker{v, agent_version, files_.binary, 0, now_iso8601()};
  try {
    install_update(files_, marker);
  } catch (const std::exception& e) {
    discard();
    progress("failed", "cannot install " + v + "; " + agent_version + " stays", v, e.what());
    co_return;
  }
  progress("restarting", "starting " + v + "; it must register within " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(config_.update_deadline).count()) +
                             " s or " + agent_version + " comes back", v);
  co_await wait_until_events_written(2s);
  error = exec_agent(files_.binary, argv_);
  // Still here: the new build could not be started. The previous one goes back in its place.
  try {
    roll_back_update(files_, marker, error);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
  }
  if (auto outcome = take_outcome(files_)) emit_(json::serialize(protocol::event_frame("selfupdate_progress", std::move(*outcome))));
}

net::awaitable<std::string> self_updater::try_build(std::string binary, std::string version) {
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) co_return std::string("cannot make a pipe: ") + std::strerror(errno);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::string flag = "--version";
  std::array<char*, 3> args{binary.data(), flag.data(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    co_return "cannot run it: " + std::string(std::strerror(spawned));
  }
  // The deadline closes the pipe; the handler owns what it touches, since it may run after this returns.
  auto output = std::make_shared<net::posix::stream_descriptor>(executor_, pipe_fds[0]);
  net::steady_timer deadline(executor_);
  deadline.expires_after(try_build_timeout);
  deadline.async_wait([output](error_code ec) {
    if (ec) return;
    error_code ignored;
    output->close(ignored);
  });
  std::string text;
  std::array<char, 512> chunk{};
  while (text.size() < 4096) {
    auto [ec, n] = co_await output->async_read_some(net::buffer(chunk), use_tuple);
    if (ec) break;
    text.append(chunk.data(), n);
  }
  int status = 0;
  pid_t done = 0;
  net::steady_timer pause(executor_);
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 && deadline.expiry() > net::steady_timer::clock_type::now()) {
    pause.expires_after(20ms);
    co_await pause.async_wait(use_tuple);
  }
  deadline.cancel();
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    co_return "`--version` did not finish within " + std::to_string(try_build_timeout.count()) + " s";
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) co_return "`--version` ended with " + describe_exit(status);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const auto expected = "dockmon-agent " + version;
  if (text != expected) co_return "it says '" + text.substr(0, 100) + "', not '" + expected + "'";
  co_return std::string();
}

net::awaitable<void> self_updater::wait_until_events_written(std::chrono::milliseconds at_most) {
  const auto give_up = std::chrono::steady_clock::now() + at_most;
  net::steady_timer pause(executor_);
  while (events_pending_() && std::chrono::steady_clock::now() < give_up) {
    pause.expires_after(20ms);
    co_await pause.async_wait(use_tuple);
  }
}

void self_updater::watch_trial() {
  if (!trial_) return;
  spdlog::info("on trial after the update from {}: this build must register within {} s", trial_->previous_version,
               std::chrono::duration_cast<std::chrono::seconds>(config_.update_deadline).count());
  trial_timer_ = std::make_shared<net::steady_timer>(executor_);
  net::co_spawn(executor_, trial_deadline(), net::detached);
}

net::awaitable<void> self_updater::trial_deadline() {
  auto timer = trial_timer_;
  timer->expires_after(config_.update_deadline);
  auto [ec] = co_await timer->async_wait(use_tuple);
  if (ec || !trial_) co_return;
  const auto why = "did not register with the server within " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(config_.update_deadline).count()) + " s";
  try {
    roll_back_update(files_, *trial_, why);
  } catch (const std::exception& e) {
    spdlog::critical("{}; this build stays", e.what());
    trial_.reset();
    co_return;
  }
  const auto error = exec_agent(files_.binary, argv_);
  // The previous build is in place but would not start from here: the supervisor starts it.
  spdlog::critical("{}; exiting so that the supervisor starts the previous build", error);
  spdlog::default_logger()->flush();
  ::_exit(1);
}

void self_updater::on_connection_closed(std::string_view reason) {
  if (handover_) handover_->on_connection_closed(reason);
}

net::awaitable<void> self_updater::hold_while_handing_over() {
  if (handover_) co_await handover_->hold_while_handing_over();
}

void self_updater::on_registered() {
  if (handover_) handover_->on_registered();
  if (trial_) {
    const auto proven = std::exchange(trial_, std::nullopt);
    if (trial_timer_) trial_timer_->cancel();
    forget_marker(files_);
    progress("completed", "now running " + proven->version + " (was " + proven->previous_version + ")", proven->version);
  }
  if (auto outcome = take_outcome(files_)) emit_(json::serialize(protocol::event_frame("selfupdate_progress", std::move(*outcome))));
}

}  // namespace dockmon::agent
