// Install, trial and rollback of the agent's binary, with crash-safe file steps.
#include "updates/binary_swap.hpp"

#include "dockmon/common/files.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace dockmon::agent {

namespace {

constexpr std::size_t max_state_file = 64 * 1024;

void remove_file(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  sync_folder(std::filesystem::path(path).parent_path().string());
}

std::optional<json::object> read_json_file(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = read_small_file(path, max_state_file);
  } catch (const std::exception& e) {
    spdlog::error("{}; removing it", e.what());
    remove_file(path);
    return std::nullopt;
  }
  if (!text) return std::nullopt;
  error_code ec;
  auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) {
    spdlog::error("{} is not the JSON object this agent writes; removing it", path);
    remove_file(path);
    return std::nullopt;
  }
  return std::move(value.as_object());
}

// Every descriptor but 0, 1 and 2 closed by the exec: the server's socket, Docker's, the audit file.
void close_on_exec_beyond_stdio() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Kernels before 5.11: one by one.
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return;
  const int own = ::dirfd(fds);
  while (auto* entry = ::readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    if (fd > 2 && fd != own) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::closedir(fds);
}

}  // namespace

update_files update_files::in(const std::string& data_path, std::string binary) {
  update_files f;
  f.binary = std::move(binary);
  f.download = data_path + "/agent.new";
  f.previous = data_path + "/agent.previous";
  f.marker = data_path + "/update.pending";
  f.outcome = data_path + "/update.outcome";
  return f;
}

std::string running_binary() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : path.string();
}

std::optional<update_marker> read_marker(const std::string& path) {
  auto o = read_json_file(path);
  if (!o) return std::nullopt;
  update_marker m{string_field(*o, "version"), string_field(*o, "previous_version"), string_field(*o, "binary"),
                  static_cast<int>(int_field(*o, "attempts")), string_field(*o, "started_at")};
  if (m.version.empty() || m.binary.empty()) {
    spdlog::error("the update marker {} names no version or binary; removing it", path);
    remove_file(path);
    return std::nullopt;
  }
  return m;
}

void write_marker(const std::string& path, const update_marker& m) {
  json::object o{{"version", m.version}, {"previous_version", m.previous_version}, {"binary", m.binary},
                 {"attempts", m.attempts}, {"started_at", m.started_at}};
  write_file_atomically(path, json::serialize(o), 0600);
}

start_check check_at_start(const update_files& files, std::string_view running_version) {
  start_check out;
  auto marker = read_marker(files.marker);
  if (!marker) return out;
  if (marker->binary != files.binary || marker->version != running_version) {
    // The update did not take (or another build was installed since): nothing is on trial.
    spdlog::warn("update marker for {} at {} does not match this agent ({} at {}); removing it", marker->version,
                 marker->binary, running_version, files.binary);
    remove_file(files.marker);
    return out;
  }
  out.marker = *marker;
  if (marker->attempts >= 1) {
    out.decision = start_decision::roll_back;
    return out;
  }
  out.marker.attempts = marker->attempts + 1;
  write_marker(files.marker, out.marker);
  out.decision = start_decision::on_trial;
  return out;
}

void install_update(const update_files& files, const update_marker& marker) {
  copy_file_atomically(files.image, files.previous, 0755);
  write_marker(files.marker, marker);
  try {
    // The copy lands beside the binary, so the rename that swaps them never crosses filesystems.
    copy_file_atomically(files.download, files.binary, 0755);
  } catch (...) {
    remove_file(files.marker);
    throw;
  }
  remove_file(files.download);
}

void forget_marker(const update_files& files) { remove_file(files.marker); }

void roll_back_update(const update_files& files, const update_marker& marker, const std::string& why) {
  spdlog::error("self-update to {} failed: {}; going back to {}", marker.version, why, marker.previous_version);
  record_outcome(files, json::object{{"stage", "rolled_back"},
                                     {"message", "back on " + marker.previous_version + " after the update to " +
                                                     marker.version + " failed"},
                                     {"error", why},
                                     {"version", marker.previous_version}});
  std::string failure;
  try {
    copy_file_atomically(files.previous, files.binary, 0755);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  remove_file(files.marker);
  if (!failure.empty()) throw std::runtime_error("cannot put the previous build back: " + failure);
}

void record_outcome(const update_files& files, const json::object& payload) {
  try {
    write_file_atomically(files.outcome, json::serialize(payload), 0600);
  } catch (const std::exception& e) {
    spdlog::warn("cannot keep the update's outcome for the server: {}", e.what());
  }
}

std::optional<json::object> take_outcome(const update_files& files) {
  auto o = read_json_file(files.outcome);
  if (o) remove_file(files.outcome);
  return o;
}

std::string exec_agent(const std::string& binary, char** argv) {
  close_on_exec_beyond_stdio();
  ::execv(binary.c_str(), argv);
  return "cannot start " + binary + ": " + std::strerror(errno);
}

}  // namespace dockmon::agent
