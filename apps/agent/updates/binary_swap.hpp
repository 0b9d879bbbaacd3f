// The agent's own binary swapped for a verified new build, and put back when that build does not come up.
// Every step leaves a runnable binary at the agent's path if the process dies in the middle of it, and a
// marker in DATA_PATH says an update is on trial: the new build's first start counts itself in it; a
// second start that finds it (the first one crashed or exited before it registered) puts the previous
// build back. The check runs first thing in main(), before anything a broken build could trip over.
#pragma once

#include "dockmon/common/net.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dockmon::agent {

// Where a self-update keeps its files: everything in DATA_PATH but the binary itself.
struct update_files {
  std::string binary;    // the agent's path, replaced in place (what systemd or a supervisor runs)
  std::string image = "/proc/self/exe";  // the running build's bytes, kept as `previous`
  std::string download;  // DATA_PATH/agent.new: the build as downloaded, until it is verified and installed
  std::string previous;  // DATA_PATH/agent.previous: the build that ran before the update, to go back to
  std::string marker;    // DATA_PATH/update.pending: the update on trial (update_marker)
  std::string outcome;   // DATA_PATH/update.outcome: how the last update ended, reported once registered

  static update_files in(const std::string& data_path, std::string binary);
};

// The running program's path (readlink /proc/self/exe); empty when it cannot be read.
std::string running_binary();

// An update installed but not yet proven: the new build must register within the deadline.
struct update_marker {
  std::string version;           // the new build's
  std::string previous_version;  // the build it replaced
  std::string binary;            // where it was installed
  int attempts = 0;              // starts of the new build so far
  std::string started_at;
};

// nullopt when there is no marker; a marker that cannot be read is logged, removed, and nullopt.
std::optional<update_marker> read_marker(const std::string& path);
void write_marker(const std::string& path, const update_marker& marker);

enum class start_decision {
  no_update,  // no marker, or a stale one (now removed): start as usual
  on_trial,   // the new build's first start, now counted: it must register within the deadline
  roll_back,  // the new build started before and never registered: put the previous build back
};
struct start_check {
  start_decision decision = start_decision::no_update;
  update_marker marker;
};
// What a starting agent of `running_version` at files.binary does about the marker.
start_check check_at_start(const update_files& files, std::string_view running_version);

// Keeps the running build as `previous`, writes the marker (no attempts yet), and replaces the binary with
// the verified download: a copy beside the binary (one filesystem), then a rename over it. Throws
// std::runtime_error; the binary is then unchanged and no marker remains.
void install_update(const update_files& files, const update_marker& marker);

// The build on trial has registered: the marker goes (the previous build stays as `previous`).
void forget_marker(const update_files& files);

// Records the outcome (`why`), puts `previous` back at the binary's place and removes the marker, in that
// order. Throws std::runtime_error when the previous build cannot be put back; the marker is removed all
// the same, so the agent goes on with the build it has instead of trying again at every start.
void roll_back_update(const update_files& files, const update_marker& marker, const std::string& why);

// How an update ended, kept until the agent has registered and can report it: selfupdate_progress's
// payload {stage, message, error, version}.
void record_outcome(const update_files& files, const json::object& payload);
// Reads and removes it; nullopt when there is none.
std::optional<json::object> take_outcome(const update_files& files);

// Replaces this process with `binary`, same arguments and environment, and nothing open but stdin,
// stdout and stderr. Returns only when that fails, with why.
std::string exec_agent(const std::string& binary, char** argv);

}  // namespace dockmon::agent
